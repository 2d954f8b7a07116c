"""Fallback checks: run by `make test` a second time under GAITKIOSK_PURE=1.

Under GAITKIOSK_PURE=1 every public wrapper must report its reference
implementation and still give the right answers. Each engineer appends the
checks for their own compiled modules; run on its own with
``GAITKIOSK_PURE=1 .venv/bin/python -m pytest -q tests/test_fallback.py``.
Without the variable the modules run compiled (if built) and these tests
check the same results either way.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

PURE = os.environ.get("GAITKIOSK_PURE") == "1"


# --- device.codec (wire protocol) ---------------------------------------------------


def test_wire_codec_reports_its_implementation():
    from device import codec

    if PURE:
        assert codec.IMPLEMENTATION == "reference"
        assert codec.cobs_decode is codec.REFERENCE["cobs_decode"]
    else:
        assert codec.IMPLEMENTATION in ("compiled", "reference")


def test_wire_round_trip_under_the_running_implementation():
    from device.framing import (
        Deframer,
        DeviceKind,
        Hello,
        Packet,
        PacketType,
        Status,
        encode_frame,
        encode_packet,
    )

    rng = np.random.default_rng(7)
    mat = rng.integers(0, 4096, (48, 48)).astype(np.uint16)
    mat[:20] = 0  # unloaded rows: long zero runs exercise COBS's short blocks
    hello = Hello(DeviceKind.MAT, "MAT-0001", "1.0.0", 100.0, 48, 48, (8.47, 8.47), 12)
    stream = (
        encode_packet(Packet(PacketType.HELLO, 0, 0, 0, hello))
        + b"\x13\x00garbage\x00"
        + encode_frame(0, 1, 10_000, mat, bits=12)
        + encode_frame(0, 2, 20_000, mat, bits=16)
        + encode_packet(Packet(PacketType.STATUS, 0, 3, 30_000, Status(battery_pct=None, temperature_c=31.5)))
    )
    deframer = Deframer()
    out = []
    for start in range(0, len(stream), 1000):
        out += deframer.feed(stream[start : start + 1000])
    assert [p.type for p in out] == [PacketType.HELLO, PacketType.FRAME12, PacketType.FRAME, PacketType.STATUS]
    assert out[0].body == hello
    assert np.array_equal(out[1].body.counts, mat) and np.array_equal(out[2].body.counts, mat)
    assert out[3].body.temperature_c == pytest.approx(31.5)
    assert deframer.counters.resyncs == 2
