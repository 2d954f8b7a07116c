"""`gaitkiosk db check|backup --out FILE|restore FILE|prune`: the technician's database tools."""

from __future__ import annotations

from gaitkiosk.commands.sessions import common_options
from gaitkiosk.config import ALLOWED

HELP = "check, back up, restore or prune the kiosk database (docs/store.md)"

PRUNE_DAYS = ALLOWED["store.prune_after_days"]  # --older-than-days allows what the config key does


def add_arguments(parser) -> None:
    # No action: the harmless one (check).
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    parser.set_defaults(action="check", deep=False)
    c = sub.add_parser("check", help="integrity, size, free disk, oldest unsynced session")
    common_options(c)
    c.add_argument("--deep", action="store_true",
                   help="also decode every recording chunk and verify its checksum (slower)")
    b = sub.add_parser("backup", help="online copy of the database (safe while the kiosk runs)")
    common_options(b)
    b.add_argument("--out", metavar="FILE", required=True, help="new file to write (never overwritten)")
    r = sub.add_parser("restore", help="replace the database with a backup (the current one is kept aside)")
    common_options(r)
    r.add_argument("file", metavar="FILE", help="a backup made with `gaitkiosk db backup`")
    p = sub.add_parser("prune", help="free space: drop raw frames already synced upstream")
    common_options(p)
    p.add_argument("--older-than-days", type=PRUNE_DAYS, metavar="DAYS",
                   help="age limit (default: store.prune_after_days)")
    p.add_argument("--dry-run", action="store_true", help="only say what would be pruned")


def run(args, ctx) -> int:
    from store import db as dbmod

    path = dbmod.database_path(ctx.data_dir)
    return {"check": _check, "backup": _backup, "restore": _restore, "prune": _prune}[args.action](path, args, ctx)


def _check(path, args, ctx) -> int:
    import os

    from store import migrations, open_store
    from store.api import store_settings
    from store.retention import MB, fs_free_bytes, reusable_bytes

    with open_store(path, settings=store_settings(ctx.config), create=False) as st:
        problems = [r[0] for r in st.db.execute("PRAGMA integrity_check")]
        ok = problems == ["ok"]
        size = sum(os.path.getsize(f"{path}{s}") for s in ("", "-wal") if os.path.exists(f"{path}{s}"))
        count = st.db.execute("SELECT status, count(*) FROM sessions GROUP BY status").fetchall()
        oldest = st.sessions.oldest_unsynced()
        data = {
            "database": str(path), "integrity": "ok" if ok else problems[:20],
            "schema_version": migrations.schema_version(st.db), "schema_latest": len(migrations.NAMES),
            "size_bytes": size, "reusable_bytes": reusable_bytes(st.db), "free_disk_bytes": fs_free_bytes(path),
            "min_free_bytes": int(st.settings["min_free_mb"] * MB),
            "sessions": dict(count), "recovered_now": st.recovered,
            "oldest_unsynced_session": None if oldest is None else {"id": oldest.id, "started_at": oldest.started_at},
            "outbox_pending": st.outbox.pending_count(),
            "recordings_pruned": st.db.execute("SELECT count(*) FROM recordings WHERE pruned_at IS NOT NULL").fetchone()[0],
            "sync": _sync_status(st.db, ctx.data_dir),
        }
        damaged = st.recordings.verify_all() if args.deep else []
        if args.deep:
            data["damaged_chunks"] = damaged
    low = data["free_disk_bytes"] + data["reusable_bytes"] < data["min_free_bytes"]
    text = "\n".join([
        f"database      {path}",
        f"integrity     {'ok' if ok else 'FAILED: ' + '; '.join(problems[:3])}",
        f"schema        version {data['schema_version']} of {data['schema_latest']}",
        f"size          {size / MB:.1f} MB ({data['reusable_bytes'] / MB:.1f} MB reusable inside)",
        f"free disk     {data['free_disk_bytes'] / MB:.0f} MB" + ("  LOW: new recordings are refused" if low else ""),
        "sessions      " + (", ".join(f"{n} {s}" for s, n in sorted(data["sessions"].items())) or "none"),
        "unsynced      " + (f"oldest is session {oldest.id[:8]} from {_local(oldest.started_at)}" if oldest
                             else "none (everything reached the server)"),
        f"outbox        {data['outbox_pending']} item(s) waiting to upload",
    ] + _sync_lines(data["sync"]) + ([f"chunks        {'all recording chunks verified' if not damaged else f'{len(damaged)} DAMAGED'}"]
         if args.deep else [])
      + [f"  session {d['session_id'][:8]} recording {d['recording_id'][:8]} chunk {d['chunk']}: {d['error']}"
         for d in damaged[:20]])
    ctx.emit(data, text)
    return 0 if ok and not damaged else 1


