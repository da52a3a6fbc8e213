"""``townsim validate-patterns``: published empirical patterns beside the model's values.

Pattern-oriented validation (Grimm et al., "Pattern-oriented modeling of agent-based complex
systems", Science 310, 2005): the model is run before and after a merger plan (paired seeds; at
posterior draws of a calibration with ``--posterior``) and each published pattern is set beside
the model's value, its 95% interval over seed pairs (and draws), and whether sign and size agree.
The sign agrees when the whole interval lies on the published side of zero; the size agrees when
the published value lies inside the interval. Patterns:

* township-merger distance effects, difference in differences (``townsim merger-effect``): Liu
  (CDEMS 2026): +6.3 km round trip for administrative services and +5.2 km for medical services
  for residents 60+, +3.1 km to school for school-age children;
* school service radius after consolidation, China National Audit Office (2013 audit of rural
  school consolidation, 1,185 schools): primary +43%, middle +26% (mean pupil-to-school km).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, SupportsFloat, cast

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from sim.errors import SimError
from sim.ownership import write_file_owned
from sim.scenario.load import set_path

__all__ = ["PATTERNS", "Pattern", "format_patterns", "service_radius_km", "validate_patterns"]

ROOT = Path(__file__).resolve().parent.parent.parent
BEFORE = ROOT / "scenarios" / "pingtan" / "baseline.yaml"
AFTER = ROOT / "scenarios" / "pingtan" / "merged_2021_schools.yaml"


@dataclass(frozen=True)
class Pattern:
    """One published pattern.

    Attributes:
        name: short name.
        published: the published value (unit below).
        unit: "km" (difference in differences) or "%" (relative change).
        source: author, title, year.
        measure: merger-effect measure or ``radius:<level>``.
        bands: age bands the pattern is about (merger-effect patterns).
    """

    name: str
    published: float
    unit: str
    source: str
    measure: str
    bands: tuple[str, ...] = ()


PATTERNS = (
    Pattern(
        "admin round trip, 60+ (merger DID)",
        6.3,
        "km",
        "Liu, township mergers and service access in shrinking counties, CDEMS 2026",
        "round_trip_km_per_errand_admin",
        ("60+",),
    ),
    Pattern(
        "health round trip, 60+ (merger DID)",
        5.2,
        "km",
        "Liu, township mergers and service access in shrinking counties, CDEMS 2026",
        "round_trip_km_per_errand_health",
        ("60+",),
    ),
    Pattern(
        "school distance, school-age (merger DID)",
        3.1,
        "km",
        "Liu, township mergers and service access in shrinking counties, CDEMS 2026",
        "school_km",
        ("6-11", "12-14"),
    ),
    Pattern(
        "primary school service radius change",
        43.0,
        "%",
        "National Audit Office of China, audit results on rural school consolidation, 2013",
        "radius:primary",
    ),
    Pattern(
        "middle school service radius change",
        26.0,
        "%",
        "National Audit Office of China, audit results on rural school consolidation, 2013",
        "radius:middle",
    ),
)


def service_radius_km(schools: pd.DataFrame) -> dict[str, float]:
    """NAO-style school service radius per level: mean km from placed pupils to their school."""
    placed = schools[schools["school"].notna()]
    return {
        str(k): float(v) for k, v in placed.groupby(placed["level"].astype(str))["distance_km"].mean().items()
    }


def _run(scenario: Path, overlay: Path | None, seed: int, days: int, out: Path) -> Path:
    """One ``townsim run`` (a real run folder: merger-effect reads its summary)."""
    args = [sys.executable, "-m", "sim.cli", "run", str(scenario), "--seed", str(seed), "--days", str(days)]
    args += ["--out", str(out), "--quiet"]
    if overlay is not None:
        args += ["--overlay", str(overlay)]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SimError(f"validate-patterns: the run of {scenario.name} failed: {done.stderr.strip()[-500:]}")
    return out


def _band_value(
    effect: pd.DataFrame, measure: str, bands: tuple[str, ...], weights: Mapping[Hashable, float]
) -> float:
    rows = effect.loc["did_merged"]
    values = [float(cast(SupportsFloat, rows.loc[b, measure])) for b in bands if b in rows.index]
    w = [weights.get(b, 1.0) for b in bands if b in rows.index]
    return float(np.average(values, weights=w)) if values else float("nan")


def _overlays(posterior: str | None, draws: int, folder: Path, fraction: float | None) -> list[Path | None]:
    """Overlay files: one per posterior draw, or none (the scenario's own values)."""
    out: list[Path | None] = []
    extra: dict[str, Any] = {} if fraction is None else {"simulation.sample_fraction": fraction}
    if posterior is None:
        if not extra:
            return [None]
        points: list[dict[str, Any]] = [extra]
    else:
        from sim.calibration.posterior_compare import posterior_draws

        table, to_overrides = posterior_draws(posterior, draws, seed=0)
        points = [{**to_overrides(p), **extra} for p in table.to_dict("records")]
    for i, overrides in enumerate(points):
        tree: dict[str, Any] = {}
        for key, value in overrides.items():
            set_path(tree, key, value)
        path = folder / f"draw{i}.yaml"
        path.write_text(yaml.safe_dump(tree), encoding="utf-8")
        out.append(path)
    return out


def model_values(
    *,
    before: Path = BEFORE,
    after: Path = AFTER,
    posterior: str | None = None,
    draws: int = 4,
    seeds: int = 2,
    days: int = 28,
    sample_fraction: float | None = None,
) -> pd.DataFrame:
    """Per (draw, seed) pair: the model's value of every pattern (one row per pair and pattern)."""
    from sim.metrics.effect import pair_effect

    rows = []
    with tempfile.TemporaryDirectory(prefix="townsim-patterns-") as tmp:
        folder = Path(tmp)
        for d, overlay in enumerate(_overlays(posterior, draws, folder, sample_fraction)):
            for s in range(seeds):
                seed = 1 + s
                a = _run(before, overlay, seed, days, folder / f"before_{d}_{s}")
                b = _run(after, overlay, seed, days, folder / f"after_{d}_{s}")
                effect = pair_effect(a, b)
                radius_a = service_radius_km(pd.read_parquet(a / "schools.parquet"))
                radius_b = service_radius_km(pd.read_parquet(b / "schools.parquet"))
                pupils = pd.read_parquet(a / "residents.parquet")["age_band"].astype(str).value_counts()
                for p in PATTERNS:
                    if p.measure.startswith("radius:"):
                        level = p.measure.split(":", 1)[1]
                        value = 100.0 * (radius_b.get(level, np.nan) / radius_a.get(level, np.nan) - 1.0)
                    else:
                        value = _band_value(effect, p.measure, p.bands, pupils.to_dict())
                    rows.append({"draw": d, "seed": seed, "pattern": p.name, "value": value})
    return pd.DataFrame(rows)


def pattern_table(values: pd.DataFrame) -> pd.DataFrame:
    """Published value beside the model's mean and 95% t interval over pairs, sign and size agreement."""
    rows = []
    for p in PATTERNS:
        v = values.loc[values["pattern"] == p.name, "value"].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        n = len(v)
        mean = float(v.mean()) if n else np.nan
        half = float(stats.t.ppf(0.975, n - 1) * v.std(ddof=1) / np.sqrt(n)) if n >= 2 else np.nan
        low, high = mean - half, mean + half
        # the sign agrees when the whole interval lies on the published side of zero
        sign = bool((low > 0) if p.published > 0 else (high < 0)) if n >= 2 else False
        size = bool(low <= p.published <= high) if n >= 2 else False
        if not sign:
            note = "the model disagrees: opposite sign (or no effect)"
        elif not size:
            note = (
                f"the model disagrees in size: {'smaller' if high < p.published else 'larger'} than published"
            )
        else:
            note = "agrees"
        rows.append(
            {
                "pattern": p.name,
                "unit": p.unit,
                "published": p.published,
                "model": mean,
                "ci_low": low,
                "ci_high": high,
                "pairs": n,
                "sign_agrees": sign,
                "size_agrees": size,
                "note": note,
                "source": p.source,
            }
        )
    return pd.DataFrame(rows)


def validate_patterns(
    *,
    posterior: str | None,
    draws: int,
    days: int,
    out: str | Path,
    seeds: int = 2,
    sample_fraction: float | None = None,
) -> pd.DataFrame:
    """Run the before/after pairs (one after another), build the table and write it as CSV (by the
    ownership rule: a file townsim did not write is never replaced)."""
    values = model_values(
        posterior=posterior, draws=draws, seeds=seeds, days=days, sample_fraction=sample_fraction
    )
    table = pattern_table(values)
    write_file_owned(Path(out), "patterns", lambda tmp: table.to_csv(tmp, index=False))
    return table


def format_patterns(table: pd.DataFrame) -> str:
    """Printed table: pattern, published, model [interval], agreement, source; disagreements said plainly."""
    lines = [f"{'pattern':<42} {'published':>10} {'model (95% interval)':>30}  sign size"]
    for r in table.to_dict("records"):
        unit = "%" if r["unit"] == "%" else " km"
        lines.append(
            f"{r['pattern']:<42} {r['published']:>+8.1f}{unit:<3}"
            f"{r['model']:>+9.2f} [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}]{unit:<3} "
            f" {'yes' if r['sign_agrees'] else 'NO ':<4} {'yes' if r['size_agrees'] else 'NO'}"
        )
        lines.append(f"    source: {r['source']}")
    for r in table.to_dict("records"):
        if r["note"] != "agrees":
            lines.append(f"disagreement: {r['pattern']}: {r['note']}")
    return "\n".join(lines)
