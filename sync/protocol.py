"""The wire format of docs/sync.md as pure functions: build and check payloads, no network.

The kiosk's worker and the server both use these, so what one sends is exactly what the other
checks. A row travels as ``{"seq": N, "data": {...}}``; its identity on the server is its
entity and UUID, and "the same row" means the same canonical JSON of ``data`` (sorted keys, no
spaces, UTF-8, no NaN), compared by SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass

from sync.errors import PayloadError

API = "/v1"
# What the kiosk uploads as rows; recordings go through their own resumable upload (docs/sync.md).
ROW_ENTITIES = ("patient", "program", "session", "trial", "report", "calibration", "audit")
MAX_ROW_BYTES = 1024 * 1024  # a report with every metric is a few kB; a MB is a bug or an attack
MAX_SEQ = 2**63 - 1  # PostgreSQL bigint
CLINIC_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class RowPut:
    """One checked row upload: what the server stores."""

    entity: str
    id: str
    seq: int
    body: str  # the canonical JSON of data: stored as is, bit-exact
    sha256: bytes


def canonical(data: dict) -> str:
    """The one text of ``data`` that both sides hash and the server stores."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def row_body(seq: int, data: dict) -> bytes:
    """The PUT body for one row."""
    return json.dumps({"seq": seq, "data": data}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False).encode()


def row_path(entity: str, row_id: str) -> str:
    return f"{API}/rows/{entity}/{row_id}"


def check_entity_id(entity: str, row_id: str) -> str:
    """The row's UUID in its canonical lower-case form; PayloadError names what is wrong."""
    if entity not in ROW_ENTITIES:
        raise PayloadError(f"unknown entity {entity!r}: rows are one of {', '.join(ROW_ENTITIES)}")
    try:
        parsed = uuid.UUID(row_id)
    except ValueError:
        raise PayloadError(f"row id {row_id!r} is not a UUID") from None
    if str(parsed) != row_id.lower():
        raise PayloadError(f"row id {row_id!r} is not a UUID in its 8-4-4-4-12 form")
    return str(parsed)


def check_row_put(entity: str, row_id: str, body: bytes) -> RowPut:
    """Check one PUT of a row (path and body); PayloadError says what is wrong in one line."""
    row_id = check_entity_id(entity, row_id)
    if len(body) > MAX_ROW_BYTES:
        raise PayloadError(f"row body of {len(body)} bytes is over the limit of {MAX_ROW_BYTES}")
    try:
        doc = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise PayloadError("row body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise PayloadError(f"row body is not JSON: {exc}") from None
    if not isinstance(doc, dict) or set(doc) != {"seq", "data"}:
        raise PayloadError('row body must be an object with exactly "seq" and "data"')
    seq, data = doc["seq"], doc["data"]
    if type(seq) is not int or not 0 <= seq <= MAX_SEQ:
        raise PayloadError(f'"seq" must be an integer from 0 to {MAX_SEQ}, not {seq!r}')
    if not isinstance(data, dict):
        raise PayloadError('"data" must be a JSON object')
    if "id" in data and data["id"] != row_id:
        raise PayloadError(f'"data.id" {data["id"]!r} is not the id in the path {row_id}')
    text = canonical(data)
    return RowPut(entity, row_id, seq, text, hashlib.sha256(text.encode()).digest())


def _no_constant(name: str):
    raise PayloadError(f"row body holds {name}, which is not JSON (send null)")


def check_clinic(clinic: str) -> str:
    if not CLINIC_RE.fullmatch(clinic or ""):
        raise PayloadError(f"clinic {clinic!r}: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    return clinic


# -- many rows in one request (docs/sync.md "Up: rows", batches) ------------------------------------
# One HTTP round trip and one server transaction per batch instead of per row: the per-row PUT
# stays (a clinic tool, a replay by hand), the worker sends batches.
MAX_BATCH_ROWS = 1000
MAX_BATCH_BYTES = 8 * 1024 * 1024


def batch_body(items: list[tuple[str, str, int, dict]]) -> bytes:
    """The POST body for (entity, id, seq, data) rows."""
    return json.dumps({"rows": [{"entity": e, "id": i, "seq": s, "data": d} for e, i, s, d in items]},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def check_batch(body: bytes) -> list[RowPut | PayloadError]:
    """Each row of a batch checked exactly as its own PUT would be: a RowPut, or the PayloadError
    that refuses that row alone. The batch itself must be ``{"rows": [...]}`` of at most
    MAX_BATCH_ROWS (PayloadError otherwise)."""
    try:
        doc = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise PayloadError("batch body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise PayloadError(f"batch body is not JSON: {exc}") from None
    if not isinstance(doc, dict) or set(doc) != {"rows"} or not isinstance(doc["rows"], list):
        raise PayloadError('batch body must be an object with exactly "rows", a list')
    if not 0 < len(doc["rows"]) <= MAX_BATCH_ROWS:
        raise PayloadError(f"a batch holds 1 to {MAX_BATCH_ROWS} rows, not {len(doc['rows'])}")
    out: list[RowPut | PayloadError] = []
    for n, item in enumerate(doc["rows"]):
        if not isinstance(item, dict) or set(item) != {"entity", "id", "seq", "data"} \
                or not isinstance(item["entity"], str) or not isinstance(item["id"], str):
            out.append(PayloadError(f'row {n + 1}: must be {{"entity", "id", "seq", "data"}}'))
            continue
        try:
            out.append(check_row_put(item["entity"], item["id"], row_body(item["seq"], item["data"])
                                     if isinstance(item["data"], dict) else b'{"seq":0,"data":0}'))
        except (PayloadError, TypeError, ValueError) as exc:
            out.append(exc if isinstance(exc, PayloadError) else PayloadError(f"row {n + 1}: {exc}"))
    return out
