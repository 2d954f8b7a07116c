"""Novel pliance mat ASCII export (``.asc``) -> the mat group (and the COP group it prints).

Layout (Novel pliance software): header lines ``file name: ...``, ``mat type ...``,
``total times [secs]: T time per frame [secs]: dt scanning rate [Hz]: f``, ``pressure
values in kPa``; then the ``time[secs]`` column line with the sensor numbers, one line
per frame (its time and one value per sensor), the summary pictures ``MPP`` and ``MVP``
(not frames: skipped); a block ``time[secs] force[N] x[cm] y[cm]`` (the software's own
force and COP over the whole measurement, ``-`` where nothing was loaded); and the
sensor geometry: ``sensor`` numbers, four corners ``x[0]..y[3]``, the centre ``x[c]``,
``y[c]`` (cm) and the ``area`` (cm²) of each sensor.

The sensors of a pliance mat lie on a regular grid: the importer places each sensor by its
centre (row = (y − min y) / row pitch, column = (x − min x) / column pitch, so rows grow
with y) and refuses a layout that is not a grid.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from device.importers.text import fail, is_number, number, numeric_rows, pressure_factor, read_lines
from device.recording import Recording


def read(path: Path, **_options) -> Recording:
    lines = read_lines(path, encoding="latin-1")
    dt = unit = head = None
    for i, line in enumerate(lines):
        if line.startswith("time[secs]"):
            head = i
            break
        if "time per frame [secs]:" in line:
            m = re.search(r"time per frame \[secs\]:\s*(\S+)", line)
            dt = number(path, i + 1, m.group(1), "time per frame")
        elif line.startswith("pressure values in"):
            unit = (i + 1, line[len("pressure values in"):].strip())
    if head is None:
        raise fail(path, len(lines), "no 'time[secs]' column line: not a pliance export, or truncated in its header")
    for value, what in ((dt, "'time per frame [secs]:'"), (unit, "'pressure values in'")):
        if value is None:
            raise fail(path, head + 1, f"the header has no {what} line")
    factor = pressure_factor(path, *unit)
    sensors = lines[head].split()[1:]
    end = next((i for i in range(head + 1, len(lines)) if lines[i].split()[:1] in (["MPP"], ["MVP"], [])), None)
    if end is None:
        raise fail(path, len(lines), "the file ends inside the frames (no MPP/MVP summary after them): truncated")
    if end == head + 1:
        raise fail(path, head + 2, "no frames after the 'time[secs]' column line")
    frames = numeric_rows(path, lines[:end], head + 1, 1 + len(sensors), what="frame")
    t = frames[:, 0]
    if np.any(np.diff(t) <= 0):
        k = int(np.argmax(np.diff(t) <= 0))
        raise fail(path, head + 3 + k, f"time {t[k + 1]!r} does not follow {t[k]!r}")
    cop_at = _find(path, lines, end, lambda s: s.split()[:2] == ["time[secs]", "force[N]"], "the force and COP block")
    geo_at = _find(path, lines, cop_at, lambda s: s.split()[:1] == ["sensor"], "the sensor geometry ('sensor' line)")
    cop = _cop_block(path, lines, cop_at + 1, geo_at)
    rows, cols, pitch, where = _grid(path, lines, geo_at, sensors)
    kpa = np.zeros((len(t), rows, cols), dtype=np.float32)
    kpa[:, where[0], where[1]] = frames[:, 1:] * factor
    meta = {"device": {"vendor": "novel", "system": "pliance", "mat_type": lines[1].removeprefix("mat type").strip(),
                       "rows": rows, "cols": cols},
            "units": {"file": unit[1], "stored": "kPa", "cop_file": "N, cm"}, "time_base": "time[secs] column",
            "time_per_frame_s": dt, "sensel_area_mm2": float(np.prod(pitch)), "cop": "the pliance software's own"}
    return Recording(meta=meta, mat_kpa=kpa, mat_t=t.copy(), mat_pitch_mm=pitch,
                     cop_t=cop[:, 0].copy(), cop_mm=cop[:, 2:4] * 10.0, cop_force_n=cop[:, 1].copy())


def _find(path, lines, start, test, what) -> int:
    for i in range(start, len(lines)):
        if test(lines[i]):
            return i
    raise fail(path, len(lines), f"the file ends before {what}: truncated")


def _cop_block(path: Path, lines: list[str], start: int, stop: int) -> np.ndarray:
    """Rows ``time force x y`` (``-`` = no COP: NaN) between ``start`` and the geometry line."""
    body = [(i, line.split()) for i, line in enumerate(lines[start:stop], start) if line.strip()]
    if not body:
        raise fail(path, start + 1, "the force and COP block is empty")
    out = np.empty((len(body), 4))
    for k, (i, fields) in enumerate(body):
        if len(fields) != 4:
            raise fail(path, i + 1, f"force/COP row has {len(fields)} fields, not 4")
        out[k] = [np.nan if v == "-" else number(path, i + 1, v, "force/COP value") for v in fields]
    if np.isnan(out[:, :2]).any():
        raise fail(path, start + 1, "a time or force in the force/COP block is '-'")
    return out


def _grid(path: Path, lines: list[str], at: int, sensors: list[str]):
    """(rows, cols, pitch (row, col) mm, (row index, col index) per sensor) from the geometry block."""
    if lines[at].split()[1:] != sensors:
        raise fail(path, at + 1, "the geometry's sensor numbers are not the frames' column numbers")
    named: dict[str, np.ndarray] = {}
    for i in range(at + 1, len(lines)):
        fields = lines[i].split()
        if not fields or fields[0] == "corner[cm]":
            continue
        if len(fields) != len(sensors) + 1:
            raise fail(path, i + 1, f"geometry row {fields[0]!r} has {len(fields) - 1} values, not {len(sensors)}: "
                                    "truncated or damaged")
        try:
            named[fields[0]] = np.array(fields[1:], dtype=np.float64)
        except ValueError:
            bad = next(v for v in fields[1:] if not is_number(v))
            raise fail(path, i + 1, f"geometry value {bad!r} is not a number") from None
    for key in ("x[c]", "y[c]", "area"):
        if key not in named:
            raise fail(path, len(lines), f"the geometry has no {key!r} row: truncated")
    x, y = named["x[c]"] * 10.0, named["y[c]"] * 10.0
    pitch = np.array([_pitch(y), _pitch(x)])
    if not np.all(pitch > 0):
        raise fail(path, at + 1, "the sensor centres do not span a grid")
    row = np.rint((y - y.min()) / pitch[0]).astype(int)
    col = np.rint((x - x.min()) / pitch[1]).astype(int)
    off = np.abs(row * pitch[0] + y.min() - y).max(initial=0) + np.abs(col * pitch[1] + x.min() - x).max(initial=0)
    if off > 0.01 or len(set(zip(row, col, strict=True))) != len(sensors):
        raise fail(path, at + 1, "the sensor centres are not on one regular grid: not read yet")
    if not np.allclose(named["area"] * 100.0, np.prod(pitch), rtol=0.01):
        raise fail(path, len(lines), "the sensor areas are not row pitch x column pitch")
    return int(row.max()) + 1, int(col.max()) + 1, pitch, (row, col)


def _pitch(v: np.ndarray) -> float:
    steps = np.diff(np.unique(np.round(v, 4)))
    return float(steps.min()) if len(steps) else 0.0
