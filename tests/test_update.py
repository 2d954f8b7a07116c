"""Signed release bundles and the updater (gaitkiosk/update/), on real bundles, venvs and databases.

Everything runs below a temporary root (``--root``). The one seam is the service
manager: ``GAITKIOSK_SYSTEMCTL`` names a small script standing in for systemctl;
its ``start`` does what the kiosk does first (opens the database through the
new version's own code, which migrates it) and, for versions listed in
``HEALTHY``, writes the health mark the real kiosk writes once it has fed its
watchdog (gaitkiosk/watchdog.py).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from update_support import REPO, build_wheel, gaitkiosk, site_packages, source_copy
from waiting import wait_until

from gaitkiosk.commands.release import build as build_release
from gaitkiosk.update import bundle, signing
from store import open_store
from store.patients import Patient

VERSIONS = {"1.0.0": {}, "1.1.0": {}, "1.2.0": {"newer_schema": True}, "1.3.0": {"broken": True}}


@pytest.fixture(scope="session")
def releases(tmp_path_factory):
    """version -> bundle path, all signed by one key; 'key_dir' holds the key pair, 'other' another."""
    base = tmp_path_factory.mktemp("releases")
    keys = base / "keys"
    keys.mkdir()
    signing.generate(keys / "gaitkiosk-release.key", keys / "gaitkiosk-release.pub")
    other = base / "other"
    other.mkdir()
    signing.generate(other / "gaitkiosk-release.key", other / "gaitkiosk-release.pub")
    out = {"key_dir": keys, "other": other}
    for version, how in VERSIONS.items():
        src = source_copy(base / f"src-{version}", version, **how)
        wheels = base / f"wheels-{version}"
        build_wheel(src, wheels)
        done = build_release(src, keys / "gaitkiosk-release.key", base / f"dist-{version}", wheels)
        out[version] = Path(done["bundle"])
    out["src"] = base / "src-1.0.0"
    return out


def _env(root: Path, healthy: str = "", log: Path | None = None) -> dict:
    script = root.parent / "systemctl"
    if not script.exists():
        script.write_text(f"""#!/bin/sh
echo "$@" >> "{log or root.parent / 'systemctl.log'}"
if [ "$1" = start ]; then
  "{root}/opt/gaitkiosk/current/bin/gaitkiosk" db check --data-dir "{root}/var/lib/gaitkiosk" >/dev/null 2>&1
  v=$(cat "{root}/opt/gaitkiosk/current/.gaitkiosk-complete")
  case " $HEALTHY " in *" $v "*) mkdir -p "{root}/run/gaitkiosk"; echo "$v" > "{root}/run/gaitkiosk/healthy";; esac
