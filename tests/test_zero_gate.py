"""ZERO with a noise gate: the wire fields, the device-side reference, and end to end through ptys."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from waiting import wait_until

from device import framing
from device.framing import AckResult, CommandOp, DeviceKind, Hello, Status
from device.packets import GATE_SIGMAS, pack_hello, pack_status, unpack_hello, unpack_status
from device.pty import PtyServer, patient_devices
from device.reader import CommandError, DeviceReader
from device.sim import VirtualPatient
from device.sim.zero_gate import ZERO_WINDOW_SCANS, ZeroGate
from store import codec

pty_only = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs pseudo-terminals (POSIX)")


def _hello(**kw) -> Hello:
    base = dict(kind=DeviceKind.MAT, serial="MAT-1", firmware="1.0", rate_hz=100.0, rows=4, cols=3,
                pitch_mm=(8.47, 8.47))
    return Hello(**{**base, **kw})


# --- wire fields -------------------------------------------------------------------------


@given(zeroed=st.booleans(), gate=st.one_of(st.none(), st.integers(0, 0xFFFF)))
def test_hello_zero_state_round_trips(zeroed, gate):
    h = _hello(zeroed=zeroed, gate_counts=gate)
    back = unpack_hello(pack_hello(h))
    assert back == h and back.zero_state == {"zeroed": zeroed, "gate_counts": gate}


def test_hello_of_an_older_device_reads_as_not_zeroed():
    wire = pack_hello(_hello(zeroed=True, gate_counts=7))
    assert wire[-3:] == bytes([0x03, 7, 0])  # zero flags (zeroed | gated), gate u16 LE: the spec's layout
    old = unpack_hello(wire[:-3])  # a device built before the fields were appended
    assert old.zeroed is False and old.gate_counts is None


def test_hello_refuses_an_impossible_gate():
    with pytest.raises(ValueError, match="gate_counts"):
        pack_hello(_hello(gate_counts=70000))


@given(zeroed=st.booleans(), gated=st.booleans(), streaming=st.booleans())
def test_status_zero_flags_round_trip(zeroed, gated, streaming):
    s = Status(streaming=streaming, rate_hz=100.0, zeroed=zeroed, gated=gated)
    payload = pack_status(s)
    assert payload[1] == streaming | zeroed << 1 | gated << 2
    assert unpack_status(payload) == s


# --- the device-side reference ------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    window=hnp.arrays(np.uint16, st.tuples(st.integers(2, 8), st.integers(1, 6), st.integers(1, 6)),
                      elements=st.integers(0, 60)),
    gate=st.integers(-1, 20),
    scan_seed=st.integers(0, 2**16),
)
def test_zero_gate_matches_its_definition(window, gate, scan_seed):
    zg = ZeroGate.measure(window, gate)
    w = window.astype(np.float64)
    n = len(w)
    mean = w.mean(axis=0)
    assert np.array_equal(zg.baseline, np.floor(mean + 0.5))  # the mean rounded, halves up
    if gate == -1:
        assert zg.gate_counts is None and (zg.gate == 1).all()
    elif gate == 0:
        assert zg.gate_counts == 0
        s1, s2 = window.astype(np.int64).sum(axis=0), (window.astype(np.int64) ** 2).sum(axis=0)
        need, per = 9 * (n * s2 - s1 * s1), n * (n - 1)
        g = zg.gate.astype(np.int64)
        assert (g >= 1).all() and (g * g * per >= need).all() and ((g == 1) | ((g - 1) ** 2 * per < need)).all()
        three_sigma = GATE_SIGMAS * w.std(axis=0, ddof=1)
        clear = np.abs(three_sigma - np.rint(three_sigma)) > 1e-6  # away from float ties: same as ceil(3 sigma)
        assert np.array_equal(g[clear], np.maximum(np.ceil(three_sigma), 1)[clear])
    else:
        assert zg.gate_counts == gate and (zg.gate == gate).all()
    scan = np.random.default_rng(scan_seed).integers(0, 120, window.shape[1:]).astype(np.uint16)
    out = zg.apply(scan)
    d = scan.astype(np.int64) - zg.baseline
    for i in np.ndindex(scan.shape):
        expected = d[i] if d[i] >= zg.gate[i] else 0
        assert out[i] == expected


def test_zero_gate_refuses_a_bad_window_or_gate():
    with pytest.raises(ValueError, match="two scans"):
        ZeroGate.measure(np.zeros((1, 3, 3)), 0)
    with pytest.raises(ValueError, match="gate"):
        ZeroGate.measure(np.zeros((4, 3, 3)), -2)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), frames=st.integers(1, 120), gate=st.sampled_from([-1, 0, 4, 12]))
def test_gated_frames_round_trip_bit_exact_through_the_store_codec(seed, frames, gate):
    rng = np.random.default_rng(seed)
    offset = rng.normal(12, 6, (48, 48)).clip(0)
    noisy = lambda n: np.rint(offset + 3.0 * rng.standard_normal((n, 48, 48))).clip(0).astype(np.uint16)  # noqa: E731
    zg = ZeroGate.measure(noisy(ZERO_WINDOW_SCANS), gate)
    raw = noisy(frames)
    raw[:, 10:30, 12:20] += rng.integers(0, 3000, (frames, 20, 8)).astype(np.uint16)  # a foot
    counts = np.stack([zg.apply(f) for f in raw])
    chunk = codec.Chunk(counts, np.arange(frames, dtype=np.uint32), np.arange(frames) / 100.0,
                        np.arange(frames) / 100.0 + 3.25)
    for method in (codec.AUTO, "sparse-delta-zstd"):
        assert codec.decode(codec.encode(chunk, method)).equals(chunk)


C_ZERO_HARNESS = r"""
#include <stdint.h>
#include <stdio.h>
%s
int main(void) {
    /* per case: u32 w, i32 value, u32 n, then w*n u16 window (scan-major), n u16 scan */
    static uint16_t win[64 * 256], scan[256];
    uint32_t w, n; int32_t value;
    while (fread(&w, 4, 1, stdin) == 1 && fread(&value, 4, 1, stdin) == 1 && fread(&n, 4, 1, stdin) == 1) {
        if (fread(win, 2, w * n, stdin) != w * n || fread(scan, 2, n, stdin) != n) return 1;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t s1 = 0; uint64_t s2 = 0;
            for (uint32_t k = 0; k < w; k++) { uint32_t x = win[k * n + i]; s1 += x; s2 += (uint64_t)x * x; }
            int32_t b, g;
            zero_sensel(s1, s2, w, value, &b, &g);
            uint16_t out = zero_apply(scan[i], b, g);
            fwrite(&b, 4, 1, stdout); fwrite(&g, 4, 1, stdout); fwrite(&out, 2, 1, stdout);
        }
    }
    return 0;
}
"""


def test_the_specs_c_zero_code_agrees_with_the_reference_to_the_count(tmp_path):
    """docs/protocol.md 9.1's C, compiled, gives the same baseline, gate and sent counts as ZeroGate."""
    import re
    import shutil
    import struct
    import subprocess
    from pathlib import Path

    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:  # make test builds Cython extensions, so a compiler is normally present
        pytest.skip("no C compiler on PATH to check the spec's C code")
    spec = (Path(__file__).resolve().parent.parent / "docs" / "protocol.md").read_text(encoding="utf-8")
    (code,) = [c for c in re.findall(r"```c\n(.*?)```", spec, re.S) if "zero_sensel" in c]
    source = tmp_path / "zero.c"
    source.write_text(C_ZERO_HARNESS % code)
    binary = tmp_path / "zero"
    subprocess.run([compiler, "-std=c99", "-O2", "-Wall", "-Werror", "-o", str(binary), str(source)], check=True)
    rng = np.random.default_rng(5)
    cases = []
    for k in range(60):
        w, n = (ZERO_WINDOW_SCANS if k % 2 else int(rng.integers(2, 64))), int(rng.integers(1, 256))
        offset = rng.uniform(0, 4000 if k % 5 == 0 else 40, n)
        sigma = rng.choice([0.0, 0.4, 3.0, 30.0, 3000.0])
        window = np.clip(np.rint(offset + sigma * rng.standard_normal((w, n))), 0, 65535).astype(np.uint16)
        if k % 7 == 0:
            window[:, :: 3] = window[0, :: 3]  # constant sensels (sigma 0), and exact .5 means below
        if k % 11 == 0:
            window[: w // 2, 1::4], window[w // 2 :, 1::4] = 10, 11
        scan = np.clip(np.rint(offset + rng.normal(0, 10, n)), 0, 65535).astype(np.uint16)
        cases.append((w, int(rng.choice([-1, 0, 0, 0, 5, 40])), window, scan))
    feed = b"".join(struct.pack("<Iii", w, v, win.shape[1]) + win.astype("<u2").tobytes() + scan.astype("<u2").tobytes()
                    for w, v, win, scan in cases)
    out = subprocess.run([str(binary)], input=feed, capture_output=True, check=True).stdout
    rows = np.frombuffer(out, dtype=np.dtype([("b", "<i4"), ("g", "<i4"), ("out", "<u2")]))
    pos = 0
    for w, value, window, scan in cases:
        n = window.shape[1]
        got = rows[pos : pos + n]
        pos += n
        zg = ZeroGate.measure(window, value)
        assert np.array_equal(got["b"], zg.baseline) and np.array_equal(got["g"], zg.gate), (w, value)
        assert np.array_equal(got["out"], zg.apply(scan))
    assert pos == len(rows)


# --- end to end: the virtual devices behind real pseudo-terminals ---------------------------


def _frames(reader: DeviceReader, seconds: float) -> list:
    reader.frames.drain()
    time.sleep(seconds)
    return reader.frames.drain()


@pty_only
def test_zero_with_gate_through_a_pty_silences_the_unloaded_mat():
    devices = patient_devices(VirtualPatient("empty", seed=3))
    with PtyServer(devices) as server, DeviceReader(server.paths()["mat"], queue_frames=1000) as r:
        hello = r.wait_ready(5)
        assert hello.zeroed is False and hello.gate_counts is None
        before = np.stack([f.counts for f in _frames(r, 0.3)])
        assert (before > 0).mean() > 0.9  # offset and noise on nearly every sensel

        assert r.zero().ok
        assert r.hello.zeroed is True and r.hello.gate_counts == 0
        source = devices["mat"].source
        after = np.stack([f.counts for f in _frames(r, 0.5)])
        assert (after > 0).mean() < 0.01  # the rare noise peak above 3 sigma
        loud = after > 0
        assert (after[loud] >= np.broadcast_to(source.onboard.gate, after.shape)[loud]).all()
        assert wait_until(lambda: r.status().device_status is not None and r.status().device_status.zeroed
                          and r.status().device_status.gated)

        # a fixed gate, then baseline only: zero() returns once the device's new HELLO has said so
        assert r.zero(gate=40).ok and r.hello.gate_counts == 40
        assert not np.stack([f.counts for f in _frames(r, 0.3)]).any()
        assert r.zero(gate=-1).ok and r.hello.gate_counts is None
        assert r.hello.zeroed is True
        for bad in (2.5, 4096, -2):
            with pytest.raises(CommandError, match="BAD_VALUE.*gate"):
                r.command(CommandOp.ZERO, bad)


@pty_only
def test_zero_on_the_insoles_through_a_pty():
    devices = patient_devices(VirtualPatient("empty", seed=4), mat=False)
    with PtyServer(devices) as server, DeviceReader(server.paths()["insole_left"], queue_frames=1000) as r:
        r.wait_ready(5)
        assert r.zero().ok and r.hello.zeroed
        after = np.stack([f.counts for f in _frames(r, 0.4)])
        assert after.shape[1:] == (16,) and (after > 0).mean() < 0.02


@pty_only
def test_zero_is_refused_while_someone_stands_on_the_mat():
    devices = patient_devices(VirtualPatient("quiet", seed=2), insoles=False)
    with PtyServer(devices) as server, DeviceReader(server.paths()["mat"], queue_frames=1000) as r:
        r.wait_ready(5)
        with pytest.raises(CommandError, match="BUSY.*step off"):
            r.zero()
        assert r.hello.zeroed is False and devices["mat"].source.onboard is None
        assert r.status().counters["commands_refused"] == 1


def test_a_device_reset_forgets_its_zero():
    device = patient_devices(VirtualPatient("empty", seed=5), insoles=False)["mat"]
    device.plug()
    assert device.source.zero(device.clock(), gate=0)[0] == AckResult.OK
    assert device.hello().zeroed and device.hello().gate_counts == 0
    device.plug()  # power cycle
    assert not device.hello().zeroed and device.source.onboard is None
    assert framing.NO_GATE == -1


