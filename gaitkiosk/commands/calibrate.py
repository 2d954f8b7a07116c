"""``gaitkiosk calibrate``: guided sensor calibration, stored per device (docs/calibration.md).

    gaitkiosk calibrate zero PORT_URL                       clear the mat (or lift the foot) and zero it
    gaitkiosk calibrate equilibrate PORT_URL --levels-kpa 50,100,200,300
    gaitkiosk calibrate load PORT_URL --weights-n 100,200,400,800
    gaitkiosk calibrate bodyweight PORT_URL --weight-kg 72 [--method point|step]
    gaitkiosk calibrate sweep PORT_URL                      find dead / hot sensels
    gaitkiosk calibrate verify PORT_URL --weight-n 200      error of the active calibration, kept as history
    gaitkiosk calibrate list [SERIAL] | activate ID | health [SERIAL]
    gaitkiosk calibrate export ID --out FILE | import FILE --serial SERIAL

Each procedure prints what to do, waits until the load is steady, checks it,
and ends with pass/fail and the accuracy reached. A calibration that passes
becomes the device's active one; one that fails is kept (inactive) for the
record and the active one stays in force. On a real sensor the procedure
waits for Enter after each instruction (``--yes``: go on after ``--ready-s``).

``sim://`` ports run the virtual calibration rig (``device/sim/loads.py``):
the same virtual sensor as ``sim://`` with the same seed and serial (so the
kiosk's ``run --simulate`` uses the calibration made here), with a virtual
technician who does what each step asks (``misbehave=zero|unstable|offarea``
in the URL makes them get it wrong, to see the refusals).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import urllib.parse
from pathlib import Path

from gaitkiosk import checks
from gaitkiosk.calibrating import LEVELS_KPA, PLATE_MM, PROCEDURES, VERIFY_N, WEIGHTS_N
from gaitkiosk.errors import KioskError, UsageError

log = logging.getLogger(__name__)

HELP = "calibrate the mat and insoles (zero, equilibrate, known loads, body weight, verify) and manage calibrations"

ACTIONS = (*PROCEDURES, "list", "activate", "health", "export", "import")


# Pressures (kPa) and weights (N) a calibration may ask for, and a weight plate's sides (mm).
LOAD = checks.positive(most=100_000.0)
PLATE_SIDE = checks.positive(most=2000.0)


def _floats(text: str) -> tuple[float, ...]:
    """argparse type: comma-separated positive numbers (``50,100,200``)."""
    parts = [v for v in text.replace(";", ",").split(",") if v.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("give at least one number, e.g. 50,100,200")
    try:
        return tuple(LOAD.parse(v.strip(), "each value") for v in parts)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(f"{exc} (numbers separated by commas, e.g. 50,100,200)") from None


def _plate(text: str) -> tuple[float, float]:
    """argparse type: ``WIDTHxLENGTH`` in mm (one number: a square)."""
    w, _, h = text.lower().partition("x")
    try:
        return PLATE_SIDE.parse(w, "the width"), PLATE_SIDE.parse(h or w, "the length")
    except UsageError as exc:
        raise argparse.ArgumentTypeError(f"{exc} (WIDTHxLENGTH in mm, e.g. 100x100)") from None


def add_arguments(parser) -> None:
    parser.add_argument("action", choices=ACTIONS, help="what to do")
    parser.add_argument("target", nargs="?", default=None,
                        help="PORT_URL for procedures; calibration ID for activate/export; FILE for import; SERIAL for list/health")
    parser.add_argument("--by", metavar="NAME", help="who calibrates (a user name of the kiosk, or free text)")
    parser.add_argument("--yes", action="store_true", help="do not wait for Enter after each instruction")
    parser.add_argument("--ready-s", type=checks.within(0.0, 600.0, unit="seconds"), default=5.0, metavar="S", help="with --yes: seconds given for each instruction (default 5)")
    parser.add_argument("--levels-kpa", type=_floats, default=LEVELS_KPA, metavar="P,P,...",
                        help="equilibrate: bladder pressures (default 50,100,200,300)")
    parser.add_argument("--weights-n", type=_floats, default=WEIGHTS_N, metavar="W,W,...",
                        help="load: known weights in N (default 100,200,400,800)")
    parser.add_argument("--plate-mm", type=_plate, default=PLATE_MM, metavar="WxL", help="weights' plate size (default 100x100)")
    parser.add_argument("--weight-kg", type=checks.positive(most=500.0), default=None, help="bodyweight: the person's weight; verify: stand-on weight (insoles)")
    parser.add_argument("--method", choices=("point", "step"), default="point", help="bodyweight: stand still (point) or walk (step, insoles)")
    parser.add_argument("--weight-n", type=LOAD, default=VERIFY_N, help="verify: the verification weight in N (default 200)")
    parser.add_argument("--no-zero", dest="zero_first", action="store_false", help="equilibrate/load: skip the zero step")
    parser.add_argument("--device-zero", action="store_true",
                        help="first send ZERO to the sensor (it must be unloaded): it subtracts its own baseline and gates "
                             "noise, as the kiosk has it (docs/calibration.md)")
    parser.add_argument("--fresh", action="store_true", help="start from a blank model instead of the active calibration")
    parser.add_argument("--serial", help="import: the device serial the file must belong to")
    parser.add_argument("--out", metavar="FILE", help="export: where to write the calibration record (JSON)")
    parser.add_argument("--no-activate", dest="activate", action="store_false", help="store without putting it in force")


def run(args, ctx) -> int:
    from store import open_store

    with open_store(ctx.data_dir) as st:
        if args.action in PROCEDURES:
            if not args.target:
                raise UsageError(f"calibrate {args.action} needs the device's PORT_URL (e.g. sim://mat, /dev/gaitkiosk/mat)")
            return _procedure(args, ctx, st)
        return {"list": _list, "activate": _activate, "health": _health, "export": _export, "import": _import}[args.action](args, ctx, st)


# --- procedures ---------------------------------------------------------------------------------


def _procedures(args, kind: str, cal_config: dict) -> list:
    from gaitkiosk.calibrating import procedures_for

    return procedures_for(args.action, kind, cal_config, levels_kpa=args.levels_kpa, weights_n=args.weights_n,
                          plate_mm=args.plate_mm, weight_kg=args.weight_kg, method=args.method,
                          weight_n=args.weight_n, zero_first=args.zero_first)


def _rig_url(url: str) -> tuple[str, str | None]:
    """sim:// URLs get the calibration rig (rig=1); returns (url, patient name) or (url, None)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "sim":
        return url, None
    query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    if "rig" not in query:
        query["rig"] = "1"
    url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, urllib.parse.urlencode(query), ""))
    return url, query.get("patient") or "shared"


