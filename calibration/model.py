"""The calibration model of one device: raw counts -> kPa, per sensel.

For sensel i with counts c_i::

    n_i   = (c_i - offset_i) / gain_i                  normalised counts above zero
    kPa_i = 0                      if n_i <= floor_i   (read noise, not load)
          = scale * curve(n_i)     otherwise
    kPa_i = mean of its live neighbours' kPa           if sensel i is masked (dead or hot)

``offset`` comes from zeroing (the unloaded reading), ``noise`` too (the
read-noise standard deviation, which sets ``floor = floor_sigma * noise / gain``),
``gain`` from equilibration under a uniform load (relative gains, median 1),
``curve`` from known loads (curves.py), ``scale`` from a body-weight
calibration (total force = the patient's weight), ``mask`` from the dead-sensel
sweep and from zeroing (a sensel stuck at full scale is hot). Insoles have no
neighbours: a masked insole sensor reads 0.

``device_zero`` is the device's own zero state while the calibration was made
(HELLO ``zeroed`` / ``gate_counts``, docs/protocol.md 9.1), None when unknown
(records from before it existed). :meth:`for_stream` adapts or refuses the
model for a stream in another state (docs/calibration.md, "Device zero").

The model is plain data with a JSON round trip (STYLE 7); ``from_json``
checks everything a hand edit could break and refuses with
:class:`~calibration.errors.CalibrationFileError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from calibration.curves import Curve, curve_from_json
from calibration.errors import CalibrationFileError, NotCalibratedError, WrongDeviceError

FORMAT = "gaitkiosk-calibration/1"
RECORD_FORMAT = "gaitkiosk-calibration-record/1"  # a stored record wraps a model (calibration/storage.py)
KINDS = ("mat", "insole_left", "insole_right")
MASK_OK, MASK_DEAD, MASK_HOT = 0, 1, 2
MASK_NAMES = {MASK_DEAD: "dead", MASK_HOT: "hot"}


@dataclass
class CalibrationModel:
    """counts -> kPa for one device (see the module docstring)."""

    device_serial: str
    kind: str
    shape: tuple[int, ...]
    sensel_area_mm2: float
    max_counts: int = 4095
    pitch_mm: tuple[float, float] | None = None  # (row, col) pitch; mats only
    offset: np.ndarray | None = None  # counts, float32
    noise: np.ndarray | None = None  # counts (read-noise SD), float32
    gain: np.ndarray | None = None  # relative, median 1, float32
    mask: np.ndarray | None = None  # uint8: 0 ok, 1 dead, 2 hot
    curve: Curve | None = None
    scale: float = 1.0
    floor_sigma: float = 3.0
    history: list = field(default_factory=list)  # one summary per procedure that shaped this model
    device_zero: dict | None = None  # {"zeroed": bool, "gate_counts": int | None} of the stream calibrated

    def __post_init__(self) -> None:
        self.shape = tuple(int(s) for s in self.shape)
        z = np.zeros(self.shape, dtype=np.float32)
        self.offset = z.copy() if self.offset is None else np.asarray(self.offset, dtype=np.float32).reshape(self.shape)
        self.noise = np.ones(self.shape, np.float32) if self.noise is None else np.asarray(self.noise, dtype=np.float32).reshape(self.shape)
        self.gain = np.ones(self.shape, np.float32) if self.gain is None else np.asarray(self.gain, dtype=np.float32).reshape(self.shape)
        self.mask = np.zeros(self.shape, np.uint8) if self.mask is None else np.asarray(self.mask, dtype=np.uint8).reshape(self.shape)
        if self.pitch_mm is not None:
            self.pitch_mm = (float(self.pitch_mm[0]), float(self.pitch_mm[1]))

    @classmethod
    def for_device(cls, device_serial: str, kind: str, shape, *, sensel_area_mm2: float,
                   max_counts: int = 4095, pitch_mm=None) -> CalibrationModel:
        """A blank model (offset 0, gain 1, no curve) to be shaped by procedures."""
        return cls(device_serial, kind, tuple(shape), float(sensel_area_mm2), int(max_counts), pitch_mm)

    # --- use ------------------------------------------------------------------------------

    @property
    def complete(self) -> bool:
        """True when counts can become kPa (a response curve exists)."""
        return self.curve is not None

    def check_device(self, device_serial: str, shape=None) -> None:
        if device_serial != self.device_serial:
            raise WrongDeviceError(
                f"this calibration belongs to device {self.device_serial}, not {device_serial}; "
                f"calibrate {device_serial} itself (gaitkiosk calibrate ... for its port)")
        if shape is not None and tuple(shape) != self.shape:
            raise WrongDeviceError(
                f"device {device_serial} sends frames of shape {tuple(shape)} but its calibration is for "
                f"{self.shape}; the sensor was changed or re-configured: calibrate it again")

    def for_stream(self, device_zero: dict | None) -> tuple[CalibrationModel, str]:
        """This model made fit for a stream whose device zero state is ``device_zero``, and a warning.

        Made on raw counts, used on device-zeroed counts: the device already
        subtracts its baseline, so the kiosk offsets are dropped (gains, curve,
        scale and the noise floor stay valid: they act on counts above zero).
        Made on zeroed counts, used on raw ones (the device was restarted and
        has not been zeroed yet): refused, the offsets it would need were never
        measured. Unknown on either side: used as it is.
        """
        if device_zero is None or self.device_zero is None:
            return self, ""
        made, now = bool(self.device_zero.get("zeroed")), bool(device_zero.get("zeroed"))
        if made == now:
            return self, ""
        if now:
            adapted = self.copy()
            adapted.offset = np.zeros(self.shape, np.float32)
            adapted.device_zero = dict(device_zero)
            return adapted, (f"the calibration of {self.device_serial} was made before the sensor zeroed itself; "
                             "its offsets are not used (the sensor subtracts its own). Run calibrate zero to renew it")
        raise WrongDeviceError(
            f"the calibration of {self.device_serial} was made while the sensor zeroed itself, but it does not now "
            "(restarted?): clear the sensor so the kiosk can zero it (or gaitkiosk record --zero), or calibrate again")

    def converter(self, implementation: str | None = None):
        """A fast counts -> kPa callable for live frames (calibration.apply.CountsToKpa)."""
        if not self.complete:
            raise NotCalibratedError(
                f"device {self.device_serial} has no response curve yet; run gaitkiosk calibrate equilibrate "
                "(or load) first")
        from calibration.apply import CountsToKpa

        return CountsToKpa(self, implementation=implementation)

    def kpa(self, counts: np.ndarray) -> np.ndarray:
        """counts -> kPa (float32). For many frames keep a :meth:`converter`."""
        return self.converter()(counts)

    def force_n(self, kpa: np.ndarray) -> np.ndarray:
        """Total force (N) of kPa frames (last dims the sensor shape)."""
        axes = tuple(range(-len(self.shape), 0))
        return np.sum(np.asarray(kpa, dtype=np.float64), axis=axes) * self.sensel_area_mm2 * 1e-3

    def normalised(self, counts: np.ndarray) -> np.ndarray:
        """(counts - offset) / gain (float64), the curve's input, for fitting."""
        return (np.asarray(counts, dtype=np.float64) - self.offset) / self.gain

    def floor(self) -> np.ndarray:
        return (self.floor_sigma * self.noise / self.gain).astype(np.float32)

    def copy(self) -> CalibrationModel:
        return CalibrationModel.from_json(self.to_json())

    def summary(self) -> dict:
        return {
            "device_serial": self.device_serial,
            "kind": self.kind,
            "shape": list(self.shape),
            "curve": None if self.curve is None else self.curve.to_json(),
            "scale": self.scale,
            "dead": int((self.mask == MASK_DEAD).sum()),
            "hot": int((self.mask == MASK_HOT).sum()),
            "gain_range": [float(self.gain[self.mask == 0].min(initial=1)), float(self.gain[self.mask == 0].max(initial=1))],
            "made_by": [h.get("procedure") for h in self.history],
        }

    # --- JSON --------------------------------------------------------------------------------

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "device_serial": self.device_serial,
            "kind": self.kind,
            "shape": list(self.shape),
            "sensel_area_mm2": self.sensel_area_mm2,
            "max_counts": self.max_counts,
            "pitch_mm": None if self.pitch_mm is None else list(self.pitch_mm),
            "offset": self.offset.ravel().tolist(),
            "noise": self.noise.ravel().tolist(),
            "gain": self.gain.ravel().tolist(),
            "mask": self.mask.ravel().tolist(),
            "curve": None if self.curve is None else self.curve.to_json(),
            "scale": self.scale,
            "floor_sigma": self.floor_sigma,
            "history": self.history,
            "device_zero": self.device_zero,
        }

    @classmethod
    def from_json(cls, data) -> CalibrationModel:
        return check_model_json(data)


