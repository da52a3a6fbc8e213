"""The typed run summary: summary.json round-trips byte for byte, optional blocks are left out,
reading is strict (types, finiteness, keys) and old or newer layouts are read or refused clearly."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from sim.cli import main
from sim.errors import SimError
from sim.results.io import read_run, read_summary
from sim.results.summary_model import SCHEMA_VERSION, RunSummary, load_summary, summary_json
from tests.conftest import SCENARIOS, TINY


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("summary_runs")
    out = {}
    for name, path in (("tiny", TINY), ("buses", SCENARIOS / "tiny" / "buses.yaml")):
        out[name] = root / name
        assert main(["run", str(path), "--days", "3", "--out", str(out[name]), "--quiet"]) == 0
    return out


def _text(run: Path) -> str:
    return (run / "summary.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["tiny", "buses"])
def test_summary_json_is_the_model_serialised_and_reads_back_to_the_same_bytes(runs, name) -> None:
    text = _text(runs[name])
    raw = json.loads(text)
    assert next(iter(raw)) == "schema_version" and raw["schema_version"] == SCHEMA_VERSION
    # the JSON is the plain dict written as before the contract, plus the version key
    rest = {k: v for k, v in raw.items() if k != "schema_version"}
    without = json.dumps(rest, ensure_ascii=False, indent=2)
    assert text == without.replace("{\n", '{\n  "schema_version": 1,\n', 1)
    summary = read_summary(runs[name])
    assert summary_json(summary) == text
    assert read_run(runs[name]).summary == summary


def test_optional_blocks_are_left_out_and_nulls_kept(runs) -> None:
    tiny, buses = read_summary(runs["tiny"]), read_summary(runs["buses"])
    assert tiny.transit is None and "transit" not in json.loads(_text(runs["tiny"]))
    assert (
        buses.transit is not None
        and buses.transit.bus_trips == json.loads(_text(runs["buses"]))["transit"]["bus_trips"]
    )
    assert tiny.levers.proxy is None and "proxy" not in json.loads(_text(runs["tiny"]))["levers"]
    # a group with no completed errand: its burden statistics are written as null, not left out
    empty = [g for g in tiny.by_age_band.values() if g.errands_completed == 0]
    assert empty, "a 3-day tiny run has an age band without completed errands"
    raw_bands = json.loads(_text(runs["tiny"]))["by_age_band"]
    assert any(b["burden_min"]["mean"] is None and "mean" in b["burden_min"] for b in raw_bands.values())


def test_flattened_service_keys_read_as_attributes(runs) -> None:
    summary = read_summary(runs["tiny"])
    raw = json.loads(_text(runs["tiny"]))
    services = [k.removeprefix("access_") for k in raw if k.startswith("access_")]
    assert list(summary.access_by_service) == services and services
    for s in services:
        assert summary.access_by_service[s].mean_min == raw[f"access_{s}"]["mean_min"]
        assert summary.equity.gini_access(s) == raw["equity"][f"gini_access_{s}"]
    assert summary.overall().burden_min == summary.burden_min


def _damaged(run: Path, tmp: Path, change) -> Path:  # type: ignore[no-untyped-def]
    copy = tmp / "run"
    shutil.copytree(run, copy)
    data = json.loads(_text(copy))
    change(data)
    (copy / "summary.json").write_text(json.dumps(data), encoding="utf-8")
    return copy


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d["burden_min"].update(mean=math.nan), "burden_min.mean"),
        (lambda d: d["burden_min"].update(mean=math.inf), "burden_min.mean"),
        (lambda d: d["burden_min"].update(mean="40.5"), "burden_min.mean"),
        (lambda d: d["errands"].update(completed=True), "errands.completed"),
        (lambda d: d["errands"].update(completed=3.0), "errands.completed"),
        (lambda d: d["school"].update(pupils_extra=1), "school.pupils_extra"),
        (lambda d: d["by_island"]["islands"]["burden_min"].pop("p90"), "'by_island.islands.burden_min.p90'"),
        (lambda d: d.update(schema_version=SCHEMA_VERSION + 1), "schema_version"),
        (lambda d: d.update(schema_version="1"), "schema_version"),
    ],
)
def test_bad_summary_is_refused_naming_file_and_field(runs, tmp_path, capsys, change, named) -> None:
    run = _damaged(runs["tiny"], tmp_path, change)
    with pytest.raises(SimError, match=r"summary\.json") as caught:
        read_summary(run)
    assert named in str(caught.value)
    assert main(["compare", str(runs["tiny"]), str(run)]) == 2
    err = capsys.readouterr().err
    assert "summary.json" in err and named in err and "Traceback" not in err


def test_old_summary_without_version_is_read_when_it_validates_else_refused(runs, tmp_path) -> None:
    old = json.loads(_text(runs["tiny"]))
    del old["schema_version"]
    assert load_summary(old, "old/summary.json") == read_summary(runs["tiny"])
    del old["levers"]
    with pytest.raises(SimError, match=r"old/summary.json: written by an older townsim.*'levers'"):
        load_summary(old, "old/summary.json")
    with pytest.raises(SimError, match="expected a JSON object"):
        load_summary([1, 2], "x/summary.json")


def test_unknown_top_level_blocks_are_kept_as_written(runs) -> None:
    data = json.loads(_text(runs["tiny"]))
    data["future_block"] = {"a": 1}
    summary = RunSummary.model_validate(data)
    assert summary.extra_block("future_block") == {"a": 1}
    assert json.loads(summary_json(summary)) == data
