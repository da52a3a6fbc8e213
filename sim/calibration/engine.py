"""Run a calibration: observed statistics, waves of candidate runs on the sweep engine, emulators,
history matching, ABC-SMC, posterior predictive runs; resumable like a sweep.

Every wave's design is a deterministic function of the file and the runs stored before it, so a
calibration stopped at any point (Ctrl-C, a killed client or worker) continues where it stopped
when the same command is run again: stored runs are not re-run.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
import pandas as pd
import yaml
from scipy.stats import qmc

from sim.calibration.abc import AbcResult, abc_smc
from sim.calibration.config import LoadedCalibration, load_calibration
from sim.calibration.emulator import fit_emulator
from sim.calibration.history import Wave, nonimplausible, sample_space
from sim.calibration.stats import ObservedStatistics, Window, observed_statistics
from sim.calibration.summaries import Summaries, fit_summaries
from sim.calibration.tables import prior_interval, weighted_quantile
from sim.calibration.task import CalibrationTask, run_calibration_task
from sim.errors import ScenarioError, SimError
from sim.scenario.load import load_scenario, scenario_digest
from sim.sweep.plan import run_key
from sim.sweep.runner import SweepProgress, _client, submit_and_store
from sim.sweep.samplers import from_unit
from sim.sweep.store import SweepStore

__all__ = [
    "CalibrationState",
    "Progress",
    "calibrate",
    "crn_offset",
    "infer",
    "raise_variances",
    "read_observed",
    "seed_variance",
    "stat_columns",
]

#: design_point offsets: wave w's points are WAVE_BLOCK * w + i; replicate runs and checks below 0.
WAVE_BLOCK = 1_000_000
REPLICATE_POINT = -1
CHECK_BLOCK = -2_000_000

#: ``(stage name, SweepProgress)`` after each finished run of a stage.
Progress = Callable[[str, SweepProgress], None]


def read_observed(cal: LoadedCalibration) -> ObservedStatistics:
    """The observed records' statistics and observation-error variances.

    Raises:
        ScenarioError: a record file is malformed, or ``method.observation_variance`` names a
            statistic the records do not give.
    """
    from sim.observed.records import read_records

    scenario = load_scenario(cal.base, overlays=cal.overlays).scenario
    records = {kind: read_records(kind, path, scenario) for kind, path in cal.observed.items()}
    c = cal.calibration
    observed = observed_statistics(
        records,
        Window(c.start_date, cal.days),
        min_records=c.method.min_records,
        given_variance=c.method.observation_variance,
    )
    unknown = sorted(set(c.method.observation_variance) - set(observed.names) - set(observed.dropped))
    if unknown:
        raise ScenarioError(
            str(cal.path),
            f"method.observation_variance.{unknown[0]}",
            f"expected a statistic of the observed records (e.g. {(observed.names or ['none'])[0]})",
        )
    if len(observed.names) < len(c.parameters):
        raise ScenarioError(
            str(cal.path),
            "observed",
            f"expected records giving at least {len(c.parameters)} statistics; "
            f"they give {len(observed.names)} ({len(observed.dropped)} dropped for too few records)",
        )
    return observed


def stat_columns(cal: LoadedCalibration, observed: ObservedStatistics) -> list[str]:
    """Column order of stored rows."""
    return [
        "run_key",
        "design_point",
        "lever",
        "seed",
        *cal.calibration.parameters,
        *observed.names,
        "status",
        "error",
        "wall_time_s",
        "worker",
        "finished_at",
    ]


@dataclass
class CalibrationState:
    """What a calibration found (also what ``calibration.json`` and the figures are made of).

    Attributes:
        cal: the calibration file.
        observed: observed statistics.
        waves: the waves' emulators, in order.
        wave_rows: per wave: runs, non-implausible share after it, LOO diagnostics.
        abc: the final ABC-SMC population (unit cube).
        posterior: posterior draws in parameter units with weights.
        check: posterior predictive runs' statistics (one row per run).
        design: all design points with their wave and unit-cube coordinates.
        notes: plain warnings (untrusted emulators, unidentified parameters, lost runs).
        wall_time_s: time of the whole call.
        lost: runs lost with their workers (not stored; the next call re-runs them).
    """

    cal: LoadedCalibration
    observed: ObservedStatistics
    waves: list[Wave] = field(default_factory=list)
    wave_rows: list[dict[str, Any]] = field(default_factory=list)
    abc: AbcResult | None = None
    posterior: pd.DataFrame | None = None
    check: pd.DataFrame | None = None
    design: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    wall_time_s: float = 0.0
    lost: int = 0


class _ClientArgs(TypedDict):
    """The keyword arguments of the sweep engine's ``_client``."""

    workers: int | None
    scheduler: str | None
    security: object | None