fi
""")
        script.chmod(0o755)
    return {"GAITKIOSK_SYSTEMCTL": str(script), "GAITKIOSK_TEST_SITE": site_packages(), "HEALTHY": healthy}


def _update(root: Path, *args: str, healthy: str = "", service: bool = True, extra_env: dict | None = None):
    return gaitkiosk("update", *args, "--root", str(root), "--service", "yes" if service else "no",
                     "--health-timeout", "3", env={**_env(root, healthy), **(extra_env or {})})


def _unit(tmp_path: Path, releases) -> Path:
    """A unit below tmp_path/root running 1.0.0, with the release key and a database holding a patient."""
    root = tmp_path / "root"
    keys = root / "etc/gaitkiosk/keys"
    keys.mkdir(parents=True)
    (keys / "release.pub").write_text((releases["key_dir"] / "gaitkiosk-release.pub").read_text())
    done = _update(root, "apply", str(releases["1.0.0"]), service=False)
    assert done.returncode == 0, done.stderr
    with open_store(root / "var/lib/gaitkiosk") as st:
        st.patients.add(Patient(code="4321", birth_year=1950))
    return root


def _current(root: Path) -> str:
    return os.readlink(root / "opt/gaitkiosk/current")


def _bootable(root: Path) -> str:
    """The version `current` names, checked whole and able to run; fails if there is none."""
    cur = root / "opt/gaitkiosk/current"
    assert cur.is_symlink(), "no current version"
    version = Path(os.readlink(cur)).name
    assert (cur / ".gaitkiosk-complete").read_text().strip() == version
    done = subprocess.run([str(cur / "bin/gaitkiosk"), "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == f"gaitkiosk {version}", done.stderr
    return version


def _database_opens_with(root: Path, version: str) -> None:
    exe = root / "opt/gaitkiosk/versions" / version / "bin/gaitkiosk"
    done = subprocess.run([str(exe), "sessions", "list", "--data-dir", str(root / "var/lib/gaitkiosk")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with open_store(root / "var/lib/gaitkiosk", create=False) as st:
        assert st.patients.by_code("4321")


# -- the bundle and its signature ---------------------------------------------------------------------

def test_release_bundle_holds_wheels_deploy_files_and_a_signed_manifest(releases):
    key = signing.load_public(releases["key_dir"] / "gaitkiosk-release.pub")
    b = bundle.read(releases["1.1.0"], [key])
    assert b.version == "1.1.0"
    names = {f["path"] for f in b.manifest["files"]}
    assert any(n.startswith("wheels/gaitkiosk-1.1.0-") for n in names)
    for f in ("install.sh", "gaitkiosk.service", "journald-gaitkiosk.conf", "99-gaitkiosk.rules"):
        assert f"deploy/{f}" in names
    assert f"deploy/keys/{key.id_hex}.pub" in names
    with tarfile.open(releases["1.1.0"]) as tar:
        sig = tar.extractfile(bundle.SIGNATURE).read().decode().splitlines()
    # minisign's layout: a prehashed ("ED") Ed25519 signature and a signed trusted comment
    assert sig[0].startswith("untrusted comment:") and sig[2] == "trusted comment: gaitkiosk-bundle/1 version 1.1.0"
    assert (releases["1.1.0"].parent / "install.sh").stat().st_mode & 0o111


def _rewrite(src: Path, dest: Path, change) -> Path:
    """A copy of bundle ``src`` with ``change(name, data) -> data | None`` (None: left out)."""
    with tarfile.open(src) as tin, tarfile.open(dest, "w") as tout:
        for m in tin.getmembers():
            data = change(m.name, tin.extractfile(m).read())
            if data is None:
                continue
            m.size = len(data)
            import io

            tout.addfile(m, io.BytesIO(data))
    return dest


def _tampered(src, dest):
    return _rewrite(src, dest, lambda n, d: d + b"\0" if n.startswith("wheels/") else d)


def _unsigned(src, dest):
    return _rewrite(src, dest, lambda n, d: None if n == bundle.SIGNATURE else d)


def _truncated(src, dest):
    data = src.read_bytes()
    dest.write_bytes(data[: len(data) * 2 // 3])
    return dest


def _manifest_edited(src, dest):
    return _rewrite(src, dest, lambda n, d: d.replace(b'"1.1.0"', b'"1.1.1"') if n == bundle.MANIFEST else d)


@pytest.fixture
def unit(tmp_path, releases):
    return _unit(tmp_path, releases)


@pytest.mark.slow
@pytest.mark.parametrize("make, words", [
    (_tampered, "does not match its signed hash"),
    (_unsigned, "unsigned"),
    (_truncated, "not a whole bundle"),
    (_manifest_edited, "bad signature"),
])
def test_damaged_bundles_are_refused_with_one_line(tmp_path, releases, unit, make, words):
    bad = make(releases["1.1.0"], tmp_path / "gaitkiosk-1.1.0.tar")
    for action in ("check", "apply"):
        done = _update(unit, action, str(bad))
        assert done.returncode == 1
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0], done.stderr
    assert _current(unit) == "versions/1.0.0"
    assert sorted(p.name for p in (unit / "opt/gaitkiosk/versions").iterdir()) == ["1.0.0"]


@pytest.mark.slow
def test_wrong_key_and_downgrade_are_refused(tmp_path, releases, unit):
    other = releases["other"]
    wrong = tmp_path / "wrong" / "gaitkiosk-1.1.0.tar"
    wrong.parent.mkdir()
    src_wheels = tmp_path / "w"
    with tarfile.open(releases["1.1.0"]) as tar:
        tar.extractall(src_wheels, filter="data")
    build_release(releases["src"].parent / "src-1.1.0", other / "gaitkiosk-release.key", wrong.parent,
                  src_wheels / "wheels")
    done = _update(unit, "apply", str(wrong))
    assert done.returncode == 1 and "which this unit does not trust" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1

    assert _update(unit, "apply", str(releases["1.1.0"]), healthy="1.1.0").returncode == 0
    for older in ("1.0.0", "1.1.0"):
        done = _update(unit, "apply", str(releases[older]))
        assert done.returncode == 1, done.stderr
        assert "refused" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert _current(unit) == "versions/1.1.0"


# -- apply, health, rollback -----------------------------------------------------------------------

@pytest.mark.slow
def test_update_switches_after_a_backup_and_rollback_goes_back(unit, releases):
    done = _update(unit, "apply", str(releases["1.1.0"]), healthy="1.1.0")
    assert done.returncode == 0, done.stderr
    assert _current(unit) == "versions/1.1.0"
    assert os.readlink(unit / "opt/gaitkiosk/previous") == "versions/1.0.0"
    backups = list((unit / "var/lib/gaitkiosk/backups").glob("before-update-1.0.0-to-1.1.0-*.db"))
    assert len(backups) == 1
    calls = (unit.parent / "systemctl.log").read_text().split("\n")
    assert calls[:2] == ["stop gaitkiosk.service", "start gaitkiosk.service"]
    st = gaitkiosk("update", "status", "--root", str(unit), "--json")
    assert '"current": "1.1.0"' in st.stdout and '"result": "done"' in st.stdout

    done = _update(unit, "rollback", healthy="1.1.0")
    assert done.returncode == 0, done.stderr
    assert _current(unit) == "versions/1.0.0"
    _database_opens_with(unit, "1.0.0")


@pytest.mark.slow
def test_a_version_that_does_not_get_healthy_is_rolled_back_and_the_database_restored(unit, releases):
    # 1.2.0 migrates the database at its start (one more schema step) and never feeds its watchdog.
    done = _update(unit, "apply", str(releases["1.2.0"]), healthy="")
    assert done.returncode == 1
    assert "failed its health check" in done.stderr and "rolled back to 1.0.0" in done.stderr
    assert _current(unit) == "versions/1.0.0"
    # The database the new version migrated is kept aside; the old version opens the restored one.
    aside = list((unit / "var/lib/gaitkiosk").glob("gaitkiosk.db.before-restore-*"))
    assert aside
    _database_opens_with(unit, "1.0.0")
    assert (unit.parent / "systemctl.log").read_text().split("\n")[:4] == [
        "stop gaitkiosk.service", "start gaitkiosk.service", "stop gaitkiosk.service", "start gaitkiosk.service"]


@pytest.mark.slow
def test_a_version_that_fails_its_self_test_is_never_switched_to(unit, releases):
    done = _update(unit, "apply", str(releases["1.3.0"]), healthy="1.3.0")
    assert done.returncode == 1
    assert "failed its self-test before the switch" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert _current(unit) == "versions/1.0.0"
    assert not (unit / "opt/gaitkiosk/versions/1.3.0").exists()


# -- power cuts ----------------------------------------------------------------------------------------

APPLY_STEPS = ["install", "install-venv", "install-pip", "install-mark", "selftest", "stop", "backup",
               "previous", "switch", "start", "health", "commit"]
ROLLBACK_STEPS = ["rollback-stop", "rollback-restore", "rollback-switch", "rollback-start"]


@pytest.mark.slow
@pytest.mark.parametrize("step", APPLY_STEPS + ROLLBACK_STEPS)
def test_a_power_cut_at_any_step_leaves_a_bootable_version(tmp_path, releases, step):
    root = _unit(tmp_path, releases)
    # The rollback steps are reached by a version that never gets healthy (and migrates the database).
    target, healthy = ("1.2.0", "") if step.startswith("rollback") else ("1.1.0", "1.1.0")
    env = {**os.environ, **_env(root, healthy), "GAITKIOSK_UPDATE_STOP_AT": step}
    proc = subprocess.Popen([sys.executable, "-m", "gaitkiosk", "update", "apply", str(releases[target]),
                             "--root", str(root), "--service", "yes", "--health-timeout", "3"],
                            cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    seen = []

    def stopped():
        line = proc.stderr.readline()
        seen.append(line)
        return f"stopped before step {step}" in line or proc.poll() is not None

    assert wait_until(stopped, timeout=300, step=0), seen
    assert proc.poll() is None, seen
    proc.send_signal(signal.SIGKILL)  # the power cut
    proc.wait(30)

    assert _bootable(root) in ("1.0.0", target)
    done = _update(root, "recover", healthy=healthy)
    assert done.returncode == 0, done.stderr
    version = _bootable(root)
    # An update not yet confirmed healthy is undone; one past its health check is finished.
    assert version == (target if step == "commit" else "1.0.0")
    _database_opens_with(root, version)
    leftovers = [p.name for p in (root / "opt/gaitkiosk/versions").iterdir() if p.name not in ("1.0.0", target)]
    assert not leftovers
    assert '"result"' in (root / "var/lib/gaitkiosk/update/journal.json").read_text()
    # and the unit can still be updated afterwards
    if step == "switch":
        assert _update(root, "apply", str(releases["1.1.0"]), healthy="1.1.0").returncode == 0
        assert _bootable(root) == "1.1.0"


@pytest.mark.slow
def test_one_updater_at_a_time(tmp_path, releases):
    # An update waits in its health check; the boot-time recovery (or a second technician) must not
    # touch it then, and may once it is gone (killed: the lock goes with the process).
    root = _unit(tmp_path, releases)
    env = {**os.environ, **_env(root, "1.1.0"), "GAITKIOSK_UPDATE_STOP_AT": "health"}
    proc = subprocess.Popen([sys.executable, "-m", "gaitkiosk", "update", "apply", str(releases["1.1.0"]),
                             "--root", str(root), "--service", "yes"], cwd=REPO, env=env,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert wait_until(lambda: "stopped before step health" in proc.stderr.readline() or proc.poll() is not None,
                          timeout=300, step=0)
        assert proc.poll() is None
        journal = (root / "var/lib/gaitkiosk/update/journal.json").read_text()
        for args in (("recover",), ("rollback",), ("apply", str(releases["1.1.0"]))):
            done = _update(root, *args, healthy="1.1.0")
            assert done.returncode == 1
            assert done.stderr.strip().splitlines() == [
                "gaitkiosk update: error: another gaitkiosk update is running on this unit: wait for it to "
                "finish (`gaitkiosk update status`)"], done.stderr
        assert (root / "var/lib/gaitkiosk/update/journal.json").read_text() == journal
    finally:
        proc.kill()
        proc.wait(30)
    assert _update(root, "recover", healthy="1.1.0").returncode == 0
    assert _bootable(root) == "1.0.0"


# -- deploy/install.sh ------------------------------------------------------------------------------------
# Into a temporary root, twice: the second run must change nothing. Real: the bundle, tar, the venv and
# pip (offline, from the bundle), useradd / groupadd / usermod (with --root: they edit the root's own
# passwd and group files, seeded from this machine's), `systemctl --root enable` (files only), the
# installed version's own `update check` and `selftest`. Seams (docs/install.md): GAITKIOSK_APT_GET=true
# (no packages installed here), GAITKIOSK_TEST_SITE (pip --no-deps; dependencies from the test's site).

def _snapshot(root: Path) -> dict:
    """Every path below root: kind, mode, owner, and content hash or link target."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            if p.is_symlink():
                what = "-> " + os.readlink(p)
            elif p.is_dir():
                what = "dir"
            else:
                what = hashlib.sha256(p.read_bytes()).hexdigest()
            found[str(p.relative_to(root))] = (oct(st.st_mode), st.st_uid, st.st_gid, what)
    return found


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    for name in ("passwd", "group", "shadow", "gshadow", "login.defs"):
        if Path("/etc", name).exists():
            shutil.copy2(Path("/etc", name), root / "etc" / name)
    return root


