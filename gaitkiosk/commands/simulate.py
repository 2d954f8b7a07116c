"""``gaitkiosk simulate``: the virtual patient, to a recording file or behind pseudo-terminals.

    gaitkiosk simulate --scenario walk --seconds 30 --out walk.npz
    gaitkiosk simulate --scenario quiet --param eyes=closed --param mass_kg=85 --out romberg.npz
    gaitkiosk simulate --list                      # scenarios and their parameters
    gaitkiosk simulate --pty                       # virtual devices as serial ports (device/pty.py)

The file (DESIGN 4.1) holds true kPa by default, or with ``--sensor-counts``
what an uncalibrated device delivers: its ADC counts times the factory-nominal
``kpa_per_count`` (off by 20 % or more; the true kPa are then kept in
``truth_mat_kpa`` / ``truth_insole_*_kpa``). Either way the simulator's truth
(forces, COPs, gait events) is stored in ``truth_*`` arrays, documented in
docs/virtual-patient.md.
"""

from __future__ import annotations

import time

from gaitkiosk import checks
from gaitkiosk.config import ALLOWED
from gaitkiosk.errors import KioskError, UsageError

HELP = "run the virtual patient: write a recording (--out) or serve virtual devices (--pty)"

MAX_MAT_BYTES = 2 << 30  # keep a recording in memory well inside a Pi's RAM


def add_arguments(parser) -> None:
    mode = parser.add_argument_group("what to do (one of)")
    mode.add_argument("--out", metavar="FILE", help="write a recording (.npz, DESIGN 4.1) to FILE")
    mode.add_argument("--pty", action="store_true", help="serve the virtual mat and insoles on pseudo-terminals and print their paths")
    mode.add_argument("--list", action="store_true", help="list the scenarios and their parameters")
    p = parser.add_argument_group("the patient")
    p.add_argument("--scenario", metavar="S", help="scenario name (default: config sim.scenario; see --list)")
    p.add_argument("--seed", type=ALLOWED["sim.seed"], help="random seed (default: config sim.seed); the same seed gives the same recording")
    p.add_argument(
        "--param", "-p", action="append", default=[], metavar="KEY=VALUE",
        help="scenario or body parameter, repeatable (e.g. eyes=closed, cadence=100, mass_kg=80, weight_left_pct=60)",
    )
    r = parser.add_argument_group("the recording")
    r.add_argument("--seconds", type=checks.positive(most=checks.DAY_S, unit="seconds"), default=None, help="duration in seconds (default: 30 for --out; until Ctrl-C for --pty)")
    r.add_argument("--rate", type=ALLOWED["sim.rate_hz"], help="mat and insole sample rate, Hz (default: config sim.rate_hz)")
    r.add_argument("--insole-rate", type=ALLOWED["sim.rate_hz"], help="insole sample rate if different from --rate")
    r.add_argument("--rows", type=ALLOWED["sim.mat_rows"], help="mat rows (default: config sim.mat_rows)")
    r.add_argument("--cols", type=ALLOWED["sim.mat_cols"], help="mat columns (default: config sim.mat_cols)")
    r.add_argument("--tiles", type=checks.integer(2, 16), metavar="N",
                   help="with --pty: serve the mat as N tiles end to end, each --rows long, its own port and clock "
                        "(docs/walkway.md)")
    r.add_argument("--pitch", metavar="MM[,MM]", help="sensel pitch in mm, one value or row,col (default: config sim.mat_pitch_mm)")
    r.add_argument("--mat", action="store_true", default=True, help="record the mat (default)")
    r.add_argument("--no-mat", dest="mat", action="store_false", help="leave the mat out")
    r.add_argument("--insoles", action="store_true", default=True, help="record the insoles (default)")
    r.add_argument("--no-insoles", dest="insoles", action="store_false", help="leave the insoles out")
    r.add_argument(
        "--sensor-counts", action="store_true",
        help="store what an uncalibrated device delivers (counts x nominal kpa_per_count) instead of true kPa",
    )


