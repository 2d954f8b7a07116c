"""The recording chunk codec: about one second of one device's frames in a blob.

Lossless and bit-exact: raw counts (uint16) with each frame's sequence
number and both clocks are stored exactly, so kPa can always be recomputed
from the calibration id kept beside them, and a re-analysis with newer
metrics sees the very frames the patient produced.

Blob layout (little-endian)::

    magic "GKRC" | version u8 | method u8 | ndim u8 | pad u8 | frames u32
    | dims u16 * ndim | crc32 u32 of the canonical bytes | compressed body

The body holds the time block (sequence numbers and the bit patterns of the
two float64 clocks, delta-coded as integers, so nothing is rounded) followed
by the counts in the method's encoding. The CRC is over the *decoded*
canonical bytes, so bit rot on an SD card is caught on read, not silently
re-analysed. The methods and why the default was chosen are in
docs/performance.md ("Recording codec").
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass

import numpy as np
import zstandard

# The method names and ids live in store/codec_methods.py (no numpy: opening the store checks them).
from store.codec_methods import AUTO, AUTO_CANDIDATES, DEFAULT_METHOD, METHOD_IDS, METHODS  # noqa: F401
from store.errors import ChunkCorruptError

MAGIC = b"GKRC"
VERSION = 1
_HEAD = struct.Struct("<4sBBBxI")

ZSTD_LEVEL = 3


@dataclass(frozen=True, eq=False)
class Chunk:
    """Consecutive frames of one device."""

    counts: np.ndarray  # uint16 (T, rows, cols) or (T, N)
    seq: np.ndarray  # uint32 (T,)
    t_device: np.ndarray  # float64 (T,) s
    t_host: np.ndarray  # float64 (T,) s

    def __post_init__(self):
        n = len(self.counts)
        for name in ("seq", "t_device", "t_host"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"chunk {name} must have one value per frame ({n}), got shape {getattr(self, name).shape}")
        if self.counts.dtype != np.uint16:
            raise ValueError(f"chunk counts must be uint16, got {self.counts.dtype}")

    @property
    def frames(self) -> int:
        return len(self.counts)

    def canonical(self) -> bytes:
        """The bytes the CRC and digest cover: every value, little-endian."""
        return b"".join(
            (
                np.ascontiguousarray(self.counts, dtype="<u2").tobytes(),
                np.ascontiguousarray(self.seq, dtype="<u4").tobytes(),
                np.ascontiguousarray(self.t_device, dtype="<f8").tobytes(),
                np.ascontiguousarray(self.t_host, dtype="<f8").tobytes(),
            )
        )

    def digest(self) -> str:
        """SHA-256 of the canonical bytes: equal digests mean bit-identical frames."""
        return hashlib.sha256(self.canonical()).hexdigest()

    def equals(self, other: Chunk) -> bool:
        return self.counts.shape == other.counts.shape and self.canonical() == other.canonical()

    @classmethod
    def from_frames(cls, frames) -> Chunk:
        """Stack RawFrames (one device, same shape) into a chunk."""
        return cls(
            counts=np.stack([np.asarray(f.counts, dtype=np.uint16) for f in frames]),
            seq=np.fromiter((f.seq & 0xFFFFFFFF for f in frames), dtype=np.uint32, count=len(frames)),
            t_device=np.fromiter((f.t_device for f in frames), dtype=np.float64, count=len(frames)),
            t_host=np.fromiter((f.t_host for f in frames), dtype=np.float64, count=len(frames)),
        )


# -- pieces ------------------------------------------------------------------

def _delta(a: np.ndarray) -> np.ndarray:
    """Differences along axis 0 in the array's own modular integer type."""
    d = a.copy()
    d[1:] -= a[:-1]
    return d


def _undelta(d: np.ndarray) -> np.ndarray:
    return np.cumsum(d, axis=0, dtype=d.dtype)


def _zigzag16(d: np.ndarray) -> np.ndarray:
    # In 16 bits throughout: the shift left wraps and the arithmetic shift right gives 0 or all ones,
    # so the low 16 bits are those of the 32-bit formula, without two passes through int32 (the
    # writer's largest cost on a 256 x 64 walkway at 200 Hz; tests/test_store_codec.py).
    s = d.view(np.int16)
    return ((s << 1) ^ (s >> 15)).view(np.uint16)


def _unzigzag16(z: np.ndarray) -> np.ndarray:
    u = z.astype(np.int32)
    return ((u >> 1) ^ -(u & 1)).astype(np.int16).view(np.uint16)


def _planes(a: np.ndarray) -> bytes:
    """Byte planes: all low bytes, then all high bytes (small values -> runs of zeros)."""
    return np.ascontiguousarray(a.astype("<u2").view(np.uint8).reshape(-1, 2).T).tobytes()


def _unplanes(b: bytes, n: int) -> np.ndarray:
    return np.frombuffer(b, dtype=np.uint8, count=2 * n).reshape(2, n).T.copy().view("<u2").reshape(n)


def _time_block(chunk: Chunk) -> bytes:
    seq = _delta(chunk.seq.astype("<u4"))
    clocks = []
    for t in (chunk.t_device, chunk.t_host):
        bits = _delta(np.ascontiguousarray(t, dtype="<f8").view("<u8"))
        clocks.append(np.ascontiguousarray(bits.view(np.uint8).reshape(-1, 8).T).tobytes())
    return seq.tobytes() + b"".join(clocks)


