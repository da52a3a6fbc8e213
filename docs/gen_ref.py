"""Generate the reference pages from the code, at build time (run by the mkdocs-gen-files plugin).

* ``reference/scenario.md``: every field of the scenario schema (``sim/scenario/schema.py`` and the
  models it uses), with its type, unit, default, constraints, meaning and source;
* ``model/parameters.md``: the ODD parameter table, every field with a default value;
* ``reference/cli.md``: every ``townsim`` subcommand and option, from the argument parsers.

The same functions are imported by ``tests/docs`` to check that nothing is missing.
"""

from __future__ import annotations

import argparse
import ast
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

#: Unit of a field, read from the end of its name (the schema's naming convention).
UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_per_person_year", "visits per person-year"),
    ("_yuan_per_km", "yuan/km"),
    ("_yuan_per_h", "yuan/h"),
    ("_per_min", "1/min"),
    ("_min", "min"),
    ("_km2", "km²"),
    ("_km", "km"),
    ("_kph", "km/h"),
    ("_yuan", "yuan"),
    ("_days", "days"),
    ("_latlon", "degrees (lat, lon)"),
)
SOURCE_MARK = "Source:"
#: Front matter of a page made of one wide table: no table of contents beside it.
WIDE = ("---", "hide:", "  - toc", "---", "")


@dataclass(frozen=True)
class FieldDoc:
    """One schema field as the reference shows it."""

    model: str
    name: str
    path: str
    type: str
    unit: str
    default: str
    required: bool
    constraints: str
    meaning: str
    source: str
    block: bool

    @property
    def is_parameter(self) -> bool:
        """A value with a default (not a block of fields, not a provenance note, not required data)."""
        return not (self.required or self.block or self.name == "source")


def unit_of(name: str) -> str:
    """The unit a field name ends with ('' when none)."""
    for suffix, unit in UNIT_SUFFIXES:
        if name.endswith(suffix):
            return unit
    return ""


def _type_name(annotation: Any) -> str:
    if annotation is type(None):
        return "null"
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is not None:
        args = typing.get_args(annotation)
        name = getattr(origin, "__name__", str(origin))
        if name == "tuple" and len(args) == 2 and args[1] is Ellipsis:
            return f"list of {_type_name(args[0])}"
        if name == "tuple":
            return f"[{', '.join(_type_name(a) for a in args)}]"
        if name == "dict":
            return f"mapping {_type_name(args[0])} → {_type_name(args[1])}"
        return f"{name}[{', '.join(_type_name(a) for a in args)}]"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return getattr(annotation, "__name__", str(annotation))


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _models_in(arg)


def _default(info: FieldInfo) -> tuple[str, bool]:
    """The default as the reference shows it, and whether the field is required."""
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
    elif info.default is PydanticUndefined:
        return "required", True
    else:
        value = info.default
    if isinstance(value, BaseModel):
        return "(defaults of its fields)", False
    if value is None:
        return "none", False
    if isinstance(value, tuple):
        value = list(value)
    if value == "":
        return '`""`', False
    return f"`{value}`", False


def _constraints(info: FieldInfo) -> str:
    parts = []
    for item in info.metadata:
        for attr, sign in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤")):
            bound = getattr(item, attr, None)
            if bound is not None:
                parts.append(f"{sign} {bound:,}" if isinstance(bound, int) else f"{sign} {bound}")
        length = getattr(item, "min_length", None)
        if length is not None:
            parts.append(f"at least {length} item{'s' if length != 1 else ''}")
    return ", ".join(parts)


def split_description(description: str | None) -> tuple[str, str]:
    """``(meaning, source)`` of a description ending with ``Source: ...`` (source '' when absent)."""
    text = (description or "").strip()
    head, mark, tail = text.rpartition(SOURCE_MARK)
    if not mark:
        return text, ""
    return head.strip().rstrip(".").strip(), tail.strip().rstrip(".")


