"""``gaitkiosk server``: the clinic's upstream server on PostgreSQL (docs/sync.md).

    gaitkiosk server --dsn postgresql://... [--host H --port P --certfile F --keyfile F]   run it
    gaitkiosk server enrol-code --clinic C [--hours 24]     a one-time code to enrol one kiosk
    gaitkiosk server kiosks [--clinic C]                    enrolled kiosks
    gaitkiosk server revoke KIOSK_ID                        the kiosk's token stops working
    gaitkiosk server put-row --clinic C ENTITY FILE.json    a patient or program for the clinic's kiosks
    gaitkiosk server clinic-token --clinic C --name TOOL    a token for a clinic tool (FHIR search)
    gaitkiosk server fhir-export --clinic C [--patient P] --out bundle.json   FHIR R4 Observations
    gaitkiosk server release publish BUNDLE [--keys DIR]   offer a signed release bundle to the kiosks
    gaitkiosk server release list                        releases, pins, how many kiosks run each
    gaitkiosk server release pin --clinic C VERSION|--none   keep a clinic's kiosks on one version
    gaitkiosk server release withdraw VERSION            stop offering a version

The DSN may also come from ``GAITKIOSK_SERVER_DSN`` (keeps a password out of ``ps``). Patient
data never travels over plain HTTP: without ``--certfile``/``--keyfile`` the server listens only
on a loopback address (behind a TLS proxy on the same machine, or for a test).
"""

from __future__ import annotations

import argparse
import os

HELP = "the clinic's sync server on PostgreSQL: run it, make enrolment codes, list and revoke kiosks"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _dsn_option(parser, default) -> None:
    parser.add_argument("--dsn", default=default, metavar="DSN",
                        help="PostgreSQL connection string (default: $GAITKIOSK_SERVER_DSN)")


def add_arguments(parser) -> None:
    from gaitkiosk.commands.sessions import common_options

    _dsn_option(parser, None)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8443, help="port to listen on (default 8443)")
    parser.add_argument("--certfile", help="the server's TLS certificate chain (PEM); needed off loopback")
    parser.add_argument("--keyfile", help="the certificate's private key (PEM)")
    parser.add_argument("--connections", type=int, default=10, help="PostgreSQL connections in the pool (default 10)")
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    parser.set_defaults(action="run")
    code = sub.add_parser("enrol-code", help="a one-time code that enrols one kiosk into a clinic")
    _dsn_option(code, argparse.SUPPRESS)
    common_options(code)
    code.add_argument("--clinic", required=True, help="the clinic's id (made on first use)")
    code.add_argument("--hours", type=float, default=24.0, help="hours the code stays valid (default 24)")
    ls = sub.add_parser("kiosks", help="enrolled kiosks: id, clinic, name, enrolled, revoked")
    _dsn_option(ls, argparse.SUPPRESS)
    common_options(ls)
    ls.add_argument("--clinic", help="only this clinic's kiosks")
    rv = sub.add_parser("revoke", help="revoke a kiosk's token (its data stays)")
    _dsn_option(rv, argparse.SUPPRESS)
    common_options(rv)
    rv.add_argument("kiosk_id", metavar="KIOSK_ID")
    pr = sub.add_parser("put-row", help="store a patient or program (JSON file, with its id) for the clinic's kiosks")
    _dsn_option(pr, argparse.SUPPRESS)
    common_options(pr)
    pr.add_argument("--clinic", required=True, help="the clinic whose kiosks get it")
    pr.add_argument("entity", choices=("patient", "program"))
    pr.add_argument("file", metavar="FILE.json", help='the row as JSON, with its "id" (a UUID); - reads stdin')
    ct = sub.add_parser("clinic-token", help="a token for a clinic tool of one clinic (FHIR search); shown once")
    _dsn_option(ct, argparse.SUPPRESS)
    common_options(ct)
    ct.add_argument("--clinic", required=True, help="the clinic whose data the tool may read")
    ct.add_argument("--name", required=True, help="which tool holds it (shown in the server's records)")
    fx = sub.add_parser("fhir-export", help="a FHIR R4 Bundle of the clinic's measures (Observations)")
    _dsn_option(fx, argparse.SUPPRESS)
    common_options(fx)
    fx.add_argument("--clinic", required=True)
    fx.add_argument("--patient", help="only this patient's (their pseudonymous code)")
    fx.add_argument("--out", required=True, metavar="bundle.json", help="the file to write (replaced whole)")
    rel = sub.add_parser("release", help="release bundles for the kiosks' updater: publish, list, pin, withdraw")
    _release_arguments(rel)


