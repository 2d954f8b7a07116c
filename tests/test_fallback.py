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


# --- kernels.frame / kernels.insole (per-frame analysis; FRAME) ---------------------------


def test_frame_kernels_report_their_implementation():
    import kernels
    from kernels import FrameAnalyzer, InsoleAnalyzer, results

    analyzer = FrameAnalyzer(8, 8, (8.47, 8.47), 10.0)
    insole = InsoleAnalyzer([[0.0, 0.0], [0.0, 100.0]], 50.0)
    if PURE:
        assert kernels.IMPLEMENTATION == "reference"
        assert analyzer.implementation == "reference" and insole.implementation == "reference"
        assert kernels.FootResult is results.FootResult  # the pure-Python result types
    else:
        from kernels import _backend

        built = _backend.compiled("_frame") is not None
        assert analyzer.implementation == insole.implementation == ("compiled" if built else "reference")
        assert (kernels.FootResult is results.FootResult) == (not built)


def test_frame_analysis_under_the_running_implementation():
    """Two rectangular feet, hand-checkable: forces, COPs, sides, regions, bad values."""
    from kernels import FrameAnalyzer, FrameError

    frame = np.zeros((40, 30), np.float32)
    frame[5:35, 4:10] = 100.0  # left foot, 30 rows x 6 columns
    frame[5:35, 20:26] = 200.0  # right foot
    frame[0, 0] = np.nan
    frame[0, 29] = -3.0
    pitch = (8.0, 10.0)  # row (y) pitch, column (x) pitch
    result = FrameAnalyzer(40, 30, pitch, 10.0).analyze(frame)
    area = 80.0
    assert result.force_n == pytest.approx((180 * 100 + 180 * 200) * area * 1e-3)
    assert result.invalid_sensels == 1 and result.negative_sensels == 1
    left, right = result.feet
    assert (left.side, right.side) == ("left", "right")
    assert left.force_n == pytest.approx(180 * 100 * area * 1e-3)
    assert left.cop_mm == pytest.approx((7 * 10.0, 20 * 8.0))  # columns 4-9, rows 5-34
    assert right.cop_mm == pytest.approx((23 * 10.0, 20 * 8.0))
    assert left.length_mm == pytest.approx(30 * 8.0) and left.axis_deg == pytest.approx(90.0)
    # 30 rows of 8 mm: the rearmost 27 % = 64.8 mm holds 8 rows (centres up to 60 mm)
    assert left.regions_n[0] == pytest.approx(8 * 6 * 100 * area * 1e-3)
    assert sum(left.regions_n) == pytest.approx(left.force_n)
    with pytest.raises(FrameError):
        FrameAnalyzer(40, 30, pitch, 10.0).analyze(frame.astype(np.float64))


def test_insole_analysis_under_the_running_implementation():
    from kernels import InsoleAnalyzer

    a = InsoleAnalyzer([[0.0, 0.0], [-20.0, 100.0], [20.0, 100.0], [0.0, 200.0]], 100.0)
    r = a.analyze(np.array([200.0, 100.0, 50.0, 150.0], np.float32))
    assert r.force_n == pytest.approx(50.0)
    assert r.cop_mm == pytest.approx((-2.0, 90.0))
    assert r.regions_n == pytest.approx((20.0, 15.0, 15.0))


# --- ui.heat (the live heat map's colour indices) -------------------------------------------


def test_the_heat_map_reports_its_implementation_and_colours_a_frame():
    from ui import heat
    from ui.pressure import PressureScale, Upsampler

    indexer = heat.HeatIndexer(48, 48, PressureScale(), Upsampler(48, 48, 3, 3))
    if PURE:
        assert heat.IMPLEMENTATION == "reference" and indexer.implementation == "reference"
    frame = np.zeros((48, 48), np.float32)
    frame[30:40, 10:20] = 150.0  # near the rear (row 0): drawn near the bottom
    frame[5, 40] = 80.0  # a lone speck: left out
    idx = indexer.xmajor(frame)  # x-major (columns, rows)
    assert idx.shape == (144, 144)
    assert idx[45, 144 - 105] > 100 and idx[40 * 3 + 1, 144 - 5 * 3 - 2] == 0 and idx[0, 0] == 0
