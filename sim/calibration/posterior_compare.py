"""``townsim compare A B --posterior DIR --draws K``: a difference with parameter and stochastic uncertainty.

Both plans run at K parameter draws from a calibration's posterior; at each draw with the same
R seeds for A and B (common random numbers). With ``D_kr`` the difference B - A at draw k and
seed r, the law of total variance splits ``Var(D) = E_k[Var(D | k)] + Var_k(E[D | k])`` into a
stochastic part (seed to seed at fixed parameters: the mean within-draw variance) and a
parameter part (draw to draw of the expected difference: the variance of the draw means less
their own seed noise, ``within / R``, floored at 0). The interval is a 95% interval for the
expected difference under the posterior: mean over draws ± t(K-1) * sqrt((1 + 1/K) * var of draw
means), so it includes parameter uncertainty and the seeds' noise in each draw's mean.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from sim.errors import SimError

if TYPE_CHECKING:
    from sim.replications import ReplicationSet

__all__ = [
    "VARIANCE_COLUMNS",
    "PosteriorComparison",
    "compare_under_posterior",
    "draw_rows",
    "format_posterior_comparison",
    "posterior_draws",
    "total_variance",
]

#: Columns of the law-of-total-variance table besides ``metric`` and ``draws``.
VARIANCE_COLUMNS = ("mean_diff", "ci_low", "ci_high", "var_parameter", "var_stochastic", "share_parameter")

#: Headline metrics reported (summary.json paths); others are in the table too.
HEADLINE = (
    "burden_min.mean",
    "burden_min.p90",
    "trips_per_completed_errand",
    "queues_by_kind.hall.mean_wait_min",
)


@dataclass(frozen=True)
class PosteriorComparison:
    """B - A under posterior draws.

    Attributes:
        table: per metric: ``mean_diff``, ``ci_low``, ``ci_high``, ``var_parameter``,
            ``var_stochastic``, ``share_parameter`` (of the total variance of one run's difference).
        draws: the parameter draws (one row per draw).
        per_draw: per draw and metric: mean difference over seeds and its seed variance.
        replications: seeds per draw.
    """

    table: pd.DataFrame
    draws: pd.DataFrame
    per_draw: pd.DataFrame
    replications: int


def posterior_draws(folder: str | Path, k: int, *, seed: int) -> tuple[pd.DataFrame, Callable[[dict], dict]]:
    """``k`` draws from a calibration's weighted posterior and the function mapping a draw to overrides.

    Raises:
        SimError: not a finished calibration folder.
    """
    from sim.calibration.apply import _read
    from sim.calibration.config import Calibration, LoadedCalibration

    folder = Path(folder)
    _, resolved = _read(folder)
    posterior_path = folder / "posterior.parquet"
    if not posterior_path.is_file():
        raise SimError(f"{folder}: no posterior.parquet; run townsim calibrate to the end first")
    posterior = pd.read_parquet(posterior_path)
    calibration = Calibration.model_validate(resolved)
    loaded = LoadedCalibration(calibration, folder / "experiment.yaml")
    names = list(calibration.parameters)
    weights = posterior["weight"].to_numpy(dtype=float)
    rows = np.random.default_rng(seed).choice(
        len(posterior), size=k, replace=False, p=weights / weights.sum()
    )
    draws = posterior.iloc[rows][names].reset_index(drop=True)
    settings = {*calibration.fixed, "simulation.sample_fraction"}

    def overrides(point: dict) -> dict:
        out = loaded.overrides({n: float(point[n]) for n in names})
        return {path: v for path, v in out.items() if path not in settings or path in names}

    return draws, overrides


def draw_rows(k: int, set_a: ReplicationSet, set_b: ReplicationSet) -> pd.DataFrame:
    """Rows of draw ``k`` for :func:`total_variance`: per overall metric, the mean of B - A over
    the paired seeds (``mean_diff``) and its seed-to-seed variance (``seed_var``)."""
    from sim.replications import paired_difference

    diff = paired_difference(set_a, set_b)
    diff = diff[diff["group_kind"] == "overall"]
    ma, mb = set_a.metrics(), set_b.metrics()
    ma, mb = ma[ma["group_kind"] == "overall"], mb[mb["group_kind"] == "overall"]
    paired = ma.merge(mb, on=["metric", "group_kind", "group", "seed"], suffixes=("_a", "_b"))
    paired["d"] = paired["value_b"] - paired["value_a"]
    seed_var = paired.groupby("metric", sort=False)["d"].var(ddof=1)
    return pd.DataFrame(
        {
            "draw": k,
            "metric": diff["metric"].to_numpy(),
            "mean_diff": diff["mean_diff"].to_numpy(),
            "seed_var": seed_var.reindex(diff["metric"]).to_numpy(),
        }
    )


def total_variance(per_draw: pd.DataFrame, replications: int) -> pd.DataFrame:
    """Law-of-total-variance table from per-draw means and seed variances (columns ``metric``,
    ``mean_diff``, ``seed_var``; one row per draw and metric)."""
    rows = []
    for metric, group in per_draw.groupby("metric", sort=False):
        means = group["mean_diff"].to_numpy(dtype=float)
        means = means[np.isfinite(means)]
        k = len(means)
        within = float(np.nanmean(group["seed_var"])) if group["seed_var"].notna().any() else np.nan
        between_means = float(np.var(means, ddof=1)) if k >= 2 else np.nan
        parameter = max(between_means - within / replications, 0.0) if k >= 2 else np.nan
        half = stats.t.ppf(0.975, k - 1) * np.sqrt((1 + 1 / k) * between_means) if k >= 2 else np.nan
        mean = float(means.mean()) if k else np.nan
        rows.append(
            {
                "metric": metric,
                "draws": k,
                "mean_diff": mean,
                "ci_low": mean - half,
                "ci_high": mean + half,
                "var_parameter": parameter,
                "var_stochastic": within,
                "share_parameter": parameter / (parameter + within) if parameter + within > 0 else np.nan,
            }
        )
    return pd.DataFrame(rows)


def compare_under_posterior(
    scenario_a: str | Path,
    scenario_b: str | Path,
    posterior: str | Path,
    *,
    draws: int,
    replications: int,
    seed: int | None = None,
    days: int | None = None,
    workers: int | None = None,
    overlays: Sequence[str | Path] = (),
    overlays_b: Sequence[str | Path] = (),
    progress: Callable[[int, int], None] | None = None,
) -> PosteriorComparison:
    """Run A and B at ``draws`` posterior draws with ``replications`` paired seeds each.

    Raises:
        SimError: fewer than 2 draws or 2 replications, or not a calibration folder.
    """
    from sim.replications import run_paired
    from sim.scenario.load import load_scenario

    if draws < 2 or replications < 2:
        raise SimError(
            "--posterior needs --draws >= 2 and --replications >= 2 (variances within and between draws)"
        )
    table, to_overrides = posterior_draws(posterior, draws, seed=seed or 0)
    per_draw = []
    for k, point in enumerate(table.to_dict("records")):
        overrides = to_overrides(point)
        a = load_scenario(scenario_a, overlays=overlays, overrides=overrides)
        b = load_scenario(scenario_b, overlays=[*overlays, *overlays_b], overrides=overrides)
        set_a, set_b = run_paired(a, b, n=replications, seed=seed, days=days, workers=workers)
        per_draw.append(draw_rows(k, set_a, set_b))
        if progress is not None:
            progress(k + 1, draws)
    frame = pd.concat(per_draw, ignore_index=True)
    return PosteriorComparison(total_variance(frame, replications), table, frame, replications)


def format_posterior_comparison(result: PosteriorComparison, label_a: str, label_b: str) -> str:
    """Text table of the headline metrics: difference, interval and the variance split."""
    t = result.table.set_index("metric")
    lines = [
        f"{label_b} - {label_a} over {len(result.draws)} posterior draws x {result.replications} "
        "paired seeds (95% interval includes parameter uncertainty; variance of one run's difference "
        "split by the law of total variance)",
        f"{'metric':<40} {'difference':>11} {'95% interval':>23} {'parameter':>10} {'stochastic':>11}",
    ]
    for metric in [m for m in HEADLINE if m in t.index] or list(t.index[:5]):
        row = t.loc[metric]
        share = row["share_parameter"]
        lines.append(
            f"{metric:<40} {row['mean_diff']:>11.3f} [{row['ci_low']:>9.3f}, {row['ci_high']:>9.3f}] "
            f"{share:>10.0%} {1 - share:>11.0%}"
            if np.isfinite(share)
            else f"{metric:<40} {row['mean_diff']:>11.3f} (not enough draws)"
        )
    return "\n".join(lines) + "\n"
