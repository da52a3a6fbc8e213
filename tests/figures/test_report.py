"""The HTML reports: built from templates, escaped, every figure embedded, tables that fit, transit and
sweep sections, and real renders in headless Chromium at phone and desktop widths."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sim.errors import SimError
from sim.figures.fonts import Language, choose_language
from sim.figures.report import build_report, write_report

EN = Language("en")
CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).is_file()), None
)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (apt-get install chromium); HTML checked above"
)
WIDTHS = {"phone": 375, "desktop": 1280}


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.images: list[str] = []
        self.urls: list[str] = []
        self.headers: list[str] = []
        self._in_th = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.append(values["id"] or "")
        if tag == "img":
            self.images.append(values.get("src") or "")
        self._in_th = tag == "th"
        for key in ("src", "href"):
            if values.get(key):
                self.urls.append(values[key] or "")

    def handle_data(self, data: str) -> None:
        if self._in_th and data.strip():
            self.headers.append(data.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag == "th":
            self._in_th = False


def _parse(text: str) -> _Collect:
    parsed = _Collect()
    parsed.feed(text)
    return parsed


@pytest.fixture(scope="module")
def report(run_dirs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    return write_report(run_dirs["pingtan_merged"], out, language=EN, vs=run_dirs["pingtan_baseline"])


def test_report_embeds_every_figure_and_needs_no_network(report, figure_sets):
    text = report.read_text(encoding="utf-8")
    parsed = _parse(text)
    names = figure_sets("pingtan_merged", "pingtan_baseline").figures
    assert [i for i in parsed.ids if i.startswith("fig-")] == [f"fig-{n}" for n in names]
    assert len(parsed.images) == len(names)
    assert all(src.startswith("data:image/png;base64,") for src in parsed.images)
    assert all(not re.match(r"(https?:)?//", url) for url in parsed.urls)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), "no external stylesheet resources"
    assert "no transit in this run" in text
    assert "@media print" in text and "@page" in text


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
    assert "git_commit" in text and "Pingtan before the 2021 merger" in text
    assert "Single run, no CI" in text


def test_column_headers_are_names_not_keys(report):
    headers = _parse(report.read_text(encoding="utf-8")).headers
    assert "Errands over 60 min (%)" in headers
    assert not [h for h in headers if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", h)], "no snake_case keys"


def test_report_escapes_what_it_shows(run_dirs, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(run_dirs["tiny_baseline"], run)
    scenario = run / "scenario.yaml"
    scenario.write_text(
        scenario.read_text(encoding="utf-8").replace(
            "description:", "description: '<script>alert(1)</script> &'\nold_description:", 1
        ),
        encoding="utf-8",
    )
    text = build_report(run, language=EN)
    assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in text


def test_bus_scenario_report_has_transit_headline(run_dirs, tmp_path):
    if "tiny_buses" not in run_dirs:
        pytest.skip("scenarios/tiny/buses.yaml not present")
    text = write_report(
        run_dirs["tiny_buses"], tmp_path / "b.html", language=EN, vs=run_dirs["tiny_merged"]
    ).read_text(encoding="utf-8")
    assert ">Buses and ferries<" in text
    for row in ("Bus trips", "Bus share of trips (%)", "Boardings, East-West bus"):
        assert row in text


def test_report_refuses_to_overwrite_other_files(run_dirs, tmp_path):
    precious = tmp_path / "notes.html"
    precious.write_text("<html>mine</html>", encoding="utf-8")
    with pytest.raises(SimError, match="not written by townsim"):
        write_report(run_dirs["tiny_baseline"], precious, language=EN)
    assert precious.read_text(encoding="utf-8") == "<html>mine</html>"


def test_report_without_vs_shows_the_merger(run_dirs, tmp_path):
    out = write_report(run_dirs["tiny_merged"], tmp_path / "r.html", language=EN)
    text = out.read_text(encoding="utf-8")
    assert "Merger in this scenario" in text and "merger.units.eastwest.members" in text
    assert "needs --vs OTHER_RUN" in text
    # the file and its ownership marker
    assert sorted(p.name for p in tmp_path.iterdir()) == [".r.html.townsim", "r.html"]


def test_sweep_report(synthetic_sweep, tmp_path):
    text = write_report(synthetic_sweep, tmp_path / "s.html", language=EN).read_text(encoding="utf-8")
    assert "townsim sweep report: synthetic" in text
    for expected in (
        "Varied parameters",
        "Health centre: mean service time (min)",
        "Outcomes by lever",
        "Tiny county, merged",
        "Sensitivity indices",
        "First order S1",
    ):
        assert expected in text
    parsed = _parse(text)
    assert len(parsed.images) == len([i for i in parsed.ids if i.startswith("fig-")]) > 0
    with pytest.raises(SimError, match="does not apply to a sweep"):
        write_report(synthetic_sweep, tmp_path / "x.html", language=EN, vs=synthetic_sweep)


# --- real browser ------------------------------------------------------------------------------

_PROBE = "<script>" + (Path(__file__).with_name("layout_probe.js")).read_text(encoding="utf-8") + "</script>"

_FRAME = """<!DOCTYPE html><html><head><meta charset="utf-8">
<style>body{{margin:0}}iframe{{border:0}}</style></head>
<body><iframe src="{src}" width="{width}" height="1400"></iframe><pre id="probe"></pre>
<script>
window.addEventListener("message", function (e) {{ document.getElementById("probe").textContent = e.data; }});
</script></body></html>"""


def _chromium(args: list[str], profile: Path) -> str:
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--disable-background-networking",
            "--proxy-server=127.0.0.1:9",  # any network request would fail
            f"--user-data-dir={profile}",
            "--virtual-time-budget=15000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    ).stdout


def render(report: Path, width: int, tmp: Path) -> tuple[dict, Path]:
    """Open ``report`` in headless Chromium in a frame ``width`` CSS px wide (Chromium's own window cannot
    be narrower than ~500 px); return what the page measured and a screenshot of it."""
    probed = tmp / f"probed_{width}.html"
    probed.write_text(
        report.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"), encoding="utf-8"
    )
    frame = tmp / f"frame_{width}.html"
    frame.write_text(_FRAME.format(src=probed.name, width=width), encoding="utf-8")
    dom = _chromium(["--window-size=1300,1500", "--dump-dom", frame.as_uri()], tmp / f"profile_{width}")
    match = re.search(r'<pre id="probe">([^<]*)</pre>', dom)
    assert match and match.group(1), "the page reported its layout"
    shot = tmp / f"screenshot_{width}.png"
    _chromium(
        [f"--window-size={max(width, 520)},1400", f"--screenshot={shot}", frame.as_uri()],
        tmp / f"shot_{width}",
    )
    return json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&")), shot


@needs_chromium
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("device", list(WIDTHS))
def test_report_fits_phone_and_desktop_in_chromium(run_dirs, tmp_path, lang, device):
    language = choose_language(lang)
    if lang == "zh" and language.lang != "zh":
        pytest.skip("no CJK font installed")
    report = write_report(
        run_dirs["pingtan_merged"], tmp_path / "r.html", language=language, vs=run_dirs["pingtan_baseline"]
    )
    layout, shot = render(report, WIDTHS[device], tmp_path)
    assert layout["width"] == WIDTHS[device]
    assert layout["scroll"] <= layout["width"], "no horizontal scrolling"
    assert layout["bad"] == [], "every block and table fits the page width"
    assert layout["wrapped"] == [], "township names never wrap one character per line"
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000


@needs_chromium
def test_sweep_report_fits_a_phone(synthetic_sweep, tmp_path):
    report = write_report(synthetic_sweep, tmp_path / "s.html", language=EN)
    layout, _ = render(report, WIDTHS["phone"], tmp_path)
    assert layout["scroll"] <= layout["width"] and layout["bad"] == []


@needs_chromium
def test_report_prints_to_pdf(report, tmp_path):
    pdf = tmp_path / "report.pdf"
    _chromium([f"--print-to-pdf={pdf}", "--no-pdf-header-footer", report.as_uri()], tmp_path / "profile")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert 3 <= pages <= 40, f"{pages} A4 pages"
