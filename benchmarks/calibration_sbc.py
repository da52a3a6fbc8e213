"""Simulation-based calibration (Talts et al. 2018) of townsim's calibration procedure on scenarios/tiny.

Three parameters (clinic visit rates x scale, hall service-time mean, logit scale) with the priors
of ``PRIORS``. The inference procedure under test is fixed: one shared design (a Latin hypercube
of ``--design`` runs over the prior at seed 1, common random numbers) with ``--replicates`` runs
at the prior centre, emulators fitted once, then for every synthetic truth: records observed from
a run at the truth (its own seed, never a design seed) written as CSV and read back as county
records are, their statistics and observation variances, history matching (cut-off 3) and
ABC-SMC on the emulators. For each truth drawn from the prior the rank of the true value among
``L`` thinned posterior draws is recorded; if the procedure is calibrated the ranks are uniform
(chi-square test over 10 bins, p > 0.01 expected) and 90% intervals cover the truth in about 90%
of truths (80-97% accepted).

Writes ``--out`` (default benchmarks/results/calibration_sbc.csv: one row per truth and parameter)
and prints the chi-square p-values, the coverage, the wall time and the peak memory.
Run: ``.venv/bin/python benchmarks/calibration_sbc.py [--truths 50] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps
from scipy.stats import qmc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.calibration.config import CalibrationParameter  # noqa: E402
from sim.sweep.samplers import from_unit  # noqa: E402

BASE = ROOT / "scenarios" / "tiny" / "baseline.yaml"
START = dt.date(2024, 3, 4)  # a Monday (tiny starts on Monday)
DAYS = 56
KINDS = ("hall_tickets", "clinic_visits", "survey")
PRIORS = {
    "services.clinic.rate_per_person_year": CalibrationParameter(range=(0.5, 2.0), scale=True),
    "facility_defaults.hall.service_time.mean_min": CalibrationParameter(range=(8.0, 30.0)),
    "behaviour.logit_scale_per_min": CalibrationParameter(range=(0.03, 0.5), dist="loguniform"),
}
RANKS = 99  # thinned posterior draws per truth: ranks 0..99


def _overrides(point: dict[str, float]) -> dict[str, Any]:
    from sim.calibration.config import _scaled
    from sim.scenario.load import get_path, load_scenario

    fields = load_scenario(BASE).scenario.model_dump()
    out: dict[str, Any] = {}
    for name, value in point.items():
        if PRIORS[name].scale:
            out.update(_scaled(name, get_path(fields, name), value))
        else:
            out[name] = value
    return out


def _point(unit: np.ndarray) -> dict[str, float]:
    return {n: float(from_unit(s, float(u))) for (n, s), u in zip(PRIORS.items(), unit, strict=True)}


def simulate(job: tuple[np.ndarray, int]) -> dict[str, float]:
    """Statistics of one candidate run (the calibration's own worker function)."""
    from sim.calibration.task import simulated_statistics

    unit, seed = job
    return simulated_statistics(
        str(BASE),
        overlays=(),
        overrides=_overrides(_point(unit)),
        days=DAYS,
        seed=seed,
        start_date=START,
        kinds=KINDS,
    )


def observe_truth(job: tuple[np.ndarray, int]) -> dict[str, pd.DataFrame]:
    """County records of a run at the truth: observed, written as CSV and read back."""
    import tempfile

    from sim.observed.observe import observe_tables, records_csv
    from sim.observed.records import read_records
    from sim.results.result import TABLES
    from sim.runner import run_scenario

    unit, seed = job
    loaded, result = run_scenario(BASE, overrides=_overrides(_point(unit)), days=DAYS, seed=seed)
    records = observe_tables({t: getattr(result, t) for t in TABLES}, loaded.scenario, START)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in KINDS:
            path = Path(tmp) / f"{kind}.csv"
            path.write_text(records_csv(kind, records[kind]), encoding="utf-8")
            out[kind] = read_records(kind, path, loaded.scenario)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description="simulation-based calibration on scenarios/tiny")
    parser.add_argument("--truths", type=int, default=50)
    parser.add_argument("--design", type=int, default=80)
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--particles", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "calibration_sbc.csv"))
    args = parser.parse_args()
    from sim.calibration.emulator import fit_emulator
    from sim.calibration.engine import crn_offset, infer, raise_variances, seed_variance
    from sim.calibration.history import Wave
    from sim.calibration.stats import Window, observed_statistics
    from sim.calibration.summaries import fit_summaries

    started = time.perf_counter()
    dims = len(PRIORS)
    design = qmc.LatinHypercube(d=dims, seed=args.seed).random(args.design)
    truths = np.random.default_rng(args.seed + 1).random((args.truths, dims))
    with ProcessPoolExecutor(args.workers) as pool:
        sims = list(pool.map(simulate, [(u, 1) for u in design], chunksize=4))
        rep_seeds = [1, *range(100_001, 100_001 + args.replicates)]  # the design seed too (CRN offset)
        reps = list(pool.map(simulate, [(np.full(dims, 0.5), s) for s in rep_seeds]))
        records = list(pool.map(observe_truth, [(u, 10_000 + i) for i, u in enumerate(truths)]))
    names = sorted(set().union(*sims))
    y = pd.DataFrame(sims, columns=names).to_numpy(dtype=float)
    replicate = pd.DataFrame(reps, columns=names).assign(seed=rep_seeds)
    y = y - crn_offset(names, replicate, [1])
    emulator = fit_emulator(design, y, names, seed=0)
    t_design = time.perf_counter() - started
    rows = []
    for i, (unit, recs) in enumerate(zip(truths, records, strict=True)):
        observed = observed_statistics(recs, Window(START, DAYS), min_records=5)
        keep = [n for n in observed.names if n in set(names)]
        where = [observed.names.index(n) for n in keep]
        observed = type(observed)(
            keep, observed.values[where], observed.variances[where], observed.counts[where], observed.dropped
        )
        observed = raise_variances(observed, replicate, 1.0, [])
        model_var = seed_variance(observed, replicate, 1)
        wave = Wave(emulator.subset(keep), observed.values, observed.variances, 3.0, model_var)
        summaries = fit_summaries(
            observed, design, y[:, [names.index(n) for n in keep]], replicate, replications=1
        )
        abc = infer([wave], summaries, dims, particles=args.particles, seed=args.seed + i)
        draws = abc.particles[np.random.default_rng(i).choice(len(abc.particles), RANKS, replace=False)]
        for j, name in enumerate(PRIORS):
            q05, q95 = np.quantile(abc.particles[:, j], [0.05, 0.95])
            rows.append(
                {
                    "truth_index": i,
                    "parameter": name,
                    "truth": _point(unit)[name],
                    "rank": int(np.sum(draws[:, j] < unit[j])),
                    "covered_90": bool(q05 <= unit[j] <= q95),
                    "posterior_q05": float(from_unit(PRIORS[name], float(q05))),
                    "posterior_q95": float(from_unit(PRIORS[name], float(q95))),
                    "statistics": len(keep),
                }
            )
    table = pd.DataFrame(rows)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    summary: dict[str, Any] = {
        "truths": args.truths,
        "design_runs": args.design,
        "replicates": args.replicates,
    }
    for name, group in table.groupby("parameter", sort=False):
        counts = np.bincount(np.minimum(group["rank"].to_numpy() * 10 // (RANKS + 1), 9), minlength=10)
        summary[name] = {
            "chi2_p": float(sps.chisquare(counts).pvalue),
            "coverage_90": float(group["covered_90"].mean()),
            "rank_bins": counts.tolist(),
        }
    summary["wall_time_s"] = round(time.perf_counter() - started, 1)
    summary["design_and_truth_runs_s"] = round(t_design, 1)
    summary["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    summary["cpu_time_s"] = round(sum(u.ru_utime + u.ru_stime for u in usage), 1)
    summary["load_average_1min"] = os.getloadavg()[0]
    out.with_suffix(".json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=1))
    ok = all(summary[n]["chi2_p"] > 0.01 and 0.80 <= summary[n]["coverage_90"] <= 0.97 for n in PRIORS)
    print("SBC:", "ranks uniform and coverage within 80-97%" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
