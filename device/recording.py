"""The recording interchange file (DESIGN 4.1): ``.npz``, format ``gaitkiosk-recording/2``.

Written by ``gaitkiosk simulate``, ``gaitkiosk record`` and ``gaitkiosk export``;
read by ``gaitkiosk analyze``, ``replay://`` and the importers' output. Three
optional groups of arrays (at least one present) plus ``format`` and ``meta``::

    mat       mat_kpa float32 (T, R, C), mat_t float64 (T,), mat_pitch_mm float64 (2,) = (row, column pitch)
    insoles   insole_left_kpa / insole_right_kpa float32 (T2, N), insole_t float64 (T2,),
              insole_left_sensors_mm / insole_right_sensors_mm float64 (N, 2), insole_sensor_area_mm2 float64 (N,)
    cop       cop_t float64 (T3,), cop_mm float64 (T3, 2), optional cop_force_n (T3,),
              cop_left_mm / cop_right_mm (T3, 2), force_left_n / force_right_n (T3,)

``meta`` is free JSON; ``meta["calibration"]`` says per stream how its kPa were
made (serial, calibration state, calibration id and date: ``device/calibration_state.py``),
which ``gaitkiosk analyze`` reports and acts on.

Rules this module enforces (``check_recording``), each failure a
:class:`~device.errors.RecordingError` naming the array:

- times are finite and strictly increasing, and as long as their data;
- pressures are finite (kPa may be slightly negative after a zero offset);
- ``cop_mm`` (and the per-foot COPs) may hold NaN rows where nothing was loaded;
- the file is read with ``allow_pickle=False``: object arrays are refused;
- extra arrays are allowed only with the prefix ``truth_`` (simulator truth: readers
  that do not know them ignore them); any other unknown array is refused, because
  a misspelt group name would otherwise be silently dropped. New groups come with a
  new format version.

Format 2 (issue 16) adds one optional group, ``analysis_*``: the per-frame analysis of the
frames (force, COP, each foot's loads, the detected steps), stamped so that ``gaitkiosk
analyze`` can use it instead of inflating and re-analysing the frames (``kernels.stored``,
``gaitkiosk.stored_analysis``). This module writes it through :func:`save_recording`'s
``derived`` hook and skips it when reading, but never computes it: ``device`` imports no other
package of the kiosk (docs/architecture.md, tests/test_layering.py). Format 1 files (no such
group) are read as before; every writer writes format 2.
"""

from __future__ import annotations

import json
import logging
import os
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from device.errors import RecordingError

FORMAT = "gaitkiosk-recording/2"
READABLE_FORMATS = ("gaitkiosk-recording/1", FORMAT)
FORMAT_PREFIX = "gaitkiosk-recording/"
TRUTH_PREFIX = "truth_"
ANALYSIS_PREFIX = "analysis_"  # kernels.stored.PREFIX: the stored per-frame analysis (format 2)

MAT_KEYS = ("mat_kpa", "mat_t", "mat_pitch_mm")
INSOLE_KEYS = (
    "insole_left_kpa",
    "insole_right_kpa",
    "insole_t",
    "insole_left_sensors_mm",
    "insole_right_sensors_mm",
    "insole_sensor_area_mm2",
)
COP_KEYS = ("cop_t", "cop_mm", "cop_force_n", "cop_left_mm", "cop_right_mm", "force_left_n", "force_right_n")
DATA_KEYS = MAT_KEYS + INSOLE_KEYS + COP_KEYS
FRAME_KEYS = ("mat_kpa", "insole_left_kpa", "insole_right_kpa")  # the bulk; not read beside a stored analysis
KNOWN_KEYS = ("format", "meta") + DATA_KEYS


