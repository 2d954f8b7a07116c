"""A real PostgreSQL for the sync server's tests, started in a temporary directory on 127.0.0.1.

Debian's server binaries live in ``/usr/lib/postgresql/<major>/bin`` (``apt-get install
postgresql``; ``.ci/run`` installs it). PostgreSQL refuses to run as root, so under root the
cluster belongs to the ``postgres`` user and every server command runs through ``runuser``.
The cluster listens on loopback only, with its socket in its own directory, and trusts local
connections: it holds nothing but test data and is removed when the session ends.

Without the binaries the tests skip with the reason; CI sets ``GAITKIOSK_NEED_PG=1`` (``.ci/run``)
so a missing PostgreSQL fails there instead.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

NEED_PG = os.environ.get("GAITKIOSK_NEED_PG") == "1"


def bin_dir() -> Path | None:
    """The newest installed PostgreSQL's server binaries, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    return Path(found[-1]).parent if found else None


def needs_pg() -> pytest.MarkDecorator:
    """A test module's ``pytestmark``: skipped (with the reason) without PostgreSQL, unless CI."""
    return pytest.mark.skipif(bin_dir() is None and not NEED_PG,
                              reason="no PostgreSQL server binaries (apt-get install postgresql); .ci/run installs them")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """One throw-away PostgreSQL cluster; :meth:`new_database` gives each test its own database."""

    def __init__(self):
        binaries = bin_dir()
        if binaries is None:
            pytest.fail("GAITKIOSK_NEED_PG=1 but no PostgreSQL server binaries (apt-get install postgresql)")
        self.bin = binaries
        self.as_root = os.geteuid() == 0
        # Not under pytest's tmp_path: its parents are 0700 root, which the postgres user cannot enter.
        self.dir = Path(tempfile.mkdtemp(prefix="gaitkiosk-pg-"))
        if self.as_root:
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.port = 0
        self.user = "postgres" if self.as_root else pwd.getpwuid(os.geteuid()).pw_name

    def _run(self, *argv: str) -> subprocess.CompletedProcess:
        cmd = [str(self.bin / argv[0]), *argv[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        done = self._run("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "--no-sync",
                         "-E", "UTF8", "--locale=C")
        if done.returncode:
            raise RuntimeError(f"initdb failed: {done.stderr.strip()}")
        # A port found free may be taken before the server binds it (other suites run beside us): retry.
        for _attempt in range(5):
            self.port = _free_port()
            options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} "
                       "-c fsync=off -c max_connections=100")
            # -w: pg_ctl returns once the server accepts connections (the event the tests need).
            done = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "120",
                             "start")
            if done.returncode == 0:
                return
        raise RuntimeError(f"PostgreSQL did not start: {done.stderr.strip()} {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def new_database(self) -> str:
        """A fresh, empty database; its DSN."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:16]
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)


@pytest.fixture(scope="session")
def pg_cluster():
    if bin_dir() is None and not NEED_PG:
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql); .ci/run installs them")
    cluster = Cluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_dsn(pg_cluster) -> str:
    """A DSN of an empty database of its own on the session's PostgreSQL."""
    return pg_cluster.new_database()
