"""The reference generator of the documentation (``docs/gen_ref.py``), imported as a module."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from tests.conftest import ROOT

DOCS = ROOT / "docs"


@pytest.fixture(scope="session")
def gen_ref() -> ModuleType:
    """``docs/gen_ref.py`` as a module (its functions write the generated reference pages)."""
    spec = importlib.util.spec_from_file_location("townsim_docs_gen_ref", DOCS / "gen_ref.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module
