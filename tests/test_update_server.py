"""Updates from the sync server: `gaitkiosk server release ...` on a real PostgreSQL, the kiosk's
`gaitkiosk update check|fetch|apply --server` over real HTTP, real signed bundles (update_support)
installed into a unit below a temporary root (as tests/test_update.py does).

The server is never trusted: a bundle it serves is staged only when its signature checks with the
unit's own keys; a downgrade it offers is refused; a cut download continues from its offset.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
from pathlib import Path

import httpx
import psycopg
import pytest
from pg_support import needs_pg, pg_cluster  # noqa: F401 - the fixture
from sync_support import free_port, running_server
from test_update import _env
from update_support import REPO, build_wheel, gaitkiosk, source_copy
from waiting import wait_until

from gaitkiosk.commands.release import build as build_release
from gaitkiosk.update import signing

pytestmark = [needs_pg(), pytest.mark.slow]

CLINIC = "north"


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """1.0.0 and 1.1.0, signed by one key ('keys' holds the pair), and a tampered copy of 1.1.0."""
    base = tmp_path_factory.mktemp("server-releases")
    keys = base / "keys"
    keys.mkdir()
    signing.generate(keys / "gaitkiosk-release.key", keys / "gaitkiosk-release.pub")
    out = {"keys": keys}
    for version in ("1.0.0", "1.1.0"):
        src = source_copy(base / f"src-{version}", version)
        wheels = base / f"wheels-{version}"
        build_wheel(src, wheels)
        out[version] = Path(build_release(src, keys / "gaitkiosk-release.key", base / f"dist-{version}", wheels)["bundle"])
    tampered = base / "tampered" / "gaitkiosk-1.1.0.tar"
    tampered.parent.mkdir()
    with tarfile.open(out["1.1.0"]) as tin, tarfile.open(tampered, "w") as tout:
        for m in tin.getmembers():
            data = tin.extractfile(m).read()
            if m.name.startswith("wheels/"):
                data += b"\0"  # what an attacker on the server would change: the code
            m.size = len(data)
            tout.addfile(m, io.BytesIO(data))
    out["tampered"] = tampered
    return out


@pytest.fixture(scope="module")
def server(pg_cluster, tmp_path_factory):  # noqa: F811
    with running_server(pg_cluster.new_database(), tmp_path_factory.mktemp("update-server")) as srv:
        yield srv


def _server_cli(server, *args: str) -> subprocess.CompletedProcess:
    return gaitkiosk("server", *args, "--dsn", server.dsn)


def _publish(server, bundles, path: Path) -> subprocess.CompletedProcess:
    return _server_cli(server, "release", "publish", str(path), "--keys", str(bundles["keys"]), "--json")


def _update(root: Path, *args: str, healthy: str = "", config: Path | None = None, timeout: float = 600):
    extra = ["--config", str(config)] if config else []
    return gaitkiosk("update", *args, "--root", str(root), "--service", "yes", "--health-timeout", "3", *extra,
                     env=_env(root, healthy), timeout=timeout)


def _unit(tmp_path: Path, bundles, server, version: str = "1.0.0") -> Path:
    """A unit below tmp_path/root running ``version``, trusting the release key, enrolled in CLINIC."""
    root = tmp_path / "root"
    keys = root / "etc/gaitkiosk/keys"
    keys.mkdir(parents=True)
    (keys / "release.pub").write_text((bundles["keys"] / "gaitkiosk-release.pub").read_text())
    done = gaitkiosk("update", "apply", str(bundles[version]), "--root", str(root), "--service", "no",
                     env=_env(root))
    assert done.returncode == 0, done.stderr
    code = json.loads(_server_cli(server, "enrol-code", "--clinic", CLINIC, "--json").stdout)["code"]
    done = gaitkiosk("sync", "enrol", server.url, code, "--data-dir", str(_data(root)), "--name", tmp_path.name)
    assert done.returncode == 0, done.stderr
    return root


def _data(root: Path) -> Path:
    return root / "var/lib/gaitkiosk"


def _current(root: Path) -> str:
    return Path(os.readlink(root / "opt/gaitkiosk/current")).name


def _staged(root: Path) -> list[str]:
    d = _data(root) / "releases"
    return sorted(p.name for p in d.iterdir() if p.name != "lock") if d.is_dir() else []


def _kiosk(server, root: Path) -> dict:
    kiosk_id = json.loads((_data(root) / "sync.json").read_text())["kiosk_id"]
    found = json.loads(_server_cli(server, "kiosks", "--json").stdout)
    return next(k for k in found if k["id"] == kiosk_id)


def _one_line(done: subprocess.CompletedProcess, words: str) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1 and words in lines[0], done.stderr
    return lines[0]


def _put_bytes(server, version: str, data: bytes, *, add: bool = False) -> None:
    """What a compromised server could do: serve other bytes as ``version`` (its own SHA-256 matching)."""
    with psycopg.connect(server.dsn) as conn:
        if add:
            major, minor, patch = (int(x) for x in version.split("."))
            conn.execute("INSERT INTO releases (version, major, minor, patch, length, sha256, signed_by) "
                         "VALUES (%s, %s, %s, %s, 1, ''::bytea, 'none')", [version, major, minor, patch])
        conn.execute("DELETE FROM release_parts WHERE version = %s", [version])
        conn.execute("UPDATE releases SET length = %s, sha256 = %s WHERE version = %s",
                     [len(data), hashlib.sha256(data).digest(), version])
        conn.execute("INSERT INTO release_parts (version, start, data) VALUES (%s, 0, %s)", [version, data])


@pytest.fixture
def clean_server(server):
    """No release or pin left from an earlier test (the server is shared by the module)."""
    with psycopg.connect(server.dsn) as conn:
        conn.execute("DELETE FROM clinic_release_pins")
        conn.execute("DELETE FROM release_parts")
        conn.execute("DELETE FROM releases")
    return server


# -- the whole path ---------------------------------------------------------------------------------

def test_a_published_release_is_found_fetched_checked_staged_and_applied(tmp_path, bundles, clean_server):
    server = clean_server
    for version in ("1.0.0", "1.1.0"):
        done = _publish(server, bundles, bundles[version])
        assert done.returncode == 0 and json.loads(done.stdout)["status"] == "published", done.stderr
    root = _unit(tmp_path, bundles, server)

    done = _update(root, "check", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) | {"bytes": None} == {
        "running": "1.0.0", "offered": "1.1.0", "bytes": None, "pinned": False, "staged": None, "state": "available"}
    assert _kiosk(server, root)["version"] == "1.0.0"  # the server's admin view: which version each unit runs

    done = _update(root, "fetch", "--json")
    assert done.returncode == 0, done.stderr
    fetched = json.loads(done.stdout)
    assert fetched["result"] == "staged" and fetched["resumed_from"] == 0
    assert fetched["received"] == bundles["1.1.0"].stat().st_size
    assert _staged(root) == ["gaitkiosk-1.1.0.tar"]
    assert (_data(root) / "releases/gaitkiosk-1.1.0.tar").read_bytes() == bundles["1.1.0"].read_bytes()
    assert json.loads(_update(root, "check", "--json").stdout)["state"] == "staged"
    status = _update(root, "status")
    assert "staged:    1.1.0 (from the sync server: gaitkiosk update apply --server)" in status.stdout, status.stderr
    assert json.loads(_update(root, "fetch", "--json").stdout)["result"] == "already staged"

    # The server goes away: one clear line, the unit keeps its version, and the staged release
    # can still be applied (it was checked when it was staged, and is checked again now).
    enrolment = json.loads((_data(root) / "sync.json").read_text())
    gone = {**enrolment, "url": f"http://127.0.0.1:{free_port()}"}
    (_data(root) / "sync.json").write_text(json.dumps(gone))
    for action in ("check", "fetch"):
        _one_line(_update(root, action), "no answer from the sync server")
    assert _current(root) == "1.0.0"
    done = _update(root, "apply", "--server", healthy="1.1.0")
    assert done.returncode == 0, done.stderr
    assert "applying the release staged before, gaitkiosk-1.1.0.tar" in done.stderr
    assert _current(root) == "1.1.0"
    assert _staged(root) == []  # applied: nothing left staged

    (_data(root) / "sync.json").write_text(json.dumps(enrolment))
    done = _update(root, "check")
    assert done.returncode == 0 and "up to date" in done.stdout, done.stderr
    assert _kiosk(server, root)["version"] == "1.1.0"
    listed = json.loads(_server_cli(server, "release", "list", "--json").stdout)
    assert [(r["version"], r["kiosks"]) for r in listed["releases"]][0] == ("1.1.0", 1)


def test_apply_server_fetches_when_nothing_is_staged(tmp_path, bundles, clean_server):
    server = clean_server
    assert _publish(server, bundles, bundles["1.1.0"]).returncode == 0
    root = _unit(tmp_path, bundles, server)
    done = _update(root, "apply", "--server", healthy="1.1.0")
    assert done.returncode == 0, done.stderr
    assert "updated from 1.0.0 to 1.1.0" in done.stdout
    assert _current(root) == "1.1.0"


# -- the server cannot push code the unit does not trust ----------------------------------------------

def test_a_tampered_bundle_on_the_server_is_refused_by_the_kiosk(tmp_path, bundles, clean_server):
    server = clean_server
    # The server's own check refuses it at publishing ...
    _one_line(_publish(server, bundles, bundles["tampered"]), "does not match its signed hash")
    # ... and a server whose database was changed behind its back cannot push it either.
    assert _publish(server, bundles, bundles["1.1.0"]).returncode == 0
    _put_bytes(server, "1.1.0", bundles["tampered"].read_bytes())
    root = _unit(tmp_path, bundles, server)
    for args in (("fetch",), ("apply", "--server")):
        line = _one_line(_update(root, *args, healthy="1.1.0"), "is refused, nothing was staged")
        assert "does not match its signed hash" in line
        assert _staged(root) == []
        assert _current(root) == "1.0.0"
        assert sorted(p.name for p in (root / "opt/gaitkiosk/versions").iterdir()) == ["1.0.0"]


def test_a_downgrade_offered_by_the_server_is_refused(tmp_path, bundles, clean_server):
    server = clean_server
    for version in ("1.0.0", "1.1.0"):
        assert _publish(server, bundles, bundles[version]).returncode == 0
    root = _unit(tmp_path, bundles, server, version="1.1.0")
    assert _server_cli(server, "release", "pin", "--clinic", CLINIC, "1.0.0").returncode == 0
    done = _update(root, "check", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["state"] == "older offered", done.stderr
    for args in (("fetch",), ("apply", "--server")):
        _one_line(_update(root, *args), "offers 1.0.0, older than the running 1.1.0: refused")
    # A server that names an old bundle as a new version: the signed version is what counts.
    assert _server_cli(server, "release", "pin", "--clinic", CLINIC, "--none").returncode == 0
    _put_bytes(server, "1.2.0", bundles["1.0.0"].read_bytes(), add=True)
    line = _one_line(_update(root, "fetch"), "is refused, nothing was staged")
    assert "version 1.0.0 is older than the running 1.1.0" in line
    assert _staged(root) == [] and _current(root) == "1.1.0"


# -- resumable ------------------------------------------------------------------------------------------

def test_a_cut_download_continues_from_its_offset(tmp_path, bundles, clean_server):
    server = clean_server
    assert _publish(server, bundles, bundles["1.1.0"]).returncode == 0
    root = _unit(tmp_path, bundles, server)
    total = bundles["1.1.0"].stat().st_size
    slow = tmp_path / "slow.toml"
    slow.write_text(f"[sync]\nbandwidth_bytes_per_s = {max(total // 10, 16384)}\n")  # about 10 s at the cap
    proc = subprocess.Popen([sys.executable, "-m", "gaitkiosk", "update", "fetch", "--root", str(root),
                             "--config", str(slow)], cwd=REPO, env={**os.environ, **_env(root)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    parts = lambda: list((_data(root) / "releases").glob("*.part")) if (_data(root) / "releases").is_dir() else []  # noqa: E731
    try:
        assert wait_until(lambda: proc.poll() is not None or (parts() and parts()[0].stat().st_size >= total // 4),
                          timeout=120, step=0.01)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGKILL)  # the cut: a power cut, or the network gone mid-way
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    held = parts()[0].stat().st_size
    assert 0 < held < total

    # One download at a time: while another holds the stage (the kiosk's own fetcher), a fetch says so.
    import fcntl

    fd = os.open(_data(root) / "releases/lock", os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _one_line(_update(root, "fetch"), "another download of a release is under way")
    finally:
        os.close(fd)
    assert parts()[0].stat().st_size == held

    done = _update(root, "fetch", "--json")
    assert done.returncode == 0, done.stderr
    fetched = json.loads(done.stdout)
    assert (fetched["result"], fetched["resumed_from"], fetched["received"]) == ("staged", held, total - held)
    assert (_data(root) / "releases/gaitkiosk-1.1.0.tar").read_bytes() == bundles["1.1.0"].read_bytes()
    assert _staged(root) == ["gaitkiosk-1.1.0.tar"]


def test_ranges_are_served_from_any_offset(bundles, clean_server):
    server = clean_server
    assert _publish(server, bundles, bundles["1.0.0"]).returncode == 0
    data = bundles["1.0.0"].read_bytes()
    with psycopg.connect(server.dsn) as conn:  # parts of 1000 bytes: many part boundaries to cross
        conn.execute("DELETE FROM release_parts")
        for start in range(0, len(data), 1000):
            conn.execute("INSERT INTO release_parts (version, start, data) VALUES ('1.0.0', %s, %s)",
                         [start, data[start:start + 1000]])
    kiosk = server.enrol(CLINIC)
    auth = {"Authorization": f"Bearer {kiosk['token']}"}
    url = f"{server.url}/v1/releases/1.0.0/bundle"
    whole = httpx.get(url, headers=auth, timeout=60)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["Gaitkiosk-SHA256"] == hashlib.sha256(data).hexdigest()
    for first in (1, 999, 1000, 1001, len(data) // 2, len(data) - 1):
        tail = httpx.get(url, headers={**auth, "Range": f"bytes={first}-"}, timeout=60)
        assert tail.status_code == 206 and tail.content == data[first:], first
        assert tail.headers["Content-Range"] == f"bytes {first}-{len(data) - 1}/{len(data)}"
    for first, last in ((10, 19), (995, 2004), (1000, 1000)):
        middle = httpx.get(url, headers={**auth, "Range": f"bytes={first}-{last}"}, timeout=60)
        assert middle.status_code == 206 and middle.content == data[first:last + 1]
    etag = whole.headers["ETag"]
    same = httpx.get(url, headers={**auth, "Range": "bytes=5-", "If-Range": etag}, timeout=60)
    assert same.status_code == 206 and same.content == data[5:]
    other = httpx.get(url, headers={**auth, "Range": "bytes=5-", "If-Range": '"0000"'}, timeout=60)
    assert other.status_code == 200 and other.content == data  # the start the kiosk holds is of other bytes
    past = httpx.get(url, headers={**auth, "Range": f"bytes={len(data)}-"}, timeout=60)
    assert past.status_code == 416 and past.headers["Content-Range"] == f"bytes */{len(data)}"


def test_publishing_checks_the_bundle_and_a_version_never_changes(tmp_path, bundles, clean_server):
    server = clean_server
    other = tmp_path / "other"
    other.mkdir()
    signing.generate(other / "x.key", other / "x.pub")
    done = _server_cli(server, "release", "publish", str(bundles["1.0.0"]), "--keys", str(other))
    _one_line(done, "which this unit does not trust")
    _one_line(_server_cli(server, "release", "publish", str(bundles["1.0.0"]), "--keys", str(tmp_path / "none")),
              "no release public key")
    assert json.loads(_publish(server, bundles, bundles["1.0.0"]).stdout)["status"] == "published"
    assert json.loads(_publish(server, bundles, bundles["1.0.0"]).stdout)["status"] == "already published"
    renamed = tmp_path / "gaitkiosk-1.0.0.tar"
    with tarfile.open(bundles["1.0.0"]) as tin, tarfile.open(renamed, "w", format=tarfile.GNU_FORMAT) as tout:
        for m in reversed(tin.getmembers()):  # the same signed files, other bytes: a valid bundle
            tout.addfile(m, tin.extractfile(m))
    with psycopg.connect(server.dsn) as conn:
        before = conn.execute("SELECT length, sha256 FROM releases").fetchall()
    line = _one_line(_publish(server, bundles, renamed), "already published with other bytes")
    assert "new version" in line
    with psycopg.connect(server.dsn) as conn:
        assert conn.execute("SELECT length, sha256 FROM releases").fetchall() == before
    _one_line(_server_cli(server, "release", "pin", "--clinic", CLINIC, "9.9.9"), "no release 9.9.9")
    assert _server_cli(server, "release", "pin", "--clinic", CLINIC, "1.0.0").returncode == 0
    _one_line(_server_cli(server, "release", "withdraw", "1.0.0"), "pinned for clinic(s) north")


# -- tokens -----------------------------------------------------------------------------------------------

def test_a_wrong_or_revoked_token_is_refused(tmp_path, bundles, clean_server):
    server = clean_server
    assert _publish(server, bundles, bundles["1.1.0"]).returncode == 0
    root = _unit(tmp_path, bundles, server)
    path = _data(root) / "sync.json"
    enrolment = json.loads(path.read_text())
    path.write_text(json.dumps({**enrolment, "token": enrolment["token"][:-4] + "AAAA"}))
    _one_line(_update(root, "check"), "the sync server refused this kiosk's token")
    path.write_text(json.dumps(enrolment))
    assert _update(root, "check").returncode == 0
    assert _server_cli(server, "revoke", enrolment["kiosk_id"]).returncode == 0
    for args in (("check",), ("fetch",), ("apply", "--server")):
        line = _one_line(_update(root, *args), "the sync server refused this kiosk's token")
        assert "revoked" in line and "enrol the kiosk again" in line
    auth = {"Authorization": f"Bearer {enrolment['token']}"}
    for headers in ({}, auth):
        assert httpx.get(f"{server.url}/v1/releases/1.1.0/bundle", headers=headers, timeout=30).status_code == 401
    assert _staged(root) == [] and _current(root) == "1.0.0"


# -- in the background -------------------------------------------------------------------------------------

def test_the_kiosk_fetches_in_the_background_between_exercises_and_never_applies(tmp_path, bundles, clean_server):
    from gaitkiosk.staff_rooms.diagnostics import update_state
    from gaitkiosk.update import background

    server = clean_server
    assert _publish(server, bundles, bundles["1.1.0"]).returncode == 0
    root = _unit(tmp_path, bundles, server)
    asked = []

    def in_exercise() -> bool:  # a patient is in an exercise until the test says otherwise
        asked.append(1)
        return not done_exercising

    done_exercising = False
    fetcher = background.ReleaseFetcher(_data(root), {"sync": {"release_check_s": 3600.0}}, hold=in_exercise,
                                        root=root)
    fetcher.thread.start()
    try:
        assert wait_until(lambda: len(asked) >= 3, timeout=30)  # it waits for the exercise to end ...
        assert _staged(root) == []  # ... having asked and downloaded nothing
        done_exercising = True
        assert wait_until(lambda: "gaitkiosk-1.1.0.tar" in _staged(root) and "check.json" in _staged(root),
                          timeout=120, step=0.05)
    finally:
        fetcher.stop()
    state = background.read_state(_data(root))
    assert (state["running"], state["offered"], state["result"], state["staged"], state["error"]) == (
        "1.0.0", "1.1.0", "staged", "1.1.0", "")
    assert (_data(root) / "releases/gaitkiosk-1.1.0.tar").read_bytes() == bundles["1.1.0"].read_bytes()
    assert _current(root) == "1.0.0"  # staged, never applied
    assert update_state(_data(root), "1.0.0")["state"] == "staged"
    assert _kiosk(server, root)["version"] == "1.0.0"
    # The technician applies it.
    done = _update(root, "apply", "--server", healthy="1.1.0")
    assert done.returncode == 0 and "updated from 1.0.0 to 1.1.0" in done.stdout, done.stderr


def test_a_failed_background_check_is_recorded_and_the_kiosk_goes_on(tmp_path, bundles, clean_server):
    from gaitkiosk.update import background

    root = _unit(tmp_path, bundles, clean_server)
    path = _data(root) / "sync.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "url": f"http://127.0.0.1:{free_port()}"}))
    state = background.ReleaseFetcher(_data(root), None, root=root).once()
    assert state["result"] == "failed" and "no answer from the sync server" in state["error"]
    assert background.read_state(_data(root))["error"] == state["error"]
    assert _current(root) == "1.0.0"


def test_a_unit_not_enrolled_is_told_how(tmp_path):
    root = tmp_path / "root"
    (root / "var/lib/gaitkiosk").mkdir(parents=True)
    for args in (("check",), ("fetch",), ("apply", "--server")):
        _one_line(_update(root, *args), "this unit is not enrolled with a sync server")
    _one_line(_update(root, "apply", "--server", "--usb"), "give one of FILE, --usb or --server")
