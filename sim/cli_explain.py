"""``townsim explain`` and the answer half of ``townsim compare``: sentences, crossed groups, parts.

Both commands take two run folders (replicated or single) or two scenario files run here with
paired seeds (``--overlay`` on both sides, ``--overlay-b`` on B only).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.argtypes import days, positive_int, seed
from sim.errors import SimError
from sim.replications.cli import DEFAULT_REPLICATIONS, OptionError, add_replication_options

if TYPE_CHECKING:
    import pandas as pd

    from sim.figures.labels import Labeller
    from sim.replications import ReplicationSet

__all__ = ["Pair", "add_answer_options", "compare_output", "explain_output", "load_pair", "register"]

ZH_BREAKDOWNS = ("former_unit", "age_band", "island")
"""Groups of ``compare --lang zh`` without ``--by`` (mean burden per errand, one block each)."""
_SCENARIO_OPTIONS = ("days", "seed", "overlay", "overlay_b", "precision", "max_replications")


@dataclass
class Pair:
    """Two paired replication sets and the raw scenarios their names come from."""

    a: ReplicationSet
    b: ReplicationSet
    raw_a: dict[str, Any]
    raw_b: dict[str, Any]
    label_a: str
    label_b: str


def add_answer_options(p: argparse.ArgumentParser) -> None:
    """``--by``, ``--lang`` and ``--overlay-b`` (compare and explain)."""
    from sim.groups import GROUPS

    p.add_argument(
        "--by",
        default=None,
        metavar="GROUPS",
        help=f"crossed groups, comma-separated, from: {', '.join(GROUPS)} (e.g. former_unit,age_band)",
    )
    p.add_argument(
        "--lang", choices=("en", "zh"), default="en", help="language of the sentences (default en)"
    )
    p.add_argument(
        "--overlay-b",
        action="append",
        default=[],
        metavar="X.yaml",
        help="scenario files: YAML merged on B only (repeatable), e.g. the same base with a new line",
    )


def _raw(path: Path) -> dict[str, Any]:
    """The resolved scenario a run folder was made from (its scenario.yaml), for names."""
    import yaml

    file = path / "scenario.yaml"
    if not file.is_file():
        return {}
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8-sig"))
    except (yaml.YAMLError, UnicodeError) as exc:
        raise SimError(f"{file}: expected the scenario.yaml a townsim run wrote ({exc})") from None
    return raw if isinstance(raw, dict) else {}


def load_pair(args: argparse.Namespace, command: str) -> Pair:
    """Read two run folders, or run two scenario files here with paired seeds."""
    files = [Path(p).is_file() for p in (args.run_a, args.run_b)]
    if all(files):
        from sim.replications import run_paired
        from sim.replications.cli import progress_callback, target_from_args
        from sim.scenario.load import load_scenario

        target, n, max_n = target_from_args(args)
        loaded_a = load_scenario(args.run_a, overlays=args.overlay)
        loaded_b = load_scenario(args.run_b, overlays=[*args.overlay, *args.overlay_b])
        from sim.groups import parse_by

        groups = parse_by(args.by)  # the cells keep only what this command shows (less work per run)
        if command == "explain":
            groups = [*groups, *(["village"] if "village" not in groups else [])]
        elif not groups and args.lang == "zh" and args.format == "table":
            groups = list(ZH_BREAKDOWNS)  # the Chinese table's breakdowns
        with progress_callback(sys.stderr.isatty() and args.format == "table", command) as progress:
            a, b = run_paired(
                loaded_a,
                loaded_b,
                n=n,
                seed=args.seed,
                days=args.days,
                workers=args.workers,
                progress=progress,
                target=target,
                max_n=max_n,
                cell_groups=groups,
            )
        return Pair(a, b, loaded_a.raw, loaded_b.raw, loaded_a.run_name, loaded_b.run_name)
    if any(files):
        raise OptionError(
            f"{command}: expected two run folders or two scenario files, got {args.run_a} and {args.run_b}"
        )
    given = [f"--{name.replace('_', '-')}" for name in _SCENARIO_OPTIONS if getattr(args, name, None)]
    if given:
        raise OptionError(f"{command}: {given[0]} applies to scenario files, not to run folders")
    from sim.replications import read_replications

    a, b = read_replications(args.run_a), read_replications(args.run_b)
    return Pair(a, b, _raw(Path(args.run_a)), _raw(Path(args.run_b)), args.run_a, args.run_b)


def _cells(pair: Pair, option: str) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Both sides' cell tables, or a clear error for folders written without them."""
    for rset, label in ((pair.a, pair.label_a), (pair.b, pair.label_b)):
        if not len(rset.cells):
            raise SimError(
                f"{label}: {option} needs the per-seed cell tables (cells.parquet) that this townsim "
                "version writes in replicated run folders; re-run it with `townsim run --replications N`"
            )
    return (
        {"cells": pair.a.cells, "facility_cells": pair.a.facility_cells},
        {"cells": pair.b.cells, "facility_cells": pair.b.facility_cells},
    )


