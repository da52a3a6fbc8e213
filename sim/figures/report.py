"""Self-contained HTML run report: headline tables, the scenario difference, provenance, embedded figures."""

from __future__ import annotations

import base64
import html
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from sim.errors import SimError
from sim.figures.figset import FigureSet, figure_bytes
from sim.figures.fonts import Language
from sim.figures.labels import Labeller
from sim.figures.runset import read_run_dir, run_figures, run_labeller
from sim.metrics.compare import compare_runs
from sim.metrics.summary import THRESHOLDS_MIN
from sim.runner import package_version

__all__ = ["GENERATOR", "build_report", "flatten", "headline_rows", "write_report"]

GENERATOR = "townsim report"
_CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;
max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:#f3f3f3}
td.neg{color:#2166ac}td.pos{color:#b2182b}
figure{margin:1.5em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85em;color:#444}.note{background:#fff4d6;padding:.5em 1em}
code{font-size:.9em}footer{margin-top:3em;font-size:.8em;color:#666}
"""


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted keys -> leaf values (lists kept as leaves)."""
    if isinstance(data, Mapping):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: data}


def _get(node: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def _pct(x: Any) -> float | None:
    return None if x is None else 100 * float(x)


def headline_rows(summary: Mapping[str, Any], labels: Labeller) -> dict[str, float | None]:
    """Headline metrics of a summary.json, labelled in the report's language (values in the units named)."""
    rows: dict[str, float | None] = {
        labels.t("m_population"): _get(summary, "population"),
        labels.t("m_errands_completed"): _get(summary, "errands", "completed"),
        labels.t("m_errands_pending"): _get(summary, "errands", "pending_at_end"),
        labels.t("m_burden_mean"): _get(summary, "burden_min", "mean"),
        labels.t("m_burden_median"): _get(summary, "burden_min", "median"),
        labels.t("m_burden_p90"): _get(summary, "burden_min", "p90"),
    }
    for t in THRESHOLDS_MIN:
        rows[labels.t("m_burden_over", t=t)] = _pct(_get(summary, "burden_share_over_min", str(t)))
    rows[labels.t("m_trips")] = _get(summary, "trips_per_completed_errand")
    rows[labels.t("m_distance")] = _get(summary, "distance_km_per_errand")
    rows[labels.t("m_money")] = _get(summary, "money_yuan_per_errand")
    for key in [k for k in summary if k.startswith("access_")]:
        service = labels.service(key[len("access_") :])
        rows[labels.t("m_access", service=service)] = _get(summary, key, "mean_min")
        rows[labels.t("m_access_over", service=service)] = _pct(_get(summary, key, "share_over_30"))
    for kind, q in (summary.get("queues_by_kind") or {}).items():
        rows[labels.t("m_wait", kind=labels.kind(kind))] = q.get("mean_wait_min")
        rows[labels.t("m_util", kind=labels.kind(kind))] = _pct(q.get("mean_utilisation"))
        rows[labels.t("m_turned", kind=labels.kind(kind))] = q.get("turned_away")
    rows[labels.t("m_school")] = _get(summary, "school", "mean_one_way_min")
    rows[labels.t("m_school_over")] = _pct(_get(summary, "school", "share_over_40_min"))
    rows[labels.t("m_gini")] = _get(summary, "equity", "gini_burden_per_resident")
    return rows


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return html.escape(str(value))
    return f"{value:,.0f}" if float(value).is_integer() and abs(value) >= 100 else f"{value:,.3g}"


def _table(header: Iterable[str], rows: Iterable[Iterable[Any]], *, signed: int | None = None) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            text = _fmt(value) if i else html.escape(str(value))
            if i == signed and isinstance(value, int | float) and value == value and value != 0:
                cells.append(
                    f'<td class="{"pos" if value > 0 else "neg"}">{"+" if value > 0 else ""}{text}</td>'
                )
            else:
                cells.append(f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _by_unit(summary: Mapping[str, Any], labels: Labeller) -> str:
    header = [
        labels.t("former_unit"),
        labels.t("m_population"),
        labels.t("m_burden_mean"),
        labels.t("m_burden_p90"),
        labels.t("m_burden_over", t=60),
        labels.t("m_trips"),
    ]
    rows = []
    for unit, entry in (summary.get("by_former_unit") or {}).items():
        rows.append(
            [
                labels.name(unit),
                entry.get("population"),
                _get(entry, "burden_min", "mean"),
                _get(entry, "burden_min", "p90"),
                _pct(_get(entry, "burden_share_over_min", "60")),
                entry.get("trips_per_completed_errand"),
            ]
        )
    return _table(header, rows)


def _difference(run_dir: Path, vs: Path, labels: Labeller) -> str:
    table = compare_runs(vs, run_dir)["B-A"]
    header = [labels.t("former_unit"), *[str(c) for c in table.columns]]
    rows = [
        [labels.name(i) if i != "ALL" else "ALL", *row]
        for i, row in zip(table.index, table.to_numpy(), strict=True)
    ]
    return _table(header, rows)


def _scenario(run_dir: Path) -> dict[str, Any]:
    file = run_dir / "scenario.yaml"
    return (yaml.safe_load(file.read_text(encoding="utf-8")) or {}) if file.is_file() else {}


def _scenario_section(run_dir: Path, vs: Path | None, labels: Labeller) -> str:
    mine = _scenario(run_dir)
    if vs is None:
        merger = mine.get("merger")
        if not merger:
            return f"<p>{labels.t('r_no_merger')}</p>"
        flat = flatten(merger, "merger")
        return f"<h3>{labels.t('r_merger')}</h3>" + _table(
            [labels.t("r_field"), labels.t("r_value")],
            [[k, json.dumps(v, ensure_ascii=False)] for k, v in flat.items()],
        )
    theirs, ours = flatten(_scenario(vs)), flatten(mine)
    absent = labels.t("r_absent")
    keys = [k for k in dict.fromkeys([*theirs, *ours]) if theirs.get(k, absent) != ours.get(k, absent)]
    if not keys:
        return f"<p>{labels.t('r_scenario_same')}</p>"

    def show(d: dict[str, Any], k: str) -> str:
        return json.dumps(d[k], ensure_ascii=False) if k in d else absent

    rows = [[k, show(theirs, k), show(ours, k)] for k in keys]
    return _table([labels.t("r_field"), labels.t("r_other"), labels.t("r_run")], rows)


def _figures_section(figset: FigureSet, labels: Labeller) -> str:
    parts = []
    for name, figure in figset.figures.items():
        data = base64.b64encode(figure_bytes(figure, "png", language=figset.language)).decode("ascii")
        caption = html.escape(figset.captions.get(name, ""))
        parts.append(
            f'<figure id="fig-{name}"><img alt="{html.escape(name)}" src="data:image/png;base64,{data}">'
            f"<figcaption><b>{html.escape(name)}</b>. {caption}</figcaption></figure>"
        )
    if figset.skipped:
        items = "".join(
            f"<li><code>{html.escape(k)}</code>: {html.escape(v)}</li>" for k, v in figset.skipped.items()
        )
        parts.append(f"<h3>{labels.t('r_skipped')}</h3><ul>{items}</ul>")
    return "".join(parts)


def build_report(run_dir: str | Path, *, language: Language, vs: str | Path | None = None) -> str:
    """The report of a run folder (optionally against another run) as one HTML document.

    Raises:
        SimError: ``run_dir`` or ``vs`` is not a run folder.
    """
    run_dir = Path(run_dir)
    other = Path(vs) if vs is not None else None
    result = read_run_dir(run_dir)
    summary = result.summary
    labels = run_labeller(run_dir, result.places, language)
    figset = run_figures(run_dir, language=language, vs=other)
    name = str(summary.get("scenario", run_dir.name))
    scenario = _scenario(run_dir)
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if language.lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f'<meta name="generator" content="{GENERATOR} {html.escape(package_version())}">',
        f"<title>{html.escape(labels.t('r_title', run=name))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(labels.t('r_title', run=name))}</h1>",
    ]
    if language.note:
        out.append(f'<p class="note">{html.escape(language.note)}</p>')
    if scenario.get("description"):
        out.append(f"<p>{html.escape(str(scenario['description']))}</p>")
    out.append(
        f"<p>{html.escape(labels.t('r_days', days=summary.get('days'), seed=summary.get('seed')))}</p>"
    )
    mine = headline_rows(summary, labels)
    out.append(f"<h2>{labels.t('r_headline')}</h2>")
    if other is not None:
        other_summary = read_run_dir(other).summary
        other_name = str(other_summary.get("scenario", other.name))
        out.append(f"<p>{html.escape(labels.t('r_vs', other=other_name))}</p>")
        theirs = headline_rows(other_summary, labels)
        rows = []
        for key, value in mine.items():
            before = theirs.get(key)
            change = (
                value - before if isinstance(value, int | float) and isinstance(before, int | float) else None
            )
            rows.append([key, before, value, change])
        out.append(_table([labels.t("r_metric"), other_name, name, labels.t("r_change")], rows, signed=3))
    else:
        out.append(_table([labels.t("r_metric"), labels.t("r_value")], mine.items()))
    out.append(f"<h2>{labels.t('r_by_unit')}</h2>{_by_unit(summary, labels)}")
    if other is not None:
        out.append(f"<h2>{html.escape(labels.t('r_difference', run=name, other=other_name))}</h2>")
        out.append(_difference(run_dir, other, labels))
    out.append(f"<h2>{labels.t('r_scenario')}</h2>{_scenario_section(run_dir, other, labels)}")
    out.append(f"<h2>{labels.t('r_figures')}</h2>{_figures_section(figset, labels)}")
    out.append(f"<h2>{labels.t('r_provenance')}</h2>")
    for title, folder in [(name, run_dir), *([(other_name, other)] if other is not None else [])]:
        prov = read_run_dir(folder).provenance if folder != run_dir else result.provenance
        out.append(f"<h3>{html.escape(title)}</h3>")
        out.append(_table([labels.t("r_field"), labels.t("r_value")], [[k, str(v)] for k, v in prov.items()]))
    out.append(
        f"<footer>{html.escape(labels.t('r_footer', version=package_version()))}</footer></body></html>"
    )
    return "\n".join(out)


def write_report(
    run_dir: str | Path, out: str | Path, *, language: Language, vs: str | Path | None = None
) -> Path:
    """Write the report atomically (temporary file, then rename); an existing file is replaced only
    if it is a townsim report.

    Raises:
        SimError: a run folder is invalid, or ``out`` exists and is not a townsim report.
    """
    out = Path(out)
    if out.exists() and (
        out.is_dir() or GENERATOR not in out.read_text(encoding="utf-8", errors="replace")[:2000]
    ):
        raise SimError(f"{out}: exists and is not a townsim report; choose another --out")
    document = build_report(run_dir, language=language, vs=vs)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(document)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
