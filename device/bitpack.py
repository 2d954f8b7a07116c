"""Packed sample formats of the FRAME12 and FRAME8 packets: the numpy reference.

12-bit packing (docs/protocol.md, "FRAME12"): sample ``i`` occupies bits
``12*i .. 12*i + 11`` of a little-endian bit stream, so each pair of samples
``a, b`` is the 24-bit little-endian word ``a | b << 12``::

    byte 0 = a & 0xFF
    byte 1 = (a >> 8) | (b & 0x0F) << 4
    byte 2 = b >> 4

``n`` samples take ``(12 * n + 7) // 8`` bytes; with an odd ``n`` the last
sample takes two bytes and the top four bits of the last byte are zero.

This is the readable specification and the fallback of ``device._codec``;
``device.codec`` chooses between them.
"""

from __future__ import annotations

import numpy as np

from device.errors import LengthError


def packed12_size(count: int) -> int:
    """Bytes needed for ``count`` 12-bit samples."""
    return (12 * count + 7) // 8


def pack12(values: np.ndarray) -> bytes:
    """Pack unsigned samples below 4096 into the 12-bit little-endian bit stream."""
    flat = np.ascontiguousarray(values, dtype=np.uint16).reshape(-1)
    if flat.size and int(flat.max()) > 0x0FFF:
        raise ValueError(f"12-bit samples must be below 4096, got {int(flat.max())}")
    count = flat.size
    if count % 2:
        flat = np.append(flat, np.uint16(0))
    pairs = flat.reshape(-1, 2).astype(np.uint32)
    word = pairs[:, 0] | (pairs[:, 1] << 12)
    out = np.empty((pairs.shape[0], 3), dtype=np.uint8)
    out[:, 0] = word & 0xFF
    out[:, 1] = (word >> 8) & 0xFF
    out[:, 2] = word >> 16
    return out.reshape(-1)[: packed12_size(count)].tobytes()


def unpack12(data: bytes, count: int) -> np.ndarray:
    """Unpack ``count`` 12-bit samples into a new uint16 array; the length must be exact."""
    expected = packed12_size(count)
    if len(data) != expected:
        raise LengthError(f"{count} 12-bit samples take {expected} bytes, got {len(data)}")
    raw = np.frombuffer(data, dtype=np.uint8)
    if count % 2:
        raw = np.append(raw, np.uint8(0))
    triples = raw.reshape(-1, 3).astype(np.uint16)
    out = np.empty((triples.shape[0], 2), dtype=np.uint16)
    out[:, 0] = triples[:, 0] | ((triples[:, 1] & 0x0F) << 8)
    out[:, 1] = (triples[:, 1] >> 4) | (triples[:, 2] << 4)
    return out.reshape(-1)[:count]
