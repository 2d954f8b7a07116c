"""Hypothesis strategies and helpers shared by the tests/test_protocol_*.py modules."""

from __future__ import annotations

import binascii
import struct

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from device import codec
from device.framing import (
    Ack,
    AckResult,
    Command,
    CommandOp,
    DeviceKind,
    Frame,
    Hello,
    Packet,
    PacketType,
    Status,
)

#: Implementations every codec test runs under (the compiled one only if built).
IMPLEMENTATIONS = ["reference"] + (["compiled"] if codec.COMPILED is not None else [])

U8 = st.integers(0, 0xFF)
U16 = st.integers(0, 0xFFFF)
U32 = st.integers(0, 0xFFFF_FFFF)
U64 = st.integers(0, 0xFFFF_FFFF_FFFF_FFFF)
F32 = st.floats(width=32, allow_nan=False).map(lambda x: float(str(np.float32(x))))


def shortest(values: np.ndarray) -> np.ndarray:
    """float32 values as the float64 decimals the decoder gives back."""
    return np.array([str(v) for v in values.reshape(-1)], dtype=np.float64).reshape(values.shape)


def short_text(max_bytes: int = 255):
    """Unicode text whose UTF-8 form fits a u8-length field."""
    return st.text(max_size=max_bytes).filter(lambda s: len(s.encode("utf-8")) <= max_bytes)


@st.composite
def hellos(draw, max_sensels: int = 400):
    kind = draw(st.sampled_from(DeviceKind))
    if kind == DeviceKind.MAT:
        rows = draw(st.integers(1, 12))
        cols = draw(st.integers(2, 12))
    else:
        rows, cols = draw(st.integers(1, 64)), 1
    n = rows * cols
    f32_array = st.floats(width=32, allow_nan=False, allow_infinity=False)
    positions = draw(st.none() | hnp.arrays(np.float32, (n, 2), elements=f32_array))
    areas = draw(st.none() | hnp.arrays(np.float32, (n,), elements=f32_array))
    pmin = draw(st.integers(1, 5))
    return Hello(
        kind=kind,
        serial=draw(short_text()),
        firmware=draw(short_text()),
        rate_hz=draw(F32),
        rows=rows,
        cols=cols,
        pitch_mm=(draw(F32), draw(F32)),
        bits=draw(U8),
        kpa_per_count=draw(F32),
        sensors_mm=None if positions is None else shortest(positions),
        sensor_area_mm2=None if areas is None else shortest(areas),
        protocol_min=pmin,
        protocol_max=draw(st.integers(pmin, 255)),
    )


def frame_shapes():
    return st.one_of(
        st.tuples(st.integers(0, 40), st.integers(2, 40)),  # mats (a 0-row frame is legal, if odd)
        st.tuples(st.integers(1, 64)),  # insoles
    )


@st.composite
def frames(draw, bits: int):
    shape = draw(frame_shapes())
    counts = draw(hnp.arrays(np.uint16, shape, elements=st.integers(0, (1 << bits) - 1)))
    return Frame(counts)


statuses = st.builds(
    Status,
    battery_pct=st.none() | st.integers(0, 100),
    temperature_c=st.none() | F32,
    streaming=st.booleans(),
    rate_hz=F32,
    frames_dropped=U32,
    rx_errors=U32,
    sensor_faults=U32,
)


@st.composite
def commands(draw):
    op = draw(st.sampled_from(CommandOp) | st.integers(9, 255))
    if op in (CommandOp.IDENTIFY, CommandOp.SET_PROTOCOL):
        value = draw(st.integers(-(2**53), 2**53))
    else:
        value = draw(st.floats(allow_nan=False))
    return Command(op, value)


acks = st.builds(
    Ack,
    command_seq=U32,
    op=st.sampled_from(CommandOp) | st.integers(9, 255),
    result=st.sampled_from(AckResult) | st.integers(6, 255),
    message=short_text(),
)


@st.composite
def packets(draw, version: int = 1):
    ptype = draw(st.sampled_from(PacketType))
    body = {
        PacketType.HELLO: hellos(),
        PacketType.FRAME: frames(16),
        PacketType.FRAME12: frames(12),
        PacketType.FRAME8: frames(8),
        PacketType.STATUS: statuses,
        PacketType.COMMAND: commands(),
        PacketType.ACK: acks,
    }[ptype]
    return Packet(ptype, draw(U16), draw(U32), draw(U64), draw(body), version)


def raw_packet(version: int, ptype: int, payload: bytes, device: int = 0, seq: int = 0,
               t_us: int = 0, crc: int | None = None) -> bytes:
    """Header + payload + CRC, before COBS: for building packets the encoder refuses to make."""
    body = struct.pack("<BBHIQ", version, ptype, device, seq, t_us) + payload
    if crc is None:
        crc = binascii.crc32(body)
    return body + struct.pack("<I", crc)


def wire(raw: bytes) -> bytes:
    """Raw packet bytes as they travel: delimiter, COBS, delimiter."""
    return b"\x00" + codec.cobs_encode(raw) + b"\x00"