def schema_models(root: type[BaseModel]) -> dict[str, tuple[type[BaseModel], list[str]]]:
    """Every model reachable from ``root``, in reading order, with the paths it appears at."""
    found: dict[str, tuple[type[BaseModel], list[str]]] = {root.__name__: (root, [""])}
    queue: list[type[BaseModel]] = [root]
    while queue:
        model = queue.pop(0)
        for prefix in found[model.__name__][1][:1]:
            for name, info in model.model_fields.items():
                key = f"{prefix}{name}"
                for sub in _models_in(info.annotation):
                    origin = typing.get_origin(info.annotation)
                    args = [a for a in typing.get_args(info.annotation) if a is not type(None)]
                    many = origin is dict or any(typing.get_origin(a) is dict for a in args)
                    listed = origin is tuple or any(typing.get_origin(a) is tuple for a in args)
                    path = f"{key}.<id>." if many else f"{key}[]." if listed else f"{key}."
                    if sub.__name__ in found:
                        found[sub.__name__][1].append(path)
                    else:
                        found[sub.__name__] = (sub, [path])
                        queue.append(sub)
    return found


def field_docs(root: type[BaseModel] | None = None) -> list[FieldDoc]:
    """Every field of every model reachable from the scenario schema."""
    if root is None:
        from sim.scenario.schema import Scenario

        root = Scenario
    out = []
    for model_name, (model, paths) in schema_models(root).items():
        for name, info in model.model_fields.items():
            default, required = _default(info)
            meaning, source = split_description(info.description)
            out.append(
                FieldDoc(
                    model=model_name,
                    name=name,
                    path=f"{paths[0]}{name}",
                    type=_type_name(info.annotation),
                    unit=unit_of(name),
                    default=default,
                    required=required,
                    constraints=_constraints(info),
                    meaning=meaning,
                    source=source,
                    block=any(True for _ in _models_in(info.annotation)),
                )
            )
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") if text else "—"


def scenario_reference() -> str:
    """Markdown of the scenario reference page."""
    from sim.scenario.schema import Scenario

    lines = [
        "---",
        "hide:",
        "  - navigation",
        "---",
        "",
        "# Scenario reference",
        "",
        "Generated from the schema (`sim/scenario/schema.py` and the models it uses) each time the",
        "documentation is built. Every field gives its type, unit, default, bounds, meaning and the",
        "source of its default value (a publication, or *assumed*). How files, `extends:` and",
        "overlays combine: [Scenario files](../scenarios.md). Parameters with a default, in one",
        "table: [Parameters](../model/parameters.md).",
        "",
    ]
    docs = field_docs(Scenario)
    for model_name, (model, paths) in schema_models(Scenario).items():
        where = ", ".join(f"`{p.rstrip('.') or '(top level)'}`" for p in dict.fromkeys(paths))
        doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        lines += [f"## {model_name}", "", doc, "", f"At: {where}", ""]
        lines += ["| field | type | unit | default | bounds | source | meaning |", "|---" * 7 + "|"]
        for d in (d for d in docs if d.model == model_name):
            lines.append(
                f"| `{d.name}` | {_cell(d.type)} | {_cell(d.unit)} | {_cell(d.default)} | "
                f"{_cell(d.constraints)} | {_cell(d.source)} | {_cell(d.meaning)} |"
            )
        lines.append("")
    return "\n".join(lines)