def _install(root: Path, bundle: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "GAITKIOSK_APT_GET": "true", "GAITKIOSK_TEST_SITE": site_packages(),
           "GAITKIOSK_PYTHON": getattr(sys, "_base_executable", sys.executable)}
    return subprocess.run(["bash", str(REPO / "deploy/install.sh"), str(bundle), "--root", str(root)],
                          capture_output=True, text=True, env=env, timeout=900)


@pytest.mark.slow
def test_install_sets_up_a_unit_and_a_second_run_changes_nothing(tmp_path, releases):
    if os.geteuid() != 0:
        pytest.fail("install.sh runs as root (useradd); CI runs the suite as root")
    root = _root(tmp_path)
    first = _install(root, releases["1.0.0"])
    assert first.returncode == 0, first.stdout + first.stderr
    out = first.stdout
    assert "changed: user gaitkiosk" in out and "changed: version 1.0.0" in out
    assert os.readlink(root / "opt/gaitkiosk/current") == "versions/1.0.0"
    assert (root / "opt/gaitkiosk/versions/1.0.0/.gaitkiosk-complete").read_text().strip() == "1.0.0"
    user = next(line for line in (root / "etc/passwd").read_text().splitlines() if line.startswith("gaitkiosk:"))
    assert user.split(":")[5] == "/var/lib/gaitkiosk"
    groups = (root / "etc/group").read_text().splitlines()
    for g in ("dialout", "video", "render", "input", "gpio"):
        line = next(x for x in groups if x.startswith(g + ":"))
        assert "gaitkiosk" in line.split(":")[3].split(","), line
    assert (root / "etc/systemd/system/gaitkiosk.service").read_text() == (REPO / "deploy/gaitkiosk.service").read_text()
    assert (root / "etc/systemd/system/multi-user.target.wants/gaitkiosk.service").is_symlink()
    assert (root / "etc/systemd/system/multi-user.target.wants/gaitkiosk-recover.service").is_symlink()
    assert (root / "etc/systemd/journald.conf.d/gaitkiosk.conf").is_file()
    assert (root / "etc/udev/rules.d/99-gaitkiosk.rules").is_file()
    assert 'data_dir = "/var/lib/gaitkiosk"' in (root / "etc/gaitkiosk/config.toml").read_text()
    assert len(list((root / "etc/gaitkiosk/keys").glob("*.pub"))) == 1
    data = root / "var/lib/gaitkiosk"
    uid = int(user.split(":")[2])
    assert data.stat().st_uid == uid and oct(data.stat().st_mode & 0o777) == "0o700"
    assert "== the sensors found" in out and "== self-test" in out
    assert "ok       database" in out and "ok       imports" in out

    # A technician edits the config and the udev rule; a second run keeps that and changes nothing.
    with open(root / "etc/gaitkiosk/config.toml", "a") as f:
        f.write("# edited on the unit\n")
    before = _snapshot(root)
    second = _install(root, releases["1.0.0"])
    assert second.returncode == 0, second.stdout + second.stderr
    assert "changed:" not in second.stdout
    assert second.stdout.strip().splitlines()[-1] == "gaitkiosk 1.0.0: installed; nothing changed"
    assert _snapshot(root) == before

    # A newer bundle on an installed unit goes through the updater (signature, backup, switch).
    third = _install(root, releases["1.1.0"])
    assert third.returncode == 0, third.stdout + third.stderr
    assert os.readlink(root / "opt/gaitkiosk/current") == "versions/1.1.0"
    assert os.readlink(root / "opt/gaitkiosk/previous") == "versions/1.0.0"