def _read_time_block(body: memoryview, n: int):
    seq = _undelta(np.frombuffer(body[: 4 * n], dtype="<u4").copy())
    pos = 4 * n
    clocks = []
    for _ in range(2):
        planes = np.frombuffer(body[pos : pos + 8 * n], dtype=np.uint8).reshape(8, n)
        bits = _undelta(np.ascontiguousarray(planes.T).view("<u8").reshape(n))
        clocks.append(bits.view("<f8").astype(np.float64))
        pos += 8 * n
    return seq.astype(np.uint32), clocks[0], clocks[1], pos


def _encode_counts(flat: np.ndarray, method: str) -> bytes:
    """``flat`` is uint16 (T, K)."""
    if method in ("zlib", "zstd"):
        return flat.astype("<u2").tobytes()
    if method == "delta-zstd":
        return _delta(flat).astype("<u2").tobytes()
    if method == "zigzag-shuffle-zstd":
        return _planes(_zigzag16(_delta(flat)))
    if method == "sparse-zstd":
        mask = flat != 0
        return np.packbits(mask).tobytes() + _planes(flat[mask])
    if method == "sparse-delta-zstd":
        z = _zigzag16(_delta(flat))
        mask = z != 0
        return np.packbits(mask).tobytes() + _planes(z[mask])
    raise ValueError(f"unknown codec method {method!r}; known: {', '.join(METHOD_IDS)}")


def _decode_counts(body: memoryview, method: str, t: int, k: int) -> np.ndarray:
    n = t * k
    if method in ("zlib", "zstd"):
        return np.frombuffer(body[: 2 * n], dtype="<u2").reshape(t, k).astype(np.uint16)
    if method == "delta-zstd":
        return _undelta(np.frombuffer(body[: 2 * n], dtype="<u2").reshape(t, k).astype(np.uint16))
    if method == "zigzag-shuffle-zstd":
        return _undelta(_unzigzag16(_unplanes(body, n)).reshape(t, k))
    if method in ("sparse-zstd", "sparse-delta-zstd"):
        nbytes = (n + 7) // 8
        mask = np.unpackbits(np.frombuffer(body[:nbytes], dtype=np.uint8), count=n).astype(bool)
        values = _unplanes(body[nbytes:], int(mask.sum()))
        flat = np.zeros(n, dtype=np.uint16)
        flat[mask] = values
        flat = flat.reshape(t, k)
        return flat if method == "sparse-zstd" else _undelta(_unzigzag16(flat))
    raise ValueError(method)


# -- public ------------------------------------------------------------------

def encode(chunk: Chunk, method: str = DEFAULT_METHOD) -> bytes:
    """Compress a chunk losslessly into a self-checking blob (``method`` "auto": the smallest)."""
    if method == AUTO:
        return min((encode(chunk, m) for m in AUTO_CANDIDATES), key=len)
    if method not in METHOD_IDS:
        raise ValueError(f"unknown codec method {method!r}; known: {', '.join(METHOD_IDS)}")
    t = chunk.frames
    shape = chunk.counts.shape[1:]
    if not 1 <= len(shape) <= 2 or any(not 0 < d < 65536 for d in shape):
        raise ValueError(f"frames must be 1-D or 2-D with sides below 65536, got {shape}")
    flat = np.ascontiguousarray(chunk.counts, dtype=np.uint16).reshape(t, -1)
    body = _time_block(chunk) + _encode_counts(flat, method)
    packed = zlib.compress(body, 6) if method == "zlib" else zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(body)
    head = _HEAD.pack(MAGIC, VERSION, METHOD_IDS[method], len(shape), t)
    dims = struct.pack(f"<{len(shape)}H", *shape)
    crc = struct.pack("<I", zlib.crc32(chunk.canonical()))
    return head + dims + crc + packed


def method_of(blob: bytes) -> str:
    return METHODS.get(blob[5], "?") if len(blob) > 5 else "?"


def decode(blob: bytes) -> Chunk:
    """Inverse of :func:`encode`; raises ChunkCorruptError on any damage."""
    try:
        magic, version, method_id, ndim, t = _HEAD.unpack_from(blob)
        if magic != MAGIC or version != VERSION or method_id not in METHODS or ndim not in (1, 2):
            raise ValueError(f"bad header (magic {magic!r}, version {version}, method {method_id}, ndim {ndim})")
        pos = _HEAD.size
        shape = struct.unpack_from(f"<{ndim}H", blob, pos)
        pos += 2 * ndim
        (crc,) = struct.unpack_from("<I", blob, pos)
        pos += 4
        method = METHODS[method_id]
        packed = bytes(blob[pos:])
        body = memoryview(zlib.decompress(packed) if method == "zlib" else zstandard.ZstdDecompressor().decompress(packed))
        seq, t_device, t_host, used = _read_time_block(body, t)
        k = int(np.prod(shape))
        counts = _decode_counts(body[used:], method, t, k).reshape((t, *shape))
        chunk = Chunk(counts=counts, seq=seq, t_device=t_device, t_host=t_host)
    except ChunkCorruptError:
        raise
    except (ValueError, struct.error, zlib.error, zstandard.ZstdError, IndexError) as exc:
        raise ChunkCorruptError(f"recording chunk cannot be decoded: {exc}") from None
    if zlib.crc32(chunk.canonical()) != crc:
        raise ChunkCorruptError("recording chunk fails its checksum (storage damage); the rest of the recording is still readable")
    return chunk
