"""Small helpers shared by the repositories: ids, timestamps, JSON columns."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import sqlite3
import uuid
from typing import Any, TypeVar

from store.db import full_error
from store.errors import DiskFullError, InvalidRecordError, NotFoundError

T = TypeVar("T")


def new_id() -> str:
    """A random UUID (text): the key of anything that leaves the device."""
    return str(uuid.uuid4())


def utc_now() -> str:
    """Now as UTC ISO 8601 with microseconds and 'Z' (sorts correctly as text)."""
    return format_time(dt.datetime.now(dt.UTC))


def format_time(when: dt.datetime) -> str:
    if when.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def dumps(value: Any) -> str:
    # allow_nan=False: a NaN in a report must be None (JSON null), never invalid JSON upstream
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def to_row(record: Any, json_fields: tuple[str, ...] = (), bool_fields: tuple[str, ...] = ()) -> dict:
    row = dataclasses.asdict(record)
    for name in json_fields:
        if row[name] is not None:
            row[name] = dumps(row[name])
    for name in bool_fields:
        row[name] = int(bool(row[name]))
    return row


def from_row(cls: type[T], row: dict, json_fields: tuple[str, ...] = (), bool_fields: tuple[str, ...] = ()) -> T:
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in row.items() if k in names}
    for name in json_fields:
        values[name] = loads(values[name])
    for name in bool_fields:
        values[name] = bool(values[name])
    return cls(**values)


def insert(db, table: str, row: dict, what: str) -> None:
    """Insert one row in its own durable transaction; constraint breaks become InvalidRecordError."""
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    try:
        with atomic(db, what):
            db.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(row.values()))
    except sqlite3.IntegrityError as exc:
        raise InvalidRecordError(f"cannot store {what}: {exc}") from None
    except sqlite3.OperationalError as exc:
        raise_if_full(exc, what)
        raise


def update(db, table: str, key: str, row: dict, what: str) -> None:
    sets = ", ".join(f"{c} = ?" for c in row if c != key)
    try:
        with atomic(db, what):
            cur = db.execute(f"UPDATE {table} SET {sets} WHERE {key} = ?",
                             [v for c, v in row.items() if c != key] + [row[key]])
    except sqlite3.IntegrityError as exc:
        raise InvalidRecordError(f"cannot store {what}: {exc}") from None
    except sqlite3.OperationalError as exc:
        raise_if_full(exc, what)
        raise
    if cur.rowcount == 0:
        raise NotFoundError(f"no {what} with id {row[key]}")


def fetch(db, table: str, key: str, value: Any, what: str) -> dict:
    cur = db.execute(f"SELECT * FROM {table} WHERE {key} = ?", [value])
    row = cur.fetchone()
    if row is None:
        raise NotFoundError(f"no {what} with id {value}")
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def fetch_all(db, sql: str, params: list | tuple = ()) -> list[dict]:
    cur = db.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def raise_if_full(exc: BaseException, what: str) -> None:
    """Turn SQLite's 'database or disk is full' into a DiskFullError that says what to do."""
    if full_error(exc):
        raise DiskFullError(f"cannot store {what}: the disk is full ({exc}); nothing stored earlier is affected. "
                            "Free space (sync, then `gaitkiosk db prune`)") from None


@contextlib.contextmanager
def atomic(db, what: str = "the change"):
    """One transaction that holds the write lock from its start; 'disk is full' becomes a DiskFullError.

    The outermost block begins with BEGIN IMMEDIATE, not a plain (deferred) BEGIN: a deferred
    transaction that reads and then writes gets SQLITE_BUSY at once, whatever the busy timeout,
    when another connection (the recording kiosk, every second) commits between its read and its
    write. Taking the lock first makes it wait its busy timeout instead, and keeps its reads
    current (tests/test_store_write_lock.py). A nested block is a savepoint of the outer one.
    """
    try:
        if db.conn.in_transaction:
            with db.atomic():  # sqlite-utils makes this a savepoint
                yield db
            return
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.conn.execute("COMMIT")
        except BaseException:
            if db.conn.in_transaction:  # an error may already have ended it
                db.conn.execute("ROLLBACK")
            raise
    except sqlite3.OperationalError as exc:
        raise_if_full(exc, what)
        raise
