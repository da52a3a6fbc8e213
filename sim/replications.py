"""Replications: one scenario run with several seeds, in parallel, and paired differences with CIs.

A difference between two simulated plans is an estimate. Runs of two scenarios with the same
seed share their random draws (common random numbers), so the per-seed difference B - A has
far less noise than either run; over n seeds its mean has a 95% paired t interval
``mean ± t(0.975, n-1) · sd / sqrt(n)``.

Contract (the planner web app and the figures code against these names):

- :func:`derive_seeds` — the seeds of n replications from one base seed (prefix-stable).
- :func:`run_replications` — run one loaded scenario n times (world and travel tables built once,
  runs in forked worker processes) and return a :class:`ReplicationSet`.
- :func:`paired_difference` — B minus A for every headline metric of summary.json, overall and
  by former township, age band and island, paired by seed, with its 95% CI.
- :func:`paired_place_difference` — the same for one value per village or facility (maps).
- :func:`write_replications` / :func:`read_replications` — the replicated run folder.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict, Unpack

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from sim.errors import SimError
from sim.results.io import is_run_dir, write_run
from sim.results.result import RunResult

if TYPE_CHECKING:  # the model is imported only by the functions that run it: reading needs none
    from sim.routing.tables import TravelTables
    from sim.scenario.load import LoadedScenario
    from sim.transit.tables import BusTables
    from sim.world.world import World

__all__ = [
    "DIFFERENCE_COLUMNS",
    "GROUP_KINDS",
    "MARKER",
    "PrecisionTarget",
    "ReplicationSet",
    "RunCancelled",
    "RunOptions",
    "derive_seeds",
    "is_replications_dir",
    "mean_interval",
    "paired_difference",
    "paired_place_difference",
    "read_replications",
    "run_paired",
    "run_replications",
    "summary_metrics",
    "write_replications",
]

MARKER = "replications.json"
#: Kind of a replicated run folder in its ownership marker (:mod:`sim.ownership`).
REPLICATIONS_KIND = "replications"
LEVEL = 0.95
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
_NOT_METRICS = {"scenario", "seed", "days"}
KeepTables = Literal["none", "first", "all"]
Progress = Callable[[int, int], None]


class RunCancelled(SimError):
    """Replications stopped because ``cancel`` was set; ``partial`` holds the finished ones."""

    exit_code = 130

    def __init__(self, partial: dict[str, ReplicationSet]) -> None:
        self.partial = partial
        super().__init__("replications cancelled")


def derive_seeds(base_seed: int, n: int) -> list[int]:
    """Seeds of ``n`` replications: ``base_seed, base_seed + 1, …`` (as sweeps and the app use).

    Prefix-stable (the first k of n are the seeds of k replications), so adding replications
    keeps the runs already made, and two scenarios with one base seed are paired seed by seed;
    the model feeds each seed through numpy's ``SeedSequence``, so neighbouring seeds give
    independent streams.
    """
    if n < 1:
        raise SimError(f"replications: expected n >= 1, got {n}")
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
        if not sep or not name or not math.isfinite(half) or half <= 0:
            raise SimError(
                "--precision: expected METRIC=HALF_WIDTH with a positive number, "
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


def summary_metrics(summary: Mapping[str, Any]) -> pd.DataFrame:
    """Every numeric leaf of a summary.json as rows ``metric, group_kind, group, value``.

    Overall metrics have group_kind ``overall`` and group ``all``; the ``by_former_unit``,
    ``by_age_band`` and ``by_island`` blocks give the other kinds with the same metric names.
    ``null`` (e.g. no completed errand in a group) becomes NaN.
    """
    rows: list[tuple[str, str, str, float]] = []
    for key, value in summary.items():
        if key in _NOT_METRICS:
            continue
        if key in _GROUP_KEYS:
            for group, entry in value.items():
                rows.extend((m, _GROUP_KEYS[key], str(group), v) for m, v in _flatten(entry, ""))
        else:
            rows.extend((m, "overall", "all", v) for m, v in _flatten(value, key))
    return pd.DataFrame(rows, columns=["metric", "group_kind", "group", "value"])


def _village_table(result: RunResult) -> pd.DataFrame:
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


def _facility_table(result: RunResult) -> pd.DataFrame:
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
class _Rep:
    seed: int
    summary: dict[str, Any]
    villages: pd.DataFrame
    facilities: pd.DataFrame
    wall_time_s: float


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
    """

    scenario: str
    days: int
    base_seed: int
    seeds: list[int]
    summaries: list[dict[str, Any]]
    villages: pd.DataFrame
    facilities: pd.DataFrame
    wall_time_s: list[float] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)

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

    def _extend(self, reps: Sequence[_Rep]) -> None:
        for r in reps:
            self.seeds.append(r.seed)
            self.summaries.append(r.summary)
            self.wall_time_s.append(r.wall_time_s)
        for name in ("villages", "facilities"):
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


