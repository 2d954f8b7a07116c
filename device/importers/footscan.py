"""RSscan / Materialise footscan Excel export (``.xls``, BIFF) -> the mat group.

Layout (footscan "export to Excel", one sheet): a title line, the patient and date,
``Scanning speed; for the left foot: F Hertz, for the right foot: F Hertz``, then per
foot ``<Side> foot data``, ``<Side> rectangle position`` with ``Rectangle bottom / left /
width / height`` (sensor rows and columns of the plate), and per frame ``Frame n (t ms)``
followed by height rows of width values. A foot scanned at 0 Hz has no frames.

What the export lacks, each taken from an option (docs/import.md), never guessed:
the **pressure unit** (``--pressure-unit``, e.g. N/cm2 or kPa) and the **sensor pitch**
(``--pitch-mm ROW,COL``: the plate model's sensor size). The time base is the frames'
own ``(t ms)``. The rectangle is stored as the mat grid (its place on the plate in meta).

The file is a BIFF workbook: it is read with ``xlrd`` (the ``import`` extra); errors name
the sheet's row (1-based, as a spreadsheet shows it).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from device.errors import ImportFormatError
from device.importers.text import PRESSURE_KPA
from device.recording import Recording

RECT = ("Rectangle bottom", "Rectangle left", "Rectangle width", "Rectangle height")


def _fail(path: Path, row: int, message: str) -> ImportFormatError:
    return ImportFormatError(f"{path} row {row + 1}: {message}")


def open_sheet(path: Path):
    """The workbook's first sheet, or a one-line error naming the byte where the workbook breaks."""
    try:
        import xlrd
    except ImportError:
        raise ImportFormatError("reading footscan .xls needs the xlrd package: pip install 'gaitkiosk[import]'") from None
    data = Path(path).read_bytes()
    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=False, logfile=_Quiet())
        return book.sheet_by_index(0)
    except Exception as exc:  # xlrd raises several types (XLRDError, CompDocError, struct.error, ...)
        if not data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
            raise ImportFormatError(f"{path}: byte 0 does not start an Excel 97-2003 (.xls) workbook: "
                                    "not a footscan export") from None
        why = f"xlrd: {str(exc).splitlines()[0][:60]}"
        if len(data) % 512:  # a compound document is whole 512-byte sectors
            raise ImportFormatError(f"{path} byte {len(data)}: the workbook ends inside a 512-byte sector "
                                    f"({why}): truncated") from None
        needed = _compound_file_size(data)
        if needed and needed > len(data):
            raise ImportFormatError(f"{path} byte {len(data)}: the workbook ends here, but its own sector table "
                                    f"reaches byte {needed}: truncated") from None
        raise ImportFormatError(f"{path}: the workbook's structure does not read ({why}; {len(data)} bytes): "
                                "truncated at a sector's end or damaged") from None


