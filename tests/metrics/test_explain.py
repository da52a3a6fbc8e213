"""Crossed groups, the parts of a change of burden and the sentence, read as a user reads them."""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.metrics.cells import PARTS, cell_tables
from sim.metrics.explain import EXPLAIN_PARTS, explain_seed_parts
from sim.replications import read_replications

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"
FAST_LINE = """
transit:
  lines:
    b2:
      zh: 东西快线
      en: East-West express
      stops: [w1, "seat:west", w2, "seat:east", e3]
      along_road: true
      speed_kph: 40
      headway: {first: "06:30", last: "18:30", every_min: 20}
      fare_yuan: 2
      capacity: 30
      source: assumed
"""
EAST_LINE = """
transit:
  lines:
    b3:
      zh: 东村西镇线
      en: East villages - West seat
      stops: [e2, e1, "seat:east", "seat:west"]
      along_road: true
      speed_kph: 60
      headway: {first: "06:30", last: "18:30", every_min: 15}
      fare_yuan: 0
      capacity: 60
      source: assumed
"""


def _cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """tiny merged vs tiny with buses, 3 replications of 30 days each."""
    root = tmp_path_factory.mktemp("explain")
    a, b = root / "a", root / "b"
    for scenario, out in (("merged.yaml", a), ("buses.yaml", b)):
        code, _ = _cli(
            "run",
            str(TINY / scenario),
            "--days",
            "30",
            "--replications",
            "3",
            "--workers",
            "1",
            "--out",
            str(out),
            "--quiet",
        )
        assert code == 0
    return a, b


def test_cells_hold_each_errand_burden_split_into_parts(runs: tuple[Path, Path]) -> None:
    run = runs[1] / "seed_7"
    residents, errands, trips = (
        pd.read_parquet(run / f"{t}.parquet") for t in ("residents", "errands", "trips")
    )
    cells, fac = cell_tables(residents, errands, trips)
    summary = json.loads((run / "summary.json").read_text())
    assert cells["burden_sum"].sum() / cells["n"].sum() == pytest.approx(
        summary["burden_min"]["mean"], abs=1e-4
    )
    parts = cells[[f"{p}_sum" for p in PARTS]].sum(axis=1)
    assert np.allclose(parts, cells["burden_sum"], atol=1e-9)
    # errands completed by a trip: travel + stop waits + facility wait + earlier trips is the model's burden
    by_trip = cells[cells["channel"] == "trip"]
    assert np.abs(by_trip["other_sum"]).max() < 1e-9
    # independent check on the trips table: facility waits of completing trips
    done = trips[trips["outcome"] == "completed"]
    assert fac["wait_sum"].sum() == pytest.approx(done["wait_min"].sum())
    assert (cells.groupby("mode")["n"].sum().get("bus", 0)) > 0


def test_parts_sum_to_total_in_every_seed_and_group(runs: tuple[Path, Path]) -> None:
    a, b = read_replications(runs[0]), read_replications(runs[1])
    for by in ([], ["former_unit", "age_band"], ["village"]):
        seed_parts = explain_seed_parts(a.cells, b.cells, by)
        seed_parts["d"] = seed_parts["b"] - seed_parts["a"]
        wide = seed_parts.pivot_table(index=[*by, "seed"], columns="part", values="d")
        assert set(wide.columns) == {*EXPLAIN_PARTS, "total"}
        gap = (wide[list(EXPLAIN_PARTS)].sum(axis=1) - wide["total"]).abs().max()
        assert gap < 1e-9
    # the county total equals the summary's burden change, seed by seed
    county = explain_seed_parts(a.cells, b.cells, [])
    total = county[county["part"] == "total"].set_index("seed")
    summaries = [json.loads((r / "summaries.json").read_text(encoding="utf-8")) for r in runs]
    for seed, sa, sb in zip(a.seeds, *summaries, strict=True):
        assert total.loc[seed, "a"] == pytest.approx(sa["burden_min"]["mean"], abs=1e-4)
        assert total.loc[seed, "b"] == pytest.approx(sb["burden_min"]["mean"], abs=1e-4)


def test_compare_by_crossed_groups_is_tidy_and_opens_with_a_sentence(runs: tuple[Path, Path]) -> None:
    a, b = (str(r) for r in runs)
    code, text = _cli("compare", a, b, "--by", "former_unit,age_band")
    assert code == 0
    first = text.splitlines()[0]
    assert re.match(r"Residents aged \S+ of former township \S+ ", first)
    assert "95% CI" in first
    assert "== mean burden per errand (min) ==" in text
    code, csv = _cli("compare", a, b, "--by", "former_unit,age_band", "--format", "csv")
    table = pd.read_csv(io.StringIO(csv))
    assert list(table.columns[:3]) == ["former_unit", "age_band", "metric"]
    assert {"mean_a", "mean_b", "diff", "ci_low", "ci_high"} <= set(table.columns)
    assert len(table.drop_duplicates(["former_unit", "age_band", "metric"])) == len(table)
    # whole-county compare csv: no group inside a metric name, no 1e-18 noise
    code, csv = _cli("compare", a, b, "--format", "csv")
    assert not any(
        re.search(r"by_(former_unit|age_band|island)\.", m) for m in pd.read_csv(io.StringIO(csv))["metric"]
    )
    assert "e-" not in csv


