"""compare --posterior --out FOLDER: the folder (ownership rule), its report, and bad posterior folders."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from tests.conftest import TINY, TINY_MERGED


def _compare(posterior: Path, *extra: str) -> list[str]:
    return [
        "compare",
        str(TINY),
        str(TINY_MERGED),
        "--posterior",
        str(posterior),
        "--draws",
        "2",
        "--replications",
        "2",
        "--days",
        "7",
        "--workers",
        "1",
        "--format",
        "csv",
        *extra,
    ]


@pytest.fixture(scope="module")
def comparison(tiny_posterior: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cmp") / "posterior_cmp"
    assert main(_compare(tiny_posterior, "--out", str(out))) == 0
    return out


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_compare_out_writes_the_folder_with_its_inputs(comparison: Path, tiny_posterior: Path) -> None:
    names = {p.name for p in comparison.iterdir()}
    assert {
        "comparison.csv",
        "draws.parquet",
        "per_draw.parquet",
        "posterior_compare.json",
        ".townsim",
    } <= names
    inputs = json.loads((comparison / "posterior_compare.json").read_text(encoding="utf-8"))
    assert inputs["posterior"] == str(tiny_posterior)
    assert (inputs["draws"], inputs["replications"], inputs["days"]) == (2, 2, 7)
    assert isinstance(inputs["seed"], int) and inputs["scenario_b"] == str(TINY_MERGED)
    table = pd.read_csv(comparison / "comparison.csv").set_index("metric")
    assert {"ci_low", "ci_high", "var_parameter", "var_stochastic", "share_parameter"} <= set(table.columns)
    assert len(pd.read_parquet(comparison / "draws.parquet")) == 2
    assert set(pd.read_parquet(comparison / "per_draw.parquet")["draw"]) == {0, 1}
    marker = json.loads((comparison / ".townsim").read_text(encoding="utf-8"))
    assert marker["kind"] == "posterior-compare"


def test_report_of_the_folder_has_the_sentence_and_interval(comparison: Path, tmp_path: Path) -> None:
    row = pd.read_csv(comparison / "comparison.csv").set_index("metric").loc["burden_min.mean"]
    for lang in ("en", "zh"):
        out = tmp_path / f"report_{lang}.html"
        assert main(["report", str(comparison), "--lang", lang, "--out", str(out)]) == 0
        text = _text(out.read_text(encoding="utf-8"))
        if lang == "en":
            found = re.search(
                r"would change mean burden per errand by (\S+) min \(95% interval (\S+) to (\S+) min, "
                r"including parameter uncertainty\); (\d+)% of the variance of one run's difference "
                r"comes from the parameters",
                text,
            )
            assert found is not None, text
            low, high = (float(x.replace("−", "-")) for x in found.group(2, 3))
            width = row["ci_high"] - row["ci_low"]
            assert low == pytest.approx(row["ci_low"], abs=width / 10 + 1e-6)
            assert high == pytest.approx(row["ci_high"], abs=width / 10 + 1e-6)
            assert int(found.group(4)) == round(100 * row["share_parameter"])
            assert "parameter share" in text
        else:
            assert "含参数不确定性" in text and "来自参数" in text and "参数占比" in text


def test_compare_out_refuses_a_folder_townsim_did_not_write(
    tiny_posterior: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    assert main(_compare(tiny_posterior, "--out", str(mine))) == 2
    assert "not written by townsim" in capsys.readouterr().err
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_compare_out_without_posterior_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(TINY), str(TINY_MERGED), "--out", str(tmp_path / "x")]) == 2
    assert "--posterior" in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["missing", "no_posterior", "bad_json"])
def test_a_malformed_posterior_folder_exits_2(
    damage: str, tiny_posterior: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad"
    if damage != "missing":
        bad.mkdir()
        for name in ("calibration.json", "experiment.yaml"):
            (bad / name).write_bytes((tiny_posterior / name).read_bytes())
        if damage == "bad_json":
            (bad / "posterior.parquet").write_bytes((tiny_posterior / "posterior.parquet").read_bytes())
            (bad / "calibration.json").write_text("{not json", encoding="utf-8")
    assert main(_compare(bad, "--out", str(tmp_path / "out"))) == 2
    assert str(bad) in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