class _Runner:
    """Runs tasks through the sweep engine's store and Dask client, starting the cluster on first need."""

    def __init__(
        self,
        cal: LoadedCalibration,
        observed: ObservedStatistics,
        store: SweepStore,
        *,
        workers: int | None,
        scheduler: str | None,
        security: object | None,
        progress: Progress | None,
    ) -> None:
        self.cal = cal
        self.store = store
        self.columns = stat_columns(cal, observed)
        self.planned: list[CalibrationTask] = []
        self.lever = f"calibration@{cal.calibration.start_date.isoformat()}"
        loaded = load_scenario(cal.base, overlays=cal.overlays)
        self.digest = scenario_digest(loaded)
        self.kinds = tuple(cal.observed)
        self.progress = progress
        self._client_args: _ClientArgs = {"workers": workers, "scheduler": scheduler, "security": security}
        self._client_cm: Any = None
        self._client: Any = None
        self.lost = 0

    def tasks(self, unit: np.ndarray, first_point: int, seeds: list[int]) -> list[CalibrationTask]:
        names = list(self.cal.calibration.parameters)
        specs = [self.cal.calibration.parameters[n] for n in names]
        out = []
        for i, row in enumerate(unit):
            point = {n: float(from_unit(s, float(u))) for n, s, u in zip(names, specs, row, strict=True)}
            overrides = self.cal.overrides(point)
            for seed in seeds:
                key = run_key(
                    digest=self.digest, lever=self.lever, overrides=overrides, seed=seed, days=self.cal.days
                )
                out.append(
                    CalibrationTask(
                        run_key=key,
                        design_point=first_point + i,
                        lever=self.lever,
                        seed=seed,
                        base=str(self.cal.base),
                        overlays=tuple(str(o) for o in self.cal.overlays),
                        parameters=point,
                        overrides=overrides,
                        days=self.cal.days,
                        start_date=self.cal.calibration.start_date.isoformat(),
                        kinds=self.kinds,
                    )
                )
        return out

    def run(self, stage: str, tasks: list[CalibrationTask]) -> pd.DataFrame:
        """Run the tasks not yet stored; return the stored ok rows of ``tasks`` in task order."""
        self.planned.extend(tasks)
        plan = pd.DataFrame(
            [
                {
                    "run_key": t.run_key,
                    "design_point": t.design_point,
                    "lever": t.lever,
                    "seed": t.seed,
                    **t.parameters,
                }
                for t in self.planned
            ]
        )
        self.store.write_setup(experiment_yaml=_resolved_yaml(self.cal), plan=plan, columns=self.columns)
        stored = self.store.keys(statuses=("ok", "failed"))
        todo = list({t.run_key: t for t in tasks if t.run_key not in stored}.values())
        if todo:
            state = SweepProgress(total=len(todo))
            report = None if self.progress is None else (lambda s: self.progress(stage, s))  # type: ignore[misc]
            submit_and_store(
                self.client(), todo, self.store, state, progress=report, task_fn=run_calibration_task
            )
            self.lost += state.lost
            if state.lost:
                raise SimError(
                    f"{state.lost} runs of {stage} were lost with their workers and not stored; "
                    "run the same command again to continue"
                )
        rows = self.store.read_rows()
        rows = rows[rows["run_key"].isin([t.run_key for t in tasks])]
        failed = rows[rows["status"] == "failed"]
        if len(failed) > len(rows) / 2:
            raise SimError(
                f"{len(failed)} of {len(rows)} runs of {stage} failed, e.g. {failed['error'].iloc[0]}"
            )
        order = {t.run_key: i for i, t in enumerate(tasks)}
        ok = rows[rows["status"] == "ok"].copy()
        ok["_order"] = ok["run_key"].map(order)
        return ok.sort_values("_order").drop(columns="_order").reset_index(drop=True)

    def client(self) -> Any:
        if self._client is None:
            self._client_cm = _client(**self._client_args)
            self._client = self._client_cm.__enter__()
        return self._client

    def close(self) -> None:
        if self._client_cm is not None:
            self._client_cm.__exit__(None, None, None)
            self._client_cm = self._client = None


