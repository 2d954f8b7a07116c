"""COBS and CRC-32 on their own: round trips, error cases, the table CRC equals the built-in."""

from firmware import cobs
from firmware.crc32 import crc32, crc32_table


def _raises(fn, *args):
    try:
        fn(*args)
    except ValueError:
        return True
    return False


def test_crc_check_value():
    assert crc32(b"123456789") == 0xCBF43926
    assert crc32_table(b"123456789") == 0xCBF43926


def test_crc_table_equals_builtin_and_continues():
    data = bytes(range(256)) * 3
    assert crc32_table(data) == crc32(data)
    assert crc32_table(data[100:], crc32_table(data[:100])) == crc32(data)


def test_cobs_round_trip_runs_and_zeros():
    for size in (0, 1, 2, 253, 254, 255, 256, 508, 509, 700):
        for fill in (0, 1, 0xFF):
            data = bytes([fill]) * size
            enc = cobs.encode(data)
            assert not [b for b in enc if b == 0]  # (`0 in bytearray` is NotImplemented on the port)
            assert len(enc) <= size + size // 254 + 1
            assert bytes(cobs.decode(enc)) == data
        mixed = bytes([(i * 37) % 7 for i in range(size)])  # a zero every few bytes
        assert bytes(cobs.decode(cobs.encode(mixed))) == mixed


def test_cobs_decode_rejects_bad_frames():
    assert _raises(cobs.decode, b"")
    assert _raises(cobs.decode, b"\x05\x11\x22")  # block runs past the end
    assert _raises(cobs.decode, b"\x03\x11\x00")  # a delimiter inside
    assert _raises(cobs.decode, b"\x00")