# ---------------------------------------------------------------- running

_SHARED: dict[str, tuple[LoadedScenario, World, TravelTables, BusTables | None, int | None, float]] = {}
_CANCEL_POLL_S = 0.2  # how often a waiting pool looks at ``cancel`` (s)


def _run_one(task: tuple[str, int, str | None]) -> tuple[str, _Rep]:
    """One replication in a worker: the world and tables come from the forked parent."""
    from sim.runner import run_loaded

    label, seed, keep = task
    loaded, world, tables, bus, days, scale = _SHARED[label]
    result = run_loaded(
        loaded, days=days, seed=seed, population_scale=scale, world=world, tables=tables, bus=bus
    )
    if keep is not None:
        write_run(result, keep, scenario_raw=loaded.raw)
    rep = _Rep(
        seed,
        result.summary,
        _village_table(result),
        _facility_table(result),
        result.provenance["wall_time_s"],
    )
    return label, rep


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _execute(
    tasks: list[tuple[str, int, str | None]],
    *,
    workers: int,
    progress: Progress | None,
    cancel: threading.Event | None,
    done_before: int,
    total: int,
) -> dict[str, list[_Rep]]:
    """Run the tasks (serially or in a forked pool); results grouped by label, in task order."""
    got: dict[tuple[str, int], _Rep] = {}

    def finished(label: str, rep: _Rep) -> None:
        got[(label, rep.seed)] = rep
        if progress is not None:
            progress(done_before + len(got), total)

    def grouped() -> dict[str, list[_Rep]]:
        out: dict[str, list[_Rep]] = {}
        for label, seed, _ in tasks:
            if (label, seed) in got:
                out.setdefault(label, []).append(got[(label, seed)])
        return out

    can_fork = "fork" in multiprocessing.get_all_start_methods()
    # a cancellable call always runs in worker processes, so that cancel can stop runs in progress
    if not can_fork or (cancel is None and (workers <= 1 or len(tasks) <= 1)):
        for task in tasks:
            if cancel is not None and cancel.is_set():
                raise _Cancelled(grouped())
            finished(*_run_one(task))
        return grouped()
    # a fresh fork per run (maxtasksperchild=1): memory a run leaves behind does not pile up in a worker
    pool_ctx = multiprocessing.get_context("fork")
    with pool_ctx.Pool(min(workers, len(tasks)), initializer=_worker_init, maxtasksperchild=1) as pool:
        results = pool.imap_unordered(_run_one, tasks)
        while len(got) < len(tasks):
            if cancel is not None and cancel.is_set():
                pool.terminate()  # stops the runs in progress (SIGTERM to the workers)
                raise _Cancelled(grouped())
            try:
                finished(*results.next(timeout=_CANCEL_POLL_S))
            except multiprocessing.TimeoutError:
                continue
        # let the workers finish (the pool's terminate on leaving ``with`` can miss a worker its
        # handler thread is forking at that moment, and wait for it forever)
        pool.close()
        pool.join()
    return grouped()


