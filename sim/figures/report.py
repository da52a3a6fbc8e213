"""Self-contained HTML reports from Jinja2 templates (autoescaped): a run report (headline and transit
tables, by township, paired differences with CIs, equity and accessibility (``report_blocks``),
scenario difference, figures, provenance) and a sweep report (parameters, outcomes by lever,
sensitivity indices, figures)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
import yaml

from sim.errors import SimError
from sim.figures import report_blocks as blocks
from sim.figures.figset import FigureSet, figure_bytes
from sim.figures.fonts import Language
from sim.figures.labels import TEXT, Labeller
from sim.figures.report_answer import answer_section
from sim.figures.report_cells import Cell, Table, _change, _fmt, _num, diff_cell
from sim.figures.report_families import TITLE as FAMILIES_TITLE
from sim.figures.report_families import families_tables
from sim.figures.runset import (
    DIFFERENCE_METRICS,
    cdf_panels,
    compare_with,
    primary_dir,
    read_run_dir,
    read_scenario,
    run_figures,
    run_labeller,
)
from sim.figures.sweep import parameter_labels, read_sweep, sweep_figures, sweep_labeller, sweep_parameters
from sim.metrics.summary import THRESHOLDS_MIN
from sim.ownership import check_replaceable, write_file_owned
from sim.replications import read_replications
from sim.results.summary_model import RunSummary
from sim.version import package_version

__all__ = [
    "GENERATOR",
    "Cell",
    "Table",
    "build_report",
    "build_sweep_report",
    "diff_cell",
    "flatten",
    "headline_rows",
    "write_report",
]

GENERATOR = "townsim report"
_TEMPLATES = Path(__file__).with_name("templates")


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted keys -> leaf values (lists kept as leaves)."""
    if isinstance(data, Mapping):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: data}


def _pct(x: Any) -> float | None:
    return None if x is None else 100 * float(x)


def headline_rows(summary: RunSummary, labels: Labeller) -> dict[str, float | None]:
    """Headline metrics of a run's summary, labelled in the report's language (values in the units named)."""
    rows: dict[str, float | None] = {
        labels.t("m_population"): summary.population,
        labels.t("m_errands_completed"): summary.errands.completed,
        labels.t("m_errands_pending"): summary.errands.pending_at_end,
        labels.t("m_burden_mean"): summary.burden_min.mean,
        labels.t("m_burden_median"): summary.burden_min.median,
        labels.t("m_burden_p90"): summary.burden_min.p90,
    }
    for t in THRESHOLDS_MIN:
        rows[labels.t("m_burden_over", t=t)] = _pct(summary.burden_share_over_min.get(str(t)))
    rows[labels.t("m_trips")] = summary.trips_per_completed_errand
    rows[labels.t("m_distance")] = summary.distance_km_per_errand
    rows[labels.t("m_money")] = summary.money_yuan_per_errand
    for key, shares in summary.access_by_service.items():
        service = labels.service(key)
        rows[labels.t("m_access", service=service)] = shares.mean_min
        rows[labels.t("m_access_over", service=service)] = _pct(shares.share_over_30)
    for mode, share in summary.mode_share.items():
        rows[labels.t("m_mode_share", mode=labels.mode(mode))] = _pct(share)
    for kind, q in summary.queues_by_kind.items():
        rows[labels.t("m_wait", kind=labels.kind(kind))] = q.mean_wait_min
        rows[labels.t("m_util", kind=labels.kind(kind))] = _pct(q.mean_utilisation)
        rows[labels.t("m_turned", kind=labels.kind(kind))] = q.turned_away
    rows[labels.t("m_school")] = summary.school.mean_one_way_min
    rows[labels.t("m_school_over")] = _pct(summary.school.share_over_40_min)
    rows[labels.t("m_gini")] = summary.equity.gini_burden_per_resident
    return rows


def transit_rows(summary: RunSummary, labels: Labeller) -> dict[str, float | None]:
    """The transit block of a run's summary (bus trips, share, waits, boardings by line); empty without."""
    transit = summary.transit
    if transit is None:
        return {}
    rows: dict[str, float | None] = {
        labels.t("m_bus_trips"): transit.bus_trips,
        labels.t("m_bus_share"): _pct(transit.bus_share),
        labels.t("m_no_way_home"): transit.no_way_home,
        labels.t("m_stop_wait"): transit.mean_stop_wait_min,
        labels.t("m_transfer_wait"): transit.mean_transfer_wait_min,
        labels.t("m_bus_there"): transit.mean_travel_there_min,
        labels.t("m_bus_home"): transit.mean_travel_home_min,
    }
    for line, count in transit.boardings_by_line.items():
        rows[labels.t("m_boardings", line=labels.name(line))] = count
    return rows