def run(args, ctx) -> int:
    if args.list:
        return _list(ctx)
    if args.pty and args.out:
        raise UsageError("choose one: --out FILE writes a recording, --pty serves virtual devices")
    if args.pty:
        try:
            from device import pty as device_pty
        except ImportError as exc:
            if getattr(exc, "name", None) not in ("device.pty",):
                raise
            raise KioskError("simulate --pty needs device/pty.py (the serial side), which this build does not have yet") from None
        return int(device_pty.serve(args, ctx) or 0)
    if getattr(args, "tiles", None):
        raise UsageError("--tiles serves mat tiles on ports: use it with --pty (a recording of a long mat: --rows)")
    if not args.out:
        raise UsageError("say what to do: --out FILE (write a recording), --pty (serve virtual devices) or --list")
    return _record(args, ctx)


def _list(ctx) -> int:
    from device.sim import SCENARIOS

    data = {
        name: {
            "description": info.description,
            "params": {k: {"default": p.default, "type": p.kind.__name__, "help": p.help, **({"choices": list(p.choices)} if p.choices else {})} for k, p in info.params.items()},
        }
        for name, info in SCENARIOS.items()
    }
    lines = []
    for name, info in SCENARIOS.items():
        lines.append(f"{name}: {info.description}")
        for key, p in info.params.items():
            default = "-" if p.default is None else p.default
            lines.append(f"    {key} = {default}  ({p.help})")
    lines.append("Body parameters (any scenario): mass_kg, height_mm, foot_length_mm, stance_width_mm, toe_out_deg,")
    lines.append("    weight_left_pct, push_off_left, push_off_right, foot_width_scale, sway_scale, reaction_time_s")
    ctx.emit(data, "\n".join(lines))
    return 0


def _record(args, ctx) -> int:
    from pathlib import Path

    from device.sim.build import build_patient
    from device.sim.record import simulate_recording
    from gaitkiosk.stored_analysis import save_with_analysis

    if not (args.mat or args.insoles):
        raise UsageError("--no-mat and --no-insoles together leave nothing to record")
    if args.seconds is None:
        args.seconds = 30.0
    out = Path(args.out)
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: the directory {out.parent} does not exist")
    patient = build_patient(args, ctx.config)
    frames = int(round(args.seconds * patient.mat.rate_hz))
    size = frames * patient.mat.rows * patient.mat.cols * 4 * (2 if args.sensor_counts else 1)
    if args.mat and size > MAX_MAT_BYTES:
        raise UsageError(
            f"{args.seconds:g} s of a {patient.mat.rows} x {patient.mat.cols} mat at {patient.mat.rate_hz:g} Hz needs "
            f"{size / 2**30:.1f} GiB in memory; record shorter pieces or a smaller mat"
        )
    started = time.perf_counter()
    rec = simulate_recording(patient, args.seconds, mat=args.mat, insoles=args.insoles, sensor_counts=args.sensor_counts)
    save_with_analysis(out, rec)
    elapsed = time.perf_counter() - started
    summary = {
        "out": str(out),
        "scenario": patient.scenario,
        "seed": patient.seed,
        "seconds": args.seconds,
        "mat_frames": 0 if rec.mat_t is None else len(rec.mat_t),
        "insole_frames": 0 if rec.insole_t is None else len(rec.insole_t),
        "units": rec.meta["units"]["pressure"],
        "gait_events": int(len(rec.truth.get("truth_events", ()))),
        "mean_force_on_mat_n": round(float(rec.truth["truth_force_n"].mean()), 1),
        "bytes": out.stat().st_size,
        "elapsed_s": round(elapsed, 2),
    }
    text = (
        f"wrote {out}: {summary['scenario']} (seed {summary['seed']}), {args.seconds:g} s, "
        f"{summary['mat_frames']} mat frames, {summary['insole_frames']} insole frames, {summary['units']}; "
        f"{summary['bytes'] / 1e6:.1f} MB in {elapsed:.1f} s"
    )
    ctx.emit(summary, text)
    return 0
