"""Sweep figures from the sweep folder contract (synthetic fixture) and, when it runs, a real sweep."""

from __future__ import annotations

import shutil
import socket

import pytest
import yaml
from matplotlib.collections import PolyCollection

from sim.errors import SimError
from sim.figures.fonts import Language
from sim.figures.sweep import is_sweep_dir, quantity_label, read_sweep, sweep_figures
from tests.conftest import TINY, TINY_MERGED
from tests.figures.conftest import SWEEP_LEVERS, SWEEP_OUTCOMES, SWEEP_PARAMS, write_synthetic_sweep

EN = Language("en")


def test_units_come_from_names():
    assert quantity_label("burden_mean_min") == "burden_mean_min (min)"
    assert quantity_label("behaviour.logit_scale_per_min") == "behaviour.logit_scale_per_min (1/min)"
    assert quantity_label("burden_gini") == "burden_gini (dimensionless)"


def test_synthetic_sweep_gives_curves_heatmaps_and_index_bars(synthetic_sweep):
    figset = sweep_figures(synthetic_sweep, language=EN)
    curves = [k for k in figset.figures if "_vs_" in k]
    heatmaps = [k for k in figset.figures if k.endswith("_heatmap")]
    bars = [k for k in figset.figures if k.startswith("sensitivity_")]
    assert len(curves) == len(SWEEP_OUTCOMES) * len(SWEEP_PARAMS)
    assert len(heatmaps) == len(SWEEP_OUTCOMES)
    assert len(bars) == 2 * len(SWEEP_OUTCOMES)  # sobol and morris
    assert figset.skipped == {}

    curve = figset.figures["sweep_burden_mean_min_vs_mean_min"].axes[0]
    bands = [c for c in curve.collections if isinstance(c, PolyCollection)]
    assert len(bands) == len(SWEEP_LEVERS), "one confidence band per lever"
    texts = [t.get_text() for t in curve.get_legend().get_texts()]
    assert texts == [*SWEEP_LEVERS, "95% confidence interval"]
    assert curve.get_xlabel() == "facility_defaults.clinic.service_time.mean_min (min)"
    assert curve.get_ylabel() == "burden_mean_min (min)"
    assert any("held at logit_scale_per_min = 0.1" in t.get_text() for t in curve.texts)

    heat = figset.figures["sweep_burden_mean_min_heatmap"]
    panels = [a for a in heat.axes if a.images]
    assert [a.get_title(loc="left") for a in panels] == list(SWEEP_LEVERS)
    assert panels[0].images[0].get_array().shape == (2, 3)

    sobol = figset.figures["sensitivity_sobol_burden_gini"].axes
    assert [a.get_title(loc="left") for a in sobol] == list(SWEEP_LEVERS)
    assert len(sobol[0].patches) == 2 * len(SWEEP_PARAMS)
    assert sobol[0].get_xlabel() == "Index value (dimensionless)"
    assert [t.get_text() for t in sobol[-1].get_legend().get_texts()] == ["S1", "ST"]
    morris = figset.figures["sensitivity_morris_burden_gini"].axes
    assert [t.get_text() for t in morris[-1].get_legend().get_texts()] == ["mu_star", "sigma"]


def test_sweep_without_sensitivity_says_so(tmp_path):
    folder = write_synthetic_sweep(tmp_path / "grid", sensitivity=False)
    figset = sweep_figures(folder, language=EN)
    assert figset.skipped == {"sensitivity": "no sensitivity indices in this sweep"}


def test_not_a_sweep_folder(tmp_path):
    assert not is_sweep_dir(tmp_path)
    with pytest.raises(SimError, match="not an analysed sweep folder"):
        read_sweep(tmp_path)


def _dashboard_port_busy() -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", 8787)) == 0


def test_real_sweep_output(tmp_path):
    pytest.importorskip("sim.sweep.analyze", reason="sim/sweep not present")
    if (
        _dashboard_port_busy()
    ):  # Dask then warns and leaks a socket, which warnings-as-errors turns into a failure
        pytest.skip(
            "port 8787 is taken by another Dask dashboard; the local sweep cluster cannot start cleanly"
        )
    from sim.cli import main

    experiment = {
        "name": "fig_test",
        "base": str(TINY),
        "days": 3,
        "parameters": {
            "facility_defaults.clinic.service_time.mean_min": {"values": [6.0, 14.0]},
            "behaviour.logit_scale_per_min": {"values": [0.1, 0.3]},
        },
        "levers": {"baseline": [], "merged": [str(TINY_MERGED)]},
        "outcomes": {"burden_mean_min": "burden_min.mean"},
        "sampler": {"method": "grid"},
        "replications": 2,
    }
    file = tmp_path / "experiment.yaml"
    file.write_text(yaml.safe_dump(experiment), encoding="utf-8")
    out = tmp_path / "sweep"
    assert main(["sweep", str(file), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    if not is_sweep_dir(out):
        assert main(["analyze", str(out)]) == 0
    figset = sweep_figures(out, language=EN)
    assert {
        "sweep_burden_mean_min_vs_mean_min",
        "sweep_burden_mean_min_vs_logit_scale_per_min",
        "sweep_burden_mean_min_heatmap",
    } <= set(figset.figures)
    assert "sensitivity" in figset.skipped
    shutil.rmtree(out)
