"""A recording (DESIGN 4.1) as a C3D file, the gait lab's interchange format, and back for checking.

Written with the pure-Python ``c3d`` package (the ``import`` extra; it runs on the kiosk's
ARM board, where ``ezc3d`` has no wheel to count on). C3D has one frame rate for points and
one analog rate that is a whole multiple of it, so one file holds one time base:

- **points** (mm, C3D's 4-float form): ``COP`` (x, y, 0) and, for two plates or insoles,
  ``COP_L``, ``COP_R``; a sample without COP (NaN) is written as an invalid point
  (residual −1), which C3D readers show as a gap;
- **analog channels** (one sample per frame): ``FZ`` (N, the COP group's vertical force),
  ``FZ_L``, ``FZ_R``; then the pressure frames: one channel per **loaded** sensel, labelled
  ``P<row>_<col>`` (0-based) for a mat and ``L<n>`` / ``R<n>`` for insole sensors, in kPa. A
  sensel that is 0 in every frame is left out: a 64 x 95 platform would otherwise carry
  5000 empty channels, and C3D's header counts analog words in 16 bits. The grid is
  rebuilt from the parameters below, so nothing is lost;
- **parameters**: ``POINT:RATE`` / ``ANALOG:RATE`` (Hz), ``POINT:UNITS`` ``mm``,
  ``ANALOG:UNITS`` per channel (``N`` / ``kPa``), and a ``GAITKIOSK`` group: ``START_S``
  (time of the first frame), ``MAT_ROWS``, ``MAT_COLS``, ``MAT_PITCH_MM``, ``SENSEL_ROW`` /
  ``SENSEL_COL`` (each pressure channel's place), or ``SENSOR_X_MM`` / ``SENSOR_Y_MM`` /
  ``SENSOR_AREA_MM2`` for insoles, and ``SOURCE`` (what the recording came from).

C3D stores 32-bit floats: kPa (float32 already) are kept exactly, COP in mm to float32
precision (< 0.1 µm at 1 m). The time base must be uniform (C3D has a rate, not times):
the rate written is the mean one, and a recording with a frame more than 10 % of a step off
that grid is refused (``TIME_OFF_GRID_S`` says how far the worst frame was), as is one whose
groups run on different time bases (``omit`` names the groups to leave out, e.g. a pliance
file's COP).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from device.errors import RecordingError
from device.recording import Recording


def _rate(t: np.ndarray, what: str) -> tuple[float, float]:
    """(rate Hz, largest distance of a frame from the uniform grid, s) of the time base ``t``.

    The rate is the mean one, (T − 1) / span: exports that print time stamps rounded to the
    millisecond (XSENSOR: 13 and 14 ms steps at 75 Hz) still lie on it within a fraction of a
    step. A frame more than 10 % of a step off the grid (a gap, a pause) is refused.
    """
    if len(t) < 2:
        raise RecordingError(f"C3D needs at least two {what} frames to state a rate")
    dt = float(t[-1] - t[0]) / (len(t) - 1)
    off = np.abs(t - (t[0] + dt * np.arange(len(t))))
    if off.max() > 0.1 * dt:
        k = int(np.argmax(off))
        raise RecordingError(f"the {what} time base is not uniform (frame {k} is {off[k]:.6f} s off a "
                             f"{dt:.6f} s grid): C3D states a rate, not times")
    return 1.0 / dt, float(off.max())


def _channels(rec: Recording, groups: list[str]) -> tuple[list[str], list[str], np.ndarray, dict]:
    """Analog labels, units, data (channels, T) and the GAITKIOSK parameters for the chosen groups."""
    labels, units, data, params = [], [], [], {}
    if "cop" in groups:
        for label, a in (("FZ", rec.cop_force_n), ("FZ_L", rec.force_left_n), ("FZ_R", rec.force_right_n)):
            if a is not None:
                labels.append(label)
                units.append("N")
                data.append(a)
    if "mat" in groups:
        kpa = rec.mat_kpa
        rows, cols = np.nonzero(kpa.max(axis=0) != 0) if len(kpa) else ([], [])
        labels += [f"P{r}_{c}" for r, c in zip(rows, cols, strict=True)]
        units += ["kPa"] * len(rows)
        data += list(kpa[:, rows, cols].T)
        params.update(MAT_ROWS=kpa.shape[1], MAT_COLS=kpa.shape[2], MAT_PITCH_MM=rec.mat_pitch_mm,
                      SENSEL_ROW=np.asarray(rows), SENSEL_COL=np.asarray(cols))
    if "insoles" in groups:
        for side, prefix in (("left", "L"), ("right", "R")):
            kpa = getattr(rec, f"insole_{side}_kpa")
            if kpa is None:
                continue
            used = np.flatnonzero(kpa.max(axis=0) != 0)
            labels += [f"{prefix}{k}" for k in used]
            units += ["kPa"] * len(used)
            data += list(kpa[:, used].T)
            pos = getattr(rec, f"insole_{side}_sensors_mm")
            params[f"{prefix}_SENSOR"] = used
            params[f"{prefix}_SENSOR_X_MM"] = pos[used, 0]
            params[f"{prefix}_SENSOR_Y_MM"] = pos[used, 1]
            params[f"{prefix}_SENSOR_AREA_MM2"] = rec.insole_sensor_area_mm2[used]
    return labels, units, np.array(data, dtype=np.float32).reshape(len(labels), -1), params


# A C3D parameter's dimensions are bytes: lists longer than 255 continue in NAME2, NAME3, ...
# (the convention of C3D.org's documentation for LABELS2, followed by Vicon, Mokka and ezc3d).
CHUNK = 255


def _chunk_names(name: str, n: int) -> list[str]:
    return [name if k == 0 else f"{name}{k + 1}" for k in range((n + CHUNK - 1) // CHUNK)] or [name]


def _continued(name: str):
    """NAME, NAME2, NAME3, ... (a reader stops at the first that is absent)."""
    yield name
    k = 2
    while True:
        yield f"{name}{k}"
        k += 1


def _strings(group, name: str, desc: str, values: list[str]) -> None:
    width = max(len(v) for v in values)
    for k, key in enumerate(_chunk_names(name, len(values))):
        part = values[k * CHUNK:(k + 1) * CHUNK]
        group.set_str(key, desc, "".join(v.ljust(width) for v in part), width, len(part))


def _numbers(group, name: str, values: np.ndarray) -> None:
    if values.size == 0:
        group.add_empty_array(name, name, 4)
    for k, key in enumerate(_chunk_names(name, values.size) if values.size else []):
        group.add_array(key, name, values[k * CHUNK:(k + 1) * CHUNK])


def write_c3d(path: str | Path, rec: Recording, omit: tuple[str, ...] = ()) -> Path:
    """Write ``rec`` as C3D at ``path`` (atomically: a temporary file renamed into place)."""
    try:
        import c3d
    except ImportError:
        raise RecordingError("writing C3D needs the c3d package: pip install 'gaitkiosk[import]'") from None
    path = Path(path)
    present = {"mat": rec.mat_t, "insoles": rec.insole_t, "cop": rec.cop_t}
    groups = [g for g, t in present.items() if t is not None and g not in omit]
    if not groups:
        raise RecordingError("nothing to write: the recording has no group left after --omit")
    t = present[groups[0]]
    for g in groups[1:]:
        other = present[g]
        if len(other) != len(t) or np.max(np.abs(other - t)) > 1e-6:
            raise RecordingError(f"the {groups[0]} and {g} groups run on different time bases; a C3D file holds one "
                                 f"(leave one out: --omit {g})")
    rate, jitter = _rate(t, groups[0])
    labels, units, analog, params = _channels(rec, groups)
    if len(labels) > 32767:
        raise RecordingError(f"{len(labels)} analog channels: more than C3D's 32767")
    points, point_labels = [], []
    if "cop" in groups:
        for label, a in (("COP", rec.cop_mm), ("COP_L", rec.cop_left_mm), ("COP_R", rec.cop_right_mm)):
            if a is not None:
                point_labels.append(label)
                points.append(a)
    writer = c3d.Writer(point_rate=rate, analog_rate=rate if labels else 0.0, point_units="mm")
    # (T, 2) pairs of (points (P, 5), analog (channels, 1)) built as an object array: a list of
    # tuples whose two arrays happen to share a first dimension would be broadcast by numpy.
    frames = np.empty((len(t), 2), dtype=object)
    for k in range(len(t)):
        p = np.zeros((len(points), 5), dtype=np.float32)
        for j, a in enumerate(points):
            if np.isnan(a[k]).any():
                p[j, 3] = -1.0
            else:
                p[j, :2] = a[k]
        frames[k, 0], frames[k, 1] = p, analog[:, k:k + 1]
    writer.add_frames(frames)
    if point_labels:
        writer.set_point_labels(point_labels)
    if labels:
        _strings(writer.analog_group, "LABELS", "Analog labels", labels)
        _strings(writer.analog_group, "UNITS", "Analog units", units)
        _strings(writer.analog_group, "DESCRIPTIONS", "Channel descriptions", labels)
    writer.set_analog_scales(None)  # empty: scale 1, offset 0 for every channel (the values are floats)
    writer.set_analog_offsets(None)
    group = writer.add_group(100, "GAITKIOSK", "gaitkiosk recording (DESIGN 4.1) this file was written from")
    group.add_array("START_S", "time of the first frame, s", np.array([t[0]], dtype=np.float32))
    group.add_array("TIME_OFF_GRID_S", "largest distance of a frame's time from the rate's grid, s",
                    np.array([jitter], dtype=np.float32))
    for name, value in params.items():
        _numbers(group, name, np.atleast_1d(np.asarray(value, dtype=np.float32)))
    source = json.dumps({k: rec.meta.get(k) for k in ("source", "imported_from") if k in rec.meta})[:255]
    group.add_str("SOURCE", "what the recording came from", source, len(source))
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as handle, warnings.catch_warnings():
            # a pressure-only file has no points on purpose: the library's warning would reach the CLI
            warnings.filterwarnings("ignore", "No point data found", UserWarning)
            writer.write(handle)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_c3d_per_time_base(path: str | Path, rec: Recording) -> list[Path]:
    """One C3D file at ``path`` when the groups share a time base, else one per group (``stem-mat.c3d`` ...).

    A kiosk session's mat and insoles are separate devices, each with its own clock and rate:
    their frames do not line up, and C3D holds one time base.
    """
    path = Path(path)
    present = [g for g, t in (("mat", rec.mat_t), ("insoles", rec.insole_t), ("cop", rec.cop_t)) if t is not None]
    try:
        return [write_c3d(path, rec)]
    except RecordingError as exc:
        if "different time bases" not in str(exc):
            raise
    return [write_c3d(path.with_name(f"{path.stem}-{g}.c3d"), rec, omit=tuple(o for o in present if o != g))
            for g in present]


def read_c3d(path: str | Path) -> dict:
    """What a C3D reader sees: rates, labels, units, points (T, P, 5), analog (channels, T), GAITKIOSK params."""
    import c3d

    with open(path, "rb") as handle, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "No point data found", UserWarning)
        reader = c3d.Reader(handle)
        pts, ana = [], []
        for _, p, a in reader.read_frames(copy=True):
            pts.append(p)
            ana.append(a)
        analog_group, point_group = reader.get("ANALOG"), reader.get("POINT")

        def strings(group, name):
            out = []
            for key in _continued(name):
                param = group.get(key) if group is not None else None
                if param is None:
                    return out
                out += [v.strip() for v in param.string_array]
            return out

        def numbers(group, name):
            out = []
            for key in _continued(name):
                param = group.get(key)
                if param is None:
                    return np.array(out)
                out += list(param.float_array)
            return np.array(out)

        g = reader.get("GAITKIOSK")
        params = {}
        for name, param in (g.param_items() if g is not None else ()):
            if name == "SOURCE":
                params[name] = param.string_value
            elif not name[-1].isdigit():
                params[name] = numbers(g, name)
        return {"point_rate": reader.point_rate, "analog_rate": reader.analog_rate,
                "point_labels": strings(point_group, "LABELS"), "analog_labels": strings(analog_group, "LABELS"),
                "analog_units": strings(analog_group, "UNITS"),
                "point_units": point_group.get_string("UNITS").strip(),
                "points": np.array(pts), "analog": np.concatenate(ana, axis=1) if ana else np.empty((0, 0)),
                "params": params}