def _resolved_yaml(cal: LoadedCalibration) -> str:
    data = cal.calibration.model_dump(mode="json", exclude_none=True)
    data["base"] = str(cal.base)
    data["overlays"] = [str(o) for o in cal.overlays]
    data["observed"] = {k: str(v) for k, v in cal.observed.items()}
    return f"# Resolved from {cal.path}\n" + yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _unit_of(rows: pd.DataFrame, tasks: list[CalibrationTask], unit: np.ndarray) -> np.ndarray:
    """Unit-cube coordinates of stored rows (looked up by run key)."""
    point_of = {t.run_key: t.design_point for t in tasks}
    first = tasks[0].design_point if tasks else 0
    return unit[[point_of[k] - first for k in rows["run_key"]]]


@contextmanager
def _runner(
    cal: LoadedCalibration, observed: ObservedStatistics, out: Path, **kwargs: Any
) -> Iterator[_Runner]:
    store = SweepStore(out, kind="calibration")
    store.acquire()
    runner = _Runner(cal, observed, store, **kwargs)
    try:
        yield runner
    finally:
        try:
            runner.close()
        finally:
            store.release()


def _sample_fraction(cal: LoadedCalibration) -> float:
    """Resident sample fraction of the candidate runs."""
    overrides = cal.overrides({})
    loaded = load_scenario(cal.base, overlays=cal.overlays, overrides=overrides)
    return float(loaded.scenario.simulation.sample_fraction)


def raise_variances(
    observed: ObservedStatistics, replicate: pd.DataFrame, fraction: float, notes: list[str]
) -> ObservedStatistics:
    """Observation variances no smaller than the model's own run-to-run variance at the prior centre,
    scaled to the whole population (times the sample fraction): one realisation's estimate misses
    rare days (a queue that forms once in a month), the replicate runs see them."""
    y = replicate[observed.names].to_numpy(dtype=float)
    finite = np.isfinite(y)
    n = finite.sum(axis=0)
    filled = np.where(finite, y, 0.0)
    mean = filled.sum(axis=0) / np.maximum(n, 1)
    var = np.where(n >= 3, (np.where(finite, y - mean, 0.0) ** 2).sum(axis=0) / np.maximum(n - 1, 1), 0.0)
    floor = var * fraction
    raised = floor > observed.variances
    notes.append(
        f"{int(raised.sum())} of {len(raised)} observation variances raised to the model's run-to-run "
        "variance at the prior centre (scaled to the whole population)"
    )
    return dataclasses.replace(observed, variances=np.maximum(observed.variances, floor))


def seed_variance(
    observed: ObservedStatistics, replicate: pd.DataFrame | None, replications: int
) -> np.ndarray:
    """Per statistic: run-to-run variance at the prior centre over the seeds per design point."""
    if replicate is None or len(replicate) < 3:
        return np.zeros(len(observed.names))
    y = replicate[observed.names].to_numpy(dtype=float)
    finite = np.isfinite(y)
    n = finite.sum(axis=0)
    mean = np.where(finite, y, 0.0).sum(axis=0) / np.maximum(n, 1)
    ss = (np.where(finite, y - mean, 0.0) ** 2).sum(axis=0)
    return np.where(n >= 3, ss / np.maximum(n - 1, 1), 0.0) / replications


