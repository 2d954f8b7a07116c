"""Consistent Overhead Byte Stuffing: the pure-Python reference.

COBS (Cheshire & Baker, "Consistent Overhead Byte Stuffing", IEEE/ACM
Transactions on Networking 7(2), 1999) rewrites a packet so that it contains
no 0x00 byte; 0x00 can then delimit packets on the serial line and a reader
that loses its place resynchronises at the next one.

The encoded packet is a sequence of blocks. Each block starts with a code
byte ``n`` (1..255) followed by ``n - 1`` non-zero data bytes. A code below
255 means "then a zero", except after the last block, where that zero is the
implicit terminator and is dropped. Code 255 means 254 data bytes and no zero
(a long run without zeros). The empty packet encodes as ``01``.

This module is the readable specification and the fallback when the compiled
``device._codec`` is missing; ``device.codec`` chooses between them. It works
block by block (slices, never a Python loop per byte).
"""

from __future__ import annotations

from device.errors import CobsError

MAX_RUN = 254  # data bytes in a block whose code is 0xFF


def encode(data: bytes) -> bytes:
    """COBS-encode ``data``; the result contains no 0x00 and no delimiter."""
    out = bytearray()
    chunks = bytes(data).split(b"\x00")
    last = len(chunks) - 1
    for index, chunk in enumerate(chunks):
        # Runs longer than 254 bytes become 0xFF blocks with no implied zero.
        while len(chunk) >= MAX_RUN:
            out.append(0xFF)
            out += chunk[:MAX_RUN]
            chunk = chunk[MAX_RUN:]
            if not chunk and index == last:
                # The data ended exactly at a full block: nothing more to say.
                return bytes(out)
        out.append(len(chunk) + 1)
        out += chunk
    return bytes(out)


def decode(encoded: bytes) -> bytes:
    """Decode one COBS block sequence (no delimiters); raise CobsError if it is not valid."""
    encoded = bytes(encoded)
    size = len(encoded)
    if size == 0:
        raise CobsError("empty COBS frame: a packet has at least one code byte")
    if b"\x00" in encoded:
        raise CobsError(
            f"COBS frame contains a 0x00 at offset {encoded.index(0)}: "
            "split the stream at 0x00 delimiters before decoding"
        )
    out = bytearray()
    pos = 0
    while pos < size:
        code = encoded[pos]
        end = pos + code
        if end > size:
            raise CobsError(
                f"truncated COBS frame: block at offset {pos} announces {code - 1} bytes, "
                f"only {size - pos - 1} remain"
            )
        out += encoded[pos + 1 : end]
        pos = end
        if code != 0xFF and pos < size:
            out.append(0)
    return bytes(out)


def max_encoded_size(size: int) -> int:
    """Upper bound of the encoded length of ``size`` data bytes (one code byte per 254)."""
    return size + size // MAX_RUN + 1
