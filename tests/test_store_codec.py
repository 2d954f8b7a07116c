"""Recording chunk codec: lossless round trips, damage detection, a frozen golden blob."""

import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from device.frames import RawFrame
from store import codec
from store.codec import Chunk
from store.errors import ChunkCorruptError


@st.composite
def chunks(draw):
    t = draw(st.integers(1, 40))
    shape = draw(st.sampled_from([(16,), (1,), (3, 5), (48, 48), (7,)]))
    sparse = draw(st.booleans())
    elements = st.sampled_from([0, 0, 0, 1, 2, 4095, 65535]) if sparse else st.integers(0, 65535)
    counts = draw(hnp.arrays(np.uint16, (t, *shape), elements=elements))
    seq0 = draw(st.integers(0, 2**32 - 1))
    seq = ((seq0 + np.arange(t, dtype=np.int64) * draw(st.integers(1, 3))) % 2**32).astype(np.uint32)
    clocks = hnp.arrays(np.float64, (t,), elements=st.floats(allow_nan=True, allow_infinity=True, width=64))
    return Chunk(counts=counts, seq=seq, t_device=draw(clocks), t_host=draw(clocks))


@settings(max_examples=150, deadline=None)
@given(chunk=chunks(), method=st.sampled_from(sorted(codec.METHOD_IDS) + [codec.AUTO]))
def test_every_method_round_trips_bit_exact(chunk, method):
    back = codec.decode(codec.encode(chunk, method))
    assert back.counts.shape == chunk.counts.shape
    assert back.counts.dtype == np.uint16
    assert back.canonical() == chunk.canonical()  # bit-exact, NaN payloads and -0.0 included
    assert back.digest() == chunk.digest()
    used = codec.method_of(codec.encode(chunk, method))
    assert used == method or (method == codec.AUTO and used in codec.AUTO_CANDIDATES)


def _chunk(t=50, seed=0):
    rng = np.random.default_rng(seed)
    counts = np.zeros((t, 48, 48), np.uint16)
    counts[:, 10:30, 12:20] = rng.integers(100, 900, (t, 20, 8))
    return Chunk(counts=counts, seq=np.arange(t, dtype=np.uint32), t_device=np.arange(t) / 100.0,
                 t_host=1000.0 + np.arange(t) / 100.0)


def test_from_frames_stacks_raw_frames_in_order():
    frames = [RawFrame("S1", "insole_left", 2**32 - 2 + i & 0xFFFFFFFF, i * 0.01, 5 + i * 0.01,
                       np.full(16, i, np.uint16)) for i in range(4)]
    chunk = Chunk.from_frames(frames)
    assert chunk.seq.tolist() == [2**32 - 2, 2**32 - 1, 0, 1]
    assert chunk.counts[:, 0].tolist() == [0, 1, 2, 3]
    assert codec.decode(codec.encode(chunk)).equals(chunk)


@pytest.mark.parametrize("position", [0, 5, 12, 20, 60, -1])
def test_any_flipped_byte_is_detected_not_returned(position):
    blob = bytearray(codec.encode(_chunk()))
    blob[position] ^= 0x40
    with pytest.raises(ChunkCorruptError):
        codec.decode(bytes(blob))


def test_truncated_blob_is_refused():
    blob = codec.encode(_chunk())
    for n in (0, 3, 10, len(blob) // 2, len(blob) - 1):
        with pytest.raises(ChunkCorruptError):
            codec.decode(blob[:n])


def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="uint16"):
        Chunk(counts=np.zeros((2, 3), np.int32), seq=np.zeros(2, np.uint32), t_device=np.zeros(2), t_host=np.zeros(2))
    with pytest.raises(ValueError, match="one value per frame"):
        Chunk(counts=np.zeros((2, 3), np.uint16), seq=np.zeros(3, np.uint32), t_device=np.zeros(2), t_host=np.zeros(2))
    with pytest.raises(ValueError, match="unknown codec method"):
        codec.encode(_chunk(), "lz4")


def test_default_method_beats_plain_zlib_on_a_sparse_mat():
    chunk = _chunk(100)
    assert len(codec.encode(chunk)) < len(codec.encode(chunk, "zlib"))
    assert len(codec.encode(chunk)) < chunk.counts.nbytes / 5


# A blob written by format version 1 (three 2x3 frames, method 4). Recordings on
# units must stay readable whatever the codec becomes: this may only change on purpose.
# (Only decoding is frozen: zstd may compress differently in a later library version.)
GOLDEN_BLOB = (
    "474b524301040200030000000200030008e4444228b52ffd20607d02002205111eb027ad01d86e4941798e0141"
    "cd7e74412132d8c7e1d81d7ac8227bcb9d025ff4704ef35ed380ee830309a90057232b6c8f69b1e0a2a8109723"
    "236c8c49a9127f374f020200b815e7ac6906"
)
GOLDEN_CRC = 1111811080


def _golden_chunk():
    counts = np.array([[[0, 1, 2], [300, 0, 65535]], [[0, 2, 2], [301, 0, 65534]], [[0, 0, 0], [0, 0, 0]]],
                      np.uint16)
    return Chunk(counts=counts, seq=np.array([7, 8, 10], np.uint32), t_device=np.array([0.0, 0.01, 0.03]),
                 t_host=np.array([12.5, 12.51, 12.53]))


def test_golden_blob_still_decodes_to_the_same_frames():
    blob = bytes.fromhex(GOLDEN_BLOB)
    assert blob[:4] == b"GKRC" and blob[4] == 1 and codec.method_of(blob) == "zigzag-shuffle-zstd"
    assert int.from_bytes(blob[8:12], "little") == 3  # frames
    assert blob[12:16] == b"\x02\x00\x03\x00"  # dims 2 x 3
    assert int.from_bytes(blob[16:20], "little") == GOLDEN_CRC == zlib.crc32(_golden_chunk().canonical())
    back = codec.decode(blob)
    assert back.equals(_golden_chunk())
    assert back.counts[0, 1, 2] == 65535 and back.seq.tolist() == [7, 8, 10]


def test_zigzag_in_16_bits_is_the_32_bit_formula_for_every_value():
    """The writer's zigzag runs in 16 bits (cheaper on a walkway's 3.3 M sensels a second); stored
    chunks were written with the 32-bit formula and must read back: every uint16 value agrees."""
    d = np.arange(65536, dtype=np.uint32).astype(np.uint16)
    s = d.view(np.int16).astype(np.int32)
    assert np.array_equal(codec._zigzag16(d), ((s << 1) ^ (s >> 15)).astype(np.uint16))
    assert np.array_equal(codec._unzigzag16(codec._zigzag16(d)), d)