def parameter_table() -> str:
    """Markdown of the ODD parameter table: every field with a default value."""
    lines = [
        *WIDE,
        "# Parameters",
        "",
        "Every scenario field that has a default value, with its unit and the source of the default",
        "(a publication, or *assumed*), generated from the schema when the documentation is built.",
        "A scenario file may set any of them; fields without a default (the county's townships,",
        "villages, roads, facilities) are data: [Scenario reference](../reference/scenario.md).",
        "",
        "| parameter | default | unit | bounds | source | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for d in (d for d in field_docs() if d.is_parameter):
        lines.append(
            f"| `{d.path}` | {_cell(d.default)} | {_cell(d.unit)} | {_cell(d.constraints)} | "
            f"{_cell(d.source)} | {_cell(d.meaning)} |"
        )
    return "\n".join(lines) + "\n"


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """Every ``townsim`` subcommand's parser, by name, in registration order."""
    from sim.cli import build_parser

    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def option_names(parser: argparse.ArgumentParser) -> list[str]:
    """Every option string and positional name of a parser (help excluded)."""
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        out.extend(action.option_strings or [action.dest])
    return out


def _help_text(action: argparse.Action) -> str:
    text = (action.help or "").replace("%%", "%")
    if "%(" in text:
        text = text % {"default": action.default, "choices": action.choices, "prog": ""}
    return text


def cli_reference() -> str:
    """Markdown of the command-line reference page."""
    import os

    from sim.cli import build_parser

    os.environ["COLUMNS"] = "100"  # usage lines wrapped alike on every machine
    top = build_parser()
    commands = subcommands()
    lines = [
        "# Command-line reference",
        "",
        "Generated from `townsim`'s argument parsers each time the documentation is built.",
        "Run `townsim COMMAND --help` for the same text in a terminal. How the commands behave",
        "(run names, bad input, exit codes, output ownership): [Commands](../commands.md).",
        "",
        "```",
        top.format_usage().strip(),
        "```",
        "",
        "| command | what it does |",
        "|---|---|",
    ]
    action = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in action._choices_actions}
    for name in commands:
        lines.append(f"| [`{name}`](#{name}) | {_cell((helps.get(name) or '').replace('%%', '%'))} |")
    lines.append("")
    for name, parser in commands.items():
        parser.prog = f"townsim {name}"
        lines += [f"## {name}", "", _cell((helps.get(name) or "").replace("%%", "%")), ""]
        if parser.description:
            lines += [parser.description.strip(), ""]
        lines += ["```", parser.format_usage().strip(), "```", ""]
        lines += ["| argument | default | meaning |", "|---|---|---|"]
        for act in parser._actions:
            if isinstance(act, argparse._HelpAction):
                continue
            names = ", ".join(f"`{o}`" for o in act.option_strings) or f"`{act.dest}` (positional)"
            default = "—" if act.default in (None, False, [], argparse.SUPPRESS) else f"`{act.default}`"
            meaning = _help_text(act)
            if act.choices:
                meaning = f"{meaning} (one of {', '.join(f'`{c}`' for c in act.choices)})".strip()
            lines.append(f"| {names} | {default} | {_cell(meaning)} |")
        lines.append("")
    return "\n".join(lines)


def test_modules(root: Path | None = None) -> dict[str, str]:
    """Every test module (path from the project root) and the first line of its docstring."""
    root = root or Path(__file__).resolve().parent.parent
    out = {}
    for path in sorted((root / "tests").rglob("test_*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        out[path.relative_to(root).as_posix()] = " ".join(doc.split("\n\n")[0].split())
    return out


def test_catalogue() -> str:
    """Markdown of the test catalogue: every test module and what it checks."""
    lines = [
        *WIDE,
        "# Test catalogue",
        "",
        "Every test module of `tests/` with what it checks (its docstring), generated when the",
        "documentation is built. `make test` runs them all; one module runs with",
        "`.venv/bin/python -m pytest tests/PATH -q`. How they map to the TRACE elements:",
        "[Tests and checks (TRACE)](trace.md).",
        "",
        "| module | checks |",
        "|---|---|",
    ]
    for path, doc in test_modules().items():
        lines.append(f"| `{path}` | {_cell(doc)} |")
    return "\n".join(lines) + "\n"


PAGES = {
    "reference/scenario.md": scenario_reference,
    "reference/cli.md": cli_reference,
    "model/parameters.md": parameter_table,
    "model/test-catalogue.md": test_catalogue,
}


def odd_parameter_section() -> str:
    """The parameter table as the last section of the ODD page (bounds: on the Parameters page)."""
    lines = [
        "",
        "## Parameter table",
        "",
        "Every parameter with a default, its unit and the source of the default, generated from the",
        "schema when the documentation is built; with bounds: [Parameters](parameters.md).",
        "",
        "| parameter | default | unit | source | meaning |",
        "|---|---|---|---|---|",
    ]
    for d in (d for d in field_docs() if d.is_parameter):
        lines.append(
            f"| `{d.path}` | {_cell(d.default)} | {_cell(d.unit)} | {_cell(d.source)} | {_cell(d.meaning)} |"
        )
    return "\n".join(lines) + "\n"


def _generate() -> None:
    import mkdocs_gen_files

    for path, make in PAGES.items():
        with mkdocs_gen_files.open(path, "w") as handle:
            handle.write(make())
    with mkdocs_gen_files.open("model/odd.md", "a") as handle:  # the hand-written page, extended
        handle.write(odd_parameter_section())


if __name__ in ("__main__", "<run_path>"):
    _generate()