def test_chinese_outputs_hold_no_english_words(runs: tuple[Path, Path]) -> None:
    a, b = (str(r) for r in runs)
    allowed = {a, b, *Path(a).parts, *Path(b).parts}
    for argv in (
        ("compare", a, b, "--lang", "zh"),
        ("compare", a, b, "--lang", "zh", "--by", "former_unit,age_band"),
        ("explain", a, b, "--lang", "zh", "--by", "former_unit"),
    ):
        code, text = _cli(*argv)
        assert code == 0
        for path in (a, b):
            text = text.replace(path, "")
        words = set(re.findall(r"[A-Za-z][A-Za-z_]+", text)) - allowed
        ids = {
            "east_clinic",
            "west_clinic",
            "isle_clinic",
            "east_hall",
            "west_hall",
            "isle_hall",
            "by",
            "format",
            "csv",
        }
        assert words <= ids, (argv, words - ids)
        assert "居民" in text and "95%置信区间" in text


def test_explain_csv_has_one_row_per_group_and_part(runs: tuple[Path, Path]) -> None:
    a, b = (str(r) for r in runs)
    _, csv = _cli("explain", a, b, "--by", "former_unit", "--format", "csv")
    table = pd.read_csv(io.StringIO(csv))
    assert list(table.columns) == [
        "former_unit",
        "part",
        "n",
        "mean_a",
        "mean_b",
        "diff",
        "ci_low",
        "ci_high",
    ]
    assert set(table["part"]) == {*EXPLAIN_PARTS, "total"}
    assert len(table) == 7 * table["former_unit"].nunique()


def test_bad_group_is_refused(runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    a, b = (str(r) for r in runs)
    assert main(["compare", a, b, "--by", "former_unit,planet"]) == 2
    assert "--by: unknown group 'planet'" in capsys.readouterr().err
    assert main(["explain", a, b, "--overlay-b", "x.yaml"]) == 2
    assert "--overlay-b applies to scenario files" in capsys.readouterr().err


def test_explain_names_the_drained_line(tmp_path: Path) -> None:
    overlay = tmp_path / "fast_line.yaml"
    overlay.write_text(FAST_LINE, encoding="utf-8")
    base = str(TINY / "buses.yaml")
    _, text = _cli(
        "explain",
        base,
        base,
        "--overlay-b",
        str(overlay),
        "--days",
        "30",
        "--replications",
        "3",
        "--workers",
        "1",
        "--format",
        "json",
    )
    doc = json.loads(text)
    assert doc["b"]["scenario"] == "tiny_buses+fast_line" and doc["a"]["scenario"] == "tiny_buses"
    lines = {row["line"]: row for row in doc["lines"]}
    assert lines["b2"]["diff"] > 0 and lines["b1"]["ci_high"] < 0  # the new line drains the old one
    _, table = _cli(
        "explain",
        base,
        base,
        "--overlay-b",
        str(overlay),
        "--days",
        "30",
        "--replications",
        "3",
        "--workers",
        "1",
    )
    assert "East-West bus" in table and "East-West express" in table


def test_explain_names_the_facility_whose_wait_rose(tmp_path: Path) -> None:
    overlay = tmp_path / "east_line.yaml"
    overlay.write_text(EAST_LINE, encoding="utf-8")
    base = str(TINY / "buses.yaml")
    _, text = _cli(
        "explain",
        base,
        base,
        "--overlay-b",
        str(overlay),
        "--days",
        "30",
        "--replications",
        "3",
        "--workers",
        "1",
        "--by",
        "former_unit",
        "--format",
        "json",
    )
    doc = json.loads(text)
    east = [r for r in doc["facilities"] if r["former_unit"] == "east"]
    rose = [r for r in east if r["ci_low"] > 0]
    assert rose and rose[0]["facility"] == "east_clinic"
    parts = {r["part"]: r for r in doc["parts"] if r["former_unit"] == "east"}
    assert parts["stop_wait"]["ci_low"] > 0  # riders of the new line wait at its stops


def test_paired_interval_matches_scipy() -> None:
    from scipy import stats

    from sim.metrics.explain import paired_interval

    rng = np.random.default_rng(3)
    a, b = rng.normal(10, 2, 7), rng.normal(10.5, 2, 7)
    frame = pd.DataFrame({"g": ["x"] * 7, "seed": range(7), "a": a, "b": b})
    row = paired_interval(frame, ["g"]).iloc[0]
    ci = stats.ttest_rel(b, a).confidence_interval(0.95)
    assert row["diff"] == pytest.approx((b - a).mean())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high))


