"""``townsim figures`` and ``townsim report``: outputs, one-line errors, nothing half-written."""

from __future__ import annotations

import json

import pytest

from sim.cli import main
from tests.figures.conftest import write_synthetic_sweep


def test_figures_of_a_run_against_another(run_dirs, tmp_path, capsys):
    out = tmp_path / "figs"
    code = main(
        [
            "figures",
            str(run_dirs["tiny_merged"]),
            "--vs",
            str(run_dirs["tiny_baseline"]),
            "--format",
            "png,svg",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "skipped line_loads: no transit in this run" in printed
    manifest = json.loads((out / "figures.json").read_text(encoding="utf-8"))
    assert "difference_map" in manifest["figures"]
    assert {p.suffix for p in out.iterdir() if p.name != ".townsim"} == {".png", ".svg", ".json"}


def test_zh_falls_back_or_draws_chinese(run_dirs, tmp_path, capsys, monkeypatch):
    import sim.figures.fonts as fonts

    monkeypatch.setattr(fonts, "find_cjk_font", lambda: None)
    out = tmp_path / "zh"
    assert (
        main(["figures", str(run_dirs["tiny_merged"]), "--lang", "zh", "--format", "png", "--out", str(out)])
        == 0
    )
    err = capsys.readouterr().err
    assert err.startswith("townsim: warning: no CJK font found") and "fonts-noto-cjk" in err
    assert json.loads((out / "figures.json").read_text(encoding="utf-8"))["lang"] == "en"


def test_figures_of_a_sweep(tmp_path, capsys):
    sweep = write_synthetic_sweep(tmp_path / "sweep")
    assert main(["figures", str(sweep), "--format", "pdf", "--out", str(tmp_path / "f")]) == 0
    assert any(p.name.startswith("sensitivity_sobol") for p in (tmp_path / "f").iterdir())


def test_report_command(run_dirs, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert (
        main(
            [
                "report",
                str(run_dirs["tiny_merged"]),
                "--vs",
                str(run_dirs["tiny_baseline"]),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert f"wrote {out}" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["figures", "{tmp}/nothing"], "neither a run folder"),
        (["figures", "{run}", "--lang", "fr"], "unknown language 'fr'"),
        (["figures", "{run}", "--format", "png,gif"], "unknown figure format(s) gif"),
        (["figures", "{run}", "--vs", "{tmp}/nothing"], "not a townsim run folder"),
        (["report", "{tmp}/nothing"], "not a townsim run folder"),
        (["report", "{run}", "--lang", "de"], "unknown language 'de'"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(run_dirs, tmp_path, capsys, args, message):
    out = tmp_path / "out"
    argv = [a.format(tmp=tmp_path, run=run_dirs["tiny_baseline"]) for a in args] + ["--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("townsim: error:") and message in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []
