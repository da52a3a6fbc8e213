"""The HTML report holds every figure and the tables, needs no network, and renders in a real browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sim.errors import SimError
from sim.figures.fonts import Language
from sim.figures.report import write_report

EN = Language("en")
CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).is_file()), None
)


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.images: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.append(values["id"] or "")
        if tag == "img":
            self.images.append(values.get("src") or "")
        for key in ("src", "href"):
            if values.get(key):
                self.urls.append(values[key] or "")


@pytest.fixture(scope="module")
def report(run_dirs, figure_sets, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    return write_report(run_dirs["pingtan_merged"], out, language=EN, vs=run_dirs["pingtan_baseline"])


def test_report_embeds_every_figure_and_needs_no_network(report, figure_sets):
    text = report.read_text(encoding="utf-8")
    parsed = _Collect()
    parsed.feed(text)
    names = figure_sets("pingtan_merged", "pingtan_baseline").figures
    assert [i for i in parsed.ids if i.startswith("fig-")] == [f"fig-{n}" for n in names]
    assert len(parsed.images) == len(names)
    assert all(src.startswith("data:image/png;base64,") for src in parsed.images)
    assert all(not re.match(r"(https?:)?//", url) for url in parsed.urls)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), "no external stylesheet resources"
    assert "no transit in this run" in text


def test_report_has_headline_difference_scenario_and_provenance(report):
    text = report.read_text(encoding="utf-8")
    for heading in (
        "Headline results",
        "By former township",
        "Difference between the runs",
        "Scenario difference",
        "Figures",
        "Provenance",
    ):
        assert f">{heading}" in text
    assert "Burden per errand, mean (min)" in text and "Tancheng" in text
    assert "merger.units.haitan.members" in text  # the merger block is what differs from the baseline
    assert "git_commit" in text and "pingtan_baseline" in text


def test_report_refuses_to_overwrite_other_files(run_dirs, tmp_path):
    precious = tmp_path / "notes.html"
    precious.write_text("<html>mine</html>", encoding="utf-8")
    with pytest.raises(SimError, match="not a townsim report"):
        write_report(run_dirs["tiny_baseline"], precious, language=EN)
    assert precious.read_text(encoding="utf-8") == "<html>mine</html>"


def test_report_without_vs_shows_the_merger(run_dirs, tmp_path):
    out = write_report(run_dirs["tiny_merged"], tmp_path / "r.html", language=EN)
    text = out.read_text(encoding="utf-8")
    assert "Merger in this scenario" in text and "merger.units.eastwest.members" in text
    assert "needs --vs OTHER_RUN" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (apt-get install chromium); HTML checked above"
)
def test_report_renders_offline_in_headless_chromium(report, figure_sets, tmp_path):
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--proxy-server=127.0.0.1:9",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    parsed = _Collect()
    parsed.feed(dom)
    names = figure_sets("pingtan_merged", "pingtan_baseline").figures
    assert [i for i in parsed.ids if i.startswith("fig-")] == [f"fig-{n}" for n in names]
    assert len([s for s in parsed.images if s.startswith("data:image/png;base64,")]) == len(names)
