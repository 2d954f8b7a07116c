"""Tekscan F-Scan / I-Scan ASCII movie export (``.asf``) -> the mat group.

Layout (as exported by Tekscan Research software 6.x): ``KEY value`` header
lines (ROWS, COLS, ROW_SPACING, COL_SPACING, SECONDS_PER_FRAME, START_FRAME,
END_FRAME, UNITS ...), ``ASCII_DATA @@``, then per frame a ``Frame n`` line and
ROWS lines of COLS comma-separated values, and ``@@`` at the end. ``B`` marks
a cell outside the sensor's outline: stored as 0 kPa, counted in meta.
The grid is stored as the file orders it (no mirroring or rotation).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from device.importers.text import fail, is_number, number, read_lines
from device.recording import Recording

REQUIRED = ("ROWS", "COLS", "ROW_SPACING", "COL_SPACING", "SECONDS_PER_FRAME", "START_FRAME", "END_FRAME", "UNITS")
LENGTH_MM = {"mm": 1.0, "millimeters": 1.0, "cm": 10.0, "centimeters": 10.0, "inches": 25.4, "in": 25.4}
PRESSURE_KPA = {"kpa": 1.0, "psi": 6.894757, "mmhg": 0.1333224}  # NIST: 1 psi = 6.894757 kPa, 1 mmHg = 133.3224 Pa


def read(path: Path, **_options) -> Recording:
    lines = read_lines(path)
    header: dict[str, tuple[int, str]] = {}
    data_at = None
    for i, line in enumerate(lines):
        if line.startswith("ASCII_DATA"):
            data_at = i + 1
            break
        key, _, value = line.strip().partition(" ")
        if key.isupper():
            header[key] = (i + 1, value.strip())
    if data_at is None:
        raise fail(path, len(lines), "no 'ASCII_DATA @@' line: not a Tekscan ASCII export, or truncated in its header")
    missing = [k for k in REQUIRED if k not in header]
    if missing:
        raise fail(path, data_at, f"the header lacks {', '.join(missing)}")

    def integer(key: str) -> int:
        lineno, value = header[key]
        n = number(path, lineno, value, key)
        if n != int(n) or n < (0 if key == "START_FRAME" else 1):
            raise fail(path, lineno, f"{key} {value!r} is not a positive whole number")
        return int(n)

    def length_mm(key: str) -> float:
        lineno, value = header[key]
        amount, _, unit = value.partition(" ")
        if unit.strip().lower() not in LENGTH_MM:
            raise fail(path, lineno, f"{key} unit {unit.strip()!r} is not one the importer knows ({', '.join(LENGTH_MM)})")
        mm = number(path, lineno, amount, key) * LENGTH_MM[unit.strip().lower()]
        if not mm > 0:
            raise fail(path, lineno, f"{key} must be positive, got {value!r}")
        return mm

    rows, cols = integer("ROWS"), integer("COLS")
    first, last = integer("START_FRAME"), integer("END_FRAME")
    pitch = np.array([length_mm("ROW_SPACING"), length_mm("COL_SPACING")])
    lineno, value = header["SECONDS_PER_FRAME"]
    dt = number(path, lineno, value, "SECONDS_PER_FRAME")
    if not dt > 0:
        raise fail(path, lineno, f"SECONDS_PER_FRAME must be positive, got {value!r}")
    lineno, unit = header["UNITS"]
    if unit.lower() not in PRESSURE_KPA:
        raise fail(path, lineno, f"pressure unit {unit!r} is not one the importer knows ({', '.join(PRESSURE_KPA)}); "
                                 "raw sums or force units cannot become kPa")
    if last < first:
        raise fail(path, header["END_FRAME"][0], f"END_FRAME {last} is before START_FRAME {first}")

    n_frames = last - first + 1
    cells: list[str] = []
    i = data_at
    for expect in range(first, last + 1):
        while i < len(lines) and not lines[i].strip():
            i += 1
        if i >= len(lines) or lines[i].strip() == "@@":
            raise fail(path, min(i + 1, len(lines)), f"the file ends after {expect - first} of {n_frames} frames "
                                                     f"(START_FRAME {first}, END_FRAME {last}): truncated")
        if lines[i].strip() != f"Frame {expect}":
            raise fail(path, i + 1, f"expected 'Frame {expect}', found {lines[i].strip()[:40]!r}")
        block = lines[i + 1:i + 1 + rows]
        for k, row in enumerate(block):
            if row.count(",") != cols - 1:
                raise fail(path, i + 2 + k, f"frame {expect} row {k + 1} has {row.count(',') + 1} values, "
                                            f"not COLS {cols}")
        if len(block) < rows:
            raise fail(path, i + 1 + len(block), f"frame {expect} has {len(block)} of {rows} rows: truncated")
        cells.append(",".join(block))
        i += 1 + rows
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines) or lines[i].strip() != "@@":
        raise fail(path, min(i + 1, len(lines)), "no closing '@@' after the last frame: truncated or extra data")

    text = ",".join(cells)
    outside = text.count("B") // n_frames
    try:
        values = np.array(text.replace("B", "0").split(","), dtype=np.float64)
    except ValueError:
        bad = next(c for c in text.split(",") if c != "B" and not is_number(c))
        where = next(j for j in range(data_at, len(lines)) if bad in lines[j].split(","))
        raise fail(path, where + 1, f"value {bad!r} is neither a number nor B (outside the sensor)") from None
    kpa = (values * PRESSURE_KPA[unit.lower()]).astype(np.float32).reshape(n_frames, rows, cols)
    t = np.arange(n_frames, dtype=np.float64) * dt
    meta = {"device": {"vendor": "Tekscan", "sensor_type": header.get("SENSOR_TYPE", (0, ""))[1],
                       "rows": rows, "cols": cols},
            "units": {"file": unit, "stored": "kPa"}, "time_base": "SECONDS_PER_FRAME",
            "frames": {"first": first, "last": last}, "cells_outside_sensor": outside,
            "sensel_area_mm2": float(np.prod(pitch))}
    return Recording(meta=meta, mat_kpa=kpa, mat_t=t, mat_pitch_mm=pitch)
