"""CRC-32 of zlib, Ethernet and PNG (docs/protocol.md section 3), as the kiosk computes it.

``binascii.crc32`` where the port has it (the unix port does; a board build may leave it
out), else a 256-entry table built once (1 KB of RAM as an ``array``).
"""

from array import array

try:
    from binascii import crc32 as _builtin
except ImportError:  # a MicroPython build without MICROPY_PY_BINASCII_CRC32
    _builtin = None

POLY = 0xEDB88320  # reflected polynomial
_table = None


def _make_table():
    table = array("I", [0] * 256)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ POLY if c & 1 else c >> 1
        table[i] = c
    return table


def crc32_table(data, crc=0):
    """The table-driven CRC; ``crc`` continues an earlier one (as binascii.crc32 does)."""
    global _table
    if _table is None:
        _table = _make_table()
    c = crc ^ 0xFFFFFFFF
    for byte in data:
        c = _table[(c ^ byte) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def crc32(data, crc=0):
    """CRC-32 of ``data`` as an unsigned 32-bit int."""
    if _builtin is not None:
        return _builtin(data, crc) & 0xFFFFFFFF
    return crc32_table(data, crc)
