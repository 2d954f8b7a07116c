"""``gaitkiosk sync``: the kiosk's side of the clinic server (docs/sync.md).

    gaitkiosk sync enrol URL CODE [--ca-file F | --pin SHA256]   join the clinic's server once
    gaitkiosk sync once          send everything queued, then stop (exit 1 on a failure)
    gaitkiosk sync run           keep syncing until SIGTERM (the systemd unit, or instead of the kiosk's thread)
    gaitkiosk sync status        queue by entity, oldest unsynced, last error and success
"""

from __future__ import annotations

HELP = "sync with the clinic's server: enrol, once, run, status (docs/sync.md)"


def add_arguments(parser) -> None:
    from gaitkiosk.commands.sessions import common_options

    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    parser.set_defaults(action="status")
    e = sub.add_parser("enrol", help="enrol this kiosk with a one-time code from the server")
    common_options(e)
    e.add_argument("url", metavar="URL", help="the server, e.g. https://server.clinic:8443")
    e.add_argument("code", metavar="CODE", help="from `gaitkiosk server enrol-code --clinic C`")
    how = e.add_mutually_exclusive_group()
    how.add_argument("--ca-file", metavar="F", help="the CA certificate (PEM) that signed the server's certificate")
    how.add_argument("--pin", metavar="SHA256",
                     help="SHA-256 of the server certificate's DER (openssl x509 -outform der | sha256sum)")
    e.add_argument("--name", help="this kiosk's name on the server (default: the host name)")
    for name, text in (("once", "send everything queued, then stop"),
                       ("run", "keep syncing until stopped (SIGTERM)"),
                       ("status", "queue, oldest unsynced, last error and success")):
        common_options(sub.add_parser(name, help=text))


def run(args, ctx) -> int:
    return {"enrol": _enrol, "once": _once, "run": _run, "status": _status}[args.action](args, ctx)


def _enrol(args, ctx) -> int:
    from sync import enrolment

    before = enrolment.load(ctx.data_dir)
    done = enrolment.enrol(ctx.data_dir, args.url, args.code, ca_file=args.ca_file, pin=args.pin, name=args.name)
    _audit(ctx, "sync.enrol", done.kiosk_id, {"server": done.url, "clinic": done.clinic,
                                              "replaces": before.kiosk_id if before else None})
    ctx.emit({"kiosk_id": done.kiosk_id, "clinic": done.clinic, "server": done.url},
             f"enrolled as kiosk {done.kiosk_id} of clinic {done.clinic} on {done.url}"
             + (f" (replaces kiosk {before.kiosk_id})" if before else ""))
    return 0


def _audit(ctx, action: str, subject: str, details: dict) -> None:
    """The enrolment goes in the audit log (and so upstream) when the kiosk has a database."""
    from store import db as dbmod
    from store import open_store
    from store.api import store_settings

    path = dbmod.database_path(ctx.data_dir)
    if dbmod.exists(path):
        with open_store(path, settings=store_settings(ctx.config), create=False) as st:
            st.audit.log(action, subject=subject, details=details)


def _once(args, ctx) -> int:
    from sync.worker import Worker

    with Worker(ctx.data_dir, ctx.config.get("sync"), migrate=True) as worker:
        done = worker.once()
    by = ", ".join(f"{n} {e}" for e, n in sorted(done.by_entity.items())) or "nothing new"
    text = f"sent {done.sent} row(s) ({by})"
    if done.conflicts or done.refused:
        text += f"; {done.conflicts} conflict(s), {done.refused} refused (see `gaitkiosk sync status`)"
    if done.recordings_waiting:
        text += f"; {done.recordings_waiting} recording(s) stay queued (recordings upload not built yet)"
    ctx.emit(done.__dict__, text)
    return 0


def _run(args, ctx) -> int:
    import signal
    import threading

    from sync.worker import Worker

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with Worker(ctx.data_dir, ctx.config.get("sync"), migrate=True) as worker:
        worker.run(stop)
    return 0


def _status(args, ctx) -> int:
    from store import db as dbmod
    from sync import status

    db = dbmod.connect(dbmod.database_path(ctx.data_dir), read_only=True)
    try:
        found = status.report(db, ctx.data_dir)
    finally:
        db.close()
    ctx.emit(found, "\n".join(status.lines(found)))
    return 0
