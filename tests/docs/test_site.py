"""The documentation site builds offline with ``mkdocs build --strict``, and every link leads somewhere."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.docs.conftest import DOCS

#: Headings that docs/gen_ref.py appends to hand-written pages at build time.
APPENDED_HEADINGS = {"model/odd.md": {"parameter-table"}}
GENERATED = {"reference/scenario.md", "reference/cli.md", "model/parameters.md", "model/test-catalogue.md"}
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def _heading_ids(markdown: str) -> set[str]:
    """Anchor ids of a page's headings (as MkDocs' toc extension makes them)."""
    ids = set()
    for title in re.findall(r"^#{1,6} (.+)$", markdown, flags=re.M):
        slug = re.sub(r"[^\w\s-]", "", title.strip().lower())
        ids.add(re.sub(r"[\s-]+", "-", slug).strip("-"))
    return ids


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_leads_to_a_file_and_heading(page: Path) -> None:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    broken = []
    for match in LINK.finditer(text):
        target = match.group(1) or match.group(2)
        if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if file.is_relative_to(DOCS) and file.relative_to(DOCS).as_posix() in GENERATED:
            continue  # written at build time; the strict build checks these
        headings = _heading_ids(file.read_text("utf-8")) if file.suffix == ".md" and file.exists() else set()
        if file.is_relative_to(DOCS):
            headings |= APPENDED_HEADINGS.get(file.relative_to(DOCS).as_posix(), set())
        if not file.exists() or (anchor and file.suffix == ".md" and anchor not in headings):
            broken.append(target)
    assert broken == [], f"{page.relative_to(ROOT)}: links to nothing: {broken}"


HISTORY = re.compile(r"\bsessions?\b|\bre-?measured\b|\bissue #?\d+|\bearlier (?:figures|versions?)\b", re.I)


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_pages_say_what_holds_now(page: Path) -> None:
    """No project history in the documentation (it belongs in CHANGELOG.md, by version)."""
    found = [m.group(0) for m in HISTORY.finditer(page.read_text(encoding="utf-8"))]
    assert found == [], f"{page.relative_to(ROOT)} speaks of project history: {found}"


def test_readme_is_short_and_starts_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    commands = re.findall(r"^(make \w+)", text, flags=re.M)
    assert commands[:2] == ["make demo", "make test"]


def test_site_builds_strict_and_offline(tmp_path: Path) -> None:
    """``mkdocs build --strict``: any broken link, missing page, missing nav entry or bad docstring fails."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    site = tmp_path / "site"
    for page in (
        "index.html",
        "reference/scenario/index.html",
        "reference/cli/index.html",
        "model/parameters/index.html",
        "model/odd/index.html",
        "reference/api/index.html",
    ):
        assert (site / page).is_file(), page
    api = (site / "reference/api/index.html").read_text(encoding="utf-8")
    assert "sim.api.run" in api and "Run a scenario" in api
    # Offline: no web fonts or scripts from elsewhere.
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis.com" not in index and "fonts.gstatic.com" not in index