def _procedure(args, ctx, st) -> int:
    from calibration import steps
    from device.errors import DeviceError
    from device.handlers import protocol_sim
    from device.reader import DeviceReader, reader_options
    from gaitkiosk.calibrating import start_model

    cal_config = ctx.config["calibration"]
    if args.action == "bodyweight" and args.weight_kg is None:
        raise UsageError("calibrate bodyweight needs --weight-kg (the person's weight)")
    url, patient_name = _rig_url(protocol_sim.apply_config_defaults(args.target, ctx.config["sim"]))
    options = reader_options(ctx.config["devices"])
    options["queue_frames"] = max(options["queue_frames"], 4096)
    user_id, operator_name = _who(st, args.by)
    reader = DeviceReader(url, name=args.target, **options).open()
    try:
        hello = reader.wait_ready(options["hello_timeout_s"] + 2.0)
        if hello.kpa_per_count > 0:
            raise UsageError(f"{args.target} ({hello.serial}) already sends calibrated kPa; it is calibrated by its maker")
        if args.device_zero:
            reader.zero(ctx.config["devices"]["zero_gate"])  # CommandError (BUSY...) says what to do
            hello = reader.hello
        kind, serial = hello.kind.label, hello.serial
        procedures = _procedures(args, kind, cal_config)
        model = start_model(st, hello, procedures, fresh=args.fresh, fresh_hint=" (or start over with --fresh)")
        rig = protocol_sim.patient(patient_name) if patient_name else None
        operator = _operator(reader, rig, args, ctx)
        progress_out = sys.stderr if ctx.json else ctx.out
        last = {}

        def on_progress(p):
            key = (p.procedure, p.step, p.state)
            if p.state in ("waiting", "done", "failed") and last.get("k") != key:
                last["k"] = key
                progress_out.write(p.text() + "\n")
                progress_out.flush()

        def feed():
            while True:
                frame = reader.get(timeout=max(options["silence_timeout_s"] * 3, 2.0))
                if frame is None:
                    raise DeviceError(f"{args.target}: no frames for a while ({reader.status().state}); check the sensor")
                yield frame.t_host, frame.counts

        result = steps.run(procedures, model, feed(), operator=operator, on_progress=on_progress,
                           rel_tol=cal_config["stable_tolerance_pct"] / 100.0)
    finally:
        reader.close()
    return _report(args, ctx, st, result, serial, url, user_id, operator_name)


def _report(args, ctx, st, result, serial, url, user_id, operator_name) -> int:
    from gaitkiosk.calibrating import keep

    out = keep(st, args.action, result, serial, port=url, user_id=user_id, operator=operator_name,
               activate=args.activate)
    procs = out["procedures"]
    lines = [f"{p['procedure']}: {'PASS' if p['passed'] else 'FAIL'} - {p['message']}" for p in procs]
    if "calibration_id" in out:
        state = ("now active" if out["active"] else
                 "stored, NOT active (the previous calibration stays in force)" if out["passed"] or not args.activate
                 else "stored for the record, NOT active: it failed; the previous calibration stays in force")
        if not out["complete"]:
            state += "; no response curve yet: run calibrate equilibrate or load next"
        lines.append(f"calibration {out['calibration_id']} for {serial}: {state}")
    ctx.emit(out, "\n".join(lines))
    return 0 if out["passed"] else 1


