"""End to end: the insole firmware on the real MicroPython unix port, behind a real pseudo-terminal,
read by the kiosk's own reader (device/reader.py), with a simulated ADC playing the virtual
patient's insole loads (tests/firmware_support.py).

What arrives must be bit-exact what the ADC produced, after the ZERO gate and 12-bit packing
(docs/protocol.md sections 6 and 9.1): the reader's frames are compared count for count with
the played loads. Commands are acknowledged, and a board reset (the process killed and started
again on the same port) is seen by the kiosk as a reset.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from firmware_support import FirmwareOnPty, align, patient_loads
from waiting import wait_until

from device.framing import CommandOp
from device.reader import STREAMING, DeviceReader
from device.sim.zero_gate import ZeroGate

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs pseudo-terminals (POSIX)")

WAIT_S = 60  # generous: only reached if something is broken (two test suites may run beside us)


def _version() -> str:
    ns: dict = {}
    exec(open(os.path.join(os.path.dirname(__file__), "..", "firmware", "version.py")).read(), ns)
    return ns["VERSION"]


def drain(reader) -> list:
    out = []
    while (f := reader.get(0)) is not None:
        out.append(f)
    return out


def take(reader, n: int) -> list:
    """The next ``n`` frames, waiting for each (the firmware streams them)."""
    out = []
    while len(out) < n:
        f = reader.get(WAIT_S)
        assert f is not None, f"no frame from the firmware after {len(out)} of {n}"
        out.append(f)
    return out


@pytest.fixture(scope="module")
def loads():
    unloaded, loaded = patient_loads()
    assert len({r.tobytes() for r in unloaded}) == 32  # every unloaded scan tells where in the loop it is
    assert loaded.max() > 1000  # the patient really loads the insole
    return unloaded, loaded


def test_firmware_on_micropython_behind_a_pty_read_by_the_kiosk(tmp_path, loads):
    unloaded, loaded = loads
    with FirmwareOnPty(tmp_path, unloaded, loaded) as fw:
        reader = DeviceReader(fw.path, name="insole-e2e", queue_frames=20000, hello_timeout_s=5.0,
                              silence_timeout_s=5.0)
        try:
            reader.open()
            hello = reader.wait_ready(WAIT_S)
            assert (hello.serial, hello.kind.label, hello.firmware) == ("INS-L-E2E", "insole_left", _version())
            assert hello.shape == (16,) and hello.bits == 12 and not hello.zeroed
            assert wait_until(lambda: reader.status().state == STREAMING, timeout=WAIT_S)

            # 1. Raw counts before any ZERO: the unloaded loop, bit-exact, in order.
            raw = take(reader, 80)
            fit = align(raw, lambda j: unloaded[j % 32])
            assert fit is not None and fit[1] <= 4, fit

            # 2. ZERO: acknowledged, the new HELLO says zeroed with per-sensel gates, and
            #    the frames after it are the kiosk's own reference gate applied to the loads.
            ack = reader.zero(0, timeout=5.0)
            assert ack.ok, ack.message
            assert wait_until(lambda: reader.hello.zeroed, timeout=WAIT_S)
            assert reader.hello.gate_counts == 0
            gate = ZeroGate.measure(unloaded.astype(np.int64), 0)
            drain(reader)  # everything before the zeroed HELLO
            zeroed = take(reader, 40)
            assert align(zeroed, lambda j: gate.apply(unloaded[j % 32])) is not None

            # 3. The patient steps on: the walking loads, gated, bit-exact frame after frame.
            fw.step_on()
            walked = take(reader, 300)
            # The ADC finishes its unloaded loop (a scans from phase r0), then plays the walk.
            quiet, walk = gate.apply(unloaded), gate.apply(loaded)
            fits = [align(walked, lambda j, r0=r0, a=a: quiet[(r0 + j) % 32] if j < a else walk[(j - a) % len(walk)])
                    for r0 in range(32) for a in range(70)]
            assert any(f is not None and f[0] == 0 and f[1] <= 10 for f in fits), "the frames are not the played loads"
            assert max(int(f.counts.max()) for f in walked) > 1000

            # 4. Commands with their ACKs: rate, identify, status.
            assert reader.set_rate(200, timeout=5.0).ok
            drain(reader)
            fast = take(reader, 41)
            # t_us is when each scan really started: on the 5 ms grid plus the loop's jitter
            # (milliseconds here on a busy PC), so the typical step, not every step, is 5 ms.
            assert 0.004 <= float(np.median(np.diff([f.t_device for f in fast]))) <= 0.006
            assert reader.identify(1, timeout=5.0).ok
            assert reader.command(CommandOp.GET_STATUS, timeout=5.0).ok
            assert wait_until(lambda: reader.status().device_status is not None, timeout=WAIT_S)
            st = reader.status().device_status
            assert st.streaming and st.rate_hz == 200 and st.zeroed and st.gated and st.battery_pct is None

            # 5. A board reset: the kiosk sees a reset, a fresh HELLO (not zeroed: the zero lived
            #    in RAM), and sets the board up again (rate, START): frames flow once more.
            counters = reader.status().counters
            assert counters["device_resets"] == 0
            fw.kill()
            fw.step_off()
            fw.start()
            assert wait_until(lambda: reader.status().counters["device_resets"] >= 1, timeout=WAIT_S), fw.stderr()
            assert wait_until(lambda: not reader.hello.zeroed, timeout=WAIT_S)
            drain(reader)
            after = take(reader, 40)
            fit = align(after, lambda j: unloaded[j % 32])
            assert fit is not None and fit[1] <= 4  # raw again, in order
            assert wait_until(lambda: reader.status().state == STREAMING, timeout=WAIT_S)
            c = reader.status().counters
            assert c["crc_failures"] + c["cobs_failures"] <= 1  # at most the packet the kill cut short
        finally:
            reader.close()
