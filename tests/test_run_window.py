"""``gaitkiosk run --simulate`` in window mode, as systemd runs it: up, then SIGTERM, then a clean stop.

There is no X server here, so the "display" is SDL's dummy driver behind a
DISPLAY variable: the window path (no scripted visit, the real event loop)
runs for real; SDL turns SIGTERM into a QUIT event the loop must honour.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from store import open_store


def test_window_mode_starts_and_stops_cleanly_on_sigterm(tmp_path):
    env = {**os.environ, "DISPLAY": ":97", "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy",
           "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.Popen([sys.executable, "-m", "gaitkiosk", "run", "--simulate", "--data-dir", str(tmp_path)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lock = Path(tmp_path) / "gaitkiosk.db.locks" / "kiosk.lock"
        end = time.monotonic() + 30
        while time.monotonic() < end and proc.poll() is None:
            if lock.exists():
                break
            time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()
        time.sleep(2.0)  # sensors open, the loop runs
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    with open_store(tmp_path, kiosk=True) as st:  # the kiosk lock was released
        assert st.sessions.count(status="open") == 0
        assert st.patients.by_code("1234").code == "1234"  # the demo patient was seeded
