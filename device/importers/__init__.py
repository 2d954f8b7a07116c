"""Importers of vendor exports into the recording interchange format (DESIGN 4.1, docs/import.md).

One small module per format, each with ``read(path, **options) -> Recording``.
Every importer reads the geometry, units and time base the file states, refuses
what it does not know (an unknown unit, a missing frame, a truncated file) with
:class:`~device.errors.ImportFormatError` naming the line, and takes what a
format does not carry from an option, never from a guess.
"""

from __future__ import annotations

from pathlib import Path

from device.errors import ImportFormatError

# format name -> (module, what it is); the module is imported only when used
FORMATS: dict[str, tuple[str, str]] = {
    "fscan": ("device.importers.tekscan", "Tekscan F-Scan ASCII export (.asf)"),
    "emed": ("device.importers.emed", "Novel emed platform ASCII export (.lst)"),
    "amti": ("device.importers.amti", "AMTI force-plate CSV export (Fx..Mz, Cx, Cy), Motive layout"),
    "pedar": ("device.importers.pedar", "Novel pedar insole ASCII export (.asc); needs --insole-geometry"),
    "pliance": ("device.importers.pliance", "Novel pliance mat ASCII export (.asc)"),
    "xsensor": ("device.importers.xsensor", "XSENSOR insole frame export (.csv)"),
    "stappone": ("device.importers.stappone", "stappone insole CSV (raw counts); needs --insole-geometry, "
                                              "--side, --kpa-per-count"),
    "footscan": ("device.importers.footscan", "RSscan footscan Excel export (.xls); needs --pressure-unit, --pitch-mm"),
    "plates": ("device.importers.plates", "two force plates, one per foot (PDS grf .txt), fused into one COP"),
    "recording": ("device.importers.recording_file", "a gaitkiosk recording (.npz), e.g. to write it as C3D"),
}

_BY_SUFFIX = {".asf": "fscan", ".lst": "emed", ".xls": "footscan", ".npz": "recording"}

# (suffix, first bytes of the file) -> format, for suffixes several formats share
_BY_HEAD = (
    (".csv", b"Format Version,", "amti"),
    (".csv", b"\xef\xbb\xbfFile:,", "xsensor"),
    (".csv", b"File:,", "xsensor"),
    (".csv", b"sole_id,timestamp,", "stappone"),
    (".txt", b"Time\tRGRF_X\t", "plates"),
)


def is_vendor_export(path: Path) -> bool:
    """True when ``path`` looks like an export :func:`detect` knows (by name and first line)."""
    try:
        return detect(path) != "recording"  # the kiosk's own file is read by its own reader
    except (ImportFormatError, OSError):
        return False


def detect(path: Path) -> str:
    """The format of ``path`` from its name and first line, or ImportFormatError saying what is known."""
    fmt = _BY_SUFFIX.get(path.suffix.lower())
    if fmt:
        return fmt
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".asc"):
        with open(path, "rb") as f:
            head = f.read(512)
        for known, start, fmt in _BY_HEAD:
            if suffix == known and head.startswith(start):
                return fmt
        if suffix == ".asc" and head.startswith(b"file name:"):
            second = head.split(b"\n")[1:2]
            if second and second[0].startswith(b"sensor type:"):
                return "pedar"
            if second and second[0].startswith(b"mat type"):
                return "pliance"
    known = ", ".join(f"{k} ({v[1]})" for k, v in FORMATS.items())
    raise ImportFormatError(f"{path}: not a format the importer knows by its name and first line; known: {known} "
                            "(--format names one)")


def import_file(path: Path, fmt: str | None = None, **options):
    """Read a vendor export into a :class:`device.recording.Recording` (checked against DESIGN 4.1)."""
    import importlib

    from device.recording import check_recording

    path = Path(path)
    fmt = fmt or detect(path)
    if fmt not in FORMATS:
        raise ImportFormatError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    module = importlib.import_module(FORMATS[fmt][0])
    rec = module.read(path, **options)
    rec.meta.setdefault("source", f"gaitkiosk import ({fmt})")
    rec.meta["imported_from"] = path.name
    return check_recording(rec, source=str(path))
