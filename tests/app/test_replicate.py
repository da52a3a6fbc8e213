"""The page's runner: base replications made once and reused, more seeds added on demand, prompt cancel."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

from sim.app.plan import choices_of, overlay_from_edits, save_overlay
from sim.app.replicate import BASE, Replicator, first_run_dir
from sim.replications import run_replications
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny" / "buses.yaml"
CANDIDATES = Path(__file__).with_name("tiny_candidates.yaml")
DAYS = 7


def _plan(folder: Path, edits: dict) -> tuple[str, object]:
    base = load_scenario(TINY)
    path, loaded = save_overlay(
        overlay_from_edits(choices_of(base, CANDIDATES), edits),
        scenario=TINY,
        scenario_label="tiny",
        folder=folder / "plans",
    )
    return path.stem, loaded


def test_base_runs_once_and_pairs_with_every_plan(tmp_path):
    rep = Replicator(load_scenario(TINY), workers=2)
    seen: list[tuple[int, int]] = []
    kw = {"seed": 50, "days": DAYS, "runs_dir": tmp_path / "runs", "cancel": threading.Event()}
    line = _plan(tmp_path, {"lines": ["cand_w2_east"]})
    base, plan = rep.run_pair(line, n=3, progress=lambda d, t: seen.append((d, t)), **kw)
    assert seen[-1] == (6, 6)  # base and plan: 2 x 3 runs
    assert base.seeds == plan.seeds == [50, 51, 52]
    assert first_run_dir(tmp_path / "runs", BASE, 50, DAYS).is_dir()
    assert first_run_dir(tmp_path / "runs", line[0], 50, DAYS).is_dir()
    # the same numbers as the CLI's replications of the plan (one pool or another, one seed each)
    alone = run_replications(line[1], n=3, seed=50, days=DAYS, workers=1)
    assert [s.burden_min for s in alone.summaries] == [s.burden_min for s in plan.summaries]

    seen.clear()
    window = _plan(tmp_path, {"facilities": {"west_hall": {"action": "keep", "servers": 2}}})
    base2, plan2 = rep.run_pair(window, n=3, progress=lambda d, t: seen.append((d, t)), **kw)
    assert seen[-1] == (3, 3)  # base cached: only the plan's runs
    assert base2.summaries == base.summaries
    assert plan2.summaries != plan.summaries

    seen.clear()
    base5, _ = rep.run_pair(window, n=5, progress=lambda d, t: seen.append((d, t)), **kw)
    assert seen[-1] == (7, 7)  # the 2 missing base seeds, then the plan's 5
    assert base5.seeds == [50, 51, 52, 53, 54] and base5.summaries[:3] == base.summaries
    assert sorted(base5.villages["seed"].unique()) == base5.seeds
    assert (
        sorted(base5.cells["seed"].unique()) == sorted(base5.facility_cells["seed"].unique()) == base5.seeds
    )
    itself, same = rep.run_pair(None, n=4, progress=lambda d, t: seen.append((d, t)), **kw)
    assert same is itself and itself.seeds == [50, 51, 52, 53] and seen[-1] == (0, 0)
    assert sorted(itself.cells["seed"].unique()) == itself.seeds  # the first 4 of the 5 cached


def test_cancel_stops_runs_in_progress(tmp_path):
    rep = Replicator(load_scenario(TINY), workers=1)
    cancel = threading.Event()
    started: list[float] = []
    finished: list[int] = []
    timer = threading.Timer(1.5, lambda: (started.append(time.perf_counter()), cancel.set()))
    timer.start()
    out = rep.run_pair(
        _plan(tmp_path, {"lines": ["cand_w2_east"]}),
        n=2,
        seed=100,
        days=3000,  # one run takes ~10 s of CPU
        runs_dir=tmp_path / "runs",
        progress=lambda done, total: finished.append(done),
        cancel=cancel,
    )
    stopped = time.perf_counter()
    assert out is None  # nothing partial is returned as a result
    assert set(finished) == {0}  # cancelled while the first run was still going
    assert stopped - started[0] < 3.0  # ... and it was not waited for
    assert multiprocessing.active_children() == []  # the worker processes are gone
    assert rep.cached(100, 3000) == 0


def test_warming_the_base_leaves_a_first_run_only_its_plan(tmp_path):
    rep = Replicator(load_scenario(TINY), workers=2)
    kw = {"days": DAYS, "runs_dir": tmp_path / "runs", "cancel": threading.Event()}
    rep.warm(n=3, seed=60, **{k: kw[k] for k in ("days", "runs_dir")})
    seen: list[tuple[int, int]] = []
    line = _plan(tmp_path, {"lines": ["cand_w2_east"]})
    base, plan = rep.run_pair(line, n=3, seed=60, progress=lambda d, t: seen.append((d, t)), **kw)
    assert seen[-1] == (3, 3)  # the warmed base is reused: only the plan's 3 runs
    assert base.seeds == plan.seeds == [60, 61, 62]
    assert first_run_dir(tmp_path / "runs", BASE, 60, DAYS).is_dir()
    # once a Run has come, the runner warms nothing more
    assert not rep.warm(n=2, seed=80, **{k: kw[k] for k in ("days", "runs_dir")}).is_alive()
    # a Run with other settings cancels a warming in progress and runs its own base
    fresh = Replicator(load_scenario(TINY), workers=2)
    fresh.warm(n=4, seed=70, days=3000, runs_dir=tmp_path / "runs")  # long: would take a minute
    time.sleep(1.0)
    started = time.perf_counter()
    base2, _ = fresh.run_pair(line, n=2, seed=60, progress=lambda d, t: None, **kw)
    assert time.perf_counter() - started < 30 and base2.seeds == [60, 61]
    assert fresh.cached(70, 3000) == 0 and rep.cached(80, DAYS) == 0
    fresh.stop_warming()
    assert multiprocessing.active_children() == []