@dataclass
class _Answer:
    """Parts of the change of mean burden per group, the facility drivers and one sentence per group."""

    by: list[str]
    parts: pd.DataFrame
    facilities: pd.DataFrame
    sentences: list[str]


def _answer(pair: Pair, by: list[str], names: Labeller, option: str) -> _Answer:
    from sim.metrics.answer import group_answers

    a, b = _cells(pair, option)
    parts, facilities, said = group_answers(a, b, by, names)
    return _Answer(by, parts, facilities, [text for _, text in said])


def _names(pair: Pair, lang: str) -> Labeller:
    from sim.metrics.answer import namer

    return namer(lang, pair.raw_b, pair.raw_a)


def _rounded_csv(table: pd.DataFrame, cols: list[str]) -> str:
    from sim.metrics.answer import round_to_interval

    return round_to_interval(table, cols).to_csv(index=False)


def _records(table: pd.DataFrame, cols: list[str]) -> list[dict[str, Any]]:
    from sim.metrics.answer import round_to_interval

    return json.loads(round_to_interval(table, cols).to_json(orient="records"))


def _text_table(
    table: pd.DataFrame, by: list[str], label: str, names: Labeller, value_cols: list[str]
) -> str:
    """A text block: group columns in display names, values rounded to their interval, the CI."""
    import pandas as pd

    from sim.groups import GROUPS
    from sim.metrics.answer import HEAD, decimals, fmt, group_name

    lang = names.lang
    rows = []
    for _, r in table.iterrows():
        places = decimals((r["ci_high"] - r["ci_low"]) / 2)
        row: dict[str, object] = {getattr(GROUPS[k], lang): group_name(k, r[k], names) for k in by}
        if label:
            row[HEAD[label][lang] if label in HEAD else label] = r[label]
        row[HEAD["n"][lang]] = int(r["n"])
        for col, head in zip(value_cols, ("A", "B", "B−A"), strict=True):
            row[head] = fmt(r[col], places, sign=head == "B−A")
        excludes = " *" if r["ci_low"] > 0 or r["ci_high"] < 0 else ""
        row[HEAD["ci"][lang]] = (
            f"[{fmt(r['ci_low'], places)}, {fmt(r['ci_high'], places)}]{excludes}"
            if r["n"] >= 2 and r["ci_low"] == r["ci_low"]
            else HEAD["no_ci"][lang]
        )
        rows.append(row)
    return pd.DataFrame(rows).to_string(index=False) if rows else "–"


