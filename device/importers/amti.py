"""AMTI force-plate export (Motive/OptiTrack CSV layout) -> the centre-of-pressure group.

Layout: ``Key,value,`` metadata lines (``Capture Frame Rate``, ``Device Name``,
``Offset_X/Y/Z`` ...), a blank line, the header ``MocapFrame, MocapTime,
DeviceFrame, Fx, Fy, Fz, Mx, My, Mz, Cx, Cy, Cz`` and one line per sample.
The export states no units; the Motive convention is N, N·m and m, and the
file's own Cx, Cy columns confirm it (tests/test_importers.py).

COP from forces and moments about the plate's origin, ``h`` the distance from
the top surface down to that origin (AMTI's "z0", positive):
``Cx = (−My − h·Fx) / Fz``, ``Cy = (Mx − h·Fy) / Fz``; with h = 0 these are
``Cx = −My/Fz``, ``Cy = Mx/Fz``. Samples with ``Fz`` below ``min_fz_n`` (nobody on
the plate, the export's all-zero dropouts) have no COP: NaN rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from device.importers.text import fail, number, read_lines
from device.recording import Recording

COLUMNS = ("MocapFrame", "MocapTime", "DeviceFrame", "Fx", "Fy", "Fz", "Mx", "My", "Mz")


def cop_from_forces(f: np.ndarray, m: np.ndarray, top_offset_m: float = 0.0, min_fz_n: float = 5.0) -> np.ndarray:
    """(N, 2) COP in metres from (N, 3) forces [N] and (N, 3) moments [N·m]; NaN where Fz < min_fz_n."""
    fx, fy, fz = f[:, 0], f[:, 1], f[:, 2]
    mx, my = m[:, 0], m[:, 1]
    loaded = np.abs(fz) >= min_fz_n
    safe = np.where(loaded, fz, 1.0)
    cop = np.column_stack(((-my - top_offset_m * fx) / safe, (mx - top_offset_m * fy) / safe))
    cop[~loaded] = np.nan
    return cop


def read(path: Path, *, plate_top_offset_mm: float | None = None, min_fz_n: float = 5.0, **_options) -> Recording:
    lines = read_lines(path)
    meta_lines: dict[str, tuple[int, str]] = {}
    head = None
    for i, line in enumerate(lines):
        if line.startswith("MocapFrame"):
            head = i
            break
        key, _, value = line.partition(",")
        if key:
            meta_lines[key.strip()] = (i + 1, value.strip().rstrip(","))
    if head is None:
        raise fail(path, len(lines), "no 'MocapFrame, MocapTime, ...' header line: not a Motive force-plate export, "
                                     "or truncated in its metadata")
    names = [c.strip() for c in lines[head].split(",")]
    if names[:len(COLUMNS)] != list(COLUMNS):
        raise fail(path, head + 1, f"columns {names} are not {', '.join(COLUMNS)}, ...")
    width = len(names)
    if "Capture Frame Rate" not in meta_lines:
        raise fail(path, head + 1, "the metadata lacks 'Capture Frame Rate'")
    rate = number(path, *meta_lines["Capture Frame Rate"], "Capture Frame Rate")
    offsets = {k: number(path, *meta_lines[k], k) for k in ("Offset_X", "Offset_Y", "Offset_Z") if k in meta_lines}
    if plate_top_offset_mm is None:
        if any(v != 0 for v in offsets.values()):
            raise fail(path, meta_lines["Offset_Z"][0] if "Offset_Z" in meta_lines else head,
                       f"the file states a plate offset {offsets} the importer does not interpret; "
                       "give the plate's top offset with --plate-top-offset-mm")
        plate_top_offset_mm = 0.0
    body = lines[head + 1:]
    while body and not body[-1].strip():
        body.pop()
    if not body:
        raise fail(path, head + 1, "no samples after the header: truncated")
    for k, line in enumerate(body):
        if line.count(",") != width - 1:
            raise fail(path, head + 2 + k, f"sample has {line.count(',') + 1} values, not {width}: truncated or damaged")
    try:
        data = np.array(",".join(body).split(","), dtype=np.float64).reshape(len(body), width)
    except ValueError:
        for k, line in enumerate(body):
            for v in line.split(","):
                number(path, head + 2 + k, v, "value")
        raise
    t = data[:, 1]
    steps = np.diff(t)
    if np.any(steps <= 0):
        k = int(np.argmax(steps <= 0))
        raise fail(path, head + 3 + k, f"MocapTime {t[k + 1]!r} does not follow {t[k]!r}")
    cop_m = cop_from_forces(data[:, 3:6], data[:, 6:9], plate_top_offset_mm / 1000.0, min_fz_n)
    meta = {"device": {"name": meta_lines.get("Device Name", (0, ""))[1], "kind": "force plate"},
            "take": meta_lines.get("Take Name", (0, ""))[1], "rate_hz": rate,
            "units": {"file": "N, N·m, m (Motive convention; the file states none)", "stored": "mm, N"},
            "plate_top_offset_mm": plate_top_offset_mm, "min_fz_n": min_fz_n,
            "samples_without_cop": int(np.isnan(cop_m[:, 0]).sum()), "time_base": "MocapTime"}
    return Recording(meta=meta, cop_t=t.copy(), cop_mm=cop_m * 1000.0, cop_force_n=data[:, 5].copy())


def file_cop_mm(path: Path) -> np.ndarray:
    """The COP the acquisition software wrote (Cx, Cy columns), in mm: what tests compare against."""
    lines = read_lines(path)
    head = next(i for i, line in enumerate(lines) if line.startswith("MocapFrame"))
    names = [c.strip() for c in lines[head].split(",")]
    body = [line for line in lines[head + 1:] if line.strip()]
    data = np.array(",".join(body).split(","), dtype=np.float64).reshape(len(body), len(names))
    return data[:, [names.index("Cx"), names.index("Cy")]] * 1000.0
