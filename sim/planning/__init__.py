"""Planning: which service sites to keep or open (p-median, maximal covering), how many windows each needs."""
