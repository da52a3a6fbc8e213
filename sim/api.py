"""The Python interface: load a scenario, run it, compare two plans, sweep parameters.

``import sim`` exposes these names (``sim.load``, ``sim.run``, ``sim.compare``, ``sim.sweep``);
each reuses what the ``townsim`` commands use (the runner, the replication pool, the paired
comparison, the sweep runner and the run-folder writers), so a notebook gets the same numbers as
the command line.

Example:
    ```python
    import sim

    run = sim.run("scenarios/tiny/baseline.yaml", days=7, seed=1)
    run.summary.burden_min.mean       # summary.json, typed
    run.tables["errands"]             # a DataFrame
    sim.compare("scenarios/tiny/baseline.yaml", "scenarios/tiny/merged.yaml", days=14, replications=5)
    ```
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from sim.replications import ReplicationSet
    from sim.results.result import RunResult
    from sim.results.summary_model import RunSummary
    from sim.scenario.load import LoadedScenario
    from sim.scenario.schema import Scenario
    from sim.sweep.analyze import Analysis

__all__ = ["Run", "compare", "load", "run", "sweep"]

PathLike = str | Path


def load(
    path: PathLike,
    *,
    overlays: Sequence[PathLike] = (),
    overrides: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> LoadedScenario:
    """Load and validate a scenario file, as ``townsim validate`` does.

    Args:
        path: the scenario YAML file.
        overlays: YAML files merged on top, in order (``--overlay``).
        overrides: field values by dotted path, e.g. ``{"behaviour.logit_scale_per_min": 0.2}``.
        name: run name (default: the scenario's name, then ``+<overlay stem>`` per overlay).

    Returns:
        The loaded scenario: ``.scenario`` (the typed, frozen `Scenario`),
        ``.raw`` (the resolved YAML mapping) and ``.run_name``.

    Raises:
        ScenarioError: the file or a field is invalid (the message names the file and field).
    """
    from sim.scenario.load import load_scenario

    return load_scenario(path, overlays=overlays, overrides=overrides, name=name)


def _check(name: str, value: int | None, parse: Callable[[str], int]) -> None:
    """The command line's check of an option (``--days``, ``--seed``...), as a ValueError naming it."""
    import argparse

    if value is not None:
        try:
            parse(str(value))
        except argparse.ArgumentTypeError as exc:
            raise ValueError(f"{name}: {exc}") from None


def _loaded(scenario: PathLike | LoadedScenario, overlays: Sequence[PathLike]) -> LoadedScenario:
    from sim.scenario.load import LoadedScenario

    if isinstance(scenario, LoadedScenario):
        if overlays:
            raise ValueError("overlays apply to a scenario file; pass sim.load(path, overlays=...) instead")
        return scenario
    return load(scenario, overlays=overlays)


@dataclasses.dataclass
class Run:
    """One scenario run (or a set of replications) held in memory.

    Attributes:
        loaded: the loaded scenario the run used.
        result: the outputs of the run (with replications: of the first seed).
        replications: with ``replications >= 2``, every seed's summary and per-place tables
            (`ReplicationSet`); ``None`` for a single run.
    """

    loaded: LoadedScenario
    result: RunResult
    replications: ReplicationSet | None = None
    _kept: Path | None = dataclasses.field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self._kept is not None:  # the first seed's run folder, removed with this object
            weakref.finalize(self, shutil.rmtree, self._kept, ignore_errors=True)

    @property
    def scenario(self) -> Scenario:
        """The typed scenario (every field, after ``extends:`` and overlays)."""
        return self.loaded.scenario

    @property
    def summary(self) -> RunSummary:
        """The headline metrics of ``summary.json``, typed (`RunSummary`; replications: the first seed's).

        Fields are attributes (``run.summary.burden_min.mean``); ``.to_json_dict()`` gives the mapping.
        """
        return self.result.checked_summary()

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The output tables by name (``trips``, ``errands``, ``facility_days``, ``residents``, ...)."""
        import pandas as pd

        return {
            f.name: getattr(self.result, f.name)
            for f in dataclasses.fields(self.result)
            if isinstance(getattr(self.result, f.name), pd.DataFrame)
        }

    @property
    def metrics(self) -> pd.DataFrame:
        """Every numeric summary metric per seed (one row per seed and metric path)."""
        if self.replications is not None:
            return self.replications.metrics()
        from sim.replications import summary_metrics

        return summary_metrics(self.summary).assign(seed=self.summary.seed)

    def interval(self, metric: str = "burden_min.mean") -> tuple[int, float, float, float]:
        """``(n, mean, low, high)``: a metric's mean over seeds with its 95% t interval.

        Args:
            metric: a dotted path into ``summary.json``, e.g. ``"burden_min.mean"``.

        Raises:
            ValueError: a single run (no replications) has no interval.
        """
        if self.replications is None:
            raise ValueError("a single run has no interval: run with replications=N (N >= 2)")
        return self.replications.interval(metric)

    def save(self, path: PathLike, *, csv: bool = False, force: bool = False) -> Path:
        """Write the run folder ``townsim run`` writes (with replications: a replicated run folder).

        The folder is written atomically and replaces ``path`` only if townsim wrote it and
        nothing was added since (a folder of a different scenario only with ``force``).

        Args:
            path: the run folder.
            csv: write CSV instead of Parquet (single runs only).
            force: replace a run folder of a different scenario.

        Returns:
            ``path``.

        Raises:
            SimError: ``path`` holds files townsim did not write, or another scenario's run.
        """
        if self.replications is None:
            from sim.results.io import write_run

            return write_run(self.result, path, csv=csv, scenario_raw=self.loaded.raw, force=force)
        if csv:
            raise ValueError("replicated run folders are written as Parquet only")
        from sim.replications import write_replications

        assert self._kept is not None
        with tempfile.TemporaryDirectory(prefix="townsim-save-") as tmp:
            copy = Path(tmp) / "a"
            shutil.copytree(self._kept / "a", copy, symlinks=True)
            return write_replications(self.replications, path, scenario_raw=self.loaded.raw, tables_from=copy)


def run(
    scenario: PathLike | LoadedScenario,
    *,
    days: int | None = None,
    seed: int | None = None,
    replications: int | None = None,
    overlays: Sequence[PathLike] = (),
    workers: int | None = None,
) -> Run:
    """Run a scenario, as ``townsim run`` does, and keep the outputs in memory.

    Args:
        scenario: a scenario file, or a scenario from `load`.
        days: measured days (default: the scenario's ``simulation.days``).
        seed: random seed (default: the scenario's ``simulation.seed``); replications use
            ``seed, seed + 1, ...``.
        replications: with 2 or more, run that many seeds in worker processes; ``run.tables``
            then holds the first seed's tables and ``run.interval()`` gives 95% intervals.
        overlays: YAML files merged on a scenario file (``--overlay``).
        workers: worker processes for replications (default: one per CPU).

    Returns:
        A `Run` with ``.summary``, ``.tables``, ``.scenario`` and ``.save(path)``.

    Raises:
        ScenarioError: the scenario is invalid.
        ValueError: ``days``, ``seed`` or ``replications`` is out of range.
    """
    from sim import argtypes

    _check("days", days, argtypes.days)
    _check("seed", seed, argtypes.seed)
    _check("replications", replications, argtypes.replications)
    loaded = _loaded(scenario, overlays)
    if replications is None or replications == 1:
        from sim.runner import run_loaded

        return Run(loaded, run_loaded(loaded, days=days, seed=seed))
    from sim.replications import run_replications
    from sim.results.io import read_run

    kept = Path(tempfile.mkdtemp(prefix="townsim-run-"))
    try:
        rset = run_replications(
            loaded,
            n=replications,
            seed=seed,
            days=days,
            workers=workers,
            keep_tables="first",
            tables_dir=kept,
        )
        first = read_run(kept / "a" / f"seed_{rset.seeds[0]}")
    except BaseException:
        shutil.rmtree(kept, ignore_errors=True)
        raise
    return Run(loaded, first, rset, kept)


def _side(value: PathLike | Run) -> ReplicationSet:
    """A run object or a run folder as a set of replications (a single run counts as one)."""
    from sim.replications import read_replications

    if isinstance(value, Run):
        if value.replications is not None:
            return value.replications
        with tempfile.TemporaryDirectory(prefix="townsim-compare-") as tmp:
            return read_replications(value.save(Path(tmp) / "run"))
    return read_replications(value)


def compare(
    a: PathLike | Run,
    b: PathLike | Run,
    *,
    replications: int | None = None,
    days: int | None = None,
    seed: int | None = None,
    overlays: Sequence[PathLike] = (),
    workers: int | None = None,
) -> pd.DataFrame:
    """B − A for every headline metric, paired by seed, with 95% intervals (``townsim compare``).

    ``a`` and ``b`` are two scenario files (both run here with the same seeds, paired under
    common random numbers), or two run objects or run folders (replicated or single).

    Args:
        a: the reference plan.
        b: the plan compared with it.
        replications: seeds per scenario file (default 10, as the command).
        days: measured days of scenario files (default: each scenario's).
        seed: base seed of scenario files (default: A's ``simulation.seed``).
        overlays: YAML files merged on both scenario files.
        workers: worker processes (default: one per CPU).

    Returns:
        One row per metric and group (``metric``, ``group_kind``, ``group``, ``n``, ``mean_a``,
        ``mean_b``, ``mean_diff``, ``ci_low``, ``ci_high``): the rows and columns of
        ``townsim compare --format csv``, which rounds each value to its interval's precision.

    Raises:
        ValueError: one side is a scenario file and the other is not, run options were given
            with runs rather than scenario files, or an option is out of range.
    """
    from sim import argtypes

    _check("days", days, argtypes.days)
    _check("seed", seed, argtypes.seed)
    _check("replications", replications, argtypes.replications)
    files = [not isinstance(x, Run) and Path(x).is_file() for x in (a, b)]
    if all(files):
        from sim.metrics.answer import tidy_groups
        from sim.replications import paired_difference, run_paired
        from sim.replications.cli import DEFAULT_REPLICATIONS

        set_a, set_b = run_paired(
            load(a, overlays=overlays),  # type: ignore[arg-type]
            load(b, overlays=overlays),  # type: ignore[arg-type]
            n=DEFAULT_REPLICATIONS if replications is None else replications,
            seed=seed,
            days=days,
            workers=workers,
        )
        return tidy_groups(paired_difference(set_a, set_b))
    if any(files):
        raise ValueError(f"compare: expected two scenario files or two runs, got {a!r} and {b!r}")
    options = {"replications": replications, "days": days, "seed": seed}
    given = [k for k, v in options.items() if v is not None]
    if given or overlays:
        raise ValueError(f"compare: {(given or ['overlays'])[0]} applies to scenario files, not to runs")
    from sim.metrics.answer import tidy_groups
    from sim.replications import paired_difference

    return tidy_groups(paired_difference(_side(a), _side(b)))


def sweep(
    experiment: PathLike,
    *,
    out: PathLike | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    retry_failed: bool = False,
) -> Analysis:
    """Run a parameter sweep (``townsim sweep``) and analyse it (``townsim analyze``).

    Runs already stored in ``out`` are not run again, so a call resumes an interrupted sweep.

    Args:
        experiment: the experiment YAML file (see the Parameter sweeps page).
        out: sweep folder (default ``sweeps/<name>``).
        workers: local Dask worker processes (default: one per CPU).
        scheduler: address of a running Dask scheduler instead of a local cluster.
        retry_failed: run stored failed runs again.

    Returns:
        The analysis: ``.points`` (seed means and 95% intervals per design point, lever and
        outcome), ``.sensitivity`` (Sobol or Morris indices, or ``None``) and ``.notes``.
    """
    from sim.sweep.analyze import analyze_sweep
    from sim.sweep.runner import run_sweep

    report = run_sweep(experiment, out=out, workers=workers, scheduler=scheduler, retry_failed=retry_failed)
    return analyze_sweep(report.out)