def _compare_table(
    mine: Mapping[str, Any], theirs: Mapping[str, Any] | None, labels: Labeller, *, name: str, other: str
) -> Table:
    if theirs is None:
        return Table(
            [labels.t("r_metric"), labels.t("r_value")], [[Cell(k, "text"), _num(v)] for k, v in mine.items()]
        )
    table = Table([labels.t("r_metric"), other, name, labels.t("r_change")])
    for key in dict.fromkeys([*mine, *theirs]):
        a, b = theirs.get(key), mine.get(key)
        change = b - a if isinstance(a, int | float) and isinstance(b, int | float) else None
        table.rows.append([Cell(key, "text"), _num(a), _num(b), _change(change)])
    return table


def _by_unit(summary: RunSummary, labels: Labeller) -> Table:
    table = Table(
        [
            labels.t("former_unit"),
            labels.t("m_population"),
            labels.t("m_burden_mean"),
            labels.t("m_burden_p90"),
            labels.t("m_burden_over", t=60),
            labels.t("m_trips"),
        ]
    )
    for unit, entry in summary.by_former_unit.items():
        table.rows.append(
            [
                Cell(labels.name(unit), "name"),
                _num(entry.population),
                _num(entry.burden_min.mean),
                _num(entry.burden_min.p90),
                _num(_pct(entry.burden_share_over_min.get("60"))),
                _num(entry.trips_per_completed_errand),
            ]
        )
    return table


def difference_table(diffs: pd.DataFrame, order: Sequence[str], labels: Labeller) -> Table:
    """Paired differences by former township (rows) and metric (columns): the mean difference, and under
    it the 95% interval when the runs are replicated; bold when the interval excludes 0."""
    metrics = [m for m in DIFFERENCE_METRICS if m in set(diffs["metric"])]
    table = Table([labels.t("former_unit"), *[labels.metric(m) for m in metrics]])
    index: dict[Any, dict[Any, Any]] = diffs.set_index(["metric", "group"]).to_dict("index")
    for group in order:
        row = [Cell(labels.group("former_unit", group), "name")]
        for metric in metrics:
            d = index.get((metric, group))
            row.append(
                Cell("–", "num") if d is None else diff_cell(d["mean_diff"], d["ci_low"], d["ci_high"])
            )
        table.rows.append(row)
    return table


def _scenario_section(
    mine: Mapping[str, Any], theirs: Mapping[str, Any] | None, labels: Labeller
) -> tuple[str, Table | None]:
    if theirs is None:
        merger = mine.get("merger")
        if not merger:
            return labels.t("r_no_merger"), None
        flat = flatten(merger, "merger")
        return labels.t("r_merger"), Table(
            [labels.t("r_field"), labels.t("r_value")],
            [[Cell(k, "code"), Cell(json.dumps(v, ensure_ascii=False), "code")] for k, v in flat.items()],
        )
    a, b = flatten(theirs), flatten(mine)
    absent = labels.t("r_absent")
    keys = [k for k in dict.fromkeys([*a, *b]) if a.get(k, absent) != b.get(k, absent)]
    if not keys:
        return labels.t("r_scenario_same"), None

    def show(d: dict[str, Any], k: str) -> Cell:
        return Cell(json.dumps(d[k], ensure_ascii=False) if k in d else absent, "code")

    return "", Table(
        [labels.t("r_field"), labels.t("r_other"), labels.t("r_run")],
        [[Cell(k, "code"), show(a, k), show(b, k)] for k in keys],
    )


def _figure_items(figset: FigureSet, labels: Labeller) -> list[dict[str, str]]:
    return [
        {
            "name": name,
            "alt": figset.captions.get(name, name),
            "data": base64.b64encode(figure_bytes(figure, "png", language=figset.language)).decode("ascii"),
            "number": labels.t("r_figure_n", n=i),
            "caption": figset.captions.get(name, ""),
        }
        for i, (name, figure) in enumerate(figset.figures.items(), start=1)
    ]


