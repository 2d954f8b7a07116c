"""A recording's upload as bytes (docs/sync.md "Up: recordings"): pure functions, no network.

The stream is the kiosk's stored chunks verbatim, behind a small header, so the server holds
the kiosk's bytes bit-exact and any tool decodes them with ``store.codec.decode``::

    magic "GKRU" | version u8 (1) | 3 zero bytes | meta_len u32 | meta (canonical JSON, UTF-8)
    then, for every chunk in idx order:  idx u32 | blob_len u32 | blob (store.codec "GKRC" blob)

All integers little-endian. ``meta`` holds the recording's fields that are fixed once it is
closed (never synced_at or pruned_at), so two builds of one recording, by two processes months
apart, give the same bytes and the same SHA-256: that is what lets an upload resume.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import uuid
from dataclasses import dataclass

from sync.errors import PayloadError
from sync.protocol import API, canonical

MAGIC = b"GKRU"
VERSION = 1
_HEAD = struct.Struct("<4sB3xI")
_CHUNK = struct.Struct("<II")
OFFSET_TYPE = "application/offset+octet-stream"  # tus 1.0: the PATCH body's Content-Type
MAX_RECORDING_BYTES = 1 << 40  # a declared length past this is a bug, not a recording
MAX_PUT_BYTES = 4096
# The recording's fields in the header: fixed once it is closed. Append only.
META_FIELDS = ("id", "session_id", "trial_id", "device_serial", "kind", "shape", "calibration_id",
               "kpa_per_count", "t_origin", "started_at", "ended_at", "status", "status_reason",
               "frames", "dropped", "seq_gaps", "raw_bytes")
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class RecordingPut:
    """One checked ``PUT /v1/recordings/{uuid}``: the upload's identity."""

    id: str
    length: int
    sha256: bytes


def recording_path(recording_id: str) -> str:
    return f"{API}/recordings/{recording_id}"


def header(meta: dict, chunks: int) -> bytes:
    """The stream's header for a recording with ``meta`` (its META_FIELDS) and ``chunks`` chunks."""
    text = canonical({**{k: meta[k] for k in META_FIELDS}, "chunks": chunks, "format": "gaitkiosk-recording"})
    data = text.encode("utf-8")
    return _HEAD.pack(MAGIC, VERSION, len(data)) + data


def chunk_prefix(idx: int, blob_len: int) -> bytes:
    return _CHUNK.pack(idx, blob_len)


def stream(meta: dict, blobs: list[tuple[int, bytes]]) -> bytes:
    """The whole stream in memory (tests, small recordings); the kiosk builds it piecewise."""
    return header(meta, len(blobs)) + b"".join(chunk_prefix(i, len(b)) + b for i, b in blobs)


def parse(data: bytes) -> tuple[dict, list[tuple[int, bytes]]]:
    """(meta, [(idx, blob), ...]) of a stream; PayloadError says what is wrong. Blobs undecoded."""
    view = memoryview(data)
    try:
        magic, version, meta_len = _HEAD.unpack_from(view)
    except struct.error:
        raise PayloadError(f"recording stream of {len(data)} bytes is shorter than its header") from None
    if magic != MAGIC or version != VERSION:
        raise PayloadError(f"not a gaitkiosk recording stream version {VERSION} (magic {magic!r}, version {version})")
    pos = _HEAD.size + meta_len
    try:
        meta = json.loads(bytes(view[_HEAD.size:pos]).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"recording stream's header is not JSON: {exc}") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("chunks"), int):
        raise PayloadError("recording stream's header has no chunk count")
    blobs = []
    for _ in range(meta["chunks"]):
        if pos + _CHUNK.size > len(data):
            raise PayloadError(f"recording stream ends after {len(blobs)} of {meta['chunks']} chunks")
        idx, size = _CHUNK.unpack_from(view, pos)
        pos += _CHUNK.size
        if pos + size > len(data):
            raise PayloadError(f"recording stream's chunk {idx} is cut short")
        blobs.append((idx, bytes(view[pos:pos + size])))
        pos += size
    if pos != len(data):
        raise PayloadError(f"recording stream has {len(data) - pos} bytes after its last chunk")
    return meta, blobs


def check_recording_id(recording_id: str) -> str:
    try:
        parsed = uuid.UUID(recording_id)
    except ValueError:
        raise PayloadError(f"recording id {recording_id!r} is not a UUID") from None
    if str(parsed) != recording_id.lower():
        raise PayloadError(f"recording id {recording_id!r} is not a UUID in its 8-4-4-4-12 form")
    return str(parsed)


def put_body(length: int, sha256_hex: str) -> bytes:
    return canonical({"length": length, "sha256": sha256_hex}).encode()


def check_recording_put(recording_id: str, body: bytes) -> RecordingPut:
    """Check one PUT creating an upload; PayloadError says what is wrong in one line."""
    recording_id = check_recording_id(recording_id)
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PayloadError('recording PUT body must be JSON {"length": N, "sha256": "<64 hex>"}') from None
    if not isinstance(doc, dict) or set(doc) != {"length", "sha256"}:
        raise PayloadError('recording PUT body must be an object with exactly "length" and "sha256"')
    length, digest = doc["length"], doc["sha256"]
    if type(length) is not int or not 0 < length <= MAX_RECORDING_BYTES:
        raise PayloadError(f'"length" must be an integer from 1 to {MAX_RECORDING_BYTES}, not {length!r}')
    if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        raise PayloadError('"sha256" must be 64 lower-case hex digits')
    return RecordingPut(recording_id, length, bytes.fromhex(digest))


def check_offset(value: str | None) -> int:
    """The Upload-Offset header of a PATCH: a non-negative decimal integer."""
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 19:
        raise PayloadError(f"Upload-Offset must be a non-negative integer, not {value!r}")
    return int(value)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
