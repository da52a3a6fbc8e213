"""The townsim command line: run, validate, compare, and bad input."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.errors import note_stop
from sim.results import TABLES
from tests.conftest import TINY, TINY_MERGED


def test_run_writes_a_complete_run_folder(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["run", str(TINY), "--days", "5", "--out", str(out), "--quiet"]) == 0
    for name in TABLES:
        assert (out / f"{name}.parquet").is_file()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["days"] == 5 and summary["scenario"] == "tiny_baseline"
    provenance = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert provenance["seed"] == 7 and provenance["wall_time_s"] > 0 and provenance["townsim_version"]
    assert "wrote" in capsys.readouterr().out
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp leftovers


def test_run_csv_option(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["run", str(TINY), "--days", "3", "--out", str(out), "--csv", "--quiet"]) == 0
    trips = pd.read_csv(out / "trips.csv")
    assert {"resident", "purpose", "origin", "facility", "mode", "wait_min", "outcome"} <= set(trips.columns)


def test_compare_prints_differences_by_former_township(tmp_path: Path, capsys) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    main(["run", str(TINY), "--days", "10", "--out", str(a), "--quiet"])
    main(["run", str(TINY_MERGED), "--days", "10", "--out", str(b), "--quiet"])
    capsys.readouterr()
    assert main(["compare", str(a), str(b)]) == 0
    text = capsys.readouterr().out
    assert "== burden_min.mean ==" in text and "west" in text and "overall" in text and "B-A" in text
    assert "n<2: no interval" in text  # one run each: a difference, but no confidence interval


def test_bad_scenario_exits_2_and_writes_nothing(tmp_path: Path, tiny_raw, write_scenario) -> None:
    tiny_raw["facilities"]["east_hall"]["servers"] = -2
    path = write_scenario(tiny_raw)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "sim.cli", "run", str(path), "--out", str(out)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0  # one line
    assert "facilities.east_hall.servers" in proc.stderr and str(path) in proc.stderr
    assert not out.exists()


def test_run_refuses_to_overwrite_a_folder_it_did_not_write(tmp_path: Path, capsys) -> None:
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.txt").write_text("do not lose me", encoding="utf-8")
    assert main(["run", str(TINY), "--days", "2", "--out", str(precious), "--quiet"]) == 2
    assert (precious / "chapter1.txt").read_text(encoding="utf-8") == "do not lose me"
    assert "was not written by townsim" in capsys.readouterr().err


def test_validate_reports_ok(capsys) -> None:
    assert main(["validate", str(TINY), str(TINY_MERGED)]) == 0
    out = capsys.readouterr().out
    assert "3 former units -> 2 units" in out


@pytest.mark.parametrize("args", [["compare", "nope_a", "nope_b"]])
def test_compare_of_missing_runs_is_a_clear_error(args, capsys) -> None:
    assert main(args) == 2
    assert "not a townsim run folder" in capsys.readouterr().err


def test_run_warns_when_an_island_is_cut_off_from_its_hall(tmp_path: Path, capsys) -> None:
    overlay = tmp_path / "cut.yaml"
    overlay.write_text(
        "roads: {ferries: {isle_ferry: null}}\nfacilities: {isle_hall: {at: e1, unit: east}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "run"
    assert (
        main(["run", str(TINY), "--overlay", str(overlay), "--days", "3", "--out", str(out), "--quiet"]) == 0
    )
    err = capsys.readouterr().err
    assert "residents of former unit 'isle' cannot reach any facility able to complete 'admin_simple'" in err
    assert (
        "'east'" not in err and "'clinic'" not in err
    )  # the clinic is on the island; the main island is fine
    capsys.readouterr()
    assert main(["run", str(TINY), "--days", "3", "--out", str(tmp_path / "ok"), "--quiet"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_version_and_broken_pipe(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("townsim ")
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["run", str(TINY), "--days", "2", "--out", str(a), "--quiet"]) == 0
    assert main(["run", str(TINY_MERGED), "--days", "2", "--out", str(b), "--quiet"]) == 0
    # `townsim compare a b | head -0`: the reader is gone before anything is written
    read_end, write_end = os.pipe()
    os.close(read_end)
    proc = subprocess.run(
        [sys.executable, "-m", "sim.cli", "compare", str(a), str(b)], stdout=write_end, stderr=subprocess.PIPE
    )
    os.close(write_end)
    err = proc.stderr.decode()
    assert proc.returncode == 141 and "Traceback" not in err and "BrokenPipe" not in err, err


def test_a_dollar_sign_in_a_name_is_text_not_tex(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        TINY.read_text(encoding="utf-8").replace("en: East,", 'en: "$\\\\undefined$",'), encoding="utf-8"
    )
    assert main(["run", str(path), "--days", "2", "--out", str(tmp_path / "r"), "--quiet"]) == 0
    assert main(["figures", str(tmp_path / "r"), "--format", "png", "--out", str(tmp_path / "f")]) == 0
    assert main(["report", str(tmp_path / "r"), "--out", str(tmp_path / "r.html")]) == 0
    assert "$\\undefined$" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_help_opens_with_what_townsim_is_and_lists_every_command_once_in_a_group(capsys) -> None:
    from sim.cli import COMMAND_GROUPS, build_parser

    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert text.splitlines()[2].startswith("townsim simulates how residents reach")
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    listed = [line.split()[0] for line in text.splitlines() if line.startswith("  ") and line[2] != " "]
    for name in commands:
        assert listed.count(name) == 1, name
    for title in COMMAND_GROUPS:
        assert f"\n{title}:\n" in text
    assert "Examples:\n  townsim run " in text and "%%" not in text
    assert commands["report"].prog == "townsim report"


def test_a_process_forked_from_the_cli_ends_quietly_on_sigterm() -> None:
    """The CLI's SIGTERM handler raises Terminated in the CLI's own process; a forked child that has
    not set its handlers yet (a pool worker starting up as the pool stops) exits 143 at once, with
    nothing printed (no traceback)."""
    import os
    import signal

    from sim.cli import _terminated_handler
    from sim.errors import Terminated

    handler = _terminated_handler()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the handler must end it before anything else happens
        try:
            os.dup2(write, 2)
            handler(signal.SIGTERM, None)
        finally:
            os._exit(1)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    printed = os.read(read, 4096)
    os.close(read)
    assert os.waitstatus_to_exitcode(status) == 128 + signal.SIGTERM and printed == b""
    try:
        with pytest.raises(Terminated):
            handler(signal.SIGTERM, None)
    finally:
        note_stop(None)


def test_a_stop_whose_exception_was_swallowed_is_raised_again() -> None:
    """Python only prints an exception raised inside a garbage-collector callback (Dask's GC
    diagnosis) and goes on: the stop is remembered while the command runs, and
    ``raise_if_stopped`` (called between sweep runs) raises it again; after the command, nothing."""
    import signal

    from sim.cli import _stop_signals
    from sim.errors import Terminated, raise_if_stopped

    for signum, raised in ((signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, Terminated)):
        with _stop_signals():
            raise_if_stopped()  # nothing yet
            with contextlib.suppress(raised):  # swallowed, as in a garbage-collector callback
                signal.getsignal(signum)(signum, None)  # type: ignore[operator]
            with pytest.raises(raised) as caught:
                raise_if_stopped()
            if signum == signal.SIGTERM:
                assert caught.value.signum == signum  # type: ignore[attr-defined]
        raise_if_stopped()  # the command ended: forgotten
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_run_freezes_its_startup_objects_only_while_it_runs(tmp_path: Path) -> None:
    frozen: list[int] = []  # objects frozen at each collection's start

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            frozen.append(gc.get_freeze_count())

    gc.callbacks.append(seen)
    try:
        code = main(["run", str(TINY), "--days", "3", "--quiet", "--out", str(tmp_path / "r")])
    finally:
        gc.callbacks.remove(seen)
    assert code == 0 and gc.isenabled()
    assert gc.get_freeze_count() == 0  # unfrozen when the command ended
    assert frozen and max(frozen) > 0  # the collections during the run skipped the startup objects