def _words(labels: Labeller) -> dict[str, str]:
    return {k[2:]: labels.t(k) for k in TEXT if k.startswith("r_") and "{" not in TEXT[k]["en"]}


def _common(labels: Labeller, language: Language, title: str) -> dict[str, Any]:
    return {
        "html_lang": "zh-CN" if language.lang == "zh" else "en",
        "generator": f"{GENERATOR} {package_version()}",
        "title": title,
        "language_note": language.note,
        "footer": labels.t("r_footer", version=package_version()),
        "t": _words(labels),
    }


def build_report(run_dir: str | Path, *, language: Language, vs: str | Path | None = None) -> str:
    """The report of a run folder (optionally against another run) as one HTML document.

    Raises:
        SimError: ``run_dir`` or ``vs`` is not a run folder.
    """
    run_dir = Path(run_dir)
    other = Path(vs) if vs is not None else None
    result = read_run_dir(run_dir)
    summary = result.checked_summary()
    labels = run_labeller(run_dir, result.places, language)
    figset = run_figures(run_dir, language=language, vs=other)
    scenario = read_scenario(run_dir)
    name = labels.scenario(summary.scenario, scenario.get("title"))
    cmp = compare_with(run_dir, other, labels) if other is not None else None
    theirs = cmp.result.checked_summary() if cmp else None
    other_name = cmp.name if cmp else ""
    transit_mine = transit_rows(summary, labels)
    transit_theirs = transit_rows(theirs, labels) if theirs else None
    context = _common(labels, language, labels.t("r_title", run=name))
    sections = [("headline", labels.t("r_headline")), ("by-unit", labels.t("r_by_unit"))]
    difference = None
    answer = None
    if cmp is not None:
        units = [str(u) for u in result.places.loc[result.places["kind"] == "seat", "former_unit"]]
        panels = cdf_panels(scenario, cmp.scenario, units)
        order = ["ALL", *[u for members in panels.values() for u in members]]
        difference = difference_table(cmp.units, order, labels)
        sections.append(("difference", labels.t("r_change")))
        answer = answer_section(cmp.before, cmp.after, labels)
        if answer is not None:
            sections.insert(0, ("answer", answer.title))
    values = (
        blocks.MetricValues.of(cmp.after, cmp.before)
        if cmp is not None
        else blocks.MetricValues.of(read_replications(run_dir))
    )
    equity = blocks.equity_tables(summary, values, labels)
    access = blocks.access_tables(summary, values, labels)
    if equity:
        sections.append(("equity", blocks.TEXT["equity"][language.lang]))
    if access:
        sections.append(("access", blocks.TEXT["access"][language.lang]))
    families = families_tables(summary, values, language.lang)  # school travel, escorts, weather
    if families:
        sections.append(("families", FAMILIES_TITLE[language.lang]))
    sections += [
        ("scenario", labels.t("r_scenario")),
        ("figures", labels.t("r_figures")),
        ("provenance", labels.t("r_provenance")),
    ]
    scenario_text, scenario_table = _scenario_section(scenario, cmp.scenario if cmp else None, labels)
    provenance = [(name, result.provenance)] + ([(other_name, cmp.result.provenance)] if cmp else [])
    context.update(
        description=str(scenario.get("description", "")),
        run_meta=f"{name}: " + labels.t("r_days", days=summary.days, seed=summary.seed),
        other_meta=(
            f"{labels.t('r_vs', other=other_name)}: " + labels.t("r_days", days=theirs.days, seed=theirs.seed)
            if theirs
            else ""
        ),
        sections=sections,
        headline=_compare_table(
            headline_rows(summary, labels),
            headline_rows(theirs, labels) if theirs else None,
            labels,
            name=name,
            other=other_name,
        ),
        transit=(
            _compare_table(transit_mine, transit_theirs or None, labels, name=name, other=other_name)
            if transit_mine
            else None
        ),
        by_unit=_by_unit(summary, labels),
        answer=answer,
        difference=difference,
        difference_title=labels.t("r_difference", run=name, other=other_name) if cmp else "",
        difference_note=(
            labels.t("r_diff_note_single") if cmp and cmp.n == 1 else labels.t("r_diff_note_ci")
        ),
        equity=equity,
        equity_title=blocks.TEXT["equity"][language.lang],
        equity_note=blocks.TEXT["equity_note"][language.lang],
        access=access,
        access_title=blocks.TEXT["access"][language.lang],
        access_note=blocks.access_note(summary, labels),
        families=families,
        families_title=FAMILIES_TITLE[language.lang],
        change=(
            blocks.change_table(summary, values, labels, name=name, other=other_name)
            if cmp is not None
            else None
        ),
        change_title=blocks.TEXT["change"][language.lang],
        change_note=blocks.TEXT["change_note"][language.lang],
        scenario_text=scenario_text,
        scenario=scenario_table,
        figures=_figure_items(figset, labels),
        skipped=figset.skipped,
        provenance=[
            (title, Table([labels.t("r_field"), labels.t("r_value")], _kv(prov)))
            for title, prov in provenance
        ],
    )
    return _environment().get_template("report.html.j2").render(context)


