"""The sync status a technician reads (`gaitkiosk sync status`, `gaitkiosk db check`).

Read-only: the outbox through the caller's connection, the enrolment and the worker's last
outcome from their files. Nothing here writes or waits for the kiosk.
"""

from __future__ import annotations

from pathlib import Path

from sync import enrolment as enrolmod
from sync import state


def report(db, data_dir: Path) -> dict:
    enrolment = enrolmod.load(data_dir)
    last = state.read(data_dir)
    queued = {e: n for e, n in db.execute(
        "SELECT entity, count(*) FROM outbox WHERE sent_at IS NULL AND refused_at IS NULL GROUP BY entity")}
    oldest = db.execute("SELECT seq, entity, created_at FROM outbox WHERE sent_at IS NULL AND refused_at IS NULL "
                        "ORDER BY seq LIMIT 1").fetchone()
    refused = [{"seq": r[0], "entity": r[1], "id": r[2], "error": r[3]} for r in db.execute(
        "SELECT seq, entity, entity_id, last_error FROM outbox WHERE refused_at IS NOT NULL AND sent_at IS NULL "
        "ORDER BY seq LIMIT 20")]
    refused_count = db.execute("SELECT count(*) FROM outbox WHERE refused_at IS NOT NULL AND sent_at IS NULL").fetchone()[0]
    conflicts = db.execute("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL AND last_error LIKE 'HTTP 409%'").fetchone()[0]
    from sync import worker  # the hooks' state: what is built

    return {
        "enrolled": enrolment is not None,
        "server": enrolment.url if enrolment else None,
        "kiosk_id": enrolment.kiosk_id if enrolment else None,
        "clinic": enrolment.clinic if enrolment else None,
        "queued": sum(queued.values()),
        "queued_by_entity": dict(sorted(queued.items())),
        "oldest_unsynced": None if oldest is None else {"seq": oldest[0], "entity": oldest[1], "queued_at": oldest[2]},
        "refused": refused_count,
        "refused_items": refused,
        "conflicts": conflicts,
        "last_success_at": last.get("last_success_at"),
        "last_attempt_at": last.get("last_attempt_at"),
        "last_error": last.get("last_error") or "",
        "last_error_at": last.get("last_error_at"),
        "next_try_at": last.get("next_try_at"),
        "recordings_upload": "built" if worker.upload_recording is not None else
                             "not built yet: recordings stay queued (issue 12)",
    }


def lines(s: dict) -> list[str]:
    """The report for a person, one fact per line."""
    if not s["enrolled"]:
        head = ["server        not enrolled (gaitkiosk sync enrol URL CODE)"]
    else:
        head = [f"server        {s['server']}", f"kiosk         {s['kiosk_id']} (clinic {s['clinic']})"]
    by = ", ".join(f"{n} {e}" for e, n in s["queued_by_entity"].items()) or "nothing"
    out = head + [f"queued        {s['queued']} ({by})"]
    if s["oldest_unsynced"]:
        o = s["oldest_unsynced"]
        out.append(f"oldest        {o['entity']} queued {o['queued_at']} (seq {o['seq']})")
    if s["queued_by_entity"].get("recording") and "not built" in s["recordings_upload"]:
        out.append(f"recordings    {s['recordings_upload']}")
    out.append(f"last success  {s['last_success_at'] or 'never'}")
    if s["last_error"]:
        out.append(f"last error    {s['last_error']} ({s['last_error_at']})")
        if s["next_try_at"]:
            out.append(f"next try      {s['next_try_at']}")
    if s["refused"]:
        out.append(f"refused       {s['refused']} item(s) the server refused (not resent):")
        out += [f"  {r['entity']} {r['id']}: {r['error']}" for r in s["refused_items"][:5]]
    if s["conflicts"]:
        out.append(f"conflicts     {s['conflicts']} row(s) the server holds with another body (kept there for review)")
    return out
