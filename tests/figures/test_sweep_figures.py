"""Sweep figures from the sweep folder contract (synthetic fixture) and, when it runs, a real sweep."""

from __future__ import annotations

import re
import shutil
import socket

import pytest
import yaml
from matplotlib.collections import PolyCollection

from sim.errors import SimError
from sim.figures.fonts import Language
from sim.figures.labels import Labeller
from sim.figures.sweep import (
    is_sweep_dir,
    parameter_labels,
    read_sweep,
    sweep_figures,
    unique_stems,
)
from tests.conftest import TINY, TINY_MERGED
from tests.figures.conftest import SWEEP_LEVERS, SWEEP_OUTCOMES, SWEEP_PARAMS, write_synthetic_sweep

EN = Language("en")


def test_parameter_and_outcome_labels_are_human_in_both_languages():
    en, zh = Labeller("en"), Labeller("zh")
    assert (
        en.parameter("facility_defaults.clinic.service_time.mean_min")
        == "Health centre: mean service time (min)"
    )
    assert (
        en.parameter("facility_defaults.hall.service_time.mean_min")
        == "Service hall: mean service time (min)"
    )
    assert (
        en.parameter("services.clinic.rate_per_person_year.60+")
        == "Health care: visits per person-year, age 60+"
    )
    assert zh.parameter("behaviour.logit_scale_per_min") == "选择敏感度（1/分钟）"
    assert en.metric("burden_mean_min") == "Burden per errand, mean (min)"
    assert zh.metric("burden_gini") == "耗时基尼系数（无量纲）"


SOBOL_9 = [  # the nine parameters of experiments/sobol_burden.yaml: tails repeat (mean_min, 15-59)
    "services.clinic.rate_per_person_year.60+",
    "services.clinic.rate_per_person_year.15-59",
    "services.admin_simple.rate_per_person_year.15-59",
    "facility_defaults.clinic.service_time.mean_min",
    "facility_defaults.hall.service_time.mean_min",
    "modes.ebike.speed_kph.rural",
    "behaviour.logit_scale_per_min",
    "behaviour.value_of_time_yuan_per_h",
    "behaviour.knows_service_scope",
]


def test_every_sweep_parameter_gets_its_own_file_and_label():
    stems = unique_stems(SOBOL_9)
    assert len(set(stems.values())) == len(SOBOL_9)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", s) for s in stems.values())
    assert unique_stems(["a.b+", "a.b-"])["a.b+"] != unique_stems(["a.b+", "a.b-"])["a.b-"]
    for lang in ("en", "zh"):
        labels = parameter_labels(SOBOL_9, Labeller(lang))
        assert len(set(labels.values())) == len(SOBOL_9)
        assert not any("." in v.split(" (")[0] and "_" in v for v in labels.values()), "no dotted paths"
    # two paths that read the same to a human are told apart
    twins = parameter_labels(["merger.facilities.x.servers", "facilities.x.servers"], Labeller("en"))
    assert len(set(twins.values())) == 2


def test_nine_parameter_sobol_sweep_draws_nine_curves_and_nine_distinct_bars(tmp_path):
    folder = write_synthetic_sweep(tmp_path / "sobol", params={p: [1.0, 2.0, 3.0] for p in SOBOL_9})
    figset = sweep_figures(folder, language=EN)
    for outcome in SWEEP_OUTCOMES:
        curves = [k for k in figset.figures if k.startswith(f"sweep_{outcome}_vs_")]
        assert len(curves) == len(SOBOL_9), "one figure per parameter, none overwritten"
    bars = figset.figures["sensitivity_sobol_burden_gini"].axes[0]
    ticks = [t.get_text() for t in bars.get_yticklabels()]
    assert len(set(ticks)) == len(SOBOL_9) and not any(t in SOBOL_9 for t in ticks)


def test_a_parameter_that_cannot_be_drawn_is_listed_with_the_reason(tmp_path):
    folder = write_synthetic_sweep(tmp_path / "s", params={**SWEEP_PARAMS, "behaviour.choice": ["logit"] * 3})
    figset = sweep_figures(folder, language=EN)
    skipped = [k for k in figset.skipped if k.endswith("behaviour-choice")]
    assert len(skipped) == len(SWEEP_OUTCOMES)
    assert all("not numeric" in figset.skipped[k] for k in skipped)


def test_synthetic_sweep_gives_curves_heatmaps_and_index_bars(synthetic_sweep):
    figset = sweep_figures(synthetic_sweep, language=EN)
    curves = [k for k in figset.figures if "_vs_" in k]
    heatmaps = [k for k in figset.figures if k.endswith("_heatmap")]
    bars = [k for k in figset.figures if k.startswith("sensitivity_")]
    assert len(curves) == len(SWEEP_OUTCOMES) * len(SWEEP_PARAMS)
    assert len(heatmaps) == len(SWEEP_OUTCOMES)
    assert len(bars) == 2 * len(SWEEP_OUTCOMES)  # sobol and morris
    assert figset.skipped == {}

    fig = figset.figures["sweep_burden_mean_min_vs_facility_defaults-clinic-service_time-mean_min"]
    curve = fig.axes[0]
    bands = [c for c in curve.collections if isinstance(c, PolyCollection)]
    assert len(bands) == len(SWEEP_LEVERS), "one confidence band per lever"
    texts = [t.get_text() for t in curve.get_legend().get_texts()]
    assert texts == ["Tiny county, baseline", "Tiny county, merged", "95% confidence interval"]
    assert curve.get_xlabel() == "Health centre: mean service time (min)"
    assert curve.get_ylabel() == "Burden per errand, mean (min)"
    assert "held at Choice sharpness (1/min) = 0.1" in fig.get_supxlabel()

    heat = figset.figures["sweep_burden_mean_min_heatmap"]
    panels = [a for a in heat.axes if a.images]
    assert [a.get_title(loc="left") for a in panels] == ["Tiny county, baseline", "Tiny county, merged"]
    assert panels[0].images[0].get_array().shape == (2, 3)

    sobol = figset.figures["sensitivity_sobol_burden_gini"]
    assert [a.get_title(loc="left") for a in sobol.axes] == ["Tiny county, baseline", "Tiny county, merged"]
    assert len(sobol.axes[0].patches) == 2 * len(SWEEP_PARAMS)
    assert sobol.axes[0].get_xlabel() == "Index value (dimensionless)"
    assert [t.get_text() for t in sobol.legends[0].get_texts()] == ["First order S1", "Total ST"]
    morris = figset.figures["sensitivity_morris_burden_gini"]
    assert next(t.get_text() for t in morris.legends[0].get_texts()).startswith("μ*")


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
        "sweep_burden_mean_min_vs_facility_defaults-clinic-service_time-mean_min",
        "sweep_burden_mean_min_vs_behaviour-logit_scale_per_min",
        "sweep_burden_mean_min_heatmap",
    } <= set(figset.figures)
    assert "sensitivity" in figset.skipped
    shutil.rmtree(out)
