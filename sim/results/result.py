"""What one run produced (:class:`RunResult`), importable without the model (reading a run folder)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sim.results.summary_model import RunSummary

__all__ = ["OPTIONAL_TABLES", "TABLES", "RunResult", "proxy_trips_frame"]

#: Tables of a run folder, one Parquet (or CSV) file each.
TABLES = (
    "trips",
    "errands",
    "facility_days",
    "residents",
    "schools",
    "daily",
    "places",
    "edges",
    "line_loads",
    "proxy_trips",
)
#: Tables written only when a feature is on (a None table is not written).
OPTIONAL_TABLES = ("households",)


def _no_line_loads() -> pd.DataFrame:
    from sim.transit.loads import line_loads_frame

    return line_loads_frame(None, [], days=0, start_weekday=0)


def proxy_trips_frame(log: list[np.ndarray], village_ids: list[str], fac_ids: list[str]) -> pd.DataFrame:
    """Village agents' trips (``levers.proxy``): one row per village, facility and proxy day."""
    rows = np.concatenate(log) if log else np.zeros((0, 6))
    return pd.DataFrame(
        {
            "day": rows[:, 0].astype(np.int32),
            "village": pd.Categorical.from_codes(
                rows[:, 1].astype(np.int64), categories=pd.Index(village_ids)
            ),
            "facility": pd.Categorical.from_codes(rows[:, 2].astype(np.int64), categories=pd.Index(fac_ids)),
            "errands": rows[:, 3].astype(np.int64),
            "agent_min": rows[:, 4],
            "agent_km": rows[:, 5],
        }
    )


def _no_proxy_trips() -> pd.DataFrame:
    return proxy_trips_frame([], [], [])


@dataclass
class RunResult:
    """All outputs of one run: its tables, the headline summary and provenance.

    ``places`` (villages, seats, facilities with km coordinates) and ``edges`` (road and ferry
    links) carry the geography so maps can be drawn from a run folder alone.
    """

    trips: pd.DataFrame
    errands: pd.DataFrame
    facility_days: pd.DataFrame
    residents: pd.DataFrame
    schools: pd.DataFrame
    daily: pd.DataFrame
    places: pd.DataFrame
    edges: pd.DataFrame
    line_loads: pd.DataFrame = field(default_factory=_no_line_loads)
    proxy_trips: pd.DataFrame = field(default_factory=_no_proxy_trips)
    households: pd.DataFrame | None = None  # with families.households (sim/results/families.py)
    summary: RunSummary | None = None
    provenance: dict[str, Any] = field(default_factory=dict)

    def checked_summary(self) -> RunSummary:
        """The run's summary (:class:`~sim.results.summary_model.RunSummary`).

        Raises:
            SimError: the run has not been summarised yet (only its tables exist).
        """
        if self.summary is None:
            from sim.errors import SimError

            raise SimError("run result: no summary yet (tables only)")
        return self.summary
