"""``gaitkiosk analyze FILE``: the metrics report of a recording.

FILE is a recording in the interchange format (``.npz``, DESIGN 4.1), a
COP-only CSV with columns ``t_s,x_mm,y_mm``, or a vendor export that
``gaitkiosk import`` reads (imported in memory, docs/import.md). Prints a readable report; with
``--json`` the DESIGN 4.2 report (metrics version 3, ``docs/metrics.md``).
``--source`` picks the sensor (mat, insoles, or auto: what the kiosk stores).
``--extended`` adds the 72 descriptors of Quijoux et al. (2021) (``kernels.posturography``).
"""

from __future__ import annotations

from pathlib import Path

HELP = "report the balance and gait metrics of a recording (.npz) or a COP-only CSV"


def add_arguments(parser) -> None:
    from gaitkiosk import checks

    parser.add_argument("files", metavar="FILE", nargs="+",
                        help="recording (.npz, interchange format), COP CSV (t_s,x_mm,y_mm) or vendor export; "
                             "several files or folders with --csv")
    parser.add_argument("--csv", metavar="OUT", type=Path,
                        help="analyse every FILE (and every recording in a folder) on all cores into one CSV table, "
                             "one row per recording")
    parser.add_argument("--jobs", metavar="N", type=checks.integer(1, 256),
                        help="worker processes for --csv (default: one per core)")
    parser.add_argument("--lowpass", metavar="HZ|off|auto", type=_lowpass(checks.positive(most=1000.0)), default="auto",
                        help="low-pass the centre of pressure at HZ before the sway measures (zero-phase Butterworth, "
                             "4th order, filtfilt), or 'off'; auto (default): a mat's COP at 10 Hz, a COP file's as recorded")
    parser.add_argument("--window", metavar="START:END",
                        help="analyse only START <= t < END seconds (either may be empty: 10: or :30)")
    parser.add_argument("--source", choices=("auto", "mat", "insoles"), default="auto",
                        help="which sensor's numbers to report: mat, insoles, or auto (the sensors the recording's "
                             "drill used, else every sensor it has; docs/metrics.md section 1)")
    parser.add_argument("--extended", action="store_true",
                        help="add the extended posturography set: the 72 COP descriptors of Quijoux et al. (2021), "
                             "docs/metrics.md section 2b")
    parser.add_argument("--recompute", action="store_true",
                        help="analyse the frames even when the recording carries their stored analysis "
                             "(docs/metrics.md, \"Stored analysis\"); the numbers are the same")
    parser.add_argument("--extended-convention", choices=("gaitkiosk", "quijoux2021"), default="gaitkiosk",
                        help="gaitkiosk (default): re-centred after filtering, ellipse moments with n - 1; "
                             "quijoux2021: exactly the peer code's numbers")


def _lowpass(number):
    """--lowpass: a cut-off in Hz, 'off' (None: no filter, not even the mat's) or 'auto' (the default)."""
    def parse(text: str):
        word = text.strip().lower()
        return None if word == "off" else "auto" if word == "auto" else number(text)

    return parse


def load(path: Path, stored_for: dict | None = None):
    """A recording object with the DESIGN 4.1 arrays as attributes.

    ``stored_for``: the analysis options (``kernels.report.stream_options``) under which a
    recording's stored per-frame analysis may stand in for its frames (``gaitkiosk.stored_analysis.load_for_analysis``);
    None reads the frames."""
    from gaitkiosk.errors import UsageError

    if not path.exists():
        raise UsageError(f"{path} does not exist; give the path of a .npz recording or a COP .csv file")
    from device.importers import is_vendor_export

    if is_vendor_export(path):
        from device.importers import import_file

        return import_file(path)
    if path.suffix.lower() == ".csv":
        from kernels.cop_csv import read_cop_csv

        return read_cop_csv(path)
    if path.suffix.lower() == ".npz":
        from device.recording import load_recording
        from gaitkiosk.stored_analysis import load_for_analysis

        return load_recording(path) if stored_for is None else load_for_analysis(path, stored_for)
    raise UsageError(f"{path}: unknown file type {path.suffix!r}; analyze reads .npz recordings, .csv COP files "
                     "and the vendor exports `gaitkiosk import --list` names")


def run(args, ctx) -> int:
    from gaitkiosk.errors import ConfigError, UsageError
    from kernels.report import analyze_recording
    from kernels.report_text import render
    from kernels.series import parse_window

    window = parse_window(args.window) if args.window else None
    if window is not None:
        from gaitkiosk import checks

        for edge in window:
            if edge is not None:
                checks.within(0.0, 10 * checks.DAY_S, unit="seconds").check(edge, f"--window {args.window}: START and END")
    settings = ctx.config.get("analysis", {})
    if settings.get("contact_off_n", 0) > settings.get("contact_on_n", 0):
        raise ConfigError("config [analysis]: contact_off_n must not exceed contact_on_n (the hysteresis band)")
    paths = [Path(f) for f in args.files]
    extended = args.extended_convention if args.extended else None
    options = dict(lowpass_hz=args.lowpass, window=window, source=args.source, extended=extended, **settings)
    stored_for = stored_options(options, args.recompute)
    if args.csv is not None:
        return _batch(paths, args, ctx, options, stored_for)
    if len(paths) > 1 or paths[0].is_dir():
        raise UsageError("several recordings or a folder go into one table: add --csv OUT.csv")
    report = analyze_recording(load(paths[0], stored_for), **options)
    report["file"] = paths[0].name
    ctx.emit(report, render(report))
    return 0


def stored_options(options: dict, recompute: bool) -> dict | None:
    """The per-stream options a stored analysis must have been made with to stand in for the
    frames, or None (``--recompute``, or a ``--window``, which restarts the analysis at its edge)."""
    if recompute or options.get("window") is not None:
        return None
    from kernels.report import stream_options

    settings = {k: v for k, v in options.items() if k in ("contact_on_n", "contact_off_n", "min_stance_s",
                                                          "mat_threshold_kpa")}
    return stream_options(**settings)[1]


def _batch(paths, args, ctx, options, stored_for) -> int:
    from gaitkiosk.batch_analyze import run_batch

    total, failed = run_batch(paths, args.csv, options, args.jobs, stored_for=stored_for)
    ctx.emit({"recordings": total, "failed": failed, "csv": str(args.csv)},
             f"{total - failed} of {total} recordings analysed into {args.csv}"
             + (f"; {failed} could not be read (their rows say why)" if failed else ""))
    return 0 if failed == 0 else 1
