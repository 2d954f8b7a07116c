"""Insole sensor positions from a geometry file, for exports that do not carry them (pedar, stappone).

The file is CSV with the header ``side,sensor,x_mm,y_mm,area_mm2`` and one line per sensor
and side (``left`` / ``right``), sensors numbered from 1 as the export numbers its columns.
x is across the insole (medial-lateral), y along it (heel to toe), in the insole's own
frame. The vendor publishes these positions for each insole size; the kiosk cannot derive
them, so an export of these formats is refused without the file (docs/import.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from device.errors import ImportFormatError
from device.importers.text import fail, number, read_lines

HEADER = ["side", "sensor", "x_mm", "y_mm", "area_mm2"]


def read_geometry(path: Path | None, sides: tuple[str, ...], n_sensors: int, fmt: str) -> dict:
    """``{"left": (positions (N, 2), areas (N,)), ...}`` for ``sides``, each with sensors 1..n_sensors."""
    if path is None:
        raise ImportFormatError(f"a {fmt} export carries no sensor positions: give them with `gaitkiosk import "
                                f"--insole-geometry FILE` (CSV {','.join(HEADER)}; docs/import.md)")
    path = Path(path)
    if not path.exists():
        raise ImportFormatError(f"--insole-geometry {path}: no such file")
    lines = [line for line in read_lines(path)]
    if not lines or [c.strip() for c in lines[0].split(",")] != HEADER:
        raise fail(path, 1, f"the geometry file's header must be {','.join(HEADER)}")
    table: dict[str, dict[int, tuple[float, float, float]]] = {s: {} for s in sides}
    for i, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = [c.strip() for c in line.split(",")]
        if len(fields) != len(HEADER):
            raise fail(path, i, f"{len(fields)} fields, not {len(HEADER)}")
        side = fields[0].lower()
        if side not in ("left", "right"):
            raise fail(path, i, f"side {fields[0]!r} is neither left nor right")
        if side not in table:
            continue
        sensor = number(path, i, fields[1], "sensor")
        if sensor != int(sensor) or not 1 <= sensor <= n_sensors:
            raise fail(path, i, f"sensor {fields[1]!r} is not one of the export's 1..{n_sensors}")
        x, y, area = (number(path, i, v, name) for v, name in zip(fields[2:], HEADER[2:], strict=True))
        if not area > 0 or not np.isfinite([x, y]).all():
            raise fail(path, i, "positions must be finite and the area positive")
        if int(sensor) in table[side]:
            raise fail(path, i, f"{side} sensor {int(sensor)} is given twice")
        table[side][int(sensor)] = (x, y, area)
    out = {}
    for side in sides:
        missing = [k for k in range(1, n_sensors + 1) if k not in table[side]]
        if missing:
            raise fail(path, len(lines), f"the {side} insole lacks sensors {missing[:5]}{' ...' if len(missing) > 5 else ''} "
                                         f"(the export has {n_sensors})")
        rows = np.array([table[side][k] for k in range(1, n_sensors + 1)], dtype=np.float64)
        out[side] = (rows[:, :2].copy(), rows[:, 2].copy())
    if len(sides) == 2 and not np.array_equal(out["left"][1], out["right"][1]):
        raise fail(path, len(lines), "left and right sensor areas differ; the recording stores one area per sensor")
    return out