@dataclass
class Recording:
    """One recording in memory. Every array group is optional; ``truth`` holds ``truth_*`` arrays."""

    meta: dict = field(default_factory=dict)
    mat_kpa: np.ndarray | None = None
    mat_t: np.ndarray | None = None
    mat_pitch_mm: np.ndarray | None = None
    insole_left_kpa: np.ndarray | None = None
    insole_right_kpa: np.ndarray | None = None
    insole_t: np.ndarray | None = None
    insole_left_sensors_mm: np.ndarray | None = None
    insole_right_sensors_mm: np.ndarray | None = None
    insole_sensor_area_mm2: np.ndarray | None = None
    cop_t: np.ndarray | None = None
    cop_mm: np.ndarray | None = None
    cop_force_n: np.ndarray | None = None
    cop_left_mm: np.ndarray | None = None
    cop_right_mm: np.ndarray | None = None
    force_left_n: np.ndarray | None = None
    force_right_n: np.ndarray | None = None
    truth: dict[str, np.ndarray] = field(default_factory=dict)  # keys include the "truth_" prefix
    # Set by gaitkiosk.stored_analysis.load_for_analysis only: the stored analysis (options, streams)
    # and the frame arrays the file has but that were left unread beside it. Never written as such
    # (the writer's derived hook recomputes it).
    stored_analysis: tuple | None = field(default=None, repr=False)
    frames_not_read: tuple[str, ...] = ()

    @property
    def has_mat(self) -> bool:
        return self.mat_kpa is not None

    @property
    def has_insoles(self) -> bool:
        return self.insole_t is not None

    @property
    def has_cop(self) -> bool:
        return self.cop_t is not None

    @property
    def duration_s(self) -> float:
        """Span of the longest time base (0 for a single frame)."""
        spans = [float(t[-1] - t[0]) for t in (self.mat_t, self.insole_t, self.cop_t) if t is not None and len(t)]
        return max(spans, default=0.0)

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything as the file's arrays (``format`` and ``meta`` included)."""
        out: dict[str, np.ndarray] = {"format": np.array(FORMAT), "meta": np.array(json.dumps(self.meta, sort_keys=True, default=str))}
        for f in fields(self):
            if f.name in DATA_KEYS:
                value = getattr(self, f.name)
                if value is not None:
                    out[f.name] = value
        out.update(self.truth)
        return out


# --- validation -------------------------------------------------------------------------------


def _fail(message: str, source: str | None) -> RecordingError:
    where = f"{source}: " if source else ""
    return RecordingError(f"{where}{message}")


def _expect(name: str, a: object, dtype: str, ndim: int, source: str | None) -> np.ndarray:
    if not isinstance(a, np.ndarray):
        raise _fail(f"'{name}' must be a numpy array, got {type(a).__name__}", source)
    if a.dtype != np.dtype(dtype):
        raise _fail(f"'{name}' must be {dtype}, got {a.dtype}", source)
    if a.ndim != ndim:
        raise _fail(f"'{name}' must have {ndim} dimension(s), got shape {a.shape}", source)
    return a


def _check_time(name: str, t: object, source: str | None) -> np.ndarray:
    t = _expect(name, t, "float64", 1, source)
    if len(t) == 0:
        raise _fail(f"'{name}' is empty: a recording group needs at least one frame", source)
    if not np.all(np.isfinite(t)):
        raise _fail(f"'{name}' holds NaN or infinite times (first at index {int(np.argmin(np.isfinite(t)))})", source)
    steps = np.diff(t)
    if np.any(steps <= 0):
        i = int(np.argmax(steps <= 0))
        raise _fail(f"'{name}' is not strictly increasing: t[{i}]={t[i]!r} then t[{i + 1}]={t[i + 1]!r}", source)
    return t


def _check_rows(name: str, a: np.ndarray, n: int, tname: str, source: str | None) -> None:
    if a.shape[0] != n:
        raise _fail(f"'{name}' has {a.shape[0]} rows but '{tname}' has {n} times", source)


def _check_finite(name: str, a: np.ndarray, source: str | None) -> None:
    if not np.all(np.isfinite(a)):
        raise _fail(f"'{name}' holds NaN or infinite values", source)