def test_install_refuses_without_a_bundle_with_one_line(tmp_path):
    done = subprocess.run(["bash", str(REPO / "deploy/install.sh"), str(tmp_path / "missing.tar")],
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"install.sh: error: {tmp_path / 'missing.tar'}: no such file"]


# -- signatures alone ----------------------------------------------------------------------------------

def test_signature_round_trip_and_refusals(tmp_path):
    a = signing.generate(tmp_path / "a.key", tmp_path / "a.pub")
    b = signing.generate(tmp_path / "b.key", tmp_path / "b.pub")
    key_id, sk = signing.load_secret(tmp_path / "a.key")
    sig = signing.sign(b"manifest", key_id, sk, "gaitkiosk-bundle/1 version 1.0.0")
    assert signing.verify(b"manifest", sig, [b, a]).trusted_comment == "gaitkiosk-bundle/1 version 1.0.0"
    assert signing.load_public(tmp_path / "a.pub") == a
    with pytest.raises(signing.SignatureError, match="does not match the content"):
        signing.verify(b"manifest!", sig, [a])
    with pytest.raises(signing.SignatureError, match="does not trust"):
        signing.verify(b"manifest", sig, [b])
    lines = sig.splitlines()
    lines[2] = "trusted comment: gaitkiosk-bundle/1 version 9.9.9"
    with pytest.raises(signing.SignatureError, match="trusted comment was changed"):
        signing.verify(b"manifest", "\n".join(lines), [a])
    with pytest.raises(signing.SignatureError, match="minisign"):
        signing.verify(b"manifest", "garbage", [a])
    assert oct((tmp_path / "a.key").stat().st_mode & 0o777) == "0o600"