def _bad(msg: str) -> CalibrationFileError:
    return CalibrationFileError(f"calibration record: {msg}; re-run the calibration or re-activate an older one")


def _array(data: dict, key: str, n: int, dtype, lo: float, hi: float) -> np.ndarray:
    values = data.get(key)
    if not isinstance(values, list) or len(values) != n:
        raise _bad(f"'{key}' must be a list of {n} numbers")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise _bad(f"'{key}' holds something that is not a number")
    arr = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or arr.min() < lo or arr.max() > hi:
        raise _bad(f"'{key}' values must be finite and within [{lo:g}, {hi:g}]")
    return arr.astype(dtype)


def check_model_json(data) -> CalibrationModel:
    """The named checker for calibration JSON (STYLE 8): a model, or one clear error.

    Accepts a model's JSON or a whole stored record (whose ``model`` it checks).
    """
    if not isinstance(data, dict):
        raise _bad("expected a JSON object")
    if data.get("format") == RECORD_FORMAT:
        # a whole stored record (calibration/storage.py): its model is what converts counts
        data = data.get("model")
        if not isinstance(data, dict):
            raise _bad("the record holds no model")
    if data.get("format") != FORMAT:
        raise _bad(f"format is {data.get('format')!r}, expected {FORMAT!r}")
    serial = data.get("device_serial")
    if not isinstance(serial, str) or not serial.strip():
        raise _bad("'device_serial' must be a non-empty string")
    kind = data.get("kind")
    if kind not in KINDS:
        raise _bad(f"'kind' must be one of {', '.join(KINDS)}, not {kind!r}")
    shape = data.get("shape")
    if not (isinstance(shape, list) and 1 <= len(shape) <= 2 and all(isinstance(s, int) and 0 < s <= 4096 for s in shape)):
        raise _bad("'shape' must be 1 or 2 positive integers")
    n = int(np.prod(shape))
    area = data.get("sensel_area_mm2")
    max_counts = data.get("max_counts")
    if not (isinstance(area, (int, float)) and math.isfinite(area) and area > 0):
        raise _bad("'sensel_area_mm2' must be a positive number")
    if not (isinstance(max_counts, int) and 1 <= max_counts <= 65535):
        raise _bad("'max_counts' must be an integer 1..65535")
    pitch = data.get("pitch_mm")
    if pitch is not None and not (isinstance(pitch, list) and len(pitch) == 2
                                  and all(isinstance(p, (int, float)) and math.isfinite(p) and p > 0 for p in pitch)):
        raise _bad("'pitch_mm' must be null or two positive numbers")
    scale, floor_sigma = data.get("scale"), data.get("floor_sigma")
    for key, v in (("scale", scale), ("floor_sigma", floor_sigma)):
        if not (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)):
            raise _bad(f"'{key}' must be a number")
    if not 0.2 <= scale <= 5.0:
        raise _bad(f"'scale' {scale} is outside 0.2..5 (a body-weight factor that large means a broken calibration)")
    if not 0.0 <= floor_sigma <= 20.0:
        raise _bad(f"'floor_sigma' {floor_sigma} is outside 0..20")
    history = data.get("history", [])
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        raise _bad("'history' must be a list of objects")
    offset = _array(data, "offset", n, np.float32, 0.0, max_counts)
    noise = _array(data, "noise", n, np.float32, 0.0, max_counts)
    gain = _array(data, "gain", n, np.float32, 1e-3, 1e3)
    mask = _array(data, "mask", n, np.uint8, 0, 2)
    if not np.array_equal(mask, np.rint(mask)):
        raise _bad("'mask' must hold 0 (ok), 1 (dead) or 2 (hot)")
    if np.all(mask != 0):
        raise _bad("every sensel is masked: nothing would be measured")
    curve = None if data.get("curve") is None else curve_from_json(data["curve"])
    device_zero = data.get("device_zero")
    if device_zero is not None:
        gate = device_zero.get("gate_counts") if isinstance(device_zero, dict) else None
        if not (isinstance(device_zero, dict) and isinstance(device_zero.get("zeroed"), bool)
                and (gate is None or (isinstance(gate, int) and not isinstance(gate, bool) and 0 <= gate <= 65535))):
            raise _bad("'device_zero' must be null or {\"zeroed\": true|false, \"gate_counts\": null or 0..65535}")
        device_zero = {"zeroed": device_zero["zeroed"], "gate_counts": gate}
    return CalibrationModel(
        device_serial=serial, kind=kind, shape=tuple(shape), sensel_area_mm2=float(area), max_counts=max_counts,
        pitch_mm=None if pitch is None else (float(pitch[0]), float(pitch[1])),
        offset=offset, noise=noise, gain=gain, mask=mask, curve=curve, scale=float(scale),
        floor_sigma=float(floor_sigma), history=list(history), device_zero=device_zero,
    )
