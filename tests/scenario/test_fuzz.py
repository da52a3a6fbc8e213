"""Hypothesis fuzz of the scenario loader: any input either loads or raises ScenarioError."""

from __future__ import annotations

import contextlib
import copy
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.errors import ScenarioError
from sim.scenario.load import load_scenario
from tests.conftest import TINY

BASE: dict[str, Any] = yaml.safe_load(TINY.read_text(encoding="utf-8"))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["seat:east", "e1", "nope", "08:00", "25:99", "mon", "logit", "hall", ""]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


PATHS = _paths(BASE)


def _load_text(text: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.yaml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        with contextlib.suppress(ScenarioError):  # the project's error is the only allowed failure
            load_scenario(path)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(edits=st.lists(st.tuples(st.sampled_from(PATHS), values), min_size=1, max_size=4))
def test_mutated_scenario_loads_or_raises_scenario_error(edits: list[tuple[tuple[Any, ...], Any]]) -> None:
    raw = copy.deepcopy(BASE)
    for path, value in edits:
        node: Any = raw
        try:
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit replaced a parent
    _load_text(yaml.safe_dump(raw, allow_unicode=True))


@FUZZ
@given(document=values)
def test_any_yaml_document_loads_or_raises_scenario_error(document: Any) -> None:
    _load_text(yaml.safe_dump(document, allow_unicode=True))


@FUZZ
@given(data=st.binary(max_size=400))
def test_any_bytes_load_or_raise_scenario_error(data: bytes) -> None:
    _load_text(data)


@FUZZ
@given(cut=st.integers(min_value=0, max_value=len(TINY.read_bytes())), junk=st.binary(max_size=8))
def test_truncated_or_spliced_scenario_loads_or_raises_scenario_error(cut: int, junk: bytes) -> None:
    data = TINY.read_bytes()
    _load_text(data[:cut] + junk)
