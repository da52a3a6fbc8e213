"""Export: every format written (vector PDF/SVG), atomic folders, clear errors for bad input."""

from __future__ import annotations

import json
import re

import pytest

import sim.figures.figset as figset_module
from sim.errors import SimError
from sim.figures.figset import parse_formats, write_figures


def test_formats_are_parsed_and_checked():
    assert parse_formats("png, PDF,svg,png") == ("png", "pdf", "svg")
    with pytest.raises(SimError, match="unknown figure format"):
        parse_formats("png,gif")
    with pytest.raises(SimError, match="unknown figure format"):
        parse_formats(" , ")


def test_every_figure_in_every_format(figure_sets, tmp_path):
    figset = figure_sets("tiny_merged", "tiny_baseline")
    out = write_figures(figset, tmp_path / "figs")
    manifest = json.loads((out / "figures.json").read_text(encoding="utf-8"))
    assert manifest["lang"] == "en" and manifest["skipped"] == {"line_loads": "no transit in this run"}
    for name in figset.figures:
        assert (out / f"{name}.png").read_bytes().startswith(b"\x89PNG")
        assert (out / f"{name}.pdf").read_bytes().startswith(b"%PDF")
        svg = (out / f"{name}.svg").read_text(encoding="utf-8")
        assert "<svg" in svg and re.search(r"(href|src)=\"https?:", svg) is None  # no external resources
    map_svg = (out / "burden_map.svg").read_text(encoding="utf-8")
    assert map_svg.count("<image") == 1, (
        "only the colour bar's gradient is a raster; points and roads are vector"
    )
    assert map_svg.count("<use") >= 7  # one marker per village (7 in tiny) at least
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figs"]


def test_existing_other_folder_is_refused(figure_sets, tmp_path):
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "paper.tex").write_text("mine", encoding="utf-8")
    with pytest.raises(SimError, match="not written by townsim"):
        write_figures(figure_sets("tiny_baseline"), tmp_path / "precious", formats=("png",))


def test_failure_leaves_nothing_half_written(figure_sets, tmp_path, monkeypatch):
    calls = []

    def failing(figure, fmt, *, language):
        calls.append(fmt)
        if len(calls) > 2:
            raise RuntimeError("disk full")
        return b"x"

    monkeypatch.setattr(figset_module, "figure_bytes", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        write_figures(figure_sets("tiny_baseline"), tmp_path / "figs", formats=("png",))
    assert list(tmp_path.iterdir()) == []
