"""XSENSOR Foot & Gait CSV export -> the insole group.

Layout (XSENSOR Pro/X4 "export frames to CSV"): ``File:``, ``Units:,mmHg`` and
``Threshold:`` at the top, then per frame ``FRAME,n``, ``Date,...``, ``Time, hh:mm:ss.fff``
and one block per sensor: ``SENSOR,<name>`` (the name ends in ``-LF`` or ``-RF``: left or
right foot), ``Rows``, ``Columns``, ``Sensel Width (cm)``, ``Sensel Height (cm)``, the
software's statistics, ``SENSELS,`` and Rows lines of Columns values; then ``GROUP`` blocks
(the software's foot regions: their own ``SENSELS`` lists, ``Cells`` values long) which are
skipped. Blank lines (only commas) separate everything.

Each insole's grid is stored as insole sensors in the file's order (row by row), the
sensor at row r, column c placed at (c x width, r x height) mm: row 0 is the grid's first
line. The time base is the frames' ``Time`` stamps (t = 0 at the first frame).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from device.importers.text import fail, is_number, number, pressure_factor, read_lines
from device.recording import Recording

SIDE = {"L": "left", "R": "right"}


def _fields(line: str) -> list[str]:
    return line.rstrip(",").split(",") if line.strip(", ") else []


def read(path: Path, **_options) -> Recording:
    lines = read_lines(path, encoding="utf-8-sig")
    # every other line is only commas (a blank spreadsheet row); a line starting with one is one of them
    rows_of = [(i, f) for i, line in enumerate(lines) if line[:1] not in ("", ",") and (f := _fields(line))]
    unit = next(((i, f[1]) for i, f in rows_of[:10] if f[0] == "Units:" and len(f) > 1), None)
    if unit is None:
        raise fail(path, 1, "no 'Units:' line at the top: not an XSENSOR CSV export")
    factor = pressure_factor(path, unit[0] + 1, unit[1])
    frames: list[dict] = []
    k = 0
    while k < len(rows_of):
        i, f = rows_of[k]
        key = f[0]
        if key == "FRAME":
            frames.append({"line": i, "number": f[1] if len(f) > 1 else "", "sensors": {}, "groups": 0})
        elif not frames:
            pass  # the file header
        elif key == "Time":
            frames[-1]["time"] = (i, f[1] if len(f) > 1 else "")
        elif key == "SENSOR":
            k = _sensor(path, rows_of, k, frames[-1], factor)
            continue
        elif key == "GROUP":
            k = _skip_group(path, rows_of, k)
            frames[-1]["groups"] += 1
            continue
        k += 1
    if not frames:
        raise fail(path, len(lines), "no 'FRAME' in the file: not an XSENSOR frame export, or truncated")
    first = frames[0]
    if not first["sensors"]:
        raise fail(path, len(lines), "the first frame has no SENSOR block: truncated")
    if not is_number(first["number"]):
        raise fail(path, first["line"] + 1, f"FRAME {first['number']!r} is not a frame number")
    for n, frame in enumerate(frames):
        if frame["number"].strip() != str(int(float(first["number"])) + n):
            raise fail(path, frame["line"] + 1, f"FRAME {frame['number']!r} is not the expected "
                                                f"{int(float(first['number'])) + n}: a frame is missing")
        if "time" not in frame:
            raise fail(path, frame["line"] + 1, "the frame has no 'Time' line")
        if frame["sensors"].keys() != first["sensors"].keys() or frame["groups"] != first["groups"]:
            raise fail(path, frame["line"] + 1, f"frame {frame['number']} has sensors {sorted(frame['sensors'])} and "
                                                f"{frame['groups']} groups, the first frame {sorted(first['sensors'])} and "
                                                f"{first['groups']}: truncated or damaged")
    t = np.array([_clock(path, *frame["time"]) for frame in frames])
    t -= t[0]
    if np.any(np.diff(t) <= 0):
        k = int(np.argmax(np.diff(t) <= 0))
        raise fail(path, frames[k + 1]["time"][0] + 1, "the frame's Time does not follow the previous frame's")
    rec = Recording(meta={"device": {"vendor": "XSENSOR", "sensors": {}}, "units": {"file": unit[1], "stored": "kPa"},
                          "time_base": "Time of each FRAME", "first_frame": int(float(first["number"]))},
                    insole_t=t)
    shapes = set()
    for side, block in first["sensors"].items():
        kpa = np.stack([frame["sensors"][side]["kpa"] for frame in frames])
        n_rows, n_cols, width, height = block["shape"]
        shapes.add(block["shape"])
        r, c = np.divmod(np.arange(n_rows * n_cols), n_cols)
        setattr(rec, f"insole_{side}_kpa", kpa.reshape(len(frames), -1).astype(np.float32))
        setattr(rec, f"insole_{side}_sensors_mm", np.column_stack((c * width, r * height)).astype(np.float64))
        rec.insole_sensor_area_mm2 = np.full(n_rows * n_cols, width * height)
        rec.meta["device"]["sensors"][side] = {"name": block["name"], "rows": n_rows, "cols": n_cols,
                                               "sensel_mm": [width, height]}
    if len(shapes) != 1:
        raise fail(path, first["line"] + 1, "the two insoles' grids differ in size or sensel: not read yet")
    return rec


def _sensor(path: Path, rows_of: list, k: int, frame: dict, factor: float) -> int:
    """Read one ``SENSOR`` block starting at ``rows_of[k]`` into ``frame``; the index after it."""
    i, f = rows_of[k]
    name = f[1] if len(f) > 1 else ""
    m = re.search(r"-([LR])F\b", name)
    if not m:
        raise fail(path, i + 1, f"sensor {name!r}: its name does not say the foot (-LF or -RF)")
    side = SIDE[m.group(1)]
    info: dict[str, tuple[int, str]] = {}
    k += 1
    while k < len(rows_of) and rows_of[k][1][0] != "SENSELS":
        j, g = rows_of[k]
        if g[0] in ("FRAME", "SENSOR", "GROUP"):
            raise fail(path, j + 1, f"sensor {name!r} has no SENSELS block")
        info[g[0]] = (j + 1, g[1] if len(g) > 1 else "")
        k += 1
    if k >= len(rows_of):
        raise fail(path, rows_of[-1][0] + 1, "the file ends inside a SENSOR block: truncated")
    sizes = []
    for key in ("Rows", "Columns", "Sensel Width (cm)", "Sensel Height (cm)"):
        if key not in info:
            raise fail(path, i + 1, f"sensor {name!r} lacks {key!r}")
        sizes.append(number(path, *info[key], key))
    n_rows, n_cols = int(sizes[0]), int(sizes[1])
    width, height = sizes[2] * 10.0, sizes[3] * 10.0
    if n_rows < 1 or n_cols < 1 or not (width > 0 and height > 0):
        raise fail(path, info["Rows"][0], "rows, columns and sensel sizes must be positive")
    grid = rows_of[k + 1:k + 1 + n_rows]
    if len(grid) < n_rows:
        raise fail(path, rows_of[-1][0] + 1, f"sensor {name!r} has {len(grid)} of {n_rows} rows: truncated")
    values = np.empty((n_rows, n_cols))
    for r, (j, g) in enumerate(grid):
        if len(g) != n_cols:
            raise fail(path, j + 1, f"sensel row has {len(g)} values, not Columns {n_cols}: truncated or damaged")
        try:
            values[r] = [float(v) for v in g]
        except ValueError:
            bad = next(v for v in g if not is_number(v))
            raise fail(path, j + 1, f"value {bad!r} is not a number") from None
    if side in frame["sensors"]:
        raise fail(path, i + 1, f"a second {side} sensor in frame {frame['number']}")
    frame["sensors"][side] = {"kpa": values * factor, "name": name, "shape": (n_rows, n_cols, width, height)}
    return k + 1 + n_rows


def _skip_group(path: Path, rows_of: list, k: int) -> int:
    """Skip a ``GROUP`` block (the software's region statistics), checking its SENSELS list is whole."""
    i, f = rows_of[k]
    cells = None
    k += 1
    while k < len(rows_of) and rows_of[k][1][0] != "SENSELS":
        j, g = rows_of[k]
        if g[0] == "Cells":
            cells = int(number(path, j + 1, g[1] if len(g) > 1 else "", "Cells"))
        k += 1
    if k >= len(rows_of) or cells is None:
        raise fail(path, rows_of[-1][0] + 1, f"GROUP at line {i + 1} has no Cells and SENSELS: truncated")
    k += 1
    got = 0
    while k < len(rows_of) and is_number(rows_of[k][1][0]):
        got += len(rows_of[k][1])
        k += 1
    if got != cells:
        raise fail(path, rows_of[min(k, len(rows_of)) - 1][0] + 1,
                   f"GROUP at line {i + 1} lists {got} sensels, not its Cells {cells}: truncated or damaged")
    return k


def _clock(path: Path, lineno: int, text: str) -> float:
    m = re.fullmatch(r"\s*(\d+):(\d+):(\d+(?:\.\d+)?)\s*", text)
    if not m:
        raise fail(path, lineno + 1, f"Time {text.strip()!r} is not hh:mm:ss.fff")
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
