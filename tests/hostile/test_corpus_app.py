"""Hostile requests to the planner's page, over real HTTP to a real ``townsim app``; bad start options.

Every refused request: the expected status (403 foreign Host/Origin or no token, 415 not JSON,
413 too large, 400 malformed naming the field), a ``townsim: error:`` message, no job started and
nothing written in the app's folder. Every bad start option: exit code 2, one message naming the
option, no server left running.
"""

from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

TINY_BUSES = ROOT / "scenarios" / "tiny" / "buses.yaml"
CANDIDATES = ROOT / "tests" / "app" / "tiny_candidates.yaml"
MAX_BODY = 256 * 1024
_APP = [sys.executable, "-m", "sim.cli", "app", str(TINY_BUSES), "--candidates", str(CANDIDATES)]


def _start(folder: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [*_APP, "--port", "0", "--folder", str(folder / "work"), "--workers", "1", *extra],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in proc.stdout:  # type: ignore[union-attr]
        if "serving" in line:
            return proc, line
    proc.wait(timeout=30)
    err = proc.stderr.read()  # type: ignore[union-attr]
    for stream in (proc.stdout, proc.stderr):
        stream.close()  # type: ignore[union-attr]
    raise AssertionError(err)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A running app on the tiny county; yields (port, token, folder, process)."""
    folder = tmp_path_factory.mktemp("app")
    proc, line = _start(folder)
    hit = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=([\w-]+)", line)
    assert hit, line
    yield int(hit.group(1)), hit.group(2), folder, proc
    proc.terminate()
    proc.wait(timeout=30)
    for stream in (proc.stdout, proc.stderr):
        stream.close()  # type: ignore[union-attr]


def _request(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any] | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
    try:
        return resp.status, json.loads(data)
    except ValueError:
        return resp.status, None


RUN = {"edits": {}, "replications": 1, "days": 1}


def _good(token: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Townsim-Token": token}


# (id, method, path, body, headers given the token, expected status, text in the message)
REQUESTS: list[tuple[str, str, str, Any, Any, int, str]] = [
    (
        "init_foreign_host",
        "GET",
        "/api/init",
        None,
        lambda t: {"Host": "evil.example", **_good(t)},
        403,
        "Host",
    ),
    ("page_foreign_host", "GET", "/", None, lambda t: {"Host": "evil.example"}, 403, "Host"),
    (
        "init_rebound_host_same_port",
        "GET",
        "/api/init",
        None,
        lambda t: {"Host": "evil.example:{port}", **_good(t)},
        403,
        "Host",
    ),
    ("init_other_port", "GET", "/api/init", None, lambda t: {"Host": "127.0.0.1:1", **_good(t)}, 403, "Host"),
    ("init_no_token", "GET", "/api/init", None, lambda t: {}, 403, "token"),
    ("init_wrong_token", "GET", "/api/init", None, lambda t: {"X-Townsim-Token": t[:-1] + "x"}, 403, "token"),
    ("run_no_token", "POST", "/api/run", RUN, lambda t: {"Content-Type": "application/json"}, 403, "token"),
    (
        "run_foreign_origin",
        "POST",
        "/api/run",
        RUN,
        lambda t: {"Origin": "http://evil.example", **_good(t)},
        403,
        "Origin",
    ),
    ("run_null_origin", "POST", "/api/run", RUN, lambda t: {"Origin": "null", **_good(t)}, 403, "Origin"),
    (
        "run_cross_site_fetch",
        "POST",
        "/api/run",
        RUN,
        lambda t: {"Sec-Fetch-Site": "cross-site", **_good(t)},
        403,
        "another site",
    ),
    (
        "run_text_plain",
        "POST",
        "/api/run",
        RUN,
        lambda t: {"Content-Type": "text/plain", "X-Townsim-Token": t},
        415,
        "application/json",
    ),
    (
        "run_form_body",
        "POST",
        "/api/run",
        b"replications=10&days=91",
        lambda t: {"Content-Type": "application/x-www-form-urlencoded", "X-Townsim-Token": t},
        415,
        "application/json",
    ),
    (
        "run_no_content_type",
        "POST",
        "/api/run",
        RUN,
        lambda t: {"X-Townsim-Token": t},
        415,
        "application/json",
    ),
    (
        "cancel_text_plain",
        "POST",
        "/api/job/abc/cancel",
        b"",
        lambda t: {"X-Townsim-Token": t},
        415,
        "application/json",
    ),
    ("run_oversized", "POST", "/api/run", b" " * (MAX_BODY + 1), _good, 413, "bytes"),
    ("run_not_json", "POST", "/api/run", b"{not json", _good, 400, "JSON object"),
    ("run_empty_body", "POST", "/api/run", b"", _good, 400, "JSON object"),
    ("run_json_array", "POST", "/api/run", [1, 2], _good, 400, "JSON object"),
    ("run_json_string", "POST", "/api/run", "run", _good, 400, "JSON object"),
    ("run_deep_json", "POST", "/api/run", b"[" * 100_000 + b"]" * 100_000, _good, 400, "JSON object"),
    ("run_edits_list", "POST", "/api/run", {**RUN, "edits": [1]}, _good, 400, "'edits'"),
    (
        "run_facility_number",
        "POST",
        "/api/run",
        {**RUN, "edits": {"facilities": {"east_hall": 5}}},
        _good,
        400,
        "'edits.facilities.east_hall'",
    ),
    (
        "run_lines_nested",
        "POST",
        "/api/run",
        {**RUN, "edits": {"lines": [[1]]}},
        _good,
        400,
        "'edits.lines[0]'",
    ),
    (
        "run_lines_object",
        "POST",
        "/api/run",
        {**RUN, "edits": {"lines": {"a": 1}}},
        _good,
        400,
        "'edits.lines'",
    ),
    (
        "run_hours_number",
        "POST",
        "/api/run",
        {**RUN, "edits": {"hours": {"hall": {"open": 7}}}},
        _good,
        400,
        "'edits.hours.hall.open'",
    ),
    (
        "run_servers_long_text",
        "POST",
        "/api/run",
        {**RUN, "edits": {"facilities": {"east_hall": {"servers": "9" * 100}}}},
        _good,
        400,
        "'edits.facilities.east_hall.servers'",
    ),
    (
        "run_edit_unknown_key",
        "POST",
        "/api/run",
        {**RUN, "edits": {"roads": {}}},
        _good,
        400,
        "'edits.roads'",
    ),
    ("run_unknown_key", "POST", "/api/run", {**RUN, "workers": 64}, _good, 400, "'workers'"),
    ("run_seed_negative", "POST", "/api/run", {**RUN, "seed": -5}, _good, 400, "'seed'"),
    ("run_seed_huge", "POST", "/api/run", {**RUN, "seed": 2**70}, _good, 400, "'seed'"),
    ("run_seed_text", "POST", "/api/run", {**RUN, "seed": "seven"}, _good, 400, "'seed'"),
    ("run_seed_fraction", "POST", "/api/run", {**RUN, "seed": 1.5}, _good, 400, "'seed'"),
    (
        "run_seed_plus_replications_overflow",
        "POST",
        "/api/run",
        {**RUN, "seed": 2**32 - 1, "replications": 2},
        _good,
        400,
        "seed + replications",
    ),
    ("run_replications_zero", "POST", "/api/run", {**RUN, "replications": 0}, _good, 400, "'replications'"),
    (
        "run_replications_huge",
        "POST",
        "/api/run",
        {**RUN, "replications": 10**9},
        _good,
        400,
        "'replications'",
    ),
    ("run_days_zero", "POST", "/api/run", {**RUN, "days": 0}, _good, 400, "'days'"),
    ("run_days_huge", "POST", "/api/run", {**RUN, "days": 10**6}, _good, 400, "'days'"),
    ("run_days_nan", "POST", "/api/run", b'{"days": NaN}', _good, 400, "'days'"),
    ("run_unknown_line", "POST", "/api/run", {**RUN, "edits": {"lines": ["nope"]}}, _good, 400, "lines.nope"),
    (
        "run_unknown_facility",
        "POST",
        "/api/run",
        {**RUN, "edits": {"facilities": {"nope": {"action": "close"}}}},
        _good,
        400,
        "facilities.nope",
    ),
    (
        "download_no_token",
        "GET",
        "/download/overlay/plan_0123456789ab.yaml",
        None,
        lambda t: {},
        403,
        "token",
    ),
    ("job_no_token", "GET", "/api/job/0123456789ab", None, lambda t: {}, 403, "token"),
]


@pytest.mark.parametrize("case", REQUESTS, ids=[c[0] for c in REQUESTS])
def test_hostile_request_is_refused(case: tuple[str, str, str, Any, Any, int, str], app: Any) -> None:
    port, token, folder, _ = app
    _, method, path, body, headers, status, text = case
    sent = {k: v.format(port=port) for k, v in headers(token).items()}
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))

    got, reply = _request(port, method, path, data, sent)

    assert got == status, reply
    assert reply is not None and reply["error"].startswith("townsim: error: "), reply
    assert text in reply["error"], reply["error"]
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before  # no plan, no run


def test_chunked_oversized_body_is_refused(app: Any) -> None:
    """A body without Content-Length is cut at the limit too (413, not read whole)."""
    port, token, _, _ = app
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    chunks = (b"x" * 65536 for _ in range(64))  # 4 MB
    conn.request("POST", "/api/run", body=chunks, headers=_good(token), encode_chunked=True)
    resp = conn.getresponse()
    assert resp.status in (400, 413), resp.read()
    conn.close()


def test_the_page_itself_is_served_and_answers_its_own_requests(app: Any) -> None:
    """The checks refuse only what they should: the page, its data and a Run with the token work."""
    port, token, _, _ = app
    assert _request(port, "GET", "/")[0] == 200
    status, init = _request(port, "GET", "/api/init", headers={"X-Townsim-Token": token})
    assert status == 200 and init is not None and init["name"]
    same_origin = {"Origin": f"http://127.0.0.1:{port}", "Sec-Fetch-Site": "same-origin", **_good(token)}
    status, started = _request(port, "POST", "/api/run", json.dumps(RUN).encode(), same_origin)
    assert status == 200 and started is not None, started
    status, cancelled = _request(port, "POST", f"/api/job/{started['job']}/cancel", b"{}", _good(token))
    assert status == 200 and cancelled == {"ok": True}


def _app_exit(folder: Path, *extra: str, timeout: float = 120) -> tuple[int, str]:
    done = subprocess.run(
        [*_APP, *extra], cwd=folder, capture_output=True, text=True, timeout=timeout, check=False
    )
    return done.returncode, done.stderr


def _in_use(tmp: Path) -> list[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    _in_use.sockets.append(sock)  # type: ignore[attr-defined]
    return ["--port", str(sock.getsockname()[1]), "--folder", str(tmp / "work")]


_in_use.sockets = []  # type: ignore[attr-defined]


def _folder_is_file(tmp: Path) -> list[str]:
    (tmp / "afile").write_text("mine", encoding="utf-8")
    return ["--folder", str(tmp / "afile")]


def _folder_below_file(tmp: Path) -> list[str]:
    (tmp / "afile").write_text("mine", encoding="utf-8")
    return ["--folder", str(tmp / "afile" / "work")]


OPTIONS: list[tuple[str, Any, str]] = [
    ("port_negative", lambda tmp: ["--port", "-1"], "--port"),
    ("port_70000", lambda tmp: ["--port", "70000"], "--port"),
    ("port_text", lambda tmp: ["--port", "http"], "--port"),
    ("port_in_use", _in_use, "--port"),
    ("host_unresolvable", lambda tmp: ["--host", "no-such-host.invalid", "--port", "0"], "--host"),
    ("host_empty_label", lambda tmp: ["--host", "a..b", "--port", "0"], "--host"),
    ("folder_is_a_file", _folder_is_file, "--folder"),
    ("folder_below_a_file", _folder_below_file, "--folder"),
    ("workers_zero", lambda tmp: ["--workers", "0"], "--workers"),
]


@pytest.mark.parametrize("case", OPTIONS, ids=[c[0] for c in OPTIONS])
def test_bad_start_option_exits_2(case: tuple[str, Any, str], tmp_path: Path) -> None:
    _, setup, option = case
    extra = setup(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    code, err = _app_exit(tmp_path, *extra)
    assert code == 2, err
    assert "Traceback" not in err
    message = err.strip().splitlines()[-1]
    assert re.match(r"townsim( app)?: error: .*" + re.escape(option), message), err
    assert sorted(tmp_path.rglob("*")) == before


def test_sigterm_exits_143(tmp_path: Path) -> None:
    proc, _ = _start(tmp_path)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    err = proc.stderr.read()  # type: ignore[union-attr]
    assert "Traceback" not in err and "stopped" in err
    for stream in (proc.stdout, proc.stderr):
        stream.close()  # type: ignore[union-attr]
