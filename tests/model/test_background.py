"""The background thread runs a run's side jobs in order, surfaces their errors and never waits on itself."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from sim.model.background import Background
from sim.model.logs import ColumnLog


def test_jobs_run_in_the_order_submitted_on_another_thread() -> None:
    bg = Background()
    seen: list[tuple[int, str]] = []
    jobs = [bg.submit(lambda i=i: seen.append((i, threading.current_thread().name)) or i) for i in range(200)]
    bg.wait()
    assert [i for i, _ in seen] == list(range(200))
    assert all(name.startswith("townsim-background") for _, name in seen)
    assert [job.result() for job in jobs] == list(range(200))
    bg.close()


def test_a_failed_job_raises_in_the_submitting_thread() -> None:
    bg = Background()
    bg.submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        bg.wait()
    bg.submit(lambda: None)
    bg.close()


def test_a_job_that_waits_for_the_jobs_is_refused() -> None:
    bg = Background()
    bg.submit(bg.wait)
    with pytest.raises(RuntimeError, match="from a background job"):
        bg.wait()
    bg.close()


def test_after_close_jobs_run_in_line() -> None:
    bg = Background()
    bg.close()
    job = bg.submit(threading.current_thread)
    assert job.done() and job.result() is threading.current_thread()


def test_a_log_written_in_the_background_is_complete_when_read() -> None:
    bg = Background()
    log = ColumnLog({"x": np.int64}, capacity=4, sync=bg.wait)
    for start in range(0, 10_000, 100):
        bg.submit(log.append, x=np.arange(start, start + 100))
    assert len(log) == 10_000  # len waits for the writes
    assert np.array_equal(log.columns()["x"], np.arange(10_000))
    bg.close()
