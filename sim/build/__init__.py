"""Build a scenario folder for a real place from an OpenStreetMap extract, a villages table,
boundaries and a GTFS feed (``townsim build``)."""
