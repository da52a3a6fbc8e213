"""Generated references are complete: every schema field with its meaning and source, every CLI option."""

from __future__ import annotations

import re
from types import ModuleType

import pytest


def _section(page: str, heading: str) -> str:
    """The text of one ``## heading`` section of a generated page."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", page, flags=re.M | re.S)
    assert match, f"no section '{heading}' in the generated page"
    return match.group(1)


def test_every_schema_field_is_in_the_scenario_reference(gen_ref: ModuleType) -> None:
    page = gen_ref.scenario_reference()
    missing = [
        f"{doc.model}.{doc.name}"
        for doc in gen_ref.field_docs()
        if f"| `{doc.name}` |" not in _section(page, doc.model)
    ]
    assert missing == [], f"schema fields missing from reference/scenario.md: {missing}"


def test_every_field_has_a_meaning_and_a_source(gen_ref: ModuleType) -> None:
    """Each field's description gives its meaning and ends 'Source: <publication>' or 'Source: assumed'."""
    bad = [
        f"{doc.model}.{doc.name} (at {doc.path})"
        for doc in gen_ref.field_docs()
        if not doc.meaning or not doc.source
    ]
    assert bad == [], (
        "scenario fields without a description ending 'Source: <author, title, year>' or "
        f"'Source: assumed': {bad}"
    )


def test_every_default_is_in_the_parameter_table(gen_ref: ModuleType) -> None:
    table = gen_ref.parameter_table()
    defaults = [d for d in gen_ref.field_docs() if d.is_parameter]
    assert defaults, "the schema has no fields with defaults"
    missing = [d.path for d in defaults if f"| `{d.path}` |" not in table]
    assert missing == [], f"parameters missing from model/parameters.md: {missing}"


def test_odd_page_ends_with_the_parameter_table(gen_ref: ModuleType) -> None:
    section = gen_ref.odd_parameter_section()
    assert section.lstrip().startswith("## Parameter table")
    missing = [d.path for d in gen_ref.field_docs() if d.is_parameter and f"| `{d.path}` |" not in section]
    assert missing == []


def test_every_subcommand_and_option_is_in_the_cli_reference(gen_ref: ModuleType) -> None:
    page = gen_ref.cli_reference()
    commands = gen_ref.subcommands()
    assert {"run", "validate", "compare", "sweep", "figures", "gis", "build"} <= set(commands)
    missing = []
    for name, parser in commands.items():
        section = _section(page, name)
        missing += [f"{name} {opt}" for opt in gen_ref.option_names(parser) if f"`{opt}`" not in section]
    assert missing == [], f"options missing from reference/cli.md: {missing}"


@pytest.mark.parametrize(
    ("name", "unit"),
    [
        ("crossing_min", "min"),
        ("length_km", "km"),
        ("area_km2", "km²"),
        ("logit_scale_per_min", "1/min"),
        ("value_of_time_yuan_per_h", "yuan/h"),
        ("speed_kph", "km/h"),
        ("servers", ""),
    ],
)
def test_units_read_from_field_names(gen_ref: ModuleType, name: str, unit: str) -> None:
    assert gen_ref.unit_of(name) == unit


def test_description_split_into_meaning_and_source(gen_ref: ModuleType) -> None:
    assert gen_ref.split_description("Mean wait, min. Source: assumed.") == ("Mean wait, min", "assumed")
    assert gen_ref.split_description("Share of ages. Source: 2020 census") == ("Share of ages", "2020 census")
    assert gen_ref.split_description("No source here") == ("No source here", "")
    assert gen_ref.split_description(None) == ("", "")
