"""The changes feed's database work (docs/sync.md "Down"): write a clinic's rows, read them by watermark.

``clinic_rows`` holds the clinic's current version of every patient and program; its trigger
stamps each change with the writing transaction's id (``xid8``). A read returns the rows with
``cursor < (xid, n)`` and ``xid < xmin`` of its own snapshot: every transaction below that xmin
has ended, so no commit can ever land behind a cursor the server handed out, however late it
commits. Async (psycopg 3): the app calls it on its pool, the command line through asyncio.run.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from sync.changes import DOWN_ENTITIES, check_down_row, format_cursor, parse_cursor
from sync.errors import PayloadError

log = logging.getLogger(__name__)

_UPSERT = (
    "INSERT INTO clinic_rows (entity, id, clinic_id, body, source, kiosk_id) VALUES (%s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (entity, id) DO UPDATE SET body = EXCLUDED.body, source = EXCLUDED.source, kiosk_id = EXCLUDED.kiosk_id "
    "WHERE clinic_rows.clinic_id = EXCLUDED.clinic_id AND clinic_rows.body IS DISTINCT FROM EXCLUDED.body "
    "RETURNING n")
# A new active program replaces the patient's other active ones, as the kiosk's editor does
# (store.programs.Programs.replace): they stay, inactive, and go down again as such.
_DEACTIVATE = (
    "UPDATE clinic_rows SET body = jsonb_set(body, '{active}', 'false'), source = %s, kiosk_id = %s "
    "WHERE clinic_id = %s AND entity = 'program' AND body->>'patient_id' = %s AND id <> %s "
    "AND body->'active' = 'true'::jsonb")


class Refused(PayloadError):
    """A row another clinic owns, or a program whose patient is not this clinic's."""


async def put(conn, clinic: str, entity: str, row_id: str, data: dict, *, source: str,
              kiosk_id: str | None = None, seq: int | None = None, need_patient: bool = True) -> tuple[str, dict]:
    """Store one row of ``clinic`` for its kiosks, in the caller's transaction: ("stored"|"unchanged", row).

    ``need_patient``: a program's patient must already be the clinic's (a tool's put); a kiosk's
    upload is stored whatever its order, and the other kiosks wait for the patient.
    """
    row = check_down_row(entity, row_id, data, now=dt.datetime.now(dt.UTC))
    if entity == "program":
        owner = await (await conn.execute(
            "SELECT clinic_id FROM clinic_rows WHERE entity = 'patient' AND id = %s", [row["patient_id"]])).fetchone()
        if (owner is None and need_patient) or (owner is not None and owner[0] != clinic):
            raise Refused(f"program {row_id}: no patient {row['patient_id']} in clinic {clinic}; put the patient first")
    if entity == "program" and row["active"] and kiosk_id is not None and seq is not None:
        # Within one kiosk its own order (seq) decides, never arrival: a program saved before one
        # this kiosk already sent arrives as the history it is.
        later = await (await conn.execute(
            "SELECT 1 FROM clinic_rows c JOIN sync_rows s ON s.entity = 'program' AND s.id = c.id "
            "WHERE c.clinic_id = %s AND c.entity = 'program' AND c.body->>'patient_id' = %s AND c.id <> %s "
            "AND c.body->'active' = 'true'::jsonb AND s.kiosk_id = %s AND s.seq > %s LIMIT 1",
            [clinic, row["patient_id"], row_id, kiosk_id, seq])).fetchone()
        if later:
            row = {**row, "active": False}
    from psycopg.types.json import Jsonb

    done = await (await conn.execute(_UPSERT, [entity, row_id, clinic, Jsonb(row), source, kiosk_id])).fetchone()
    if done is None:
        stored = await (await conn.execute("SELECT clinic_id FROM clinic_rows WHERE entity = %s AND id = %s",
                                           [entity, row_id])).fetchone()
        if stored[0] != clinic:
            raise Refused(f"{entity} {row_id} belongs to another clinic")
        return "unchanged", row
    if entity == "program" and row["active"]:
        await conn.execute(_DEACTIVATE, [source, kiosk_id, clinic, row["patient_id"], row_id])
    return "stored", row


async def put_from_kiosk(conn, clinic: str, kiosk_id: str, entity: str, row_id: str, data: dict,
                         seq: int | None = None) -> None:
    """A patient or program a kiosk uploaded goes down to the clinic's kiosks (the sender's too: harmless).

    A body this kiosk software cannot read as a patient or program is kept in ``sync_rows`` as sent
    and logged; it does not go down (the upload itself is not refused for it).
    """
    if entity not in DOWN_ENTITIES:
        return
    try:
        await put(conn, clinic, entity, row_id, data, source="kiosk", kiosk_id=kiosk_id, seq=seq, need_patient=False)
    except PayloadError as exc:
        log.warning("%s %s from kiosk %s stored but not sent down: %s", entity, row_id, kiosk_id, exc)


async def read(conn, clinic: str, cursor: str | None, limit: int) -> dict:
    """One page of the feed after ``cursor``: {"rows": [...], "cursor": next, "more": bool}.

    ``conn`` must be in autocommit; the read runs in its own REPEATABLE READ transaction so the
    watermark and the rows come from one snapshot.
    """
    after = parse_cursor(cursor)
    async with conn.transaction():
        await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        xmin = int((await (await conn.execute(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text")).fetchone())[0])
        found = await (await conn.execute(
            "SELECT entity, id::text, body, xid::text, n, source, kiosk_id::text, changed_at FROM clinic_rows "
            "WHERE clinic_id = %s AND (xid, n) > (%s::text::xid8, %s) AND xid < %s::text::xid8 "
            "ORDER BY xid, n LIMIT %s",
            [clinic, str(after[0]), after[1], str(xmin), limit])).fetchall()
    rows = [{"entity": e, "id": i, "data": body, "source": source, "kiosk_id": kiosk, "changed_at": at.isoformat()}
            for e, i, body, _x, _n, source, kiosk, at in found]
    if len(found) == limit:
        nxt = (int(found[-1][3]), found[-1][4])
    else:  # everything below the watermark is seen; never step back
        nxt = max(after, (xmin, 0))
    return {"rows": rows, "cursor": format_cursor(*nxt), "more": len(found) == limit}


def dumps(answer: dict) -> str:
    return json.dumps(answer, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