def _release_arguments(parser) -> None:
    from gaitkiosk.commands.sessions import common_options

    sub = parser.add_subparsers(dest="release_action", metavar="ACTION", required=True)
    pub = sub.add_parser("publish", help="check a signed bundle against the release keys and offer it")
    pub.add_argument("bundle", metavar="BUNDLE", help="gaitkiosk-X.Y.Z.tar (gaitkiosk release build)")
    pub.add_argument("--keys", default="/etc/gaitkiosk/keys", metavar="DIR",
                     help="the release public keys (*.pub) a bundle must be signed with (default /etc/gaitkiosk/keys)")
    sub.add_parser("list", help="published releases, clinics' pins, the versions kiosks run")
    pin = sub.add_parser("pin", help="keep a clinic's kiosks on one version (--none: the newest again)")
    pin.add_argument("--clinic", required=True)
    which = pin.add_mutually_exclusive_group(required=True)
    which.add_argument("version", nargs="?", metavar="VERSION")
    which.add_argument("--none", action="store_true", help="remove the clinic's pin")
    wd = sub.add_parser("withdraw", help="stop offering a version (kiosks that run it keep it)")
    wd.add_argument("version", metavar="VERSION")
    for p in (pub, sub.choices["list"], pin, wd):
        _dsn_option(p, argparse.SUPPRESS)
        common_options(p)


def run(args, ctx) -> int:
    from gaitkiosk.errors import UsageError
    from sync.server import admin

    dsn = args.dsn or os.environ.get("GAITKIOSK_SERVER_DSN")
    if not dsn:
        raise UsageError("no database: give --dsn postgresql://... or set GAITKIOSK_SERVER_DSN")
    if args.action == "enrol-code":
        code, expires = admin.enrol_code(dsn, args.clinic, args.hours)
        ctx.emit({"code": code, "clinic": args.clinic, "expires_at": expires.isoformat()},
                 f"{code}  (clinic {args.clinic}, one kiosk, valid until {expires.isoformat(timespec='minutes')})")
        return 0
    if args.action == "kiosks":
        found = admin.kiosks(dsn, args.clinic)
        lines = [f"{k['id']}  {k['clinic']:<16} {k['name']:<24} enrolled {k['enrolled_at']:%Y-%m-%d %H:%M}"
                 + f"  runs {k['version'] or '?':<8}"
                 + (f"  REVOKED {k['revoked_at']:%Y-%m-%d %H:%M}" if k["revoked_at"] else "") for k in found]
        ctx.emit(found, "\n".join(lines) or "no kiosks enrolled")
        return 0
    if args.action == "revoke":
        at = admin.revoke(dsn, args.kiosk_id)
        ctx.emit({"kiosk_id": args.kiosk_id, "revoked_at": at.isoformat()},
                 f"kiosk {args.kiosk_id}: token revoked ({at.isoformat(timespec='minutes')})")
        return 0
    if args.action == "put-row":
        return _put_row(args, ctx, dsn)
    if args.action == "clinic-token":
        token_id, token = admin.clinic_token(dsn, args.clinic, args.name)
        ctx.emit({"id": token_id, "clinic": args.clinic, "name": args.name, "token": token},
                 f"{token}\n(id {token_id}, clinic {args.clinic}; shown only now; revoke with "
                 f"`gaitkiosk server revoke {token_id}`)")
        return 0
    if args.action == "fhir-export":
        return _fhir_export(args, ctx, dsn)
    if args.action == "release":
        return _release(args, ctx, dsn)
    return _serve(args, dsn)