def _kv(mapping: Mapping[str, Any]) -> list[list[Cell]]:
    return [
        [Cell(str(k), "code"), Cell(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False), "code")]
        for k, v in mapping.items()
    ]


def _values_text(values: Iterable[Any]) -> str:
    unique = sorted({float(v) for v in values if isinstance(v, int | float) and v == v})
    if not unique:
        return ", ".join(sorted({str(v) for v in values}))
    if len(unique) <= 6:
        return ", ".join(f"{v:g}" for v in unique)
    return f"{unique[0]:g} – {unique[-1]:g} ({len(unique)})"


def build_sweep_report(folder: str | Path, *, language: Language) -> str:
    """The report of an analysed sweep folder as one HTML document.

    Raises:
        SimError: not an analysed sweep folder.
    """
    folder = Path(folder)
    points, sens = read_sweep(folder)
    labels = sweep_labeller(folder, language)
    figset = sweep_figures(folder, language=language)
    experiment = yaml.safe_load((folder / "experiment.yaml").read_text(encoding="utf-8")) or {}
    declared = [
        c for c in points.columns if c not in ("lever", "outcome", "n", "mean", "std", "ci_low", "ci_high")
    ]
    varied = set(sweep_parameters(points))
    human = parameter_labels(declared, labels)
    parameters = Table([labels.t("parameter"), labels.t("r_path"), labels.t("r_range")])
    for path in declared:
        parameters.rows.append(
            [
                Cell(human[path], "text"),
                Cell(path, "code"),
                Cell(_values_text(points[path]) if path in varied else labels.t("skip_not_numeric"), "text"),
            ]
        )
    outcomes = Table([labels.t("r_outcome"), labels.t("r_lever"), labels.t("r_mean_range"), labels.t("r_n")])
    for (outcome, lever), rows in points.groupby(["outcome", "lever"], sort=False):
        outcomes.rows.append(
            [
                Cell(labels.metric(outcome), "text"),
                Cell(labels.scenario(lever) if lever else labels.t("baseline_lever"), "text"),
                Cell(f"{_fmt(float(rows['mean'].min()))} – {_fmt(float(rows['mean'].max()))}", "num"),
                _num(
                    int(rows["n"].min())
                    if rows["n"].nunique() == 1
                    else f"{rows['n'].min()}–{rows['n'].max()}"
                ),
            ]
        )
    sensitivity = []
    if sens is not None:
        sens = sens.assign(lever=sens["lever"].fillna("").astype(str) if "lever" in sens else "")
        for (method, outcome, lever), rows in sens.groupby(["method", "outcome", "lever"], sort=False):
            indices = [str(i) for i in dict.fromkeys(rows["index"].astype(str))]
            table = Table([labels.t("parameter"), *[labels.t(i) if i in TEXT else i for i in indices]])
            for param, prow in rows.groupby("parameter", sort=False):
                cells = [Cell(human.get(str(param), labels.parameter(str(param))), "text")]
                for index in indices:
                    hit = prow[prow["index"].astype(str) == index]
                    value = float(hit["value"].iloc[0]) if len(hit) else None
                    conf = float(hit["conf"].iloc[0]) if len(hit) and pd.notna(hit["conf"].iloc[0]) else None
                    cells.append(Cell(_fmt(value), "num", f"± {_fmt(conf)}" if conf is not None else ""))
                table.rows.append(cells)
            method_name = labels.t(str(method)) if str(method) in TEXT else str(method)
            lever_name = labels.scenario(lever) if lever else labels.t("baseline_lever")
            heading = f"{method_name}: {labels.metric(outcome)} · {lever_name}"
            sensitivity.append((heading, table))
    results = _sweep_counts(folder)
    name = str(experiment.get("name", folder.name))
    context = _common(labels, language, labels.t("r_sweep_title", name=name))
    sections = [("parameters", labels.t("r_parameters")), ("outcomes", labels.t("r_outcomes"))]
    if sensitivity:
        sections.append(("sensitivity", labels.t("r_sensitivity")))
    sections.append(("figures", labels.t("r_figures")))
    context.update(
        description=str(experiment.get("description", "")),
        about=labels.t(
            "r_sweep_about",
            runs=results["runs"],
            ok=results["ok"],
            failed=results["failed"],
            points=points.drop_duplicates(declared).shape[0] if declared else 1,
            levers=points["lever"].nunique(),
        ),
        sections=sections,
        parameters=parameters,
        outcomes=outcomes,
        sensitivity=sensitivity,
        figures=_figure_items(figset, labels),
        skipped=figset.skipped,
    )
    return _environment().get_template("sweep_report.html.j2").render(context)


