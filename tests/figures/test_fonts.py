"""CJK font detection, the English fallback, and Chinese figures drawn without missing glyphs."""

from __future__ import annotations

import pytest

from sim.errors import SimError
from sim.figures.fonts import choose_language, find_cjk_font
from sim.figures.runset import run_figures

CJK = find_cjk_font()


def test_english_needs_no_font():
    assert choose_language("en") == choose_language("en", font=None)
    assert choose_language("en").lang == "en" and choose_language("en").note == ""


def test_chinese_without_cjk_font_falls_back_to_english_with_a_note():
    language = choose_language("zh", font=None)
    assert language.lang == "en" and language.font is None
    assert "no CJK font found" in language.note and "fonts-noto-cjk" in language.note


def test_unknown_language_is_refused():
    with pytest.raises(SimError, match="unknown language 'fr'"):
        choose_language("fr")


def test_fallback_figures_are_english(run_dirs):
    figset = run_figures(run_dirs["tiny_merged"], language=choose_language("zh", font=None))
    assert figset.language.lang == "en"
    assert figset.figures["burden_cdf"].get_supxlabel() == "Door-to-door burden per errand (min)"
    assert figset.skipped["line_loads"] == "no transit in this run"


@pytest.mark.skipif(
    CJK is None, reason="no CJK font installed (apt-get install fonts-noto-cjk); fallback tested above"
)
def test_chinese_figures_use_the_cjk_font_and_every_glyph_exists(run_dirs):
    from sim.figures.figset import figure_bytes

    language = choose_language("zh")
    assert language.lang == "zh" and language.font == CJK
    figset = run_figures(run_dirs["tiny_merged"], language=language, vs=run_dirs["tiny_baseline"])
    cdf = figset.figures["burden_cdf"]
    assert cdf.get_supxlabel() == "每件事门到门耗时（分钟）"
    names = [t.get_text() for ax in cdf.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert "东镇" in names
    for figure in figset.figures.values():  # missing glyphs would warn, and warnings are errors here
        assert figure_bytes(figure, "png", language=language)
    for fmt in ("pdf", "svg"):
        assert figure_bytes(figset.figures["threshold_shares"], fmt, language=language)