def _sync_status(db, data_dir) -> dict | str:
    """The sync worker's status (docs/sync.md), or why it cannot be read (httpx not installed)."""
    try:
        from sync import status
    except ImportError as exc:
        return f"not available: {exc}"
    return status.report(db, data_dir)


def _sync_lines(found) -> list[str]:
    if isinstance(found, str):
        return [f"sync          {found}"]
    from sync import status

    return ["sync:"] + [f"  {line}" for line in status.lines(found)]


def _local(stamp: str) -> str:
    from store.rows import parse_time

    return parse_time(stamp).astimezone().strftime("%Y-%m-%d %H:%M")


def _backup(path, args, ctx) -> int:
    from store.backup import backup

    info = backup(path, args.out)
    audited = _audit_backup(path, info, ctx)
    ctx.emit({**info.__dict__, "audited": audited},
             f"backed up {info.sessions} sessions (schema v{info.schema_version}, "
             f"{info.bytes / 1024 / 1024:.1f} MB) to {info.path}"
             + ("" if audited else " (not recorded in the audit log: the database cannot be written now)"))
    return 0


def _audit_backup(path, info, ctx) -> bool:
    """A backup is a full copy of every record: it goes in the audit log (who, where, how much).

    The copy itself needs no write, so it also works from a read-only card; then the
    audit entry cannot be written and the output says so.
    """
    import getpass

    from store import open_store
    from store.api import store_settings
    from store.errors import StoreError

    try:
        with open_store(path, settings=store_settings(ctx.config), create=False) as st:
            st.audit.log("db.backup", subject=info.path, details={"bytes": info.bytes, "sessions": info.sessions,
                                                                  "schema_version": info.schema_version,
                                                                  "os_user": getpass.getuser()})
        return True
    except StoreError:
        return False


def _restore(path, args, ctx) -> int:
    from store.backup import restore

    info = restore(path, args.file)
    kept = ", ".join(info.moved_aside[:1]) or "nothing (there was no database)"
    ctx.emit(info.__dict__, f"restored {info.sessions} sessions from {info.restored_from} "
                            f"(schema now v{info.schema_version}); previous database kept as {kept}")
    return 0


def _prune(path, args, ctx) -> int:
    from store import open_store
    from store.api import store_settings
    from store.retention import prune_synced

    with open_store(path, settings=store_settings(ctx.config), create=False) as st:
        days = args.older_than_days if args.older_than_days is not None else st.settings["prune_after_days"]
        result = prune_synced(st.db, older_than_days=days, dry_run=args.dry_run)
        if not args.dry_run and result.recordings:
            st.audit.log("db.prune", details={**result.__dict__, "older_than_days": days})
    verb = "would prune" if args.dry_run else "pruned"
    ctx.emit({**result.__dict__, "dry_run": args.dry_run, "older_than_days": days},
             f"{verb} raw frames of {result.recordings} synced recording(s) older than {days:g} days "
             f"({result.bytes / 1024 / 1024:.1f} MB); sessions, results and reports are kept")
    return 0
