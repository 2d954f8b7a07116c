"""The insole firmware running on the real MicroPython unix port behind a real pseudo-terminal.

:class:`FirmwareOnPty` plays the board: ``micropython firmware/unix_main.py`` with its stdin
and stdout on the pty's master (as USB CDC is on the board), a simulated ADC playing the
virtual patient's insole loads (:func:`patient_loads`), and the slave's path for the kiosk's
reader. ``kill()`` then ``start()`` is a board reset: a new process, the same port.
"""

from __future__ import annotations

import json
import os
import subprocess
import tty
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
UNIX_MAIN = ROOT / "firmware" / "unix_main.py"
HEAP = "128k"  # an RP2040's order (tests/test_firmware.py)

CONFIG = {
    "side": "left", "serial": "INS-L-E2E", "address": 0, "sensors": 16, "bits": 12, "rate_hz": 100,
    "oversample": 4, "settle_us": 0, "pins": {"adc": 26, "mux": [2, 3, 4, 5], "led": 25},
}


def micropython() -> str:
    from test_firmware import micropython as find

    return find()


def patient_loads(seconds: float = 3.0, rate_hz: float = 100.0, side: str = "left", seed: int = 3):
    """(unloaded, loaded) uint16 counts, (32, 16) and (T, 16): the virtual patient's insole.

    Unloaded: the insole's own offsets and read noise with nobody on it, 32 scans (a ZERO
    window: any 32 consecutive scans of the loop have the same sums). Loaded: the patient walking.
    """
    from device.sim import VirtualPatient

    patient = VirtualPatient("walk", seed=seed)
    sensor = patient.insole_sensor_for(side)
    unloaded = np.array([sensor.counts(np.zeros(sensor.shape), key=k) for k in range(32)], dtype=np.uint16)
    loaded = np.array([patient.insole_counts(patient.sample(i / rate_hz, mat=False), side)
                       for i in range(int(seconds * rate_hz))], dtype=np.uint16)
    return unloaded, loaded


class FirmwareOnPty:
    def __init__(self, tmp: Path, unloaded: np.ndarray, loaded: np.ndarray, config: dict | None = None,
                 seconds: float | None = None):
        self.tmp = Path(tmp)
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # no echo, no line editing, before anyone opens it (pyserial does the same)
        self.path = os.ttyname(self.slave)
        self.go = self.tmp / "stepped-on"
        (self.tmp / "unloaded.u16").write_bytes(unloaded.astype("<u2").tobytes())
        (self.tmp / "loaded.u16").write_bytes(loaded.astype("<u2").tobytes())
        sim = {"config": config or CONFIG, "unloaded": str(self.tmp / "unloaded.u16"),
               "loaded": str(self.tmp / "loaded.u16"), "go": str(self.go)}
        if seconds:
            sim["seconds"] = seconds
        self.sim = self.tmp / "sim.json"
        self.sim.write_text(json.dumps(sim))
        self.proc: subprocess.Popen | None = None
        self.boots = 0

    def start(self, heap: str = HEAP) -> FirmwareOnPty:
        """Power the board up: a new firmware process on the same port."""
        self.boots += 1
        err = open(self.tmp / f"stderr-{self.boots}.txt", "wb")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen([micropython(), "-X", f"heapsize={heap}", str(UNIX_MAIN), str(self.sim)],
                                     stdin=self.master, stdout=self.master, stderr=err, cwd=self.tmp)
        err.close()
        return self

    def kill(self) -> None:
        """Pull the power: the process dies wherever it is (a packet may be cut short on the line)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def step_on(self) -> None:
        self.go.write_text("on")

    def step_off(self) -> None:
        """The next power-up plays the unloaded scans again (a running firmware keeps the loaded)."""
        self.go.unlink(missing_ok=True)

    def stderr(self) -> str:
        return "".join(p.read_text() for p in sorted(self.tmp.glob("stderr-*.txt")))

    def close(self) -> None:
        self.kill()
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> FirmwareOnPty:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


def align(frames: list, expected, max_skip: int = 8) -> tuple[int, int] | None:
    """(start, skipped): ``frames`` (RawFrames, in order) are ``expected(j)`` for rising j from ``start``.

    Each frame must equal the next scan played, or one a few scans later (``skipped`` counts
    those): a frame the board could not send (its link was full) used a scan but no packet.
    A deadline the loop missed is no scan at all, so the reader's ``lost_before`` (which counts
    by the device clock) says nothing about the scans. None if no start fits.
    """
    for start in range(64):
        if not np.array_equal(frames[0].counts, expected(start)):
            continue
        j, skipped = start, 0
        for f in frames[1:]:
            for step in range(1, max_skip + 2):
                if np.array_equal(f.counts, expected(j + step)):
                    j, skipped = j + step, skipped + step - 1
                    break
            else:
                break
        else:
            return start, skipped
    return None


class UnixBoard:
    """A board on the unix port that boots from its own flash (a directory) and can be flashed.

    ``micropython -i firmware/unix_board.py`` with the directory as its current directory: the
    simulated ``machine``, then the directory's ``main.py``, then the REPL (which the real
    mpremote drives). When the process ends (``machine.reset()``), a thread powers it up again.
    """

    def __init__(self, flash_dir: Path, unloaded: np.ndarray, loaded: np.ndarray):
        import threading

        self.dir = Path(flash_dir)
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        sim_dir = self.dir.parent / (self.dir.name + "-sim")
        sim_dir.mkdir(exist_ok=True)
        (sim_dir / "unloaded.u16").write_bytes(unloaded.astype("<u2").tobytes())
        (sim_dir / "loaded.u16").write_bytes(loaded.astype("<u2").tobytes())
        self.sim = sim_dir / "sim.json"
        self.sim.write_text(json.dumps({"unloaded": str(sim_dir / "unloaded.u16"),
                                        "loaded": str(sim_dir / "loaded.u16"), "go": str(sim_dir / "go")}))
        self.log = sim_dir / "stderr.txt"
        self.boots = 0
        self._stop = threading.Event()
        self._proc: subprocess.Popen | None = None
        self._thread = threading.Thread(target=self._power, daemon=True)

    def _power(self) -> None:
        while not self._stop.is_set():
            with open(self.log, "ab") as err:
                self._proc = subprocess.Popen(
                    [micropython(), "-X", f"heapsize={HEAP}", "-i", str(ROOT / "firmware" / "unix_board.py"),
                     str(self.sim)], stdin=self.master, stdout=self.master, stderr=err, cwd=self.dir)
            self.boots += 1
            self._proc.wait()

    def __enter__(self) -> UnixBoard:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
        self._thread.join(10)
        for fd in (self.master, self.slave):
            os.close(fd)


def provision(flash_dir: Path, version: str, serial: str = "INS-R-FLASH") -> Path:
    """A board's flash as a factory (or an older release) left it: the firmware as source, ``version``."""
    import shutil

    from gaitkiosk.firmware_bundle import read_manifest

    m = read_manifest()
    (flash_dir / "firmware").mkdir(parents=True)
    for name in m.files:
        shutil.copy(ROOT / "firmware" / name, flash_dir / "firmware" / name)
    shutil.copy(ROOT / "firmware" / "main.py", flash_dir / "main.py")
    (flash_dir / "firmware" / "version.py").write_text(f'VERSION = "{version}"\nPROTOCOL_MIN = 1\nPROTOCOL_MAX = 1\n')
    cfg = dict(CONFIG, side="right", serial=serial)
    (flash_dir / "config.json").write_text(json.dumps(cfg))
    return flash_dir
