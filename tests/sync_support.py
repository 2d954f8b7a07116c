"""The sync server as a real process (``gaitkiosk server``) on a real PostgreSQL, for the sync tests."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
from waiting import wait_until


def gaitkiosk(*argv: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gaitkiosk", *argv], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    dsn: str
    url: str
    process: subprocess.Popen

    def enrol(self, clinic: str, name: str = "kiosk") -> dict:
        """Enrol one kiosk as a technician would: a code from the CLI, then the kiosk's POST."""
        done = gaitkiosk("server", "enrol-code", "--clinic", clinic, "--dsn", self.dsn, "--json")
        assert done.returncode == 0, done.stderr
        code = json.loads(done.stdout)["code"]
        answer = httpx.post(f"{self.url}/v1/enrol", json={"code": code, "name": name}, timeout=30)
        assert answer.status_code == 201, answer.text
        return answer.json()


@contextlib.contextmanager
def running_server(dsn: str, log_dir: Path, extra: tuple[str, ...] = (), scheme: str = "http", verify=True,
                   port: int | None = None):
    """``gaitkiosk server`` on a free loopback port (or ``port``: a restart); yields a :class:`Server` once it answers."""
    port = port or free_port()
    log = open(log_dir / f"server-{port}.log", "ab")
    process = subprocess.Popen([sys.executable, "-m", "gaitkiosk", "server", "--dsn", dsn, "--port", str(port), *extra],
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"{scheme}://127.0.0.1:{port}"

    def up() -> bool:
        if process.poll() is not None:
            return True
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(f"{url}/v1/health", timeout=5, verify=verify).status_code == 200
        return False

    try:
        assert wait_until(up, timeout=90, step=0.1), "the server did not answer within 90 s"
        assert process.poll() is None, (log_dir / f"server-{port}.log").read_text()
        yield Server(dsn, url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
