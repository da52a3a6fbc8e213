"""``townsim calibrate --apply DIR --out SCENARIO.yaml``: an overlay setting the posterior medians."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from sim.errors import SimError
from sim.ownership import write_file_owned
from sim.scenario.load import load_scenario, set_path

__all__ = ["medians_overrides", "write_overlay"]


def _read(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``calibration.json`` and the resolved calibration file of a calibration folder."""
    summary_path, resolved_path = folder / "calibration.json", folder / "experiment.yaml"
    if not summary_path.is_file() or not resolved_path.is_file():
        raise SimError(
            f"{folder}: not a finished calibration folder (no calibration.json); run townsim calibrate"
        )
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        resolved = yaml.safe_load(resolved_path.read_text(encoding="utf-8"))
    except (ValueError, yaml.YAMLError) as exc:
        raise SimError(f"{folder}: calibration.json or experiment.yaml is damaged ({exc})") from None
    return summary, resolved


def medians_overrides(folder: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Field path -> posterior median (scaled and tied fields expanded) and the calibration summary."""
    from sim.calibration.config import Calibration, LoadedCalibration

    folder = Path(folder)
    summary, resolved = _read(folder)
    calibration = Calibration.model_validate(resolved)
    loaded = LoadedCalibration(calibration, folder / "experiment.yaml")
    point = {name: float(summary["parameters"][name]["posterior_median"]) for name in calibration.parameters}
    overrides = loaded.overrides(point)
    for path in [*calibration.fixed, "simulation.sample_fraction"]:
        if path not in point:
            overrides.pop(path, None)  # run settings of the calibration, not calibrated values
    return overrides, summary | {"base": str(loaded.base), "overlays": [str(o) for o in loaded.overlays]}


def write_overlay(folder: str | Path, out: str | Path) -> Path:
    """Write an overlay YAML of a calibration's posterior medians (checked to load on the base scenario).

    Raises:
        SimError: not a calibration folder, or ``out`` exists and is not an overlay townsim wrote.
    """
    overrides, summary = medians_overrides(folder)
    tree: dict[str, Any] = {}
    for path, value in overrides.items():
        set_path(tree, path, value)
    intervals = "; ".join(
        f"{name} {p['posterior_median']:.4g} [{p['posterior_q05']:.4g}, {p['posterior_q95']:.4g}]"
        for name, p in summary["parameters"].items()
    )
    text = (
        f"# Posterior medians of calibration '{summary['name']}' ({Path(folder).resolve()}),\n"
        f"# records from {summary['start_date']} over {summary['days']} days; 90% intervals: {intervals}.\n"
        "# Use as an overlay: townsim run SCENARIO --overlay THIS_FILE\n"
        + yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)
    )
    out = Path(out)

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")
        load_scenario(summary["base"], overlays=[*summary["overlays"], tmp])  # refuses an invalid overlay

    return write_file_owned(out, "overlay", write)
