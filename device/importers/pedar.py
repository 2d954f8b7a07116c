"""Novel pedar insole ASCII export (``.asc``) -> the insole group.

Layout (Novel pedar software): a header of lines ``file name: ...``, ``sensor type: ...``,
``total time [secs]: T<TAB>time per frame [secs]: dt<TAB>scanning rate [Hz]: f``,
``pressure values in  kPa``, a ``mask definition:`` with the sensor numbers of the
``left insole:`` and ``right insole:``, then the column line ``time[secs]`` followed by
the left sensors' numbers and the right's (each from 1), and one white-space separated
line per frame: its time and one value per sensor.

The export carries **no sensor positions**: they come from ``--insole-geometry``
(device/importers/geometry.py). The frame count must equal total time / time per frame,
which is how a file cut at a line end is still found truncated.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from device.importers.geometry import read_geometry
from device.importers.text import fail, number, numeric_rows, pressure_factor, read_lines
from device.recording import Recording


def _sensor_list(path: Path, lineno: int, text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise fail(path, lineno, "the mask definition is not a list of sensor numbers") from None


def read(path: Path, *, insole_geometry: Path | None = None, **_options) -> Recording:
    lines = read_lines(path, encoding="latin-1")
    total = dt = unit = head = None
    masks: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        if line.startswith("time[secs]"):
            head = i
            break
        if "time per frame [secs]:" in line:
            m = re.search(r"total time \[secs\]:\s*([\S]+).*time per frame \[secs\]:\s*(\S+)", line)
            if not m:
                raise fail(path, i + 1, "cannot read 'total time' and 'time per frame'")
            total = number(path, i + 1, m.group(1), "total time")
            dt = number(path, i + 1, m.group(2), "time per frame")
        elif line.startswith("pressure values in"):
            unit = (i + 1, line[len("pressure values in"):].strip())
        elif line.startswith(("left insole:", "right insole:")):
            side, _, numbers = line.partition(" insole:")
            masks[side] = _sensor_list(path, i + 1, numbers)
    if head is None:
        raise fail(path, len(lines), "no 'time[secs]' column line: not a pedar export, or truncated in its header")
    for value, what in ((dt, "'time per frame [secs]:'"), (unit, "'pressure values in'")):
        if value is None:
            raise fail(path, head + 1, f"the header has no {what} line")
    if not (dt > 0 and total > 0):
        raise fail(path, 3, "total time and time per frame must be positive")
    factor = pressure_factor(path, *unit)
    sides = tuple(s for s in ("left", "right") if s in masks)
    if not sides:
        raise fail(path, head + 1, "the mask definition names neither a left nor a right insole")
    columns = lines[head].split()[1:]
    expect = [str(k) for s in sides for k in masks[s]]
    if columns != expect:
        raise fail(path, head + 1, f"the column numbers are not the mask definition's ({' + '.join(sides)} insole, "
                                   f"{len(expect)} sensors)")
    body_end = len(lines)
    while body_end > head + 1 and not lines[body_end - 1].strip():
        body_end -= 1
    data = numeric_rows(path, lines[:body_end], head + 1, 1 + len(columns), what="frame")
    n_frames = int(round(total / dt))
    if len(data) != n_frames:
        raise fail(path, body_end, f"{len(data)} frames, but total time {total} s / time per frame {dt} s is "
                                   f"{n_frames}: truncated")
    t = data[:, 0]
    steps = np.diff(t)
    if np.any(np.abs(steps - dt) > dt / 2):
        k = int(np.argmax(np.abs(steps - dt) > dt / 2))
        raise fail(path, head + 3 + k, f"time {t[k + 1]!r} does not follow {t[k]!r} by the time per frame {dt}")
    geometry = read_geometry(insole_geometry, sides, max(len(masks[s]) for s in sides), "pedar")
    rec = Recording(meta={"device": {"vendor": "novel", "system": "pedar", "sensor_type": _after(lines, "sensor type:")},
                          "units": {"file": unit[1], "stored": "kPa"}, "time_base": "time[secs] column",
                          "insole_geometry": str(insole_geometry)},
                    insole_t=t.copy())
    at = 1
    for side in sides:
        n = len(masks[side])
        if masks[side] != list(range(1, n + 1)):
            raise fail(path, 7 if side == "left" else 8, f"the {side} insole's mask is not sensors 1..{n}: "
                                                         "a partial mask is not read yet")
        kpa = (data[:, at:at + n] * factor).astype(np.float32)
        setattr(rec, f"insole_{side}_kpa", kpa)
        setattr(rec, f"insole_{side}_sensors_mm", geometry[side][0])
        rec.insole_sensor_area_mm2 = geometry[side][1]
        at += n
    return rec


def _after(lines: list[str], key: str) -> str:
    return next((line[len(key):].strip() for line in lines[:10] if line.startswith(key)), "")
