"""``gaitkiosk update check|fetch|apply|rollback|status|recover``: signed updates with rollback (docs/install.md).

    gaitkiosk update check FILE      is this bundle signed by a trusted key, whole, and newer?
    gaitkiosk update check           which release the sync server offers this unit (and what is staged)
    gaitkiosk update fetch           download the offered release (resumably), check it, stage it
    gaitkiosk update apply FILE      install it beside the running version, switch, check, or roll back
    gaitkiosk update apply --usb     the newest bundle on a mounted USB stick ([reports] usb_root)
    gaitkiosk update apply --server  the release staged from the sync server (fetched first if needed)
    gaitkiosk update rollback        back to the previous version (and its database, if it must)
    gaitkiosk update status          installed versions, current, previous, the last update
    gaitkiosk update recover         finish or undo an update a power cut interrupted

``--root DIR`` runs on a tree below DIR instead of / (tests, preparing an SD card image).
"""

from __future__ import annotations

from gaitkiosk import checks
from gaitkiosk.commands.sessions import common_options

HELP = "check, apply or roll back a signed release bundle; show the installed versions"


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    parser.set_defaults(action="status")
    for name, text in (("check", "check a bundle without installing it"),
                       ("fetch", "download the release the sync server offers, check it and stage it"),
                       ("apply", "install a bundle, switch to it, roll back if it is not healthy"),
                       ("rollback", "go back to the previous installed version"),
                       ("status", "what is installed and what the last update did"),
                       ("recover", "finish or undo an interrupted update")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--root", default="/", metavar="DIR", help="the unit's root directory (default /)")
        p.add_argument("--service", choices=("yes", "no"), default=None,
                       help="stop/start the kiosk service and wait for its health mark (default: yes when "
                            "systemd runs and --root is /)")
        p.add_argument("--health-timeout", type=checks.positive(most=3600, unit="seconds"), default=180.0,
                       help="seconds the new version gets to feed its watchdog (default 180)")
        common_options(p)
        if name in ("check", "apply"):
            p.add_argument("file", nargs="?", metavar="FILE", help="the release bundle (gaitkiosk-X.Y.Z.tar)")
            p.add_argument("--usb", action="store_true", help="take the newest bundle from a mounted USB stick")
            p.add_argument("--server", action="store_true",
                           help="the release the sync server offers (check: the default without FILE or --usb)")


def _bundle_file(args, ctx):
    from pathlib import Path

    from gaitkiosk.errors import UsageError

    if sum(map(bool, (args.file, args.usb, args.server))) > 1:
        raise UsageError("give one of FILE, --usb or --server")
    if args.file:
        return Path(args.file)
    if not args.usb:
        raise UsageError(f"update {args.action}: give the bundle FILE, --usb or --server")
    from gaitkiosk.update.usb import newest_bundle

    return newest_bundle(ctx.config["reports"]["usb_root"])


def run(args, ctx) -> int:
    from pathlib import Path

    from gaitkiosk.update.layout import Layout
    from gaitkiosk.update.transaction import Service, Updater

    layout = Layout(Path(args.root))
    forced = None if args.service is None else args.service == "yes"
    # Below another root, the unit's own data directory and config (install.sh puts them there).
    below = layout.root != Path("/")
    data_dir = layout.data_dir if below and not getattr(args, "data_dir", None) else ctx.data_dir
    config = getattr(args, "config", None)
    if config is None and below and (layout.root / "etc/gaitkiosk/config.toml").is_file():
        config = str(layout.root / "etc/gaitkiosk/config.toml")
    updater = Updater(layout, service=Service.detect(layout, forced), data_dir=data_dir,
                      config_file=config, health_timeout_s=args.health_timeout)
    if args.action == "status":
        from gaitkiosk.update.fetch import staged

        st = updater.status()
        found = staged(data_dir)
        st["staged"] = found.name[len("gaitkiosk-"):-len(".tar")] if found else None
        u = st["update"]
        last = "none" if not u else f"{u['from']} -> {u['to']}: {u.get('result') or 'INTERRUPTED at ' + str(u['state'])}"
        ctx.emit(st, f"current:   {st['current'] or '(none)'}\nprevious:  {st['previous'] or '(none)'}\n"
                     f"installed: {', '.join(st['installed']) or '(none)'}\n"
                     + (f"staged:    {st['staged']} (from the sync server: gaitkiosk update apply --server)\n"
                        if st["staged"] else "") + f"last update: {last}")
        return 0
    if args.action == "recover":
        done = updater.recover()
        ctx.emit(done, "nothing to recover" if done is None else f"{done['result']}: {done['to']} runs")
        return 0
    if args.action == "rollback":
        done = updater.rollback()
        ctx.emit(done, f"rolled back from {done['from']} to {done['to']}")
        return 0
    if args.action == "fetch" or (args.action == "check" and not (args.file or args.usb)) or \
            (args.action == "apply" and args.server and not (args.file or args.usb)):
        return _from_server(args, ctx, updater, data_dir)
    path = _bundle_file(args, ctx)
    if args.action == "check":
        b = updater.check(path)
        ctx.emit({"file": str(path), "version": b.version, "signed_by": b.signed_by, "current": updater.current()},
                 f"{path.name}: version {b.version}, signed by key {b.signed_by}; accepted "
                 f"(running now: {updater.current() or 'nothing installed yet'})")
        return 0
    done = updater.apply(path)
    ctx.emit(done, f"updated from {done['from']} to {done['to']}"
                   + (f" (database backed up to {done['backup']})" if done["backup"] else ""))
    return 0


def _from_server(args, ctx, updater, data_dir) -> int:
    """check / fetch / apply --server: the release the clinic's sync server offers (docs/install.md)."""
    from pathlib import Path

    from gaitkiosk.update import fetch
    from sync.pacing import TokenBucket
    from sync.worker import sync_settings

    settings = sync_settings(ctx.config)
    running = updater.current()
    with fetch.client(data_dir, running or "", timeout=settings["timeout_s"]) as http:
        if args.action == "check":
            return _check_server(ctx, updater, data_dir, http, running)
        bucket = TokenBucket(settings["bandwidth_bytes_per_s"])  # the clinic's network is shared
        try:
            done = fetch.fetch(updater, data_dir, http, throttle=bucket.take)
        except fetch.ServerUnreachable as exc:
            staged = fetch.staged(data_dir)
            if args.action != "apply" or staged is None:
                raise
            updater.say(f"update: {exc}; applying the release staged before, {staged.name}")
            done = {"result": "staged", "file": str(staged)}
    if args.action == "fetch":
        if done["result"] == "up to date":
            text = f"up to date: running {done['running']}" + (f" ({done['reason']})" if done.get("reason") else "")
        else:
            how = (f"received {done['received'] / 1e6:.1f} MB" + (f", resumed from {done['resumed_from']} bytes"
                                                                   if done["resumed_from"] else "")
                   if done["result"] == "staged" else "already downloaded")
            text = (f"staged {done['offered']} ({how}; signed by key {done['signed_by']}): apply it with "
                    "`gaitkiosk update apply --server`")
        ctx.emit(done, text)
        return 0
    if done["result"] == "up to date":
        ctx.emit(done, f"up to date: running {done['running']}; nothing to apply")
        return 0
    applied = updater.apply(Path(done["file"]))
    Path(done["file"]).unlink(missing_ok=True)  # installed: versions/X.Y.Z holds it now
    ctx.emit(applied, f"updated from {applied['from']} to {applied['to']}"
                      + (f" (database backed up to {applied['backup']})" if applied["backup"] else ""))
    return 0


def _check_server(ctx, updater, data_dir, http, running) -> int:
    from gaitkiosk.update import fetch

    offer = fetch.ask(http, running)
    staged = fetch.staged(data_dir)
    doc = {"running": running, "offered": offer.version if offer else None, "bytes": offer.bytes if offer else None,
           "pinned": offer.pinned if offer else False, "staged": staged.name[len("gaitkiosk-"):-len(".tar")] if staged else None}
    if offer is None:
        text = f"the sync server offers no release; running {running or 'nothing installed yet'}"
        doc["state"] = "up to date"
    elif offer.version == running:
        text, doc["state"] = f"up to date: the sync server offers {offer.version}, which runs", "up to date"
    elif fetch.newer(offer, running):
        doc["state"] = "staged" if doc["staged"] == offer.version else "available"
        text = (f"update available: the sync server offers {offer.version} ({offer.bytes / 1e6:.1f} MB"
                + (", pinned for this clinic" if offer.pinned else "") + f"), running {running or 'nothing'}; "
                + ("staged: `gaitkiosk update apply --server`" if doc["state"] == "staged"
                   else "`gaitkiosk update fetch` downloads it"))
    else:
        doc["state"] = "older offered"
        text = (f"the sync server offers {offer.version}, older than the running {running}: it would be refused "
                "(downgrades are never installed)")
    ctx.emit(doc, text)
    return 0