def _heading(pair: Pair, names: Labeller) -> list[str]:
    from sim.metrics.answer import HEAD, scenario_title

    lang = names.lang
    a = scenario_title(pair.a.scenario, pair.a.title or pair.raw_a.get("title"), names)
    b = scenario_title(pair.b.scenario, pair.b.title or pair.raw_b.get("title"), names)
    return [
        HEAD["a"][lang].format(label=pair.label_a, scenario=a, n=pair.a.n),
        HEAD["b"][lang].format(label=pair.label_b, scenario=b, n=pair.b.n),
        HEAD["ci_note"][lang],
        "",
    ]


def _crossed_blocks(crossed: pd.DataFrame, by: list[str], names: Labeller) -> list[str]:
    from sim.metrics.answer import METRIC_NAMES

    lines = []
    for metric in dict.fromkeys(crossed["metric"]):
        block = _text_table(crossed[crossed["metric"] == metric], by, "", names, ["mean_a", "mean_b", "diff"])
        lines += [f"== {METRIC_NAMES[metric][names.lang]} ==", block, ""]
    return lines


def compare_output(table: pd.DataFrame, pair: Pair, args: argparse.Namespace) -> str:
    """compare's output: sentences first (table), then the paired table; crossed with ``--by``.

    In Chinese (``--lang zh``) without ``--by`` the table shows mean burden per errand for the
    county, former townships, age bands and islands (every metric: ``--by`` or csv).
    """
    from sim.groups import parse_by
    from sim.metrics.answer import HEAD, group_order, tidy_groups
    from sim.metrics.compare import render_paired
    from sim.metrics.explain import crossed_difference

    by = parse_by(args.by)
    names = _names(pair, args.lang)
    values = ["mean_a", "mean_b", "mean_diff", "ci_low", "ci_high"]
    cols = ["mean_a", "mean_b", "diff", "ci_low", "ci_high"]
    if not by:
        if args.format == "csv":
            return _rounded_csv(tidy_groups(table), values)
        has_cells = len(pair.a.cells) and len(pair.b.cells)
        sentences = _answer(pair, [], names, "the sentence").sentences if has_cells else []
        if args.format == "json":
            doc = json.loads(render_paired(table, pair.a, pair.b, "json"))
            doc["rows"] = _records(tidy_groups(table), values)
            return json.dumps({"sentences": sentences, **doc}, ensure_ascii=False, indent=1)
        if args.lang == "zh" and has_cells:
            a, b = _cells(pair, "--lang zh")
            lines = [*sentences, "", *_heading(pair, names)]
            for group in ([], *([g] for g in ZH_BREAKDOWNS)):
                crossed = group_order(crossed_difference(a["cells"], b["cells"], group), group)
                lines += _crossed_blocks(crossed[crossed["metric"] == "burden_min.mean"], group, names)
            return "\n".join([*lines, HEAD["more_metrics"]["zh"], ""])
        text = render_paired(table, pair.a, pair.b, "table", label_a=pair.label_a, label_b=pair.label_b)
        return "\n".join(sentences) + ("\n\n" if sentences else "") + text
    a, b = _cells(pair, "--by")
    crossed = group_order(crossed_difference(a["cells"], b["cells"], by), by)
    if args.format == "csv":
        return _rounded_csv(crossed, cols)
    answer = _answer(pair, by, names, "--by")
    if args.format == "json":
        meta = {
            k: {"scenario": s.scenario, "days": s.days, "seeds": s.seeds}
            for k, s in (("a", pair.a), ("b", pair.b))
        }
        doc = {
            "sentences": answer.sentences,
            **meta,
            "level": 0.95,
            "by": by,
            "rows": _records(crossed, cols),
        }
        return json.dumps(doc, ensure_ascii=False, indent=1)
    return "\n".join([*answer.sentences, "", *_heading(pair, names), *_crossed_blocks(crossed, by, names)])


