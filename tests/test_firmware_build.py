"""The firmware as it goes onto a board: the manifest, its version, mpy-cross for the RP2040."""

from __future__ import annotations

import subprocess
from pathlib import Path

from test_firmware import micropython

from gaitkiosk import firmware_bundle

ROOT = Path(__file__).resolve().parents[1]
HOST_ONLY = {"manifest.py", "unix_main.py", "unix_board.py", "simboard.py"}  # the PC's simulated board, the freeze list


def firmware_version() -> str:
    ns: dict = {}
    exec((ROOT / "firmware" / "version.py").read_text(), ns)
    return ns["VERSION"]


def test_manifest_version_is_the_firmware_version():
    m = firmware_bundle.read_manifest()
    assert m.version == firmware_version() == firmware_bundle.bundled_version()
    assert firmware_bundle.version_key(m.version) is not None


def test_manifest_lists_every_module_that_runs_on_the_board():
    m = firmware_bundle.read_manifest()
    on_disk = {p.name for p in (ROOT / "firmware").glob("*.py")} - HOST_ONLY
    assert set(m.files) | set(m.modules) == on_disk
    assert m.modules == ("main.py",) and m.package == "firmware"


def test_mpy_cross_builds_for_armv6m_and_the_port_imports_the_build(tmp_path):
    copies = firmware_bundle.build(tmp_path / "out")
    board = tmp_path / "board"
    for local, remote in copies:
        target = board / remote
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(Path(local).read_bytes())
    mpy = sorted(r for _, r in copies if r.endswith(".mpy"))
    assert len(mpy) == len(firmware_bundle.read_manifest().files) - 1  # all but __init__.py
    assert all((board / r).read_bytes()[:1] == b"M" for r in mpy)  # the .mpy header
    names = [r.split("/")[1][:-4] for r in mpy if not r.endswith("board.mpy")]
    code = "import firmware.version as v\n" + "".join(f"import firmware.{n}\n" for n in names) + "print(v.VERSION)"
    done = subprocess.run([micropython(), "-X", "heapsize=128k", "-c", code], cwd=board,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == firmware_version()
    assert not (board / "firmware" / "insole.py").exists()  # it really imported the .mpy


def test_version_keys_compare_as_numbers():
    assert firmware_bundle.version_key("0.10.0") > firmware_bundle.version_key("0.9.3")
    assert firmware_bundle.version_key("sim-1") is None and firmware_bundle.version_key("") is None
    assert firmware_bundle.older_than_bundled("0.0.1") and not firmware_bundle.older_than_bundled("99.0")
    assert not firmware_bundle.older_than_bundled("sim")  # a virtual device's: nothing to compare