def test_titles_name_runs_with_overlays(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    overlay = tmp_path / "fast.yaml"
    overlay.write_text("title: {zh: 东西快线, en: East-West express}\n" + FAST_LINE, encoding="utf-8")
    base = tmp_path / "base.yaml"
    base.write_text(
        f"extends: {TINY / 'buses.yaml'}\nname: tb\ntitle: {{zh: 撤并加公交, en: Merged with a bus}}\n",
        encoding="utf-8",
    )
    for out, extra in (("a", []), ("b", ["--overlay", str(overlay)])):
        argv = ["run", str(base), *extra, "--days", "10", "--replications", "2", "--workers", "1"]
        assert _cli(*argv, "--out", str(tmp_path / out), "--quiet")[0] == 0
    meta = json.loads((tmp_path / "b" / "replications.json").read_text(encoding="utf-8"))
    assert meta["scenario"] == "tb+fast"
    assert meta["title"] == {"zh": "撤并加公交 + 东西快线", "en": "Merged with a bus + East-West express"}
    assert "title" in json.loads((tmp_path / "a" / "replications.json").read_text(encoding="utf-8"))
    _, text = _cli("compare", str(tmp_path / "a"), str(tmp_path / "b"), "--lang", "zh")
    assert "（撤并加公交 + 东西快线，2次重复）" in text and "（撤并加公交，2次重复）" in text
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: 快线\n", encoding="utf-8")
    assert main(["validate", str(base), "--overlay", str(bad)]) == 2
    assert f"{bad}: field 'title': expected {{zh: <name>, en: <name>}}" in capsys.readouterr().err


def test_report_opens_with_the_answer_over_every_seed(runs: tuple[Path, Path]) -> None:
    from sim.figures.fonts import Language
    from sim.figures.report import build_report

    a, b = runs
    html = build_report(b, language=Language("en"), vs=a)
    _, text = _cli("compare", str(a), str(b))
    county = text.splitlines()[0]
    start = html.index('id="answer"')
    answer = html[start : html.index("<h2", start)]
    assert county in answer  # the CLI's sentence over all 3 paired seeds, word for word
    assert html.index('id="answer"') < html.index('id="headline"')
    assert "−" in answer and "e-" not in answer


def test_compare_of_scenario_files_keeps_the_cells_it_shows() -> None:
    base = [str(TINY / "merged.yaml"), str(TINY / "buses.yaml"), "--days", "10", "--replications", "2"]
    code, text = _cli("compare", *base, "--workers", "1", "--lang", "zh")
    assert code == 0 and text.startswith("全县居民") and "原乡镇" in text and "年龄段" in text
    code, csv = _cli("compare", *base, "--workers", "1", "--by", "unit,service", "--format", "csv")
    table = pd.read_csv(io.StringIO(csv))
    assert code == 0 and list(table.columns[:3]) == ["unit", "service", "metric"]


BAIQING_LINE = """
title: {zh: 白青—平原新线, en: Baiqing - Pingyuan new line}
transit:
  lines:
    new_baiqing_pingyuan:
      zh: 白青—平原线
      en: Baiqing - Pingyuan
      stops: ["baiqing_01", "seat:baiqing", "seat:pingyuan"]
      along_road: true
      speed_kph: 30
      headway: {first: "07:00", last: "18:00", every_min: 30}
      fare_yuan: 2
      capacity: 40
      source: assumed
"""


def test_the_trials_case_names_the_drained_line_and_the_health_centre(tmp_path: Path) -> None:
    """Pingtan's recommended base plus a line from a Baiqing village to the new seat (Pingyuan):
    riders leave the existing Pingyuan - Baiqing line and Baiqing health centre's waits grow."""
    overlay = tmp_path / "baiqing_line.yaml"
    overlay.write_text(BAIQING_LINE, encoding="utf-8")
    base = str(TINY.parent / "pingtan" / "merged_2021_sized_buses.yaml")
    argv = [
        base,
        base,
        "--overlay-b",
        str(overlay),
        "--days",
        "21",
        "--replications",
        "3",
        "--by",
        "former_unit",
    ]
    code, text = _cli("explain", *argv, "--format", "json")
    assert code == 0
    doc = json.loads(text)
    lines = {row["line"]: row for row in doc["lines"]}
    assert lines["new_baiqing_pingyuan"]["ci_low"] > 0
    assert lines["suping_baiqing"]["ci_high"] < 0  # the existing line is drained
    baiqing = [row for row in doc["facilities"] if row["former_unit"] == "baiqing"]
    assert baiqing[0]["facility"] == "clinic_baiqing" and baiqing[0]["ci_low"] > 0


def test_damaged_cell_tables_are_refused(runs: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(runs[1], bad)
    cells = pd.read_parquet(bad / "cells.parquet")
    cells.drop(columns=["burden_sum"]).to_parquet(bad / "cells.parquet")
    assert main(["explain", str(runs[0]), str(bad)]) == 2
    assert f"{bad / 'cells.parquet'}: field 'burden_sum'" in capsys.readouterr().err
    cells.assign(n=cells["n"].astype(float).where(cells.index > 0)).to_parquet(bad / "cells.parquet")
    assert main(["compare", str(runs[0]), str(bad), "--by", "age_band"]) == 2
    assert "field 'n': expected numbers, no missing values" in capsys.readouterr().err
