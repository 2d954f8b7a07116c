"""``gaitkiosk firmware version|flash`` with the real mpremote against a board on the MicroPython
unix port (tests/firmware_support.py UnixBoard): the same break-in, raw REPL, file copies and
reset that a USB-attached RP2040 gets; the board then boots the copied firmware."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from firmware_support import UnixBoard, patient_loads, provision

from gaitkiosk.firmware_bundle import bundled_version

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs pseudo-terminals (POSIX)")

GAITKIOSK = [sys.executable, "-m", "gaitkiosk.cli"]


def gaitkiosk(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([*GAITKIOSK, *args], input=stdin, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def loads():
    return patient_loads(seconds=0.5)


def test_flash_an_older_insole_after_confirmation(tmp_path: Path, loads):
    flash = provision(tmp_path / "board", "0.1.0")
    old_files = sorted(p.name for p in (flash / "firmware").iterdir())
    with UnixBoard(flash, *loads) as board:
        seen = gaitkiosk("firmware", "version", board.path, "--timeout", "10", "--json")
        assert seen.returncode == 0, seen.stderr
        row = json.loads(seen.stdout)["insoles"][0]
        assert (row["serial"], row["firmware"], row["outdated"]) == ("INS-R-FLASH", "0.1.0", True)
        assert "OLDER than the bundled" in gaitkiosk("firmware", "version", board.path, "--timeout", "10").stdout

        refused = gaitkiosk("firmware", "flash", board.path, "--timeout", "10", stdin="n\n")
        assert refused.returncode == 1 and "not confirmed" in refused.stderr
        assert sorted(p.name for p in (flash / "firmware").iterdir()) == old_files  # nothing touched

        done = gaitkiosk("firmware", "flash", board.path, "--timeout", "10", stdin="y\n")
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"now runs firmware {bundled_version()}" in done.stdout
        assert "Flash insole firmware" in done.stdout  # the question was asked
        files = sorted(p.name for p in (flash / "firmware").iterdir())
        assert "insole.mpy" in files and "insole.py" not in files  # the mpy-cross build replaced the source
        assert board.boots >= 2  # mpremote's reset rebooted it
        again = gaitkiosk("firmware", "flash", board.path, "--timeout", "10", "--yes")
        assert again.returncode == 0 and "nothing to do" in again.stdout


def test_a_downgrade_needs_force(tmp_path: Path, loads):
    flash = provision(tmp_path / "board", "9.0.0")
    with UnixBoard(flash, *loads) as board:
        refused = gaitkiosk("firmware", "flash", board.path, "--timeout", "10", "--yes")
        assert refused.returncode == 1
        assert "runs firmware 9.0.0, newer than the bundled" in refused.stderr and "--force" in refused.stderr
        assert (flash / "firmware" / "insole.py").exists() and board.boots == 1
        forced = gaitkiosk("firmware", "flash", board.path, "--timeout", "10", "--yes", "--force")
        assert forced.returncode == 0, forced.stdout + forced.stderr
        assert f"now runs firmware {bundled_version()}" in forced.stdout


def test_devices_and_the_kiosk_warn_about_an_older_insole(tmp_path: Path, loads, caplog):
    from gaitkiosk.config import load_config
    from gaitkiosk.sensors import Sensors

    flash = provision(tmp_path / "board", "0.1.0", serial="INS-R-OLD")
    with UnixBoard(flash, *loads) as board:
        cfg = tmp_path / "config.toml"
        cfg.write_text(f'[devices]\nmat = ""\ninsoles = ["{board.path}"]\nusb_ids = ["ffff:fffe"]\n')
        listed = gaitkiosk("devices", "--config", str(cfg), "--timeout", "10")
        assert listed.returncode == 0, listed.stderr
        line = next(x for x in listed.stdout.splitlines() if board.path in x)
        assert "INS-R-OLD fw 0.1.0" in line and f"older than the bundled {bundled_version()}" in line
        data = json.loads(gaitkiosk("devices", "--config", str(cfg), "--timeout", "10", "--json").stdout)
        assert "older than the bundled" in data["configured"][0]["probe"]["firmware_note"]

        sensors = Sensors(load_config(str(cfg)))
        try:
            with caplog.at_level("WARNING", logger="gaitkiosk.sensors"):
                sensors.open([board.path], ready_timeout_s=10)
                sensors.identify()
                sensors.identify()  # said once, not on every look
            assert sensors.firmware_outdated == {"INS-R-OLD": "0.1.0"}
            said = [r.getMessage() for r in caplog.records if "older than the bundled" in r.getMessage()]
            assert len(said) == 1 and "INS-R-OLD" in said[0]
        finally:
            sensors.close()


def test_no_warning_for_the_bundled_version_or_a_virtual_insole(tmp_path: Path, loads):
    from device.framing import DeviceKind, Hello
    from gaitkiosk.firmware_bundle import outdated_note

    def hello(firmware, kind=DeviceKind.INSOLE_LEFT):
        return Hello(kind=kind, serial="X", firmware=firmware, rate_hz=100.0, rows=16, cols=1)

    assert outdated_note(hello(bundled_version())) == ""
    assert outdated_note(hello("gaitkiosk-sim 1.0")) == ""
    assert outdated_note(hello("0.0.1", DeviceKind.MAT)) == ""  # a mat's firmware is not ours
    assert "older" in outdated_note(hello("0.0.1"))


def test_bad_ports_get_one_line(tmp_path: Path):
    missing = gaitkiosk("firmware", "flash", str(tmp_path / "ttyACM9"), "--yes")
    assert missing.returncode == 1 and missing.stderr.strip().count("\n") == 0
    assert "no such port" in missing.stderr and "Traceback" not in missing.stderr
    two = gaitkiosk("firmware", "flash", "/dev/null", "/dev/zero", "--yes")
    assert two.returncode == 1 and "exactly one PORT" in two.stderr
    unknown = gaitkiosk("firmware", "version", str(tmp_path / "ttyACM9"), "--timeout", "1")
    assert unknown.returncode == 1 and "Traceback" not in unknown.stderr + unknown.stdout
