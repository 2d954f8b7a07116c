"""What the benches that measure the kiosk against devices in another process share.

``start_pty_devices``: ``gaitkiosk simulate --pty`` in its own process, and the pseudo-terminal each
of its devices listens on (it prints ``NAME PATH`` per device before serving). ``thread_cpu``: CPU
seconds per thread of this process, grouped by a function of the thread's Python name (Linux /proc).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start_pty_devices(args: list[str], count: int) -> tuple[subprocess.Popen, dict[str, str]]:
    """Start ``gaitkiosk simulate --pty ARGS`` and wait for its first ``count`` devices' paths (name -> path)."""
    cmd = [sys.executable, "-m", "gaitkiosk", "simulate", "--pty", *args]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    paths: dict[str, str] = {}
    while len(paths) < count:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"gaitkiosk simulate --pty failed: {proc.stderr.read()}")
        name, path = line.split()[:2]
        paths[name] = path
    return proc, paths


def thread_cpu(group: Callable[[str], str] = lambda name: name, unnamed: str = "other") -> dict[str, float]:
    """CPU seconds (user + system) of this process's threads, summed by ``group(thread name)``;
    threads Python does not know (native ones) count as ``unnamed``."""
    ticks = os.sysconf("SC_CLK_TCK")
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        part = group(names.get(int(tid), unnamed))
        out[part] = out.get(part, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return out
