"""``gaitkiosk selftest``: can this installed version run the kiosk here? (install, update, rollback)

Checks, each one line: the package and every command import (a broken or partly
copied install fails here), the compiled kernels, the config, the database
(readable by this version: a database migrated by a newer version is refused,
an older one is fine, the kiosk migrates it at start), and with ``--sensors``
each configured sensor answers. It never writes to the database. Exit 0 when
nothing failed (warnings allowed); the updater runs it before switching to a
new version and after, and to decide whether a rollback must restore the
pre-update backup (docs/install.md).
"""

from __future__ import annotations

HELP = "check that this installed version can run here (imports, kernels, config, database; --sensors)"


def add_arguments(parser) -> None:
    parser.add_argument("--sensors", action="store_true",
                        help="also ask each configured sensor for its HELLO (a few seconds each)")


def run(args, ctx) -> int:
    import importlib
    import platform

    from gaitkiosk import __version__
    from gaitkiosk.errors import KioskError

    results: list[dict] = []

    def note(name: str, level: str, text: str) -> None:
        results.append({"check": name, "level": level, "text": text})

    note("version", "ok", f"gaitkiosk {__version__}, Python {platform.python_version()} on {platform.machine()}")
    failed_imports = []
    for module in ("gaitkiosk.runtime", "gaitkiosk.visit", "gaitkiosk.watchdog", "ui.app", "ui.screens",
                   "store", "sync", "drills.registry", "kernels", "device.codec", "calibration"):
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - any import failure is the finding
            failed_imports.append(f"{module}: {type(exc).__name__}: {exc}")
    if failed_imports:
        note("imports", "fail", "; ".join(failed_imports))
    else:
        note("imports", "ok", "every part imports")
    if not failed_imports:
        import kernels
        from device import codec

        impl = {"kernels": kernels.IMPLEMENTATION, "codec": codec.IMPLEMENTATION}
        slow = [k for k, v in impl.items() if v != "compiled"]
        note("kernels", "warning" if slow else "ok",
             f"numpy reference for {', '.join(slow)} (slower: rebuild the release)" if slow else "compiled")
    note("config", "ok", "read and valid" + (f" ({args.config})" if args.config else " (defaults or /etc/gaitkiosk/config.toml)"))
    _database(ctx, note)
    if args.sensors:
        _sensors(ctx, note)
    failed = [r for r in results if r["level"] == "fail"]
    text = "\n".join(f"{r['level']:<8} {r['check']:<9} {r['text']}" for r in results)
    ctx.emit({"version": __version__, "ok": not failed, "checks": results}, text)
    if failed:
        raise KioskError(f"self-test failed: {failed[0]['check']}: {failed[0]['text']}")
    return 0


def _database(ctx, note) -> None:
    from store import db as dbmod
    from store import migrations
    from store.errors import StoreError

    path = dbmod.database_path(ctx.data_dir)
    if not dbmod.exists(path):
        note("database", "ok", f"none yet at {path} (the kiosk creates it at its first start)")
        return
    try:
        db = dbmod.connect(path, read_only=True)
    except StoreError as exc:
        note("database", "fail", str(exc))
        return
    try:
        have, latest = migrations.schema_version(db), len(migrations.NAMES)
    finally:
        db.conn.close()
    later = "" if have == latest else f"; the kiosk migrates it to {latest} at start"
    note("database", "ok", f"{path}: schema {have}{later}")


def _sensors(ctx, note) -> None:
    from device.errors import DeviceError
    from device.reader import probe, reader_options
    from gaitkiosk.sensors import config_urls

    for url in config_urls(ctx.config):
        try:
            st = probe(url, timeout=2.0, **reader_options(ctx.config["devices"]))
        except (DeviceError, OSError) as exc:
            note("sensor", "warning", f"{url}: {exc}")
            continue
        h = st.hello
        if h is None:
            note("sensor", "warning", f"{url}: no answer ({st.reason})")
        else:
            note("sensor", "ok", f"{url}: {getattr(h.kind, 'name', h.kind)} {h.serial}, firmware {h.firmware}")
