"""Site selection through spopt: p-median (least demand-weighted travel) and maximal covering (MCLP)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from sim.errors import SimError

__all__ = ["Selection", "select_sites"]

METHODS = ("pmedian", "mclp")


@dataclass(frozen=True)
class Selection:
    """Chosen sites and what they achieve.

    Attributes:
        open: indices of the chosen sites (columns of the cost matrix), ascending.
        assigned: per demand row, the chosen site it is nearest to.
        mean_cost: demand-weighted mean cost to the nearest chosen site (minutes).
        covered_share: share of demand within the radius of a chosen site (None without a radius).
    """

    open: np.ndarray
    assigned: np.ndarray
    mean_cost: float
    covered_share: float | None


def _solver() -> object:
    import pulp

    return pulp.PULP_CBC_CMD(msg=False)


def select_sites(
    cost: np.ndarray,
    demand: np.ndarray,
    p: int,
    *,
    method: str = "pmedian",
    radius: float | None = None,
    keep: np.ndarray | None = None,
    groups: list[np.ndarray] | None = None,
) -> Selection:
    """Choose p sites with spopt (CBC through PuLP).

    Args:
        cost: (demand rows, sites) travel minutes; must be finite (use a large penalty for forbidden pairs).
        demand: (rows,) weights (visits per day).
        p: number of sites to open.
        method: ``pmedian`` (minimise demand-weighted cost) or ``mclp`` (maximise demand within ``radius``).
        radius: coverage radius in minutes (needed by ``mclp``; reported for both).
        keep: site indices that must be among the chosen.
        groups: site index sets of which each must have at least one chosen (e.g. one hall per unit).
    """
    import pulp
    from spopt.locate import MCLP, PMedian

    predefined = None if keep is None or len(keep) == 0 else np.asarray(keep, dtype=int)
    with warnings.catch_warnings():  # spopt 0.7 builds PuLP variables through a path PuLP 3.3 deprecates
        warnings.simplefilter("ignore", DeprecationWarning)
        if method == "pmedian":
            model = PMedian.from_cost_matrix(cost, demand, p, predefined_facilities_arr=predefined)
        elif method == "mclp":
            if radius is None:
                raise ValueError("mclp needs a coverage radius")
            model = MCLP.from_cost_matrix(cost, demand, radius, p, predefined_facilities_arr=predefined)
        else:
            raise ValueError(f"method must be one of {METHODS}, got '{method}'")
        for k, group in enumerate(groups or []):
            model.problem += pulp.lpSum(model.fac_vars[int(j)] for j in group) >= 1, f"group_{k}"
        try:
            model.solve(_solver())
        except OSError as exc:  # the MILP solver writes its model and solution as temporary files
            import tempfile

            raise SimError(
                f"{tempfile.gettempdir()}: the location solver could not write its temporary files "
                f"there ({exc.strerror or exc}); free space or set TMPDIR to another folder"
            ) from None
    chosen = np.array([j for j, var in enumerate(model.fac_vars) if var.value() > 0.5], dtype=int)
    return evaluate(cost, demand, chosen, radius=radius)


def evaluate(
    cost: np.ndarray, demand: np.ndarray, chosen: np.ndarray, *, radius: float | None = None
) -> Selection:
    """Nearest-chosen-site assignment, demand-weighted mean cost and covered share of a site set."""
    sub = cost[:, chosen]
    assigned = chosen[np.argmin(sub, axis=1)]
    best = sub.min(axis=1)
    covered = None if radius is None else float(demand[best <= radius].sum() / demand.sum())
    return Selection(
        open=np.sort(chosen),
        assigned=assigned,
        mean_cost=float(np.dot(demand, best) / demand.sum()),
        covered_share=covered,
    )