def crn_offset(names: list[str], replicate: pd.DataFrame | None, seeds: list[int]) -> np.ndarray:
    """Per statistic: how far the design seeds' mean lies from the mean over all replicate seeds at
    the prior centre (0 without replicate runs).

    Candidate runs share their seeds (common random numbers), so every design run carries the same
    seeds' luck (one synthetic population, one set of needs); subtracting this offset from every
    design run removes that shared error at the centre, and most of it nearby.
    """
    if replicate is None or len(replicate) < 3 or not replicate["seed"].isin(seeds).any():
        return np.zeros(len(names))
    y = replicate[names].to_numpy(dtype=float)
    mine = replicate["seed"].isin(seeds).to_numpy()
    with np.errstate(all="ignore"):
        both = np.isfinite(y).any(axis=0) & np.isfinite(y[mine]).any(axis=0)
        design = np.where(both, np.nanmean(np.where(both, y[mine], 0.0), axis=0), 0.0)
        average = np.where(both, np.nanmean(np.where(both, y, 0.0), axis=0), 0.0)
    return design - average


def infer(waves: list[Wave], summaries: Summaries, dims: int, *, particles: int, seed: int) -> AbcResult:
    """ABC-SMC on the last wave's emulator inside the non-implausible space of all waves (unit cube)."""
    start, _ = sample_space(waves, particles, dims, seed=seed + 7919)
    if len(start) < 10:
        raise SimError(
            "the non-implausible space is (nearly) empty: the model cannot reproduce the records "
            "within the observation errors; see calibration.json's waves"
        )

    def in_cube(points: np.ndarray) -> np.ndarray:
        return np.all((points >= 0) & (points <= 1), axis=1)  # implausible points: the kernel is -inf

    return abc_smc(summaries.kernel(waves), start, in_cube, rng=np.random.default_rng(seed))


