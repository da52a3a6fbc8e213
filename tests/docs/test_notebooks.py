"""The notebooks in ``docs/notebooks/`` run from top to bottom without an error (they cannot rot)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT
from tests.docs.conftest import DOCS

NOTEBOOKS = sorted((DOCS / "notebooks").glob("*.ipynb"))


def test_the_two_guides_have_notebooks() -> None:
    assert {p.name for p in NOTEBOOKS} >= {"planner_bus_line.ipynb", "researcher_sensitivity.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    ).execute()  # raises CellExecutionError naming the cell that failed
    results = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in results if o.output_type == "error"]
    assert any(o.output_type == "execute_result" for o in results), "the notebook shows no result"