def _sweep_counts(folder: Path) -> dict[str, int]:
    parts = sorted((folder / "results").glob("part-*.parquet")) if (folder / "results").is_dir() else []
    if not parts:
        return {"runs": 0, "ok": 0, "failed": 0}
    rows = pd.concat([pd.read_parquet(p, columns=["run_key", "status"]) for p in parts])
    rows = rows.drop_duplicates("run_key", keep="last")
    return {
        "runs": len(rows),
        "ok": int((rows["status"] == "ok").sum()),
        "failed": int((rows["status"] == "failed").sum()),
    }


def build_calibration_document(folder: str | Path, *, language: Language) -> str:
    """The report of a calibration folder as one HTML document (``sim.calibration.report``)."""
    from sim.calibration.report import build_calibration_report

    context = build_calibration_report(folder, language=language)
    context.update(_common(Labeller(language.lang), language, context["title"]))
    return _environment().get_template("calibration_report.html.j2").render(context)


def build_posterior_compare_document(folder: str | Path, *, language: Language) -> str:
    """The report of a ``compare --posterior --out`` folder as one HTML document."""
    from sim.calibration.posterior_report import build_posterior_compare_report

    context = build_posterior_compare_report(folder, language=language)
    context.update(_common(Labeller(language.lang), language, context["title"]))
    return _environment().get_template("posterior_compare_report.html.j2").render(context)


def write_report(
    source: str | Path, out: str | Path, *, language: Language, vs: str | Path | None = None
) -> Path:
    """Write the report of a run folder (or of an analysed sweep folder) atomically (staging file,
    then rename); an existing file is replaced only if townsim wrote it as a report and it is
    unchanged since (:mod:`sim.ownership`).

    Raises:
        SimError: a folder is invalid, ``vs`` given for a sweep, or ``out`` exists and is not a
            townsim report.
    """
    from sim.calibration.posterior_report import is_posterior_compare_dir
    from sim.calibration.report import is_calibration_dir
    from sim.figures.sweep import is_sweep_dir

    out = Path(out)
    check_replaceable(out, "report")  # fail before the figures are drawn; checked again when written
    if is_calibration_dir(source):
        if vs is not None:
            raise SimError("--vs compares two run folders; it does not apply to a calibration folder")
        document = build_calibration_document(source, language=language)
    elif is_posterior_compare_dir(source):
        if vs is not None:
            raise SimError(
                "--vs compares two run folders; it does not apply to a posterior comparison folder"
            )
        document = build_posterior_compare_document(source, language=language)
    elif is_sweep_dir(Path(source)):
        if vs is not None:
            raise SimError("--vs compares two run folders; it does not apply to a sweep folder")
        document = build_sweep_report(source, language=language)
    else:
        primary_dir(source)  # a clear error for anything that is not a run folder
        document = build_report(source, language=language, vs=vs)
    write_file_owned(out, "report", lambda tmp: tmp.write_text(document, encoding="utf-8"))
    return out
