"""Replications: one scenario run with several seeds, in parallel, and paired differences with CIs.

Contract (the planner web app and the figures code against these names):

- :func:`derive_seeds` — the seeds of n replications from one base seed (prefix-stable).
- :func:`run_replications` — run one loaded scenario n times (world and travel tables built once,
  runs in forked worker processes) and return a :class:`ReplicationSet`.
- :func:`paired_difference` — B minus A for every headline metric of summary.json, overall and
  by former township, age band and island, paired by seed, with its 95% CI.
- :func:`paired_place_difference` — the same for one value per village or facility (maps).
- :func:`write_replications` / :func:`read_replications` — the replicated run folder.

Modules: :mod:`~sim.replications.stats` (seeds, sets, intervals), :mod:`~sim.replications.pool`
(running), :mod:`~sim.replications.folder` (folders), :mod:`~sim.replications.cli` (options).
Names are imported on first use, so the command line's options cost no numpy or pandas.
"""

from typing import TYPE_CHECKING

from sim.lazy import lazy_exports

if TYPE_CHECKING:
    from sim.replications.folder import (
        MARKER,
        REPLICATIONS_KIND,
        is_replications_dir,
        read_replications,
        write_replications,
    )
    from sim.replications.pool import (
        KeepTables,
        Progress,
        RunCancelled,
        RunOptions,
        run_many,
        run_paired,
        run_replications,
    )
    from sim.replications.stats import (
        DIFFERENCE_COLUMNS,
        GROUP_KINDS,
        LEVEL,
        PrecisionTarget,
        ReplicationSet,
        derive_seeds,
        mean_interval,
        paired_difference,
        paired_place_difference,
        summary_metrics,
    )

__all__ = [
    "DIFFERENCE_COLUMNS",
    "GROUP_KINDS",
    "LEVEL",
    "MARKER",
    "REPLICATIONS_KIND",
    "KeepTables",
    "PrecisionTarget",
    "Progress",
    "ReplicationSet",
    "RunCancelled",
    "RunOptions",
    "derive_seeds",
    "is_replications_dir",
    "mean_interval",
    "paired_difference",
    "paired_place_difference",
    "read_replications",
    "run_many",
    "run_paired",
    "run_replications",
    "summary_metrics",
    "write_replications",
]
_FOLDER = {"MARKER", "REPLICATIONS_KIND", "is_replications_dir", "read_replications", "write_replications"}
_POOL = {"KeepTables", "Progress", "RunCancelled", "RunOptions", "run_many", "run_paired", "run_replications"}
_EXPORTS = {
    name: "sim.replications.folder"
    if name in _FOLDER
    else "sim.replications.pool"
    if name in _POOL
    else "sim.replications.stats"
    for name in __all__
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
