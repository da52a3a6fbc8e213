"""A sweep on a real TLS-secured Dask scheduler and worker (certificates made with openssl)."""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from sim.cli import main
from sim.sweep.store import SweepStore
from tests.conftest import ROOT
from tests.sweep.conftest import DASK, WriteExperiment, free_port

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _certificates(folder: Path) -> dict[str, Path]:
    """A CA and one certificate signed by it for 127.0.0.1, shared by scheduler, worker and client."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=townsim-test-ca",
             "-keyout", "ca.key", "-out", "ca.pem", cwd=folder)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", "node.key", "-out", "node.csr", cwd=folder)  # fmt: skip
    (folder / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n", encoding="utf-8")
    _openssl("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", "ext.cnf", "-out", "node.pem", cwd=folder)  # fmt: skip
    return {"ca": folder / "ca.pem", "cert": folder / "node.pem", "key": folder / "node.key"}


def _spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as handle:
        return subprocess.Popen(
            args, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT
        )


def test_sweep_on_a_tls_scheduler(write_experiment: WriteExperiment, tmp_path: Path, capsys) -> None:
    certs = _certificates(tmp_path)
    tls = [
        "--tls-ca-file",
        str(certs["ca"]),
        "--tls-cert",
        str(certs["cert"]),
        "--tls-key",
        str(certs["key"]),
    ]
    port = free_port()
    address = f"tls://127.0.0.1:{port}"
    host = ["--host", "127.0.0.1", "--port", str(port), "--protocol", "tls", "--no-dashboard"]
    scheduler = _spawn([str(DASK), "scheduler", *host, *tls], tmp_path / "scheduler.log")
    worker = _spawn(
        [str(DASK), "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard", *tls],
        tmp_path / "worker.log",
    )
    try:
        path = write_experiment(replications=1, days=3)  # 8 runs
        out = tmp_path / "sweep"
        argv = ["sweep", str(path), "--out", str(out), "--scheduler", address, "--quiet"]
        assert main([*argv, *tls]) == 0, (tmp_path / "scheduler.log").read_text(errors="replace")
        rows = SweepStore(out).read_rows()
        assert len(rows) == 8 and (rows["status"] == "ok").all()
        capsys.readouterr()
        # a TLS option without its partners is refused before anything connects
        assert main([*argv, "--tls-ca-file", str(certs["ca"])]) == 2
        assert "--tls-cert: expected a PEM file" in capsys.readouterr().err
    finally:
        for proc in (worker, scheduler):
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
