"""What a reader would catch: overlapping text in any figure (renderer bounding boxes), and English
left in a Chinese figure where a translation exists; every figure in both languages."""

from __future__ import annotations

import re

import pytest

from sim.figures.fonts import choose_language
from sim.figures.labels import METRICS, SCENARIOS, TEXT
from sim.figures.placement import overlapping_texts, text_boxes
from sim.figures.runset import run_figures
from sim.figures.style import figure_style
from sim.figures.sweep import sweep_figures
from tests.figures.conftest import write_synthetic_sweep
from tests.figures.test_sweep_figures import SOBOL_9

CASES = [  # (run, comparison run)
    ("pingtan_merged", "pingtan_baseline"),
    ("tiny_buses", "tiny_merged"),
    ("tiny_baseline", None),
]
#: Latin words allowed in Chinese figures: method names and index symbols with no Chinese form.
LATIN_OK = {"Sobol", "Morris"}
_CACHE: dict[tuple, object] = {}


def _language(lang: str):
    language = choose_language(lang)
    if lang == "zh" and language.lang != "zh":
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    return language


def _run_set(run_dirs, lang, run, vs):
    if run not in run_dirs or (vs and vs not in run_dirs):
        pytest.skip(f"{run} not available")
    key = ("run", lang, run, vs)
    if key not in _CACHE:
        _CACHE[key] = run_figures(run_dirs[run], language=_language(lang), vs=run_dirs[vs] if vs else None)
    return _CACHE[key]


def _sweep_set(tmp_path_factory, lang):
    key = ("sweep", lang)
    if key not in _CACHE:
        folder = write_synthetic_sweep(
            tmp_path_factory.mktemp("sweep9") / "s", params={p: [1.0, 2.0, 3.0] for p in SOBOL_9}
        )
        _CACHE[key] = sweep_figures(folder, language=_language(lang))
    return _CACHE[key]


def _english(places_en: set[str]) -> set[str]:
    """English strings that have a different Chinese form (so must not appear in a zh figure)."""
    found = set(places_en)
    for table in (TEXT, METRICS, SCENARIOS):
        found |= {v["en"] for v in table.values() if v["en"] != v["zh"] and "{" not in v["en"]}
    return {s for s in found if re.search(r"[A-Za-z]{3,}", s)}


def _check(figset, places_en: set[str] = frozenset()) -> None:
    language = figset.language
    english = _english(places_en) if language.lang == "zh" else set()
    with figure_style(language):
        for name, fig in figset.figures.items():
            assert overlapping_texts(fig) == [], f"{name}: overlapping text"
            if language.lang != "zh":
                continue
            for text, _ in text_boxes(fig):
                words = set(re.findall(r"[A-Za-z][A-Za-z_]{3,}", text.get_text())) - LATIN_OK
                assert not words, f"{name}: Latin words {words} in a Chinese figure: {text.get_text()!r}"
                assert not [e for e in english if e in text.get_text()], f"{name}: {text.get_text()!r}"


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(("run", "vs"), CASES)
def test_run_figures_readable(run_dirs, lang, run, vs):
    from sim.results.io import read_run

    figset = _run_set(run_dirs, lang, run, vs)
    places = read_run(run_dirs[run]).places
    named = places[places["kind"] != "village"]
    _check(figset, {str(e) for e, z in zip(named["en"], named["zh"], strict=True) if e != z})


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sweep_figures_readable(tmp_path_factory, lang):
    _check(_sweep_set(tmp_path_factory, lang))


def test_the_overlap_check_can_fail():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2))
    ax = fig.subplots()
    ax.text(0.5, 0.5, "Aoqian")
    ax.text(0.52, 0.5, "Lancheng")
    assert overlapping_texts(fig) == [("Aoqian", "Lancheng")]
    ax.texts[1].set_visible(False)  # a hidden text is not drawn, so it overlaps nothing
    assert overlapping_texts(fig) == []