def _operator(reader, rig, args, ctx):
    """What happens when a step starts: the virtual technician acts, or the user is told and confirms."""
    out = sys.stderr if ctx.json else ctx.out

    def drain():
        while reader.get(timeout=0) is not None:
            pass

    def act(step):
        if rig is not None and hasattr(rig, "perform"):
            rig.perform(step.request)
        elif args.yes:
            out.write(f"  (going on in {args.ready_s:g} s)\n")
            out.flush()
            time.sleep(args.ready_s)
        else:
            out.write("  press Enter when ready... ")
            out.flush()
            if not sys.stdin.readline():
                raise UsageError("no answer on the terminal; use --yes to run without confirmations")
        drain()  # frames read before the user was ready are not this step's load

    return act


def _who(st, name: str | None) -> tuple[str | None, str | None]:
    if not name:
        return None, None
    try:
        return st.users.by_name(name).id, name
    except LookupError:
        return None, name


# --- records ------------------------------------------------------------------------------------


def _list(args, ctx, st) -> int:
    from calibration import storage

    serials = [args.target] if args.target else [r[0] for r in st.db.execute(
        "SELECT DISTINCT device_serial FROM calibrations ORDER BY device_serial")]
    rows = []
    for serial in serials:
        for cal in st.calibrations.history(serial):
            rec = cal.record if isinstance(cal.record, dict) else {}
            try:
                storage.check_record(rec, serial)
                valid = True
            except KioskError:
                valid = False
            rows.append({"id": cal.id, "device_serial": serial, "created_at": cal.created_at, "active": cal.active,
                         "passed": rec.get("passed"), "accuracy_pct": rec.get("accuracy_pct"),
                         "operator": rec.get("operator"), "valid": valid,
                         "procedures": [p.get("procedure") for p in rec.get("procedures", []) if isinstance(p, dict)]})
    text = "\n".join(
        f"{'*' if r['active'] else ' '} {r['id']}  {r['device_serial']}  {r['created_at'][:19]}  "
        f"{'pass' if r['passed'] else 'FAIL'}  {'+'.join(r['procedures'])}"
        + ("" if r["valid"] else "  (BROKEN RECORD)") for r in rows) or "no calibrations stored"
    ctx.emit(rows, text)
    return 0


def _activate(args, ctx, st) -> int:
    from calibration import storage

    if not args.target:
        raise UsageError("calibrate activate needs a calibration ID (see gaitkiosk calibrate list)")
    user_id, _ = _who(st, args.by)
    cal = storage.activate(st, args.target, user_id=user_id)
    ctx.emit({"id": cal.id, "device_serial": cal.device_serial, "active": cal.active},
             f"calibration {cal.id} is now active for {cal.device_serial}")
    return 0


def _health(args, ctx, st) -> int:
    from calibration.health import all_devices_health, device_health, limits_from_config

    limits = limits_from_config(ctx.config)
    rows = [device_health(st, args.target, limits=limits)] if args.target else all_devices_health(st, limits=limits)
    text = "\n".join(
        f"{r['device_serial']}: {r['status']}"
        + (f" (calibrated {r['age_days']:.0f} days ago" if r["age_days"] is not None else "")
        + (f", last verification {r['last_verification']['error_pct']:+.1f} %)" if r["last_verification"]
           else ")" if r["age_days"] is not None else "")
        + "".join(f"\n  - {why}" for why in r["reasons"]) for r in rows) or "no calibrated devices"
    ctx.emit(rows, text)
    return 0 if all(r["status"] == "ok" for r in rows) else 1


def _export(args, ctx, st) -> int:
    if not args.target or not args.out:
        raise UsageError("calibrate export needs a calibration ID and --out FILE")
    cal = st.calibrations.require(args.target)
    Path(args.out).write_text(json.dumps({"device_serial": cal.device_serial, "record": cal.record}, indent=1))
    ctx.emit({"id": cal.id, "out": args.out}, f"calibration {cal.id} written to {args.out}")
    return 0


def _import(args, ctx, st) -> int:
    from calibration import storage
    from calibration.errors import CalibrationFileError

    if not args.target or not args.serial:
        raise UsageError("calibrate import needs a FILE and --serial SERIAL (the device it is for)")
    try:
        data = json.loads(Path(args.target).read_text())
    except (OSError, ValueError) as exc:
        raise CalibrationFileError(f"{args.target}: not a readable calibration file ({exc}); export it again") from None
    record = data.get("record") if isinstance(data, dict) and "record" in data else data
    checked = storage.check_record(record, args.serial)
    user_id, name = _who(st, args.by)
    cal = storage.save(st, checked.model, checked.procedures, operator=name or record.get("operator"),
                       port=f"import:{Path(args.target).name}", user_id=user_id,
                       activate=args.activate and checked.passed)
    ctx.emit({"id": cal.id, "device_serial": cal.device_serial, "active": cal.active},
             f"imported as calibration {cal.id} for {cal.device_serial}" + (" (active)" if cal.active else ""))
    return 0
