"""``gaitkiosk import FILE --out rec.npz``: a vendor export into the recording interchange format.

    gaitkiosk import fscan_testL.asf --out walk.npz
    gaitkiosk import test.csv --format amti --plate-top-offset-mm 40 --out stance.npz
    gaitkiosk import --list

Formats, units and what each lacks: docs/import.md. ``gaitkiosk analyze``
reads these exports directly as well (it imports them in memory).
"""

from __future__ import annotations

from pathlib import Path

HELP = "read a vendor export (Tekscan .asf, Novel emed .lst, AMTI force-plate .csv) into a recording (.npz)"


def add_arguments(parser) -> None:
    from gaitkiosk import checks

    parser.add_argument("file", metavar="FILE", nargs="?", help="the vendor export")
    parser.add_argument("--out", metavar="FILE", help="the recording to write (.npz, DESIGN 4.1)")
    parser.add_argument("--format", metavar="NAME", help="the export's format (default: from its name and first line; "
                                                         "--list shows them)")
    parser.add_argument("--plate-top-offset-mm", type=checks.within(0.0, 500.0, unit="mm"), metavar="MM",
                        help="force plates: distance from the top surface down to the plate's origin "
                             "(default 0; required when the file states an offset)")
    parser.add_argument("--list", action="store_true", help="list the formats the importer reads")


def options(args) -> dict:
    """The importer options given on the command line (those not given are left to each format)."""
    out = {}
    if getattr(args, "plate_top_offset_mm", None) is not None:
        out["plate_top_offset_mm"] = args.plate_top_offset_mm
    return out


def run(args, ctx) -> int:
    from device.importers import FORMATS, import_file
    from gaitkiosk.errors import UsageError

    if args.list:
        ctx.emit({k: v[1] for k, v in FORMATS.items()}, "\n".join(f"{k:8} {v[1]}" for k, v in FORMATS.items()))
        return 0
    if not args.file or not args.out:
        raise UsageError("import needs FILE and --out rec.npz (or --list)")
    path, out = Path(args.file), Path(args.out)
    if not path.exists():
        raise UsageError(f"{path} does not exist")
    if out.suffix != ".npz":
        raise UsageError(f"--out {out}: the recording file must end in .npz")
    rec = import_file(path, args.format, **options(args))
    from device.recording import save_recording

    save_recording(out, rec)
    groups = [g for g, present in (("mat", rec.has_mat), ("insoles", rec.has_insoles), ("cop", rec.has_cop)) if present]
    summary = {"file": str(out), "format": rec.meta["source"], "groups": groups, "duration_s": rec.duration_s}
    if rec.has_mat:
        summary["mat_frames"], summary["mat_rows"], summary["mat_cols"] = rec.mat_kpa.shape
        summary["mat_pitch_mm"] = rec.mat_pitch_mm.tolist()
    if rec.has_cop:
        summary["cop_samples"] = len(rec.cop_t)
    ctx.emit(summary, f"{path.name} -> {out} ({', '.join(groups)}; {rec.duration_s:.2f} s)")
    return 0