def check_recording(rec: Recording, source: str | None = None) -> Recording:
    """Raise RecordingError naming the array and the problem unless ``rec`` follows DESIGN 4.1."""
    if not isinstance(rec.meta, dict):
        raise _fail(f"'meta' must be a JSON object (dict), got {type(rec.meta).__name__}", source)
    groups = 0
    # mat
    present = [k for k in MAT_KEYS if getattr(rec, k) is not None]
    if present:
        missing = [k for k in MAT_KEYS if getattr(rec, k) is None]
        if missing:
            raise _fail(f"mat group is incomplete: has {', '.join(present)} but not {', '.join(missing)}", source)
        t = _check_time("mat_t", rec.mat_t, source)
        kpa = _expect("mat_kpa", rec.mat_kpa, "float32", 3, source)
        _check_rows("mat_kpa", kpa, len(t), "mat_t", source)
        if kpa.shape[1] < 1 or kpa.shape[2] < 1:
            raise _fail(f"'mat_kpa' frames must have at least one row and column, got shape {kpa.shape}", source)
        _check_finite("mat_kpa", kpa, source)
        pitch = _expect("mat_pitch_mm", rec.mat_pitch_mm, "float64", 1, source)
        if pitch.shape != (2,) or not np.all(np.isfinite(pitch)) or np.any(pitch <= 0):
            raise _fail(f"'mat_pitch_mm' must be two positive numbers (row pitch, column pitch), got {pitch.tolist()}", source)
        groups += 1
    # insoles
    present = [k for k in INSOLE_KEYS if getattr(rec, k) is not None]
    if present:
        if rec.insole_t is None:
            raise _fail(f"insole group has {', '.join(present)} but no 'insole_t'", source)
        t = _check_time("insole_t", rec.insole_t, source)
        sides = [s for s in ("left", "right") if getattr(rec, f"insole_{s}_kpa") is not None]
        if not sides:
            raise _fail("insole group has 'insole_t' but neither 'insole_left_kpa' nor 'insole_right_kpa'", source)
        if rec.insole_sensor_area_mm2 is None:
            raise _fail("insole group lacks 'insole_sensor_area_mm2'", source)
        area = _expect("insole_sensor_area_mm2", rec.insole_sensor_area_mm2, "float64", 1, source)
        if not np.all(np.isfinite(area)) or np.any(area <= 0):
            raise _fail("'insole_sensor_area_mm2' must hold positive areas", source)
        n = len(area)
        for s in sides:
            kname, pname = f"insole_{s}_kpa", f"insole_{s}_sensors_mm"
            kpa = _expect(kname, getattr(rec, kname), "float32", 2, source)
            _check_rows(kname, kpa, len(t), "insole_t", source)
            if kpa.shape[1] != n:
                raise _fail(f"'{kname}' has {kpa.shape[1]} sensors but 'insole_sensor_area_mm2' has {n}", source)
            _check_finite(kname, kpa, source)
            if getattr(rec, pname) is None:
                raise _fail(f"'{kname}' needs its sensor positions '{pname}'", source)
        for s in ("left", "right"):
            pname = f"insole_{s}_sensors_mm"
            if getattr(rec, pname) is not None:
                pos = _expect(pname, getattr(rec, pname), "float64", 2, source)
                if pos.shape != (n, 2):
                    raise _fail(f"'{pname}' must have shape ({n}, 2), got {pos.shape}", source)
                _check_finite(pname, pos, source)
        groups += 1
    # centre of pressure only
    present = [k for k in COP_KEYS if getattr(rec, k) is not None]
    if present:
        if rec.cop_t is None or rec.cop_mm is None:
            raise _fail(f"cop group needs 'cop_t' and 'cop_mm' (has {', '.join(present)})", source)
        t = _check_time("cop_t", rec.cop_t, source)
        for name in ("cop_mm", "cop_left_mm", "cop_right_mm"):
            a = getattr(rec, name)
            if a is not None:
                a = _expect(name, a, "float64", 2, source)
                if a.shape[1:] != (2,):
                    raise _fail(f"'{name}' must have shape (T, 2), got {a.shape}", source)
                _check_rows(name, a, len(t), "cop_t", source)
                if np.any(np.isinf(a)):
                    raise _fail(f"'{name}' holds infinite values (NaN marks 'no contact'; inf is never valid)", source)
        for name in ("cop_force_n", "force_left_n", "force_right_n"):
            a = getattr(rec, name)
            if a is not None:
                a = _expect(name, a, "float64", 1, source)
                _check_rows(name, a, len(t), "cop_t", source)
                _check_finite(name, a, source)
        groups += 1
    if groups == 0:
        raise _fail("no data: a recording needs a mat, insole or cop group (see DESIGN 4.1)", source)
    for key, value in rec.truth.items():
        if not key.startswith(TRUTH_PREFIX):
            raise _fail(f"truth array '{key}' must be named with the prefix '{TRUTH_PREFIX}'", source)
        if not isinstance(value, np.ndarray) or value.dtype.hasobject:
            raise _fail(f"truth array '{key}' must be a plain numeric numpy array", source)
    return rec


# --- files ------------------------------------------------------------------------------------


def save_recording(path: str | os.PathLike[str], rec: Recording, *,
                   derived: Callable[[Recording, dict[str, int]], dict[str, np.ndarray]] | None = None) -> Path:
    """Check ``rec`` and write it to ``path`` atomically (temp file, fsync, rename).

    ``derived(rec, crcs)`` returns more members computed from the recording, given the CRC-32 of
    each member already written (the stored analysis, ``gaitkiosk.stored_analysis.derived``); it
    is optional: when it fails the failure is logged and the recording is written without them.
    """
    path = Path(path)
    check_recording(rec, str(path))
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise RecordingError(f"cannot write {path}: directory {directory} does not exist")
    if rec.frames_not_read:
        raise RecordingError(f"cannot write {path}: the recording was read without its frames")
    import tempfile  # here, not at the top: `gaitkiosk analyze` only reads (tempfile pulls shutil, random...)

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
                # As np.savez_compressed writes it, so that the members' CRCs are known for the stamp.
                for name, value in rec.arrays().items():
                    _write_member(zf, name, value)
                if derived is not None:
                    crcs = {info.filename.removesuffix(".npy"): info.CRC for info in zf.infolist()}
                    for name, value in _derived(derived, rec, crcs).items():
                        _write_member(zf, name, value)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def _write_member(zf: zipfile.ZipFile, name: str, value) -> None:
    with zf.open(name + ".npy", "w", force_zip64=True) as member:
        np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)


