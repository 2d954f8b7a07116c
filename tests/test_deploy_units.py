"""The systemd unit files and the journald drop-in in deploy/, checked by systemd itself.

``systemd-analyze verify`` exits 0 on warnings (an unknown or misspelt key is only
"ignoring"), so its output must be empty too. It also wants every ExecStart*=
program to exist and the units they depend on: it runs with ``--root`` on a small
tree holding this machine's own unit files, the units under test and an
executable stand-in at each program's path (the installed venv does not exist here).
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
UNITS = sorted(p for p in DEPLOY.iterdir() if p.suffix in (".service", ".timer", ".socket", ".path"))
SYSTEM_UNITS = next((p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")) if p.is_dir()), None)

# journald.conf(5), [Journal] section, systemd 252 (Debian bookworm, Raspberry Pi OS bookworm).
JOURNALD_KEYS = {
    "Storage", "Compress", "Seal", "SplitMode", "RateLimitIntervalSec", "RateLimitBurst", "SystemMaxUse",
    "SystemKeepFree", "SystemMaxFileSize", "SystemMaxFiles", "RuntimeMaxUse", "RuntimeKeepFree",
    "RuntimeMaxFileSize", "RuntimeMaxFiles", "MaxRetentionSec", "MaxFileSec", "ForwardToSyslog", "ForwardToKMsg",
    "ForwardToConsole", "ForwardToWall", "TTYPath", "MaxLevelStore", "MaxLevelSyslog", "MaxLevelKMsg",
    "MaxLevelConsole", "MaxLevelWall", "LineMax", "ReadKMsg", "Audit",
}


def _exec_paths(unit: Path) -> list[str]:
    found = []
    for line in unit.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip().startswith("Exec"):
            prog = value.strip().lstrip("-+!@:").split()[0]
            if prog.startswith("/"):
                found.append(prog)
    return found


def _verify(tmp_path: Path, units: list[Path]) -> subprocess.CompletedProcess:
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze not found: install Debian's systemd package (.ci/run does)"
    assert SYSTEM_UNITS is not None, "this machine has no systemd unit directory"
    root = tmp_path / "root"
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    for unit in units:
        shutil.copy(unit, root / "etc/systemd/system" / unit.name)
        for prog in _exec_paths(unit):
            stand_in = root / prog.lstrip("/")
            if not stand_in.exists():
                stand_in.parent.mkdir(parents=True, exist_ok=True)
                stand_in.write_text("#!/bin/sh\n")
                stand_in.chmod(0o755)
    return subprocess.run([analyze, "verify", f"--root={root}", *(u.name for u in units)],
                          capture_output=True, text=True, timeout=120)


def test_deploy_holds_the_kiosk_unit():
    assert DEPLOY / "gaitkiosk.service" in UNITS


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_systemd_analyze_verify_is_clean(tmp_path, unit):
    done = _verify(tmp_path, [unit])
    assert done.returncode == 0 and done.stdout + done.stderr == "", done.stdout + done.stderr


def test_verify_catches_a_misspelt_key(tmp_path):
    # The check above can fail: a misspelt key is only a warning (exit 0), and is still caught.
    bad = tmp_path / "gaitkiosk.service"
    bad.write_text((DEPLOY / "gaitkiosk.service").read_text().replace("WatchdogSec=", "WatchDogSec="))
    done = _verify(tmp_path, [bad])
    assert done.returncode == 0
    assert "Unknown key 'WatchDogSec'" in done.stderr


def test_kiosk_unit_is_notify_with_a_watchdog_and_restarts_on_failure():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(DEPLOY / "gaitkiosk.service")
    svc = unit["Service"]
    assert svc["Type"] == "notify"
    assert svc["NotifyAccess"] == "main"
    assert int(svc["WatchdogSec"]) >= 10
    assert svc["Restart"] == "on-failure"
    assert "\nEnvironment=SDL_VIDEODRIVER=kmsdrm\n" in (DEPLOY / "gaitkiosk.service").read_text()
    assert svc["ExecStart"] == "/opt/gaitkiosk/current/bin/gaitkiosk run"
    assert svc["RuntimeDirectory"] == "gaitkiosk"  # the health mark of gaitkiosk/watchdog.py


def test_journald_dropin_limits_the_journal():
    conf = configparser.ConfigParser(interpolation=None)
    conf.optionxform = str
    conf.read(DEPLOY / "journald-gaitkiosk.conf")
    assert conf.sections() == ["Journal"]
    keys = set(conf["Journal"])
    assert keys <= JOURNALD_KEYS, keys - JOURNALD_KEYS
    assert {"SystemMaxUse", "SystemKeepFree", "SystemMaxFileSize", "MaxRetentionSec"} <= keys
    assert conf["Journal"]["Storage"] == "persistent"