def calibrate(
    path: str | Path,
    *,
    out: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    security: object | None = None,
    progress: Progress | None = None,
) -> CalibrationState:
    """Run (or continue) a calibration and write its outputs into ``out``.

    Raises:
        ScenarioError: the file or a record file is invalid (checked before anything runs).
        SimError: the folder is locked or not a calibration folder, runs failed, or the
            non-implausible space is empty.
    """
    started = time.perf_counter()
    cal = load_calibration(path)
    observed = read_observed(cal)
    state = CalibrationState(cal, observed)
    c = cal.calibration
    m = c.method
    names = list(c.parameters)
    dims = len(names)
    seeds = list(range(m.first_seed, m.first_seed + m.replications))
    out = Path(out)
    with _runner(
        cal, observed, out, workers=workers, scheduler=scheduler, security=security, progress=progress
    ) as runner:
        replicate = None
        if m.noise_runs >= 3:
            centre = np.full((1, dims), 0.5)
            # the design seeds at the centre too: their deviation from the seed average is the CRN offset
            rep_seeds = seeds + list(range(m.first_seed + 100_000, m.first_seed + 100_000 + m.noise_runs))
            replicate = runner.run("replicates", runner.tasks(centre, REPLICATE_POINT, rep_seeds))
            observed = raise_variances(observed, replicate, _sample_fraction(cal), state.notes)
            state.observed = observed
        model_var = seed_variance(observed, replicate, m.replications)
        offset = crn_offset(observed.names, replicate, seeds)
        designs: list[pd.DataFrame] = []
        train_unit = np.zeros((0, dims))
        train_y = np.zeros((0, len(observed.names)))
        for w in range(1, m.waves + 1):
            if w == 1:
                unit = qmc.LatinHypercube(d=dims, seed=m.seed).random(m.runs_per_wave)
                share_before = 1.0
            else:
                unit, share_before = sample_space(state.waves, m.runs_per_wave, dims, seed=m.seed + w)
                if len(unit) < 2:
                    state.notes.append(f"wave {w}: fewer than 2 non-implausible points found; stopped")
                    break
            tasks = runner.tasks(unit, WAVE_BLOCK * w, seeds)
            rows = runner.run(f"wave {w}", tasks)
            x = _unit_of(rows, tasks, unit)
            y = rows[observed.names].to_numpy(dtype=float) - offset
            designs.append(pd.DataFrame({"wave": w, **{n: x[:, i] for i, n in enumerate(names)}}))
            # Training set: every run so far that survives the earlier waves' cuts.
            train_unit = np.vstack([train_unit, x])
            train_y = np.vstack([train_y, y])
            keep = nonimplausible(state.waves, train_unit) if state.waves else np.ones(len(train_unit), bool)
            emulator = fit_emulator(train_unit[keep], train_y[keep], observed.names, seed=m.seed)
            wave = Wave(emulator, observed.values, observed.variances, m.cutoff, model_var)
            state.waves.append(wave)
            loo = pd.DataFrame(emulator.loo_table())
            untrusted = loo.loc[loo["trusted"] == 0, "statistic"].tolist()
            state.wave_rows.append(
                {
                    "wave": w,
                    "runs": len(rows),
                    "training_runs": int(keep.sum()),
                    "space_share_before": share_before,
                    "loo_rms_median": float(loo["loo_rms"].median()),
                    "untrusted_statistics": untrusted,
                    "implausibility_k": wave.k,
                }
            )
            if untrusted:
                state.notes.append(
                    f"wave {w}: the emulators of {len(untrusted)} of {len(loo)} statistics are not "
                    f"trustworthy (leave-one-out errors beyond 3 standard errors), e.g. {untrusted[0]}"
                )
        _, share = sample_space(
            state.waves, 1, dims, seed=m.seed + 99, candidates=20_000, max_candidates=20_000
        )
        state.wave_rows[-1]["space_share_after"] = share
        for before, after in zip(state.wave_rows, state.wave_rows[1:], strict=False):
            before["space_share_after"] = after["space_share_before"]
        state.design = pd.concat(designs, ignore_index=True)
        summaries = fit_summaries(
            observed, train_unit[keep], train_y[keep], replicate, replications=m.replications
        )
        state.abc = infer(state.waves, summaries, dims, particles=m.particles, seed=m.seed)
        state.posterior = _posterior_frame(cal, state.abc)
        draws = state.abc.particles[
            np.random.default_rng(m.seed + 1).choice(len(state.abc.particles), m.check_runs)
        ]
        check_tasks = runner.tasks(draws, CHECK_BLOCK, [m.first_seed + 200_000])
        state.check = runner.run("predictive check", check_tasks) if check_tasks else pd.DataFrame()
        state.lost = runner.lost
        state.notes.extend(_identification_notes(cal, state.posterior))
        state.wall_time_s = time.perf_counter() - started
        from sim.calibration.outputs import write_outputs

        write_outputs(state, out)
    return state


def _posterior_frame(cal: LoadedCalibration, abc: AbcResult) -> pd.DataFrame:
    names = list(cal.calibration.parameters)
    specs = [cal.calibration.parameters[n] for n in names]
    values = {
        n: np.array([float(from_unit(s, float(u))) for u in abc.particles[:, i]])
        for i, (n, s) in enumerate(zip(names, specs, strict=True))
    }
    return pd.DataFrame({**values, "weight": abc.weights / abc.weights.sum()})


def _identification_notes(cal: LoadedCalibration, posterior: pd.DataFrame) -> list[str]:
    notes = []
    for name, spec in cal.calibration.parameters.items():
        lo, hi = prior_interval(spec)
        w = posterior["weight"].to_numpy()
        v = posterior[name].to_numpy()
        width = weighted_quantile(v, w, 0.95) - weighted_quantile(v, w, 0.05)
        if width > 0.8 * (hi - lo):
            notes.append(
                f"{name}: the records barely identify it (90% posterior interval {width:.3g} wide, "
                f"{width / (hi - lo):.0%} of the prior's)"
            )
    return notes