def explain_output(pair: Pair, args: argparse.Namespace) -> str:
    """explain's output: sentences, the parts per group, and the largest drivers."""
    import pandas as pd

    from sim.groups import parse_by
    from sim.metrics.answer import HEAD, PART_NAMES
    from sim.metrics.explain import find_drivers, line_boardings

    by = parse_by(args.by)
    names = _names(pair, args.lang)
    lang = names.lang
    answer = _answer(pair, by, names, "explain")
    a, b = _cells(pair, "explain")
    drivers = find_drivers(
        a,
        b,
        {},
        line_boardings(pair.a.summaries, pair.a.seeds),
        line_boardings(pair.b.summaries, pair.b.seeds),
    )
    cols = ["mean_a", "mean_b", "diff", "ci_low", "ci_high"]
    if args.format == "csv":
        return _rounded_csv(answer.parts, cols)
    top = args.top
    facilities = (
        answer.facilities.assign(_abs=answer.facilities["diff"].abs())
        .sort_values([*by, "_abs"], ascending=[True] * len(by) + [False], kind="stable")
        .groupby(by, sort=False, observed=True)
        .head(top)
        .drop(columns="_abs")
        if by
        else drivers.facilities.head(top)
    )
    villages = pd.concat([drivers.villages.head(top), drivers.villages.tail(top)]).drop_duplicates("village")
    lines_top = drivers.lines.head(top)
    if args.format == "json":
        doc = {
            "sentences": answer.sentences,
            "a": {"scenario": pair.a.scenario, "days": pair.a.days, "seeds": pair.a.seeds},
            "b": {"scenario": pair.b.scenario, "days": pair.b.days, "seeds": pair.b.seeds},
            "level": 0.95,
            "by": by,
            "parts": _records(answer.parts, cols),
            "facilities": _records(facilities, cols),
            "lines": _records(lines_top, cols) if len(lines_top) else [],
            "villages": _records(villages, cols),
        }
        return json.dumps(doc, ensure_ascii=False, indent=1)
    three = cols[:3]
    shown = answer.parts.assign(part=[PART_NAMES[p][lang] for p in answer.parts["part"]])
    lines = [*answer.sentences, "", *_heading(pair, names)]
    lines += [HEAD["parts"][lang], _text_table(shown, by, "part", names, three), ""]
    fac = facilities.assign(facility=[names.name(f) for f in facilities["facility"]])
    lines += [HEAD["facilities"][lang].format(k=top), _text_table(fac, by, "facility", names, three), ""]
    if len(lines_top):
        ln = lines_top.assign(line=[names.name(x) for x in lines_top["line"]])
        lines += [HEAD["lines"][lang].format(k=top), _text_table(ln, [], "line", names, three), ""]
    lines += [HEAD["villages"][lang].format(k=top), _text_table(villages, [], "village", names, three), ""]
    return "\n".join(lines)


def _cmd_explain(args: argparse.Namespace) -> int:
    pair = load_pair(args, "explain")
    print(explain_output(pair, args), end="" if args.format != "table" else "\n")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``townsim explain`` to the CLI."""
    p = sub.add_parser(
        "explain",
        help="why B differs from A: parts of the change of mean burden per group (95%% CIs) and its drivers",
    )
    p.add_argument("run_a", help="run folder (replicated or single), or a scenario file")
    p.add_argument("run_b", help="run folder, or a scenario file (both files: run here with paired seeds)")
    p.add_argument(
        "--format", choices=("table", "csv", "json"), default="table", help="output (default table)"
    )
    p.add_argument(
        "--top", type=positive_int, default=5, metavar="K", help="drivers listed per kind (default 5)"
    )
    p.add_argument("--days", type=days, default=None, help="scenario files: days to simulate, >= 1")
    p.add_argument("--seed", type=seed, default=None, help="scenario files: base seed (default: A's)")
    p.add_argument("--overlay", action="append", default=[], help="scenario files: YAML merged on both")
    add_answer_options(p)
    add_replication_options(p, default=DEFAULT_REPLICATIONS)
    p.set_defaults(handler=_cmd_explain)
