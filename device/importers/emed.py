"""Novel emed platform ASCII export (``.lst``) -> the mat group.

Layout (Novel software "lst" pages, Latin-1 text): each page starts with a
``Page n`` line and a header stating ``Matrix: CxR`` (columns x rows of the
platform), ``Time/picture: 10.0 ms`` and ``Sensor size: 0.500x0.500 cm``; then
``Pict-No.: n``, a tab-separated line of column numbers (1-based, ending with
``Force``), and rows ``r<TAB>values...<TAB>force`` holding only the loaded part
of the platform, a ``Force`` row, and a form feed. Pages of summary pictures
(MVP, MPP: maximum or mean pictures) are not frames and are skipped. The full
platform is stored (R x C), zeros outside each page's crop.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from device.importers.text import fail, is_number, number, read_lines
from device.recording import Recording

LENGTH_MM = {"cm": 10.0, "mm": 1.0}
TIME_S = {"ms": 0.001, "s": 1.0}


def read(path: Path, **_options) -> Recording:
    lines = read_lines(path, encoding="latin-1")  # the cm² sign is one Latin-1 byte
    matrix = pitch = dt = None
    frames: list[tuple[int, int]] = []  # (picture number, line index of its Pict-No. line)
    for i, line in enumerate(lines):
        if matrix is None and "Matrix:" in line:
            m = re.search(r"Matrix:\s*(\d+)\s*x\s*(\d+)", line)
            if not m:
                raise fail(path, i + 1, f"cannot read the matrix size in {line.strip()[:60]!r}")
            matrix = (int(m.group(2)), int(m.group(1)))  # stated as columns x rows
        elif dt is None and "Time/picture:" in line:
            m = re.search(r"Time/picture:\s*([\d.]+)\s*(\w+)", line)
            if not m or m.group(2) not in TIME_S:
                raise fail(path, i + 1, f"cannot read the time per picture (known units: {', '.join(TIME_S)}) "
                                        f"in {line.strip()[:60]!r}")
            dt = number(path, i + 1, m.group(1), "time per picture") * TIME_S[m.group(2)]
        elif pitch is None and "Sensor size:" in line:
            m = re.search(r"Sensor size:\s*([\d.]+)\s*x\s*([\d.]+)\s*(\w+)", line)
            if not m or m.group(3) not in LENGTH_MM:
                raise fail(path, i + 1, f"cannot read the sensor size (known units: {', '.join(LENGTH_MM)}) "
                                        f"in {line.strip()[:60]!r}")
            scale = LENGTH_MM[m.group(3)]
            pitch = np.array([float(m.group(2)) * scale, float(m.group(1)) * scale])  # (row, column) pitch
        elif "Pict-No.:" in line:
            m = re.search(r"Pict-No\.:\s*(\d+)", line)
            if m:
                frames.append((int(m.group(1)), i))
    for value, what in ((matrix, "'Matrix: CxR'"), (dt, "'Time/picture:'"), (pitch, "'Sensor size:'")):
        if value is None:
            raise fail(path, len(lines), f"no {what} line in the file: not an emed page export, or truncated")
    if not frames:
        raise fail(path, len(lines), "no 'Pict-No.:' picture in the file: not an emed page export, or truncated")
    if not (dt > 0 and np.all(pitch > 0)):
        raise fail(path, 1, "time per picture and sensor size must be positive")
    rows, cols = matrix
    area_cm2 = float(np.prod(pitch)) / 100.0
    kpa = np.zeros((len(frames), rows, cols), dtype=np.float32)
    for k, (pict, at) in enumerate(frames):
        if pict != k + 1:
            raise fail(path, at + 1, f"expected picture {k + 1}, found Pict-No. {pict}: a picture is missing")
        _read_picture(path, lines, at, kpa[k], rows, cols, area_cm2)
    t = np.arange(len(frames), dtype=np.float64) * dt
    meta = {"device": {"vendor": "novel", "system": "emed", "rows": rows, "cols": cols},
            "units": {"file": "kPa", "stored": "kPa"}, "time_base": "Time/picture",
            "sensel_area_mm2": float(np.prod(pitch))}
    return Recording(meta=meta, mat_kpa=kpa, mat_t=t, mat_pitch_mm=pitch)


def _read_picture(path: Path, lines: list[str], at: int, out: np.ndarray, rows: int, cols: int,
                  area_cm2: float) -> None:
    """Fill ``out`` from the picture whose ``Pict-No.`` line is ``lines[at]``."""
    i = at + 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines):
        raise fail(path, len(lines), "the file ends after a 'Pict-No.' line: truncated")
    head = lines[i].split("\t")[1:]
    if not head or head[-1].strip() != "Force":
        raise fail(path, i + 1, "expected the column numbers ending with 'Force' after 'Pict-No.'")
    try:
        col_index = np.array([int(c) for c in head[:-1]]) - 1
    except ValueError:
        raise fail(path, i + 1, "a column number is not a whole number") from None
    if col_index.size and (col_index.min() < 0 or col_index.max() >= cols):
        raise fail(path, i + 1, f"a column number is outside the platform's 1..{cols}")
    width = len(col_index) + 2  # row number, values, row force
    i += 1
    while True:
        if i >= len(lines):
            raise fail(path, len(lines), "the file ends inside a picture (no 'Force' row): truncated")
        fields = lines[i].split("\t")
        if fields[0].strip() == "Force":
            _check_force_row(path, i, fields, out, col_index, area_cm2)
            return
        if len(fields) != width:
            raise fail(path, i + 1, f"row has {len(fields) - 2} values, not {width - 2} (one per column number)")
        r = number(path, i + 1, fields[0], "row number")
        if r != int(r) or not 1 <= r <= rows:
            raise fail(path, i + 1, f"row number {fields[0]!r} is outside the platform's 1..{rows}")
        try:
            out[int(r) - 1, col_index] = [float(v) if v.strip() else 0.0 for v in fields[1:-1]]
        except ValueError:
            bad = next(v for v in fields[1:-1] if v.strip() and not is_number(v))
            raise fail(path, i + 1, f"value {bad!r} is not a number") from None
        i += 1


def _check_force_row(path: Path, i: int, fields: list[str], out: np.ndarray, col_index: np.ndarray,
                     area_cm2: float) -> None:
    """The file states no pressure unit; its Force row (N per column = sum x sensor area) proves kPa.

    1 kPa on 1 cm2 is 0.1 N, so with the 0.25 cm2 sensels a column's force is 0.025 x its kPa sum.
    Values are printed with 2 decimals: allow their rounding.
    """
    try:
        force = np.array([float(v) if v.strip() else 0.0 for v in fields[1:1 + len(col_index)]])
    except ValueError:
        raise fail(path, i + 1, "the Force row holds a value that is not a number") from None
    if len(force) != len(col_index):
        raise fail(path, i + 1, f"the Force row has {len(force)} values, not {len(col_index)}")
    expect = out[:, col_index].sum(axis=0, dtype=np.float64) * area_cm2 * 0.1
    worst = np.abs(expect - force) - (0.006 + 0.005 * out.shape[0] * area_cm2 * 0.1)
    if np.any(worst > 0):
        raise fail(path, i + 1, "the Force row does not equal the column sums x sensor area in kPa: "
                                "the values are not kPa (or the picture is damaged)")