def _derived(derived, rec: Recording, crcs: dict[str, int]) -> dict[str, np.ndarray]:
    try:
        return derived(rec, crcs)
    except Exception:  # noqa: BLE001 - derived members are optional: a bug in them must not lose a recording
        logging.getLogger(__name__).exception("the recording is written without its derived members")
        return {}


def load_recording(path: str | os.PathLike[str]) -> Recording:
    """Read and check a recording file; any problem is a RecordingError that says what and where."""
    path = Path(path)
    src = str(path)
    if not path.exists():
        raise RecordingError(f"recording {path} does not exist")
    if path.is_dir():
        raise RecordingError(f"recording {path} is a directory, not an .npz file")
    arrays: dict[str, np.ndarray] = {}
    try:
        npz = np.load(path, allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise _fail("is a single .npy array, not an .npz recording", src)
        with npz:
            stored_group = "format" in npz.files and str(npz["format"]) == FORMAT
            for key in npz.files:
                if stored_group and key.startswith(ANALYSIS_PREFIX):
                    continue  # the stored analysis (format 2): only gaitkiosk.stored_analysis reads it
                try:
                    arrays[key] = npz[key]
                except ValueError as exc:
                    if "pickle" in str(exc).lower():
                        raise _fail(f"array '{key}' holds Python objects (pickle), which recordings never may", src) from None
                    raise _fail(f"array '{key}' cannot be read: {exc}", src) from None
    except RecordingError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise _fail(f"is damaged or truncated ({exc}); it is not a readable .npz recording", src) from None
    except (ValueError, OSError) as exc:
        msg = str(exc)
        if isinstance(exc, OSError) and exc.strerror:
            msg = exc.strerror
        raise _fail(f"is not an .npz recording ({msg})", src) from None
    return recording_from_arrays(arrays, src)


def recording_from_arrays(arrays: dict[str, np.ndarray], source: str | None = None, *, check: bool = True) -> Recording:
    """Build and check a Recording from the file's arrays (``format`` and ``meta`` required).

    ``check=False`` skips the array checks (``check_recording``) only: for a file whose arrays
    are proven unchanged since they were checked (``gaitkiosk.stored_analysis.load_for_analysis``)."""
    if "format" not in arrays:
        raise _fail("has no 'format' array; it is not a gaitkiosk recording", source)
    fmt = arrays["format"]
    if fmt.dtype.kind != "U" or fmt.shape != ():
        raise _fail(f"'format' must be a string, got {fmt.dtype} of shape {fmt.shape}", source)
    fmt = str(fmt)
    if fmt not in READABLE_FORMATS:
        readable = " and ".join(repr(f) for f in READABLE_FORMATS)
        if fmt.startswith(FORMAT_PREFIX):
            raise _fail(f"format {fmt!r} is not supported: this gaitkiosk reads {readable}; update gaitkiosk to read it", source)
        raise _fail(f"'format' is {fmt!r}, expected {readable}", source)
    if "meta" not in arrays:
        raise _fail("has no 'meta' array (a JSON string)", source)
    meta_a = arrays["meta"]
    if meta_a.dtype.kind != "U" or meta_a.shape != ():
        raise _fail(f"'meta' must be a JSON string, got {meta_a.dtype} of shape {meta_a.shape}", source)
    try:
        meta = json.loads(str(meta_a))
    except json.JSONDecodeError as exc:
        raise _fail(f"'meta' is not valid JSON ({exc})", source) from None
    if not isinstance(meta, dict):
        raise _fail(f"'meta' must be a JSON object, got {type(meta).__name__}", source)
    unknown = [k for k in arrays if k not in KNOWN_KEYS and not k.startswith(TRUTH_PREFIX)]
    if unknown:
        raise _fail(
            f"unknown array(s) {', '.join(sorted(unknown))}: format {FORMAT} allows only "
            f"{', '.join(DATA_KEYS)} and '{TRUTH_PREFIX}*' truth arrays",
            source,
        )
    rec = Recording(
        meta=meta,
        truth={k: v for k, v in arrays.items() if k.startswith(TRUTH_PREFIX)},
        **{k: arrays[k] for k in DATA_KEYS if k in arrays},
    )
    return check_recording(rec, source) if check else rec
