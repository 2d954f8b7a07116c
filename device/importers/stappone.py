"""stappone insole CSV export -> the insole group (one insole per file).

Layout (stappone app export): the header ``sole_id,timestamp,accel_x..magn_z,
pressure_01..pressure_12,corrupt`` and one line per sample: the sole's id, a Unix time
stamp in milliseconds, nine IMU values, twelve pressure channels and a ``corrupt`` flag.

What the export lacks, each taken from an option (docs/import.md), never guessed:

- the pressure channels are **raw counts**, not a pressure: ``--kpa-per-count`` gives the
  linear factor from the insole's calibration (zero counts = 0 kPa);
- **sensor positions**: ``--insole-geometry`` (device/importers/geometry.py);
- **which foot**: ``sole_id`` is a number the file does not explain: ``--side left|right``.

Samples flagged ``corrupt`` are refused (naming the line) rather than dropped silently.
The time base is the time stamps (t = 0 at the first sample); the IMU is not stored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from device.errors import ImportFormatError
from device.importers.geometry import read_geometry
from device.importers.text import fail, numeric_rows, read_lines
from device.recording import Recording

CHANNELS = tuple(f"pressure_{k:02d}" for k in range(1, 13))
HEADER = ("sole_id", "timestamp", "accel_x", "accel_y", "accel_z", "gyro_x", "gyro_y", "gyro_z",
          "magn_x", "magn_y", "magn_z") + CHANNELS + ("corrupt",)


def read(path: Path, *, insole_geometry: Path | None = None, kpa_per_count: float | None = None,
         side: str | None = None, **_options) -> Recording:
    lines = read_lines(path)
    if not lines or tuple(c.strip() for c in lines[0].split(",")) != HEADER:
        raise fail(path, 1, f"the header is not {','.join(HEADER[:3])},...,{','.join(HEADER[-2:])}: "
                            "not a stappone export")
    end = len(lines)
    while end > 1 and not lines[end - 1].strip():
        end -= 1
    if end == 1:
        raise fail(path, 1, "no samples after the header: truncated")
    data = numeric_rows(path, lines[:end], 1, len(HEADER), sep=",", what="sample")
    ids = np.unique(data[:, 0])
    if len(ids) != 1:
        raise fail(path, 2 + int(np.argmax(data[:, 0] != data[0, 0])), f"more than one sole_id ({ids.tolist()}): "
                                                                        "one insole per file is read")
    corrupt = np.flatnonzero(data[:, -1] != 0)
    if len(corrupt):
        raise fail(path, 2 + int(corrupt[0]), f"{len(corrupt)} samples are flagged corrupt (first here)")
    t = (data[:, 1] - data[0, 1]) / 1000.0
    if np.any(np.diff(t) <= 0):
        k = int(np.argmax(np.diff(t) <= 0))
        raise fail(path, 3 + k, f"timestamp {int(data[k + 1, 1])} does not follow {int(data[k, 1])}")
    if side not in ("left", "right"):
        raise ImportFormatError(f"{path}: a stappone export does not say which foot (sole_id "
                                f"{int(data[0, 0])}): import it with `gaitkiosk import --side left` or `--side right`")
    if kpa_per_count is None or not kpa_per_count > 0:
        raise ImportFormatError(f"{path}: a stappone export holds raw counts, not a pressure: give the insole's "
                                "calibration with `gaitkiosk import --kpa-per-count FACTOR` (positive)")
    geometry = read_geometry(insole_geometry, (side,), len(CHANNELS), "stappone")
    counts = data[:, 11:11 + len(CHANNELS)]
    rec = Recording(meta={"device": {"vendor": "stappone", "sole_id": int(data[0, 0]), "side": side},
                          "units": {"file": "raw counts", "stored": "kPa", "kpa_per_count": kpa_per_count},
                          "time_base": "timestamp (ms)", "start_unix_ms": int(data[0, 1]),
                          "insole_geometry": str(insole_geometry)},
                    insole_t=t, insole_sensor_area_mm2=geometry[side][1])
    setattr(rec, f"insole_{side}_kpa", (counts * kpa_per_count).astype(np.float32))
    setattr(rec, f"insole_{side}_sensors_mm", geometry[side][0])
    return rec
