"""``gaitkiosk import FILE --out rec.npz``: a vendor export into the recording interchange format.

    gaitkiosk import fscan_testL.asf --out walk.npz
    gaitkiosk import test.csv --format amti --plate-top-offset-mm 40 --out stance.npz
    gaitkiosk import pedar.asc --insole-geometry pedar-size8.csv --out walk.npz
    gaitkiosk import walk.asf --out walk.c3d          # C3D for a gait lab
    gaitkiosk import --list

Formats, units and what each lacks: docs/import.md. ``gaitkiosk analyze``
reads these exports directly as well (it imports them in memory).
"""

from __future__ import annotations

from pathlib import Path

HELP = ("read a vendor export (Tekscan, Novel emed/pedar/pliance, footscan, XSENSOR, stappone, AMTI and two-plate "
        "force plates) into a recording (.npz)")


def add_arguments(parser) -> None:
    from gaitkiosk import checks

    parser.add_argument("file", metavar="FILE", nargs="?", help="the vendor export")
    parser.add_argument("--out", metavar="FILE", help="the recording to write (.npz, DESIGN 4.1) or a C3D file (.c3d)")
    parser.add_argument("--format", metavar="NAME", help="the export's format (default: from its name and first line; "
                                                         "--list shows them)")
    parser.add_argument("--plate-top-offset-mm", type=checks.within(0.0, 500.0, unit="mm"), metavar="MM",
                        help="force plates: distance from the top surface down to the plate's origin "
                             "(default 0; required when the file states an offset)")
    parser.add_argument("--insole-geometry", metavar="CSV", type=Path,
                        help="pedar, stappone: the insole's sensor positions (side,sensor,x_mm,y_mm,area_mm2)")
    parser.add_argument("--side", choices=("left", "right"), help="stappone: which foot the insole was on")
    parser.add_argument("--kpa-per-count", type=checks.within(1e-9, 1e6), metavar="FACTOR",
                        help="stappone: kPa per raw count (the insole's calibration)")
    parser.add_argument("--pressure-unit", metavar="UNIT", help="footscan: the unit of the values (kPa, N/cm2, ...)")
    parser.add_argument("--pitch-mm", type=_pitch, metavar="ROW,COL", help="footscan: the plate's sensor size in mm")
    parser.add_argument("--omit", action="append", choices=("mat", "insoles", "cop"), metavar="GROUP",
                        help="C3D output: leave a group out (a C3D file holds one time base; repeatable)")
    parser.add_argument("--list", action="store_true", help="list the formats the importer reads")


def _pitch(text: str) -> tuple[float, float]:
    import argparse

    try:
        row, col = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not ROW,COL in mm (e.g. 7.62,5.08)") from None
    if not (0 < row <= 100 and 0 < col <= 100):
        raise argparse.ArgumentTypeError(f"{text!r}: each pitch must be within (0, 100] mm")
    return row, col


def options(args) -> dict:
    """The importer options given on the command line (those not given are left to each format)."""
    out = {}
    for name in ("plate_top_offset_mm", "insole_geometry", "side", "kpa_per_count", "pressure_unit", "pitch_mm"):
        if getattr(args, name, None) is not None:
            out[name] = getattr(args, name)
    return out


def run(args, ctx) -> int:
    from device.importers import FORMATS, import_file
    from gaitkiosk.errors import UsageError

    if args.list:
        ctx.emit({k: v[1] for k, v in FORMATS.items()}, "\n".join(f"{k:10} {v[1]}" for k, v in FORMATS.items()))
        return 0
    if not args.file or not args.out:
        raise UsageError("import needs FILE and --out rec.npz (or --list)")
    path, out = Path(args.file), Path(args.out)
    if not path.exists():
        raise UsageError(f"{path} does not exist")
    if out.suffix not in (".npz", ".c3d"):
        raise UsageError(f"--out {out}: the file must end in .npz (a recording) or .c3d (C3D, docs/import.md)")
    if args.omit and out.suffix != ".c3d":
        raise UsageError("--omit is for C3D output (--out FILE.c3d)")
    rec = import_file(path, args.format, **options(args))
    if out.suffix == ".c3d":
        from device.c3d_file import write_c3d

        write_c3d(out, rec, omit=tuple(args.omit or ()))
    else:
        from gaitkiosk.stored_analysis import save_with_analysis

        save_with_analysis(out, rec)
    groups = [g for g, present in (("mat", rec.has_mat), ("insoles", rec.has_insoles), ("cop", rec.has_cop)) if present]
    summary = {"file": str(out), "format": rec.meta["source"], "groups": groups, "duration_s": rec.duration_s}
    if rec.has_mat:
        summary["mat_frames"], summary["mat_rows"], summary["mat_cols"] = rec.mat_kpa.shape
        summary["mat_pitch_mm"] = rec.mat_pitch_mm.tolist()
    if rec.has_cop:
        summary["cop_samples"] = len(rec.cop_t)
    ctx.emit(summary, f"{path.name} -> {out} ({', '.join(groups)}; {rec.duration_s:.2f} s)")
    return 0