def _release(args, ctx, dsn: str) -> int:
    from sync.server import admin

    what = args.release_action
    if what == "publish":
        return _publish(args, ctx, dsn)
    if what == "list":
        found = admin.releases(dsn)
        lines = [f"{r['version']:<10} {r['bytes'] / 1e6:8.1f} MB  key {r['signed_by']}  published "
                 f"{r['published_at']:%Y-%m-%d %H:%M}  {r['kiosks']} kiosk(s) run it"
                 + (f"  WITHDRAWN {r['withdrawn_at']:%Y-%m-%d}" if r["withdrawn_at"] else "") for r in found["releases"]]
        lines += [f"clinic {c} stays on {v}" for c, v in found["pins"].items()]
        lines += [f"{n} kiosk(s) run {v} (not published here)" for v, n in found["kiosks_on_other_versions"].items()]
        ctx.emit(found, "\n".join(lines) or "no release published")
        return 0
    if what == "pin":
        version = None if args.none else args.version
        before = admin.pin_release(dsn, args.clinic, version)
        ctx.emit({"clinic": args.clinic, "version": version, "before": before},
                 f"clinic {args.clinic}: " + (f"stays on {version}" if version else "gets the newest release")
                 + (f" (was pinned to {before})" if before else ""))
        return 0
    at = admin.withdraw_release(dsn, args.version)
    ctx.emit({"version": args.version, "withdrawn_at": at.isoformat()},
             f"release {args.version}: withdrawn ({at.isoformat(timespec='minutes')}); kiosks running it keep it")
    return 0


def _publish(args, ctx, dsn: str) -> int:
    """The server checks the bundle as a unit would (signature with its release keys, every member's
    hash) before it offers it: a bundle no unit would accept is refused here, with the same words."""
    from pathlib import Path

    from gaitkiosk.errors import UsageError
    from gaitkiosk.update import bundle, signing
    from sync.server import admin

    keys_dir = Path(args.keys)
    keys = [signing.load_public(p) for p in sorted(keys_dir.glob("*.pub"))] if keys_dir.is_dir() else []
    if not keys:
        raise UsageError(f"no release public key (*.pub) in {keys_dir}: give --keys DIR with the keys the units trust")
    checked = bundle.read(Path(args.bundle), keys)
    status, row = admin.publish_release(dsn, checked.path, checked.version, checked.signed_by)
    ctx.emit({"status": status, **row},
             f"release {row['version']}: {status} ({row['bytes'] / 1e6:.1f} MB, signed by key {row['signed_by']})")
    return 0


def _fhir_export(args, ctx, dsn: str) -> int:
    import json
    import os
    from pathlib import Path

    from gaitkiosk.errors import UsageError
    from sync.server import admin

    out = Path(args.out)
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: the folder {out.parent} does not exist")
    doc = admin.fhir_export(dsn, args.clinic, args.patient)
    part = out.with_name(out.name + ".part")
    # Whole or not at all: written aside, then renamed; 0600, as every file with patient data.
    with os.fdopen(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(part, out)
    n = len(doc["entry"])
    ctx.emit({"file": str(out), "observations": n, "clinic": args.clinic, "patient": args.patient},
             f"wrote {out}: {n} observation(s) of clinic {args.clinic}" + (f", patient {args.patient}" if args.patient else ""))
    return 0


def _put_row(args, ctx, dsn: str) -> int:
    import json
    import sys

    from gaitkiosk.errors import UsageError
    from sync.server import admin

    try:
        text = sys.stdin.read() if args.file == "-" else open(args.file, encoding="utf-8").read()
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{args.file} is not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise UsageError(f'{args.file}: the row must be a JSON object with its "id" (a UUID)')
    status, row = admin.put_row(dsn, args.clinic, args.entity, data["id"], data)
    ctx.emit({"status": status, "entity": args.entity, "clinic": args.clinic, "row": row},
             f"{args.entity} {row['id']}: {status} for the kiosks of clinic {args.clinic}")
    return 0


def _serve(args, dsn: str) -> int:
    from gaitkiosk.errors import UsageError
    from sync.server import admin

    if bool(args.certfile) != bool(args.keyfile):
        raise UsageError("give both --certfile and --keyfile, or neither")
    if not args.certfile and args.host not in LOOPBACK:
        raise UsageError(f"--host {args.host} without --certfile/--keyfile would send patient data over plain "
                         "HTTP: give the TLS certificate and key, or listen on 127.0.0.1")
    if not 1 <= args.connections <= 1000:
        raise UsageError("--connections must be from 1 to 1000")
    admin.migrate(dsn)
    import uvicorn

    from sync.server.app import create_app

    uvicorn.run(create_app(dsn, args.connections), host=args.host, port=args.port,
                ssl_certfile=args.certfile, ssl_keyfile=args.keyfile, log_level="warning",
                proxy_headers=False, server_header=False)
    return 0
