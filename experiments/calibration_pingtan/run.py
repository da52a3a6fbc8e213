"""Recovery of four Pingtan parameters from synthetic full-population records (see calibration.yaml).

Makes the records (a full-population run at seed 4242, observed as a county would record it),
runs ``townsim calibrate`` on 2 local worker processes, and writes ``results.json``: each
parameter's truth, posterior median and 90% interval, whether the interval covers the truth, its
width as a share of the prior's range, the wall time and the peak memory of the calibrating
process (which holds the emulators). Run from the repository root:
``.venv/bin/python experiments/calibration_pingtan/run.py [--workers 2]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TOWNSIM = str(Path(sys.executable).with_name("townsim"))
SCENARIO = ROOT / "scenarios" / "pingtan" / "merged_2021_buses.yaml"
TRUTH = {
    "services.clinic.rate_per_person_year": 1.0,
    "facility_defaults.hall.service_time.mean_min": 15.0,
    "behaviour.logit_scale_per_min": 0.15,
    "behaviour.value_of_time_yuan_per_h": 20.0,
}
RECORDS_SEED = 4242


def make_records(work: Path) -> None:
    """Full-population run at the records seed, observed as county records (skipped if present)."""
    if (work / "records" / "survey.csv").is_file():
        return
    run = work / "truth"
    subprocess.run(
        [
            TOWNSIM,
            "run",
            str(SCENARIO),
            "--days",
            "56",
            "--seed",
            str(RECORDS_SEED),
            "--out",
            str(run),
            "--quiet",
        ],
        check=True,
    )
    subprocess.run(
        [TOWNSIM, "observe", str(run), "--out", str(work / "records"), "--start-date", "2021-05-10"],
        check=True,
    )


def main() -> int:
    """Make the records, calibrate, write results.json; exit 1 if an interval misses or is too wide."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    work = HERE / "work"
    make_records(work)
    from sim.calibration.engine import calibrate
    from sim.calibration.tables import parameter_table

    started = time.perf_counter()
    state = calibrate(HERE / "calibration.yaml", out=work / "calibration", workers=args.workers)
    wall = time.perf_counter() - started
    table = parameter_table(state).set_index("parameter")
    rows = {}
    for name, truth in TRUTH.items():
        row = table.loc[name]
        rows[name] = {
            "truth": truth,
            "posterior_median": row["posterior_median"],
            "posterior_q05": row["posterior_q05"],
            "posterior_q95": row["posterior_q95"],
            "covers_truth": bool(row["posterior_q05"] <= truth <= row["posterior_q95"]),
            "width_vs_prior_range": row["width_vs_prior_range"],
        }
    result = {
        "parameters": rows,
        "wall_time_s": round(wall, 1),
        "peak_rss_calibrating_process_mb": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
        "workers": args.workers,
        "cpu_time_s_calibrating_process": round(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), 1),
        "load_average_1min_at_end": os.getloadavg()[0],
        "runs": sum(int(w["runs"]) for w in state.wave_rows),
        "statistics": len(state.observed.names),
        "notes": state.notes,
    }
    (HERE / "results.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))
    ok = all(r["covers_truth"] and r["width_vs_prior_range"] <= 0.4 for r in rows.values())
    print(
        "recovery:", "every 90% interval covers the truth within 40% of the prior's width" if ok else "FAILED"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
