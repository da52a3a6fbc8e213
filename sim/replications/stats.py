"""Replication statistics: seeds, the replication set, 95% t intervals and paired differences.

A difference between two simulated plans is an estimate. Runs of two scenarios with the same
seed share their random draws (common random numbers), so the per-seed difference B - A has
far less noise than either run; over n seeds its mean has a 95% paired t interval
``mean ± t(0.975, n-1) · sd / sqrt(n)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from sim.argtypes import MAX_REPLICATIONS, MAX_SEED
from sim.errors import SimError
from sim.results.result import RunResult
from sim.results.summary_model import RunSummary

__all__ = [
    "DIFFERENCE_COLUMNS",
    "GROUP_KINDS",
    "PrecisionTarget",
    "Replication",
    "ReplicationSet",
    "derive_seeds",
    "facility_table",
    "mean_interval",
    "paired_difference",
    "paired_place_difference",
    "summary_metrics",
    "village_table",
]

LEVEL = 0.95
#: Smallest --precision half-width (units of the metric): a target below it cannot be reached.
MIN_HALF_WIDTH = 1e-9
DIFFERENCE_COLUMNS = (
    "metric",
    "group_kind",
    "group",
    "n",
    "mean_a",
    "mean_b",
    "mean_diff",
    "ci_low",
    "ci_high",
)
GROUP_KINDS = ("overall", "former_unit", "age_band", "island")
_GROUP_KEYS = {"by_former_unit": "former_unit", "by_age_band": "age_band", "by_island": "island"}
_NOT_METRICS = {"scenario", "seed", "days", "schema_version"}  # labels and the file format, not measures


def derive_seeds(base_seed: int, n: int) -> list[int]:
    """Seeds of ``n`` replications: ``base_seed, base_seed + 1, …`` (as sweeps and the app use).

    Prefix-stable (the first k of n are the seeds of k replications), so adding replications
    keeps the runs already made, and two scenarios with one base seed are paired seed by seed;
    the model feeds each seed through numpy's ``SeedSequence``, so neighbouring seeds give
    independent streams.
    """
    if not 1 <= n <= MAX_REPLICATIONS:
        raise SimError(f"--replications: expected 1 to {MAX_REPLICATIONS} replications, got {n}")
    if not 0 <= base_seed <= MAX_SEED - (n - 1):
        raise SimError(
            f"--seed: the seeds {base_seed}..{base_seed + n - 1} of {n} replications must stay within "
            f"0..{MAX_SEED} (2**32-1); expected a seed of at most {MAX_SEED - (n - 1)}"
        )
    return [int(base_seed) + i for i in range(n)]


@dataclass(frozen=True)
class PrecisionTarget:
    """Stop adding replications once the 95% CI half-width of ``metric`` is at most ``half_width``.

    ``metric`` is a dotted summary.json path (e.g. ``burden_min.mean``, minutes); for paired
    runs the half-width is that of the difference B - A.
    """

    metric: str
    half_width: float
    group_kind: str = "overall"
    group: str = "all"

    @classmethod
    def parse(cls, text: str) -> PrecisionTarget:
        """``METRIC=HALF_WIDTH`` (``burden_min.mean=0.5``), optionally ``KIND:GROUP:METRIC=HALF_WIDTH``."""
        name, sep, value = text.partition("=")
        try:
            half = float(value)
        except ValueError:
            half = float("nan")
        if not sep or not name or not math.isfinite(half) or not MIN_HALF_WIDTH <= half <= 1e12:
            raise SimError(
                f"--precision: expected METRIC=HALF_WIDTH with a number from {MIN_HALF_WIDTH:g} to 1e12, "
                f"e.g. burden_min.mean=0.5; got {text!r}"
            )
        parts = name.split(":")
        if len(parts) == 3:
            if parts[0] not in GROUP_KINDS:
                raise SimError(f"--precision: expected a group kind in {GROUP_KINDS}, got {parts[0]!r}")
            return cls(parts[2], half, parts[0], parts[1])
        if len(parts) != 1:
            raise SimError(f"--precision: expected METRIC or KIND:GROUP:METRIC before '=', got {name!r}")
        return cls(name, half)


def _flatten(node: Any, prefix: str) -> Iterator[tuple[str, float]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif node is None:
        yield prefix, float("nan")
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield prefix, float(node)


def summary_metrics(summary: RunSummary) -> pd.DataFrame:
    """Every numeric leaf of a run's summary.json as rows ``metric, group_kind, group, value``.

    Metric names are dotted paths of the JSON (``burden_min.mean``, ``access_clinic.mean_min``),
    the names ``--precision`` and sweep outcomes use.

    Overall metrics have group_kind ``overall`` and group ``all``; the ``by_former_unit``,
    ``by_age_band`` and ``by_island`` blocks give the other kinds with the same metric names.
    ``null`` (e.g. no completed errand in a group) becomes NaN.
    """
    rows: list[tuple[str, str, str, float]] = []
    for key, value in summary.to_json_dict().items():
        if key in _NOT_METRICS:
            continue
        if key in _GROUP_KEYS:
            for group, entry in value.items():
                rows.extend((m, _GROUP_KEYS[key], str(group), v) for m, v in _flatten(entry, ""))
        else:
            rows.extend((m, "overall", "all", v) for m, v in _flatten(value, key))
    return pd.DataFrame(rows, columns=["metric", "group_kind", "group", "value"])


def village_table(result: RunResult) -> pd.DataFrame:
    """Per village: completed errands (weighted, i.e. residents represented) and mean burden (min)."""
    res, err = result.residents, result.errands
    villages = res["village"].cat.categories.astype(str)
    done = (err["status"] == "completed").to_numpy()
    rows = pd.Index(res["resident"].to_numpy()).get_indexer(err["resident"].to_numpy()[done])
    code = res["village"].cat.codes.to_numpy(np.int64)[rows]
    weight = res["weight"].to_numpy(float)[rows]
    burden = err["burden_min"].to_numpy(float)[done]
    wsum = np.bincount(code, weights=weight, minlength=len(villages))
    bsum = np.bincount(code, weights=weight * burden, minlength=len(villages))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(wsum > 0, bsum / wsum, np.nan)
    return pd.DataFrame({"village": villages, "errands_completed": wsum, "burden_mean_min": mean})


def facility_table(result: RunResult) -> pd.DataFrame:
    """Per receiving facility: kind, arrivals per open day, utilisation, mean wait (min), turned away."""
    fd = result.facility_days
    waits = fd["mean_wait_min"].fillna(0.0) * fd["arrivals"]
    grouped = fd.assign(_wsum=waits).groupby("facility", observed=True)
    out = grouped.agg(
        kind=("kind", "first"),
        arrivals_per_day=("arrivals", "mean"),
        mean_utilisation=("utilisation", "mean"),
        arrivals=("arrivals", "sum"),
        wait_sum=("_wsum", "sum"),
        turned_away=("turned_away", "sum"),
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        out["mean_wait_min"] = np.where(out["arrivals"] > 0, out["wait_sum"] / out["arrivals"], np.nan)
    out = out.drop(columns=["arrivals", "wait_sum"]).reset_index()
    out["facility"] = out["facility"].astype(str)
    out["kind"] = out["kind"].astype(str)
    return out


@dataclass
class Replication:
    """One finished run: its seed, summary.json, compact village/facility tables and wall time (s)."""

    seed: int
    summary: RunSummary
    villages: pd.DataFrame
    facilities: pd.DataFrame
    wall_time_s: float
    cells: pd.DataFrame = field(default_factory=pd.DataFrame)
    facility_cells: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass
class ReplicationSet:
    """Replications of one scenario: per seed, its summary.json and compact village/facility tables.

    Attributes:
        scenario: scenario name.
        days: simulated days per run.
        base_seed: the seed the replication seeds were derived from.
        seeds: seeds in replication order.
        summaries: summary.json of each run (same order as ``seeds``).
        villages: ``seed, village, errands_completed, burden_mean_min`` (minutes per completed errand).
        facilities: ``seed, facility, kind, arrivals_per_day, mean_utilisation, turned_away, mean_wait_min``.
        wall_time_s: each run's wall time in its worker (s).
        provenance: townsim version, workers, total wall time, scenario file.
        cells: ``seed``, the groups and mode, completed errands and burden parts summed
            (:func:`sim.metrics.cells.cell_tables`); empty for folders written without them.
        facility_cells: ``seed``, the groups and facility, completed errands and their waits there.
        title: display names ``{zh, en}`` of the scenario (with its overlays), if it has one.
    """

    scenario: str
    days: int
    base_seed: int
    seeds: list[int]
    summaries: list[RunSummary]
    villages: pd.DataFrame
    facilities: pd.DataFrame
    wall_time_s: list[float] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    cells: pd.DataFrame = field(default_factory=pd.DataFrame)
    facility_cells: pd.DataFrame = field(default_factory=pd.DataFrame)
    title: dict[str, str] | None = None

    @property
    def n(self) -> int:
        """Number of replications."""
        return len(self.seeds)

    def metrics(self) -> pd.DataFrame:
        """Long table ``seed, metric, group_kind, group, value`` of every run's headline metrics."""
        frames = [
            summary_metrics(s).assign(seed=seed) for seed, s in zip(self.seeds, self.summaries, strict=True)
        ]
        return pd.concat(frames, ignore_index=True)[["seed", "metric", "group_kind", "group", "value"]]

    def interval(
        self, metric: str, group_kind: str = "overall", group: str = "all"
    ) -> tuple[int, float, float, float]:
        """``(n, mean, ci_low, ci_high)`` of one metric across replications (95% t interval)."""
        m = self.metrics()
        sel = m[(m["metric"] == metric) & (m["group_kind"] == group_kind) & (m["group"] == group)]
        if sel.empty:
            raise SimError(f"{self.scenario}: no metric {group_kind}:{group}:{metric} in summary.json")
        return mean_interval(sel["value"].to_numpy(float))

    def _extend(self, reps: Sequence[Replication]) -> None:
        for r in reps:
            self.seeds.append(r.seed)
            self.summaries.append(r.summary)
            self.wall_time_s.append(r.wall_time_s)
        for name in ("villages", "facilities", "cells", "facility_cells"):
            frames = [getattr(self, name)] if len(getattr(self, name)) else []
            frames += [getattr(r, name).assign(seed=r.seed) for r in reps]
            if frames:
                setattr(self, name, pd.concat(frames, ignore_index=True))