def _worker_init() -> None:
    """Workers end quietly when the pool stops them (default SIGTERM/SIGHUP, not the CLI's handler)
    and as soon as their parent process is gone (killed with SIGKILL): nobody would read their
    result, and sending it would fail with a broken pipe."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    parent = os.getppid()

    def watch_parent() -> None:
        while os.getppid() == parent:
            time.sleep(_CANCEL_POLL_S)
        os._exit(1)

    threading.Thread(target=watch_parent, name="townsim-parent-watch", daemon=True).start()


class _Cancelled(Exception):
    def __init__(self, reps: dict[str, list[_Rep]]) -> None:
        self.reps = reps


def _target_values(sets: list[ReplicationSet], target: PrecisionTarget) -> np.ndarray:
    """Per-seed values of the target metric (of B - A, paired by seed, when two sets are given)."""
    frames = []
    for rset in sets:
        m = rset.metrics()
        hit = (
            (m["metric"] == target.metric)
            & (m["group_kind"] == target.group_kind)
            & (m["group"] == target.group)
        )
        if not hit.any():
            raise SimError(
                f"--precision: no metric {target.group_kind}:{target.group}:{target.metric} in summary.json "
                "(expected a dotted path such as burden_min.mean)"
            )
        frames.append(m[hit].set_index("seed")["value"])
    if len(frames) == 1:
        return frames[0].to_numpy(float)
    return (frames[1] - frames[0]).dropna().to_numpy(float)


class RunOptions(TypedDict, total=False):
    """Keyword options of :func:`run_replications` and :func:`run_paired` (see :func:`run_many`)."""

    seed: int | None
    days: int | None
    workers: int | None
    progress: Progress | None
    cancel: threading.Event | None
    target: PrecisionTarget | None
    max_n: int | None
    keep_tables: KeepTables
    tables_dir: str | Path | None


def run_many(
    scenarios: Mapping[str, LoadedScenario],
    *,
    n: int,
    seed: int | None = None,
    days: int | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    target: PrecisionTarget | None = None,
    max_n: int | None = None,
    keep_tables: KeepTables = "none",
    tables_dir: str | Path | None = None,
    population_scale: float = 1.0,
) -> dict[str, ReplicationSet]:
    """Run several scenarios with the same seeds in one pool of worker processes.

    Each scenario's world, road travel tables and bus journey tables are built once here;
    workers are forked after that and reuse them. Seeds come from :func:`derive_seeds` (``seed``
    default: the first scenario's ``simulation.seed``). With ``target``, replications are added
    (up to ``max_n``) until the 95% CI half-width of the target metric (of the first scenario,
    or of the second minus the first when there are two or more) is at most ``target.half_width``.
    ``keep_tables`` writes full run folders ``<tables_dir>/<label>/seed_<s>`` of the first seed
    or of every seed.

    Raises:
        RunCancelled: ``cancel`` was set; its ``partial`` holds the finished replications.
    """
    from sim.routing.tables import build_travel_tables
    from sim.runner import package_version
    from sim.transit.tables import build_bus_tables
    from sim.world.world import build_world

    if not scenarios:
        raise SimError("replications: no scenario given")
    if keep_tables != "none" and tables_dir is None:
        raise SimError("replications: keep_tables needs tables_dir")
    first = next(iter(scenarios.values()))
    base_seed = first.scenario.simulation.seed if seed is None else int(seed)
    max_n = max(n, max_n or n) if target is not None else n
    all_seeds = derive_seeds(base_seed, max_n)
    workers = _cpus() if workers is None else max(1, int(workers))
    started = time.perf_counter()
    call = uuid.uuid4().hex  # this call's keys in _SHARED: concurrent calls (threads) do not collide
    key = {label: f"{call}/{label}" for label in scenarios}
    for label, loaded in scenarios.items():
        world = build_world(loaded, population_scale=population_scale)
        bus = build_bus_tables(loaded, world) if loaded.scenario.transit is not None else None
        _SHARED[key[label]] = (
            loaded,
            world,
            build_travel_tables(world, loaded.scenario.modes),
            bus,
            days,
            population_scale,
        )
    sets = {
        label: ReplicationSet(
            scenario=loaded.scenario.name,
            days=loaded.scenario.simulation.days if days is None else days,
            base_seed=base_seed,
            seeds=[],
            summaries=[],
            villages=pd.DataFrame(),
            facilities=pd.DataFrame(),
        )
        for label, loaded in scenarios.items()
    }
    try:
        want, done = n, 0
        while True:
            batch = all_seeds[done:want]
            tasks = []
            for label in scenarios:
                for s in batch:
                    keep = keep_tables == "all" or (keep_tables == "first" and s == all_seeds[0])
                    folder = str(Path(tables_dir, label, f"seed_{s}")) if keep and tables_dir else None
                    tasks.append((key[label], s, folder))
            total = done * len(scenarios) + len(tasks)
            try:
                reps = _execute(
                    tasks,
                    workers=workers,
                    progress=progress,
                    cancel=cancel,
                    done_before=done * len(scenarios),
                    total=total,
                )
            except _Cancelled as stop:
                for k, r in stop.reps.items():
                    sets[k.split("/", 1)[1]]._extend(r)
                raise RunCancelled(sets) from None
            for k, r in reps.items():
                sets[k.split("/", 1)[1]]._extend(r)
            done = want
            if target is None or done >= max_n:
                break
            values = _target_values(list(sets.values())[:2], target)
            count, _, low, high = mean_interval(values)
            if count >= 2 and (high - low) / 2 <= target.half_width:
                break
            tq = stats.t.ppf(0.5 + LEVEL / 2, max(count - 1, 1))
            needed = (
                math.ceil((tq * np.nanstd(values, ddof=1) / target.half_width) ** 2)
                if count >= 2
                else done + 1
            )
            want = min(max_n, max(done + 1, needed))
    finally:
        for label in scenarios:
            _SHARED.pop(key[label], None)
    wall = round(time.perf_counter() - started, 3)
    for label, rset in sets.items():
        rset.provenance = {
            "scenario_file": str(scenarios[label].path),
            "scenario": rset.scenario,
            "base_seed": base_seed,
            "seeds": rset.seeds,
            "days": rset.days,
            "population_scale": population_scale,
            "workers": workers,
            "precision_target": None if target is None else vars(target),
            "townsim_version": package_version(),
            "wall_time_s_all_runs": wall,
        }
    return sets


def run_replications(loaded: LoadedScenario, *, n: int, **options: Unpack[RunOptions]) -> ReplicationSet:
    """Run one scenario ``n`` times with seeds ``derive_seeds(seed, n)`` and collect the results.

    The world and travel tables are built once and reused; runs go to ``workers`` forked
    processes (default: one per CPU; 1 = in this process). ``progress(done, total)`` is called
    after each finished run; ``cancel`` (a ``threading.Event``) stops the runs in progress
    within ~0.2 s (their worker processes are terminated) and raises :class:`RunCancelled`. With
    ``target`` replications are added up to ``max_n`` until its CI half-width is reached.
    ``keep_tables`` ("first" or "all") writes full run folders ``<tables_dir>/a/seed_<s>``.
    Options as in :func:`run_many`.
    """
    return run_many({"a": loaded}, n=n, **options)["a"]


def run_paired(
    a: LoadedScenario, b: LoadedScenario, *, n: int, **options: Unpack[RunOptions]
) -> tuple[ReplicationSet, ReplicationSet]:
    """Run A and B with the same seeds in one pool; with ``target`` grow until B - A is precise enough.

    Options as in :func:`run_many`.
    """
    sets = run_many({"a": a, "b": b}, n=n, **options)
    return sets["a"], sets["b"]


# ---------------------------------------------------------------- folders


def is_replications_dir(path: str | Path) -> bool:
    """Whether ``path`` is a replicated run folder (written by :func:`write_replications`)."""
    return (Path(path) / MARKER).is_file()


def _json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, default=str)


def write_replications(
    rset: ReplicationSet,
    out: str | Path,
    *,
    scenario_raw: dict[str, Any],
    tables_from: str | Path | None = None,
) -> Path:
    """Write a replicated run folder atomically (a temporary sibling renamed into place).

    Layout: ``replications.json`` (scenario, base seed, seeds, days, provenance),
    ``summaries.json`` (the summary.json of every run, in seed order), ``villages.parquet`` and
    ``facilities.parquet`` (one row per seed and place), ``scenario.yaml``, and the full run
    folders ``seed_<s>/`` found in ``tables_from`` (moved in). ``out`` is replaced only if
    townsim wrote it as a replicated run folder and nothing was added since (:mod:`sim.ownership`).

    Raises:
        SimError: ``out`` exists and is not an unchanged replicated run folder townsim wrote.
    """
    from sim.ownership import write_dir_owned

    meta = {
        "scenario": rset.scenario,
        "base_seed": rset.base_seed,
        "seeds": rset.seeds,
        "days": rset.days,
        "n": rset.n,
        "wall_time_s": rset.wall_time_s,
        "provenance": rset.provenance,
    }

    def fill(tmp: Path) -> None:
        (tmp / "summaries.json").write_text(_json(rset.summaries), encoding="utf-8")
        rset.villages.to_parquet(tmp / "villages.parquet", index=False)
        rset.facilities.to_parquet(tmp / "facilities.parquet", index=False)
        (tmp / "scenario.yaml").write_text(
            yaml.safe_dump(scenario_raw, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        if tables_from is not None and Path(tables_from).is_dir():
            for run in sorted(Path(tables_from).iterdir()):
                if is_run_dir(run):
                    shutil.move(str(run), tmp / run.name)
        (tmp / MARKER).write_text(_json(meta), encoding="utf-8")

    return write_dir_owned(Path(out), REPLICATIONS_KIND, fill)


def _single_run_set(run_dir: Path) -> ReplicationSet:
    """A single run folder as a set of one replication (its compact tables from its own tables)."""
    from sim.results.io import read_json, read_summary, read_table

    summary = read_summary(run_dir)
    prov = read_json(run_dir / "provenance.json")

    def table(name: str) -> pd.DataFrame:
        parquet = run_dir / f"{name}.parquet"
        if parquet.is_file():
            return read_table(parquet, name)
        frame = read_table(run_dir / f"{name}.csv", name)
        for col in ("village", "status", "kind", "facility"):
            if col in frame:
                frame[col] = frame[col].astype("category")
        return frame

    result = RunResult(
        trips=pd.DataFrame(),
        errands=table("errands"),
        facility_days=table("facility_days"),
        residents=table("residents"),
        schools=pd.DataFrame(),
        daily=pd.DataFrame(),
        places=pd.DataFrame(),
        edges=pd.DataFrame(),
    )
    seed = int(summary.get("seed", prov.get("seed")))
    return ReplicationSet(
        scenario=str(summary.get("scenario", run_dir.name)),
        days=int(summary.get("days", prov.get("days", 0))),
        base_seed=seed,
        seeds=[seed],
        summaries=[summary],
        villages=_village_table(result).assign(seed=seed),
        facilities=_facility_table(result).assign(seed=seed),
        wall_time_s=[float(prov.get("wall_time_s", float("nan")))],
        provenance=prov,
    )


def read_replications(path: str | Path) -> ReplicationSet:
    """A replicated run folder, or a single run folder as a set of one replication.

    Raises:
        SimError: ``path`` is neither.
    """
    from sim.results.io import read_json, read_table

    path = Path(path)
    if is_replications_dir(path):
        meta = read_json(path / MARKER)
        missing = [key for key in ("scenario", "days", "base_seed", "seeds") if key not in meta]
        if missing:
            raise SimError(
                f"{path / MARKER}: field '{missing[0]}': expected a townsim replicated run description"
            )
        summaries = read_json(path / "summaries.json", list)
        return ReplicationSet(
            scenario=meta["scenario"],
            days=int(meta["days"]),
            base_seed=int(meta["base_seed"]),
            seeds=[int(s) for s in meta["seeds"]],
            summaries=summaries,
            villages=read_table(path / "villages.parquet", "villages"),
            facilities=read_table(path / "facilities.parquet", "facilities"),
            wall_time_s=[float(x) for x in meta.get("wall_time_s", [])],
            provenance=meta.get("provenance", {}),
        )
    if is_run_dir(path):
        return _single_run_set(path)
    raise SimError(
        f"{path}: not a townsim run folder (expected {MARKER} of `townsim run --replications N`, "
        "or summary.json and provenance.json of a single run)"
    )
