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
}

_BY_SUFFIX = {".asf": "fscan", ".lst": "emed"}


def is_vendor_export(path: Path) -> bool:
    """True when ``path`` looks like an export :func:`detect` knows (by name and first line)."""
    try:
        detect(path)
    except (ImportFormatError, OSError):
        return False
    return True


def detect(path: Path) -> str:
    """The format of ``path`` from its name and first line, or ImportFormatError saying what is known."""
    fmt = _BY_SUFFIX.get(path.suffix.lower())
    if fmt:
        return fmt
    if path.suffix.lower() == ".csv":
        with open(path, "rb") as f:
            head = f.read(64)
        if head.startswith(b"Format Version,"):
            return "amti"
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
