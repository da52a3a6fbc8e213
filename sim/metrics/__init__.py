"""Metrics: burden, access, queues and inequality of a run."""

from sim.metrics.equity import gini, lorenz, theil
from sim.metrics.summary import THRESHOLDS_MIN, group_metrics, summarise

__all__ = ["THRESHOLDS_MIN", "gini", "group_metrics", "lorenz", "summarise", "theil"]