def _compound_file_size(data: bytes) -> int | None:
    """The size an OLE2 compound file's sector allocation table says it has (None if unreadable).

    [MS-CFB] 2.2: the header's DIFAT (109 entries at byte 76) lists the FAT sectors; a FAT entry
    other than FREESECT (0xFFFFFFFF) is a sector in use; sector n starts at byte (n + 1) x size.
    """
    import struct

    if len(data) < 512:
        return None
    shift = struct.unpack_from("<H", data, 30)[0]
    size = 1 << shift
    if size not in (512, 4096):
        return None
    fat_sectors = [n for n in struct.unpack_from("<109I", data, 76) if n < 0xFFFFFFFA]
    last = -1
    for n in fat_sectors:
        start = (n + 1) * size
        if start + size > len(data):
            return start + size  # the table itself lies beyond the end
        entries = struct.unpack_from(f"<{size // 4}I", data, start)
        used = [k for k, e in enumerate(entries) if e != 0xFFFFFFFF]
        if used:
            last = max(last, fat_sectors.index(n) * (size // 4) + used[-1])
    return (last + 2) * size if last >= 0 else None


class _Quiet:
    """xlrd prints warnings to a log file; the importer reports problems itself."""

    def write(self, _text: str) -> None:
        pass


def read(path: Path, *, pressure_unit: str | None = None, pitch_mm: tuple[float, float] | None = None,
         **_options) -> Recording:
    sheet = open_sheet(path)
    col0 = [str(sheet.cell_value(r, 0)).strip() if sheet.ncols else "" for r in range(sheet.nrows)]
    speed = next((r for r, v in enumerate(col0[:10]) if v.startswith("Scanning speed")), None)
    if speed is None:
        raise _fail(path, min(sheet.nrows, 10) - 1, "no 'Scanning speed' line at the top: not a footscan export")
    feet = [(r, v.split()[0].lower()) for r, v in enumerate(col0) if re.fullmatch(r"(Left|Right) foot data", v)]
    if len(feet) != 1:
        raise _fail(path, feet[1][0] if feet else speed, "a footscan export with " +
                    ("both feet is not read yet: export one foot per file" if feet else "no '<Side> foot data'"))
    if pressure_unit is None or pitch_mm is None:
        raise ImportFormatError(f"{path}: a footscan export states neither its pressure unit nor its sensor size: "
                                "import it with `gaitkiosk import --pressure-unit UNIT --pitch-mm ROW,COL` (e.g. N/cm2; "
                                "the plate's sensor size)")
    factor = PRESSURE_KPA.get(pressure_unit.strip().lower().replace(" ", ""))
    if factor is None:
        raise ImportFormatError(f"--pressure-unit {pressure_unit!r} is not one the importer knows "
                                "(kPa, N/cm2, mmHg, psi, MPa)")
    start, side = feet[0]
    rect = {}
    for key in RECT:
        r = next((r for r in range(start, min(start + 12, sheet.nrows)) if col0[r] == key), None)
        if r is None or r + 1 >= sheet.nrows or sheet.cell_type(r + 1, 0) != 2:
            raise _fail(path, r if r is not None else start, f"no number under {key!r}: truncated or damaged")
        rect[key] = int(sheet.cell_value(r + 1, 0))
    bottom, left, cols, rows = (rect[k] for k in RECT)
    if rows < 1 or cols < 1 or cols > sheet.ncols:
        raise _fail(path, start, f"rectangle {cols} x {rows} does not fit the sheet's {sheet.ncols} columns")
    heads = [r for r in range(start, sheet.nrows) if col0[r].startswith("Frame")]
    if not heads:
        raise _fail(path, sheet.nrows - 1, "no 'Frame n (t ms)' in the sheet: truncated")
    t = np.empty(len(heads))
    kpa = np.empty((len(heads), rows, cols), dtype=np.float32)
    for k, r in enumerate(heads):
        m = re.fullmatch(r"Frame (\d+) \(([\d.]+) ms\)", col0[r])
        if not m or int(m.group(1)) != k:
            raise _fail(path, r, f"expected 'Frame {k} (t ms)', found {col0[r][:40]!r}")
        t[k] = float(m.group(2)) / 1000.0
        if r + rows >= sheet.nrows:
            raise _fail(path, sheet.nrows - 1, f"frame {k} has {sheet.nrows - 1 - r} of {rows} rows: truncated")
        for i in range(rows):
            types = sheet.row_types(r + 1 + i, 0, cols)
            if any(ty != 2 for ty in types):  # 2 = xlrd.XL_CELL_NUMBER
                c = next(c for c, ty in enumerate(types) if ty != 2)
                raise _fail(path, r + 1 + i, f"column {c + 1} of frame {k} holds "
                                             f"{sheet.cell_value(r + 1 + i, c)!r}, not a number: damaged or truncated")
            kpa[k, i] = sheet.row_values(r + 1 + i, 0, cols)
        if r + 1 + rows < sheet.nrows and any(str(v).strip() for v in sheet.row_values(r + 1 + rows)) \
                and not col0[r + 1 + rows].startswith("Frame"):
            raise _fail(path, r + 1 + rows, f"frame {k} has more than its {rows} rows")
    if np.any(np.diff(t) <= 0):
        k = int(np.argmax(np.diff(t) <= 0))
        raise _fail(path, heads[k + 1], "the frame's time does not follow the previous frame's")
    kpa *= np.float32(factor)
    pitch = np.array([float(pitch_mm[0]), float(pitch_mm[1])])
    meta = {"device": {"vendor": "RSscan / Materialise", "system": "footscan", "foot": side},
            "units": {"file": f"{pressure_unit} (from --pressure-unit; the file states none)", "stored": "kPa"},
            "pitch": "from --pitch-mm (the file states none)", "time_base": "Frame n (t ms)",
            "rectangle_on_plate": {"bottom": bottom, "left": left, "width": cols, "height": rows},
            "sensel_area_mm2": float(np.prod(pitch))}
    return Recording(meta=meta, mat_kpa=kpa, mat_t=t - t[0], mat_pitch_mm=pitch)
