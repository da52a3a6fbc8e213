"""``townsim app``: a local planner's page to toggle lines, service points, windows and hours."""