def test_usb_finds_the_newest_bundle_on_a_mounted_stick_only(tmp_path):
    from gaitkiosk.update.usb import newest_bundle

    media = tmp_path / "media"
    stick, stale = media / "STICK", media / "OLD"
    for d in (stick, stale):
        d.mkdir(parents=True)
    for name in ("gaitkiosk-1.2.0.tar", "gaitkiosk-1.10.0.tar", "gaitkiosk-latest.tar"):
        (stick / name).write_bytes(b"")
    (stale / "gaitkiosk-9.0.0.tar").write_bytes(b"")  # a directory left behind, not a mounted stick
    mounts = tmp_path / "mounts"
    mounts.write_text(f"/dev/sda1 {stick} vfat rw,relatime 0 0\n")
    assert newest_bundle(str(media), str(mounts)) == stick / "gaitkiosk-1.10.0.tar"
    mounts.write_text("")
    with pytest.raises(bundle.BundleError, match="no gaitkiosk-X.Y.Z.tar"):
        newest_bundle(str(media), str(mounts))


def test_the_test_releases_copy_every_package_the_wheel_ships():
    # A package added to pyproject.toml but not to update_support.PACKAGES broke every test bundle's build.
    import tomllib

    from update_support import PACKAGES, REPO

    shipped = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    assert {p.split(".")[0] for p in shipped} == set(PACKAGES)
