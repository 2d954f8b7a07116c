"""Boot to attract screen: from the start of the kiosk's process to its first screen, by phase.

The kiosk starts as systemd starts it on a unit: its own process (`gaitkiosk run`,
here `--simulate --headless`: the virtual sensors on sim:// ports, SDL's dummy video
driver), with ``NOTIFY_SOCKET`` naming a unix datagram socket this bench reads. The
kiosk sends READY=1 when the UI's first step has drawn the attract screen, and its
STATUS says how long each phase took (gaitkiosk/watchdog.py ``startup_phases``):

* **start**: the interpreter and the CLI until the display is open and the attract
  screen built: mostly imports (pygame, numpy, the UI);
* **worker**: starting the runtime's worker thread (its imports);
* **database**: opening the store (migrations on a first boot, the quick check);
* **sensors**: opening the readers, zeroing and identifying the sensors;
* **first_screen**: the UI's first step.

**total** is measured outside, from just before the process is spawned to READY=1
arriving; the phases come from inside (their sum starts at the process's start time
in /proc, so it misses the fork itself). Runs: a first boot (no database yet) and
warm boots on the same database (the usual start: after a power cut or a restart).

    python bench/run.py boot
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5
PHASE_RE = re.compile(r"(start|worker|database|sensors|first_screen) ([0-9.]+) s")


def boot_once(data_dir: Path, sock_path: Path) -> dict:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(120)
    env = {**os.environ, "NOTIFY_SOCKET": str(sock_path), "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "gaitkiosk", "run", "--simulate", "--headless", "--data-dir",
                             str(data_dir), "--seconds", "60"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            fields = dict(line.split("=", 1) for line in sock.recv(4096).decode().splitlines() if "=" in line)
            if fields.get("READY") == "1":
                total = time.monotonic() - t0
                break
    finally:
        proc.kill()
        proc.wait()
        sock.close()
        sock_path.unlink()
    phases = {name + "_s": float(v) for name, v in PHASE_RE.findall(fields.get("STATUS", ""))}
    return {"total_s": total, **phases}


def main() -> dict:
    runs = {"first": [], "warm": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for i in range(RUNS):
            # A first boot in a fresh data directory; then a warm boot on the database it made.
            data = tmp / f"data{i}"
            runs["first"].append(boot_once(data, tmp / "notify.sock"))
            runs["warm"].append(boot_once(data, tmp / "notify.sock"))
    out = {}
    print(f"{'boot':<6} {'phase':<14} {'median s':>9} {'max s':>7}   ({RUNS} runs)")
    for kind, rows in runs.items():
        for key in ("total_s", "start_s", "worker_s", "database_s", "sensors_s", "first_screen_s"):
            values = [r[key] for r in rows if key in r]
            if not values:
                continue
            med, worst = statistics.median(values), max(values)
            out[f"{kind}_{key.removesuffix('_s')}_median_s"] = round(med, 3)
            out[f"{kind}_{key.removesuffix('_s')}_max_s"] = round(worst, 3)
            print(f"{kind:<6} {key.removesuffix('_s'):<14} {med:>9.3f} {worst:>7.3f}")
    return out


if __name__ == "__main__":
    main()
