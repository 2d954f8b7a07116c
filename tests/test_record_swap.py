"""``gaitkiosk record`` across a device swap: the file stops at the swap and says so.

Real pseudo-terminals: the mat is swapped on its open port (a board changed
behind a controller) or unplugged and another plugged in its place (a USB
mat swapped; the port comes back under the same name, as udev's links do).
"""

from __future__ import annotations

import json
import os
import threading

import numpy as np
import pytest
from waiting import wait_until

from device.pty import PtyServer
from device.recording import load_recording
from device.virtual import TestPattern, VirtualDevice
from gaitkiosk.cli import main

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs pseudo-terminals (POSIX)")


@pytest.mark.parametrize("replug", [False, True], ids=["same-port", "replugged"])
@pytest.mark.parametrize("rows, cols", [(8, 8), (6, 10)], ids=["same-geometry", "other-geometry"])
def test_record_stops_at_a_device_swap_and_keeps_the_first_device(capsys, tmp_path, rows, cols, replug):
    first = VirtualDevice(TestPattern(rows=8, cols=8), serial="REC-A", powered=False)
    second = VirtualDevice(TestPattern(rows=rows, cols=cols), serial="REC-B", powered=False)
    server = PtyServer({"mat": first}, link_dir=tmp_path / "dev").start()
    out_file = tmp_path / "rec.npz"

    def swap_once_recording():
        # 150 frames after START: the recording runs by then (it starts when the mat is ready).
        if wait_until(lambda: first.frames_sent >= 150, timeout=30):
            server.swap("mat", second, replug=replug)

    swapper = threading.Thread(target=swap_once_recording)
    swapper.start()
    try:
        code = main(["record", server.links()["mat"], "--seconds", "20", "--out", str(out_file), "--json"])
        out, err = capsys.readouterr()
    finally:
        swapper.join()
        server.stop()
    assert code == 1, err
    assert f"REC-A (mat 8x8) was replaced by REC-B (mat {rows}x{cols})" in err
    assert "record again for the new device" in err and "internal error" not in err
    swap = json.loads(out)["meta"]["stopped_by"]["device_swap"]
    assert swap["from"]["serial"] == "REC-A" and swap["to"] == {"serial": "REC-B", "kind": "mat", "rows": rows, "cols": cols}
    rec = load_recording(out_file)
    assert rec.meta["stopped_by"]["device_swap"]["at_s"] == swap["at_s"] < 20
    assert rec.mat_kpa.shape[1:] == (8, 8) and len(rec.mat_t) >= 10 and rec.mat_t[-1] < swap["at_s"]
    # Only the first mat: its test pattern runs on without a seam (the second one's restarts at 0).
    index = np.array([TestPattern.index_of(frame.astype(np.uint16)) for frame in rec.mat_kpa])
    steps = np.diff(index) % 4096
    assert np.all((steps >= 1) & (steps < 50)), steps
    assert [d["serial"] for d in rec.meta["devices"]] == ["REC-A"]
    assert rec.meta["devices"][0]["counters"]["device_swaps"] == 1
