"""Records a county keeps (queue tickets, clinic visits, boardings, a survey): formats, readers, and
the same records made from a run (``townsim observe``)."""
