"""Updates from the sync server: publishing a release, and a kiosk's `update check` to staged
(docs/install.md "Update from the sync server", docs/sync.md "Releases").

A signed bundle the size of a Pi release (``BUNDLE_MB``: the gaitkiosk wheel and the wheels of
numpy, scipy, matplotlib, pygame, cryptography ... are compressed already, so its members here
are random bytes, which compress no better) is published with `gaitkiosk server release publish`
(a real process: the signature and every member's hash checked, then stored in PostgreSQL parts)
to `gaitkiosk server` on a real PostgreSQL (tests/pg_support.py), and fetched by a unit below a
temporary root: in-process (the download alone, then the bundle check with the unit's key), and
as the technician runs it, `gaitkiosk update fetch` (a process: ask, download, check, stage).

Reported: MB/s of the publish, of the download on loopback (HTTP + the server reading its parts),
of the unit's bundle check, and seconds from `update fetch`'s start to the bundle staged; the
server process's CPU per MB downloaded. Run: ``nice -n 5 python bench/run.py update_server``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

BUNDLE_MB = 96
VERSION = "9.0.0"


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> dict:
    from pg_support import bin_dir

    if bin_dir() is None:
        print("skipped: no PostgreSQL server binaries (apt-get install postgresql)")
        return {"skipped": "no PostgreSQL"}
    work = Path(tempfile.mkdtemp(prefix="bench-update-server-"))
    try:
        return _run(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _bundle(work: Path) -> tuple[Path, Path]:
    from gaitkiosk.update import bundle, signing

    keys = work / "keys"
    keys.mkdir()
    signing.generate(keys / "release.key", keys / "release.pub")
    files = {}
    for n, mb in enumerate((36, 24, 16, 12, BUNDLE_MB - 88)):  # wheels of a few sizes
        f = work / f"wheel{n}.whl"
        f.write_bytes(os.urandom(mb * 1024 * 1024))
        files[f"wheels/dep{n}-1.0-py3-none-any.whl"] = f
    out = work / "dist"
    out.mkdir()
    return bundle.build(out / f"gaitkiosk-{VERSION}.tar", VERSION, files, keys / "release.key"), keys


def _run(work: Path) -> dict:
    from pg_support import Cluster
    from sync_support import running_server

    from gaitkiosk.update import fetch
    from gaitkiosk.update.layout import Layout
    from gaitkiosk.update.transaction import Service, Updater
    from sync import enrolment

    path, keys = _bundle(work)
    mb = path.stat().st_size / 1e6
    root = work / "root"
    (root / "etc/gaitkiosk/keys").mkdir(parents=True)
    shutil.copy(keys / "release.pub", root / "etc/gaitkiosk/keys/release.pub")
    data = root / "var/lib/gaitkiosk"
    data.mkdir(parents=True)
    updater = Updater(Layout(root), service=Service(False), data_dir=data)
    numbers = {"bundle_mb": round(mb, 1)}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cluster = Cluster()
    cluster.start()
    try:
        with running_server(cluster.new_database(), work) as server:
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "gaitkiosk", "server", "release", "publish", str(path),
                                   "--keys", str(keys), "--dsn", server.dsn], capture_output=True, text=True, env=env)
            assert done.returncode == 0, done.stderr
            numbers["publish_mb_s"] = round(mb / (time.perf_counter() - started), 1)
            kiosk = server.enrol("bench")
            enrolment.save(data, enrolment.Enrolment(url=server.url, kiosk_id=kiosk["kiosk_id"],
                                                     clinic=kiosk["clinic"], token=kiosk["token"]))
            with fetch.client(data, "") as http:
                offer = fetch.ask(http, None)
                stage = fetch.stage_dir(data)
                stage.mkdir()
                started, server_cpu = time.perf_counter(), _cpu_s(server.process.pid)
                part, _, received = fetch.download(http, offer, stage)
                took = time.perf_counter() - started
                assert received == offer.bytes
                numbers["download_mb_s"] = round(mb / took, 1)
                numbers["server_cpu_ms_per_mb"] = round(1000 * (_cpu_s(server.process.pid) - server_cpu) / mb, 1)
                started = time.perf_counter()
                updater.check(part)
                numbers["bundle_check_mb_s"] = round(mb / (time.perf_counter() - started), 1)
                part.unlink()
            # As a technician runs it: one process, from its start to the bundle staged.
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "gaitkiosk", "update", "fetch", "--root", str(root), "--json"],
                                  capture_output=True, text=True, env=env)
            numbers["check_to_staged_s"] = round(time.perf_counter() - started, 2)
            assert done.returncode == 0 and json.loads(done.stdout)["result"] == "staged", done.stderr
            # and `update check` alone (the question, no download)
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "gaitkiosk", "update", "check", "--root", str(root)],
                                  capture_output=True, text=True, env=env)
            numbers["update_check_s"] = round(time.perf_counter() - started, 2)
            assert done.returncode == 0, done.stderr
    finally:
        cluster.stop()
    print(f"bundle {mb:.1f} MB (signed; members of random bytes, like compressed wheels)")
    print(f"publish (check + store in PostgreSQL parts): {numbers['publish_mb_s']} MB/s")
    print(f"download on loopback: {numbers['download_mb_s']} MB/s; server process CPU "
          f"{numbers['server_cpu_ms_per_mb']} ms per MB (PostgreSQL not counted)")
    print(f"bundle check on the unit (signature + every member's SHA-256): {numbers['bundle_check_mb_s']} MB/s")
    print(f"`gaitkiosk update fetch`, start to staged: {numbers['check_to_staged_s']} s; "
          f"`gaitkiosk update check`: {numbers['update_check_s']} s")
    return numbers


if __name__ == "__main__":
    main()
