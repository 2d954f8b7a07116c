"""COBS and 12-bit packing: golden vectors, round trips, errors, compiled == reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from protocol_support import IMPLEMENTATIONS

from device import codec
from device.errors import CobsError, FrameError, LengthError

# Examples from Cheshire & Baker (1999) as tabulated on Wikipedia's COBS page.
RUN_01_FE = bytes(range(1, 255))
GOLDEN = [
    (b"", b"\x01"),
    (b"\x00", b"\x01\x01"),
    (b"\x00\x00", b"\x01\x01\x01"),
    (b"\x00\x11\x00", b"\x01\x02\x11\x01"),
    (b"\x11\x22\x00\x33", b"\x03\x11\x22\x02\x33"),
    (b"\x11\x22\x33\x44", b"\x05\x11\x22\x33\x44"),
    (b"\x11\x00\x00\x00", b"\x02\x11\x01\x01\x01"),
    (RUN_01_FE, b"\xff" + RUN_01_FE),
    (b"\x00" + RUN_01_FE, b"\x01\xff" + RUN_01_FE),
    (bytes(range(1, 256)), b"\xff" + RUN_01_FE + b"\x02\xff"),
    (bytes(range(2, 256)) + b"\x00", b"\xff" + bytes(range(2, 256)) + b"\x01\x01"),
    (bytes(range(3, 256)) + b"\x00\x01", b"\xfe" + bytes(range(3, 256)) + b"\x02\x01"),
]


def impl_functions(name):
    return codec.REFERENCE if name == "reference" else codec.COMPILED


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("data, encoded", GOLDEN)
def test_cobs_golden_vectors(impl, data, encoded):
    f = impl_functions(impl)
    assert f["cobs_encode"](data) == encoded
    assert f["cobs_decode"](encoded) == data


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@given(data=st.binary(max_size=2000) | st.lists(st.sampled_from([0, 1, 255]), max_size=800).map(bytes))
@settings(max_examples=300)
def test_cobs_round_trip(impl, data):
    f = impl_functions(impl)
    encoded = f["cobs_encode"](data)
    assert 0 not in encoded
    assert len(encoded) <= codec.max_encoded_size(len(data))
    assert f["cobs_decode"](encoded) == data
    # bytearray and memoryview inputs behave like bytes (readers hand either).
    assert f["cobs_decode"](bytearray(encoded)) == data
    assert f["cobs_encode"](memoryview(data)) == encoded


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize(
    "bad, why",
    [
        (b"", "empty"),
        (b"\x03\x11\x00\x22", "0x00"),
        (b"\x05\x11\x22", "truncated"),
        (b"\xff" + bytes(range(1, 200)), "truncated"),
        (b"\x02\x11\x04\x22", "truncated"),
    ],
)
def test_cobs_decode_rejects_invalid(impl, bad, why):
    with pytest.raises(CobsError, match=why) as info:
        impl_functions(impl)["cobs_decode"](bad)
    assert isinstance(info.value, FrameError) and isinstance(info.value, ValueError)


# Mostly code bytes of 1 (runs of empty blocks: the compiled decoder skips them 8 at a time),
# with a few long, full and over-long blocks mixed in.
BLOCKY = st.lists(st.sampled_from([1] * 12 + [2, 3, 9, 200, 254, 255]), max_size=600).map(bytes)


@pytest.mark.skipif(codec.COMPILED is None, reason="device._codec not built (make build)")
@given(junk=st.binary(max_size=600) | BLOCKY)
@settings(max_examples=600)
def test_compiled_cobs_decode_matches_reference_on_arbitrary_bytes(junk):
    """Garbage from the line: same bytes out, or the same error, from both implementations."""
    outcomes = []
    for table in (codec.REFERENCE, codec.COMPILED):
        try:
            outcomes.append(("ok", table["cobs_decode"](junk)))
        except CobsError as exc:
            outcomes.append(("error", str(exc)))
    assert outcomes[0] == outcomes[1]


@pytest.mark.skipif(codec.COMPILED is None, reason="device._codec not built (make build)")
@given(data=st.binary(max_size=1500))
def test_compiled_cobs_encode_matches_reference(data):
    assert codec.COMPILED["cobs_encode"](data) == codec.REFERENCE["cobs_encode"](data)


# --- 12-bit packing --------------------------------------------------------------


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize(
    "values, packed",
    [
        ([], b""),
        ([0xABC], b"\xbc\x0a"),
        ([0x123, 0x456], b"\x23\x61\x45"),
        ([0x123, 0x456, 0xFFF], b"\x23\x61\x45\xff\x0f"),
        ([0xFFF, 0x000, 0x001, 0x800], b"\xff\x0f\x00\x01\x00\x80"),
    ],
)
def test_pack12_golden(impl, values, packed):
    f = impl_functions(impl)
    assert f["pack12"](np.array(values, dtype=np.uint16)) == packed
    out = f["unpack12"](packed, len(values))
    assert out.dtype == np.uint16 and out.flags.writeable
    assert out.tolist() == values


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@given(values=hnp.arrays(np.uint16, st.integers(0, 700), elements=st.integers(0, 4095)))
def test_pack12_round_trip(impl, values):
    f = impl_functions(impl)
    packed = f["pack12"](values)
    assert len(packed) == codec.packed12_size(values.size)
    assert np.array_equal(f["unpack12"](packed, values.size), values)
    if codec.COMPILED is not None:
        assert codec.COMPILED["pack12"](values) == codec.REFERENCE["pack12"](values)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_pack12_refuses_values_above_12_bits(impl):
    with pytest.raises(ValueError, match="below 4096"):
        impl_functions(impl)["pack12"](np.array([1, 4096, 3], dtype=np.uint16))


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("count, size", [(2, 2), (2, 4), (3, 4), (1, 3)])
def test_unpack12_refuses_wrong_length(impl, count, size):
    with pytest.raises(LengthError, match="12-bit samples take"):
        impl_functions(impl)["unpack12"](bytes(size), count)


@pytest.mark.skipif(codec.COMPILED is None, reason="device._codec not built (make build)")
@given(data=st.binary(max_size=900))
def test_compiled_unpack12_matches_reference_on_arbitrary_bytes(data):
    # Some lengths are no count's packed size (4 bytes, say): then both must refuse.
    count = (len(data) * 8) // 12
    outcomes = []
    for table in (codec.REFERENCE, codec.COMPILED):
        try:
            outcomes.append(table["unpack12"](data, count).tolist())
        except LengthError as exc:
            outcomes.append(str(exc))
    assert outcomes[0] == outcomes[1]


def test_implementation_is_named():
    assert codec.IMPLEMENTATION in ("compiled", "reference")
    with codec.use_implementation("reference"):
        assert codec.IMPLEMENTATION == "reference"
        assert codec.cobs_decode is codec.REFERENCE["cobs_decode"]
    with pytest.raises(ValueError, match="compiled"):
        with codec.use_implementation("fast"):
            pass
