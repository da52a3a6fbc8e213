"""Whether two run folders can be compared seed by seed, and the unpaired difference when not.

A paired difference under common random numbers is only meaningful when both sides simulated
the same residents (same villages and populations), for the same number of days after the same
warm-up, with seeds in common (the pairs are the seeds both hold: a single run pairs with the
replication of its seed). :func:`pairing_problems` lists what breaks that;
``townsim compare`` refuses such folders unless ``--allow-unpaired`` is given, and then reports
:func:`welch_difference`: B minus A with Welch's unequal-variance t interval over the runs of
each side, which does not assume the runs are paired.
"""

from __future__ import annotations

import hashlib
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.errors import SimError
from sim.replications import ReplicationSet
from sim.results.folder import ReplicationsFolder, RunFolder, load_any_folder

__all__ = ["check_pairing", "pairing_problems", "welch_difference"]

Folder = RunFolder | ReplicationsFolder
LEVEL = 0.95


def _days(folder: Folder) -> int:
    return folder.meta.days if isinstance(folder, ReplicationsFolder) else folder.provenance.days


def _seeds(folder: Folder) -> list[int]:
    return list(folder.meta.seeds) if isinstance(folder, ReplicationsFolder) else [folder.provenance.seed]


def _warmup(folder: Folder) -> object:
    sim = folder.scenario.get("simulation")
    return sim.get("warmup_days", 0) if isinstance(sim, dict) else 0


def _places(folder: Folder) -> str | None:
    """Hash of the villages simulated (id, position, residents); None when no run table is kept."""
    run = folder.runs[0] if isinstance(folder, ReplicationsFolder) and folder.runs else folder
    if not isinstance(run, RunFolder) or "places" not in run.tables:
        return None
    places = run.table("places")
    villages = places[places["kind"] == "village"].sort_values("id")
    digest = hashlib.sha256()
    for row in villages[["id", "x_km", "y_km", "population"]].to_dict("records"):
        digest.update(f"{row['id']}|{row['x_km']:.6f}|{row['y_km']:.6f}|{int(row['population'])}\n".encode())
    return digest.hexdigest()


def pairing_problems(a: Folder, b: Folder) -> list[str]:
    """What keeps run folders ``a`` and ``b`` from being compared seed by seed (empty: nothing)."""
    problems = []
    places_a, places_b = _places(a), _places(b)
    if places_a is not None and places_b is not None and places_a != places_b:
        problems.append("different places: the villages (ids, positions or residents) differ")
    if _days(a) != _days(b):
        problems.append(f"different lengths: {_days(a)} and {_days(b)} days")
    if _warmup(a) != _warmup(b):
        problems.append(f"different warm-ups: simulation.warmup_days {_warmup(a)} and {_warmup(b)}")
    seeds_a, seeds_b = _seeds(a), _seeds(b)
    common = set(seeds_a) & set(seeds_b)
    if not common:
        problems.append(f"no common seed (A: {seeds_a[:3]}..., B: {seeds_b[:3]}...)")
    return problems


def welch_difference(a: ReplicationSet, b: ReplicationSet) -> pd.DataFrame:
    """B minus A for every headline metric, unpaired: Welch's 95% t interval over each side's runs.

    Columns as :func:`sim.replications.paired_difference` (``n`` is the smaller side's number of
    runs with a finite value; the interval is NaN when a side has fewer than 2) plus ``n_a``,
    ``n_b``.
    """
    keys = ["metric", "group_kind", "group"]
    ma, mb = a.metrics(), b.metrics()
    ga = ma[np.isfinite(ma["value"].to_numpy(float))].groupby(keys, sort=False)["value"]
    gb = mb[np.isfinite(mb["value"].to_numpy(float))].groupby(keys, sort=False)["value"]
    sa = ga.agg(["count", "mean", "var"]).rename(columns=lambda c: f"{c}_a")
    sb = gb.agg(["count", "mean", "var"]).rename(columns=lambda c: f"{c}_b")
    order = ma[keys].drop_duplicates()
    both = order.merge(sa.reset_index(), on=keys).merge(sb.reset_index(), on=keys)
    rows = []
    for r in both.to_dict("records"):
        n_a, n_b = int(r["count_a"]), int(r["count_b"])
        mean_a, mean_b = float(r["mean_a"]), float(r["mean_b"])
        diff = mean_b - mean_a
        low = high = math.nan
        if n_a >= 2 and n_b >= 2:
            va, vb = float(r["var_a"]) / n_a, float(r["var_b"]) / n_b
            se = math.sqrt(va + vb)
            if se > 0:
                df = (va + vb) ** 2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1))
                half = float(stats.t.ppf(0.5 + LEVEL / 2, df)) * se
            else:
                half = 0.0
            low, high = diff - half, diff + half
        rows.append(
            {
                "metric": r["metric"],
                "group_kind": r["group_kind"],
                "group": r["group"],
                "n": min(n_a, n_b),
                "mean_a": mean_a,
                "mean_b": mean_b,
                "mean_diff": diff,
                "ci_low": low,
                "ci_high": high,
                "n_a": n_a,
                "n_b": n_b,
            }
        )
    return pd.DataFrame(rows)


def check_pairing(run_a: str | Path, run_b: str | Path, *, allow_unpaired: bool) -> bool:
    """Check two ``compare`` arguments; True when the difference must be unpaired (Welch).

    Scenario files are run with paired seeds and always pair. Run folders are loaded (checked)
    and compared by :func:`pairing_problems`: without ``allow_unpaired`` a problem stops the
    command; with it, a warning names the problems and the caller reports
    :func:`welch_difference`.

    Raises:
        SimError: the folders cannot be paired and ``allow_unpaired`` is False (exit code 2).
    """
    a, b = Path(run_a), Path(run_b)
    if a.is_file() or b.is_file():
        return False
    folder_a, folder_b = load_any_folder(a), load_any_folder(b)
    problems = pairing_problems(folder_a, folder_b)
    if not problems:
        common = set(_seeds(folder_a)) & set(_seeds(folder_b))
        if common != set(_seeds(folder_a)) | set(_seeds(folder_b)):
            print(f"townsim compare: note: paired on the {len(common)} seed(s) both hold", file=sys.stderr)
        return False
    text = "; ".join(problems)
    if not allow_unpaired:
        raise SimError(
            f"compare: {a} and {b} cannot be paired seed by seed ({text}); "
            "give --allow-unpaired for an unpaired (Welch) interval"
        )
    print(
        f"townsim compare: warning: {text}; differences below are UNPAIRED (Welch intervals over each "
        "side's runs, not paired by seed)",
        file=sys.stderr,
    )
    return True
