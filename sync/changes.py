"""The changes feed's wire format (docs/sync.md "Down"): cursors and the rows that go down, as pure functions.

The server and the kiosk share these, so a row a clinic tool puts on the server is checked by the
same rules the kiosk applies. Two entities go down: ``patient`` and ``program``. A program travels
whole, with its prescriptions, because a program version never changes on a kiosk (a change is a
new version, store/programs.py); only its ``active`` flag does.

A cursor is ``"<xid>:<n>"``: everything up to the server transaction id ``xid`` and, within it,
the change number ``n`` has been seen. ``"0:0"`` is the start.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

from sync.errors import PayloadError

DOWN_ENTITIES = ("patient", "program")
START = "0:0"
MAX_LIMIT = 1000  # rows per page; a page is one SQLite transaction on the kiosk, so keep it short
DEFAULT_LIMIT = 200
_CURSOR = re.compile(r"(\d{1,20}):(\d{1,19})")
_PRESCRIPTIONS = uuid.UUID("6d1f3c1e-52a4-4b8e-9a57-0c7e3a1e8f10")  # names prescription ids a tool left out
_PATIENT_KEYS = {"id", "code", "name", "birth_year", "notes", "archived", "created_at"}
_PROGRAM_KEYS = {"id", "patient_id", "name", "prescriptions", "created_by", "active", "notes", "created_at"}
_RX_KEYS = {"id", "drill", "params", "repetitions", "position", "program_id"}


def parse_cursor(text: str | None) -> tuple[int, int]:
    """(xid, n) of a cursor; PayloadError for anything else."""
    match = _CURSOR.fullmatch(text or START)
    if not match or int(match.group(1)) >= 2**64 or int(match.group(2)) >= 2**63:
        raise PayloadError(f"cursor {text!r} is not <xid>:<n> as the server gave it")
    return int(match.group(1)), int(match.group(2))


def format_cursor(xid: int, n: int) -> str:
    return f"{xid}:{n}"


def parse_limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise PayloadError(f"limit {text!r}: a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def prescription_id(program_id: str, position: int) -> str:
    """The id of a prescription a tool sent without one: the same on every kiosk and every re-send."""
    return str(uuid.uuid5(_PRESCRIPTIONS, f"{program_id}/{position}"))


def check_down_row(entity: str, row_id: str, data: dict, *, now: dt.datetime | None = None) -> dict:
    """A patient or program as every kiosk will store it (defaults filled in); PayloadError says what is wrong.

    ``now`` (the server's clock) fills a missing ``created_at``; the kiosk's clock is never used.
    """
    if entity not in DOWN_ENTITIES:
        raise PayloadError(f"entity {entity!r} does not go down to kiosks: only {', '.join(DOWN_ENTITIES)}")
    if not isinstance(data, dict):
        raise PayloadError(f"{entity} {row_id}: the row must be a JSON object")
    if data.get("id", row_id) != row_id:
        raise PayloadError(f'{entity} {row_id}: "id" {data["id"]!r} is not the row\'s id')
    created = data.get("created_at") or _stamp(now or dt.datetime.now(dt.UTC))
    if not isinstance(created, str):
        raise PayloadError(f'{entity} {row_id}: "created_at" must be an ISO 8601 text')
    check = _patient if entity == "patient" else _program
    return check(row_id, {**data, "id": row_id, "created_at": created})


def _patient(row_id: str, data: dict) -> dict:
    _only(data, _PATIENT_KEYS, f"patient {row_id}")
    code = data.get("code")
    if not isinstance(code, str) or not code.strip() or code != code.strip():
        raise PayloadError(f'patient {row_id}: "code" must be a non-empty text without surrounding spaces')
    year = data.get("birth_year")
    if year is not None and (type(year) is not int or not 1900 <= year <= 2100):
        raise PayloadError(f'patient {row_id}: "birth_year" {year!r} is not a year from 1900 to 2100')
    out = {"id": row_id, "code": code, "notes": _text(data, "notes", row_id), "archived": _bool(data, "archived", False),
           "birth_year": year, "created_at": data["created_at"]}
    if "name" in data:  # a pseudonymous server may carry no name: the kiosk then keeps its own
        if data["name"] is not None and not isinstance(data["name"], str):
            raise PayloadError(f'patient {row_id}: "name" must be a text or null')
        out["name"] = data["name"]
    return out


def _program(row_id: str, data: dict) -> dict:
    _only(data, _PROGRAM_KEYS, f"program {row_id}")
    patient_id = data.get("patient_id")
    try:
        patient_id = str(uuid.UUID(str(patient_id)))
    except ValueError:
        raise PayloadError(f'program {row_id}: "patient_id" {patient_id!r} is not a patient\'s UUID') from None
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PayloadError(f'program {row_id}: "name" must be a non-empty text')
    given = data.get("prescriptions")
    if not isinstance(given, list) or not given:
        raise PayloadError(f'program {row_id}: "prescriptions" must be a list of at least one drill')
    prescriptions = []
    for i, rx in enumerate(given):
        where = f"program {row_id}, prescription {i + 1}"
        if not isinstance(rx, dict):
            raise PayloadError(f"{where}: must be an object with drill, params, repetitions")
        _only(rx, _RX_KEYS, where)
        if rx.get("position", i) != i or rx.get("program_id", row_id) != row_id:
            raise PayloadError(f"{where}: position and program_id must match its place in this program")
        reps = rx.get("repetitions", 1)
        if not isinstance(rx.get("drill"), str) or not rx["drill"] or type(reps) is not int or not 1 <= reps <= 10:
            raise PayloadError(f"{where}: needs a drill name and repetitions from 1 to 10")
        if not isinstance(rx.get("params", {}), dict):
            raise PayloadError(f'{where}: "params" must be an object')
        prescriptions.append({"id": str(rx.get("id") or prescription_id(row_id, i)), "drill": rx["drill"],
                              "params": rx.get("params", {}), "repetitions": reps, "position": i,
                              "program_id": row_id})
    created_by = data.get("created_by")
    if created_by is not None and not isinstance(created_by, str):
        raise PayloadError(f'program {row_id}: "created_by" must be a user id or null')
    return {"id": row_id, "patient_id": patient_id, "name": name, "prescriptions": prescriptions,
            "created_by": created_by, "active": _bool(data, "active", True), "notes": _text(data, "notes", row_id),
            "created_at": data["created_at"]}


def _only(data: dict, allowed: set, where: str) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise PayloadError(f"{where}: unknown field(s) {', '.join(extra)} (allowed: {', '.join(sorted(allowed))})")


def _bool(data: dict, key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise PayloadError(f'"{key}" must be true or false, not {value!r}')
    return value


def _text(data: dict, key: str, row_id: str) -> str:
    value = data.get(key) or ""
    if not isinstance(value, str):
        raise PayloadError(f'{row_id}: "{key}" must be a text')
    return value


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