def mean_interval(values: np.ndarray) -> tuple[int, float, float, float]:
    """``(n, mean, low, high)``: the 95% t interval of the mean of the finite values (NaN bounds if n < 2)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = len(v)
    if n == 0:
        return 0, float("nan"), float("nan"), float("nan")
    mean = float(v.mean())
    if n < 2:
        return n, mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + LEVEL / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return n, mean, mean - half, mean + half


def _paired(a: pd.DataFrame, b: pd.DataFrame, keys: list[str], value: str) -> pd.DataFrame:
    """Per key: n pairs (both finite, same seed), mean A, mean B, mean B - A and its 95% t interval."""
    merged = a[[*keys, "seed", value]].merge(
        b[[*keys, "seed", value]], on=[*keys, "seed"], suffixes=("_a", "_b")
    )
    va, vb = merged[f"{value}_a"].to_numpy(float), merged[f"{value}_b"].to_numpy(float)
    ok = np.isfinite(va) & np.isfinite(vb)
    frame = merged[keys].assign(
        a=np.where(ok, va, np.nan), b=np.where(ok, vb, np.nan), d=np.where(ok, vb - va, np.nan)
    )
    out = frame.groupby(keys, sort=False).agg(
        n=("d", "count"), mean_a=("a", "mean"), mean_b=("b", "mean"), mean_diff=("d", "mean"), sd=("d", "std")
    )
    n = out["n"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        tq = np.where(n >= 2, stats.t.ppf(0.5 + LEVEL / 2, np.maximum(n - 1, 1)), np.nan)
        half = tq * out["sd"].to_numpy(float) / np.sqrt(n)
    out["ci_low"] = out["mean_diff"] - half
    out["ci_high"] = out["mean_diff"] + half
    out["n"] = out["n"].astype(int)
    return out.drop(columns="sd").reset_index()


def _common_seeds(a: ReplicationSet, b: ReplicationSet) -> None:
    if not set(a.seeds) & set(b.seeds):
        raise SimError(
            f"{a.scenario} (seeds {a.seeds[:3]}…) and {b.scenario} (seeds {b.seeds[:3]}…) share no seed: "
            "paired differences need runs made with the same base seed"
        )


def paired_difference(a: ReplicationSet, b: ReplicationSet) -> pd.DataFrame:
    """B minus A for every headline metric of summary.json, paired by seed, with 95% t intervals.

    Columns: ``metric`` (dotted summary.json path), ``group_kind`` (overall | former_unit |
    age_band | island), ``group``, ``n`` (seeds present in both with finite values),
    ``mean_a``, ``mean_b``, ``mean_diff`` (= mean_b - mean_a over those seeds; units of the
    metric), ``ci_low``, ``ci_high`` (95% paired t interval over seeds; NaN when n < 2).
    Rows: overall first, then by former unit, age band and island, metrics in summary order.

    Raises:
        SimError: the two sets share no seed.
    """
    _common_seeds(a, b)
    out = _paired(a.metrics(), b.metrics(), ["metric", "group_kind", "group"], "value")
    out["_kind"] = out["group_kind"].map({k: i for i, k in enumerate(GROUP_KINDS)})
    out = out.sort_values("_kind", kind="stable").drop(columns="_kind").reset_index(drop=True)
    return out[list(DIFFERENCE_COLUMNS)]


def paired_place_difference(
    a: ReplicationSet,
    b: ReplicationSet,
    *,
    table: Literal["villages", "facilities"] = "villages",
    value: str = "burden_mean_min",
) -> pd.DataFrame:
    """B minus A of one per-place value (village or facility), paired by seed, with 95% t intervals.

    Columns: ``village`` (or ``facility``), ``n``, ``mean_a``, ``mean_b``, ``mean_diff``,
    ``ci_low``, ``ci_high``, ``ci_includes_zero`` (True also when n < 2: nothing shown to differ).
    """
    _common_seeds(a, b)
    key = "village" if table == "villages" else "facility"
    fa, fb = getattr(a, table), getattr(b, table)
    if value not in fa.columns:
        raise SimError(
            f"{table}: no column {value!r}; expected one of "
            f"{[c for c in fa.columns if c not in (key, 'seed')]}"
        )
    out = _paired(fa, fb, [key], value)
    out["ci_includes_zero"] = ~((out["ci_low"] > 0) | (out["ci_high"] < 0))
    return out
