"""Counts -> kPa for live frames, decided per device from its hello.

In order of preference:

1. the device reports calibrated counts (``kpa_per_count`` > 0 in its hello:
   a replayed recording, some commercial controllers): that scale;
2. the device has a calibration in force in the store (``calibration/``,
   engineer CALIB): its model's converter, and its id goes with every
   recording;
3. a virtual (``sim://``) device without a calibration: the simulated
   sensor's *factory-nominal* straight line (``device.sim.sensors``). It
   over-reads ordinary plantar pressures; every result says
   ``"pressure": "factory-nominal (uncalibrated)"`` so nobody mistakes it for
   a calibrated number. Sensels pinned at the ADC maximum read 0 live (there
   is no calibration mask yet); the stored raw counts are untouched;
4. otherwise the device cannot be used for drills: :attr:`problem` says why
   and what to do (calibrate it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from device import calibration_state

log = logging.getLogger(__name__)

# The words each trial and report use for them (device/calibration_state.py).
DEVICE = calibration_state.DEVICE
CALIBRATED = calibration_state.CALIBRATED
NOMINAL = calibration_state.NOMINAL


@dataclass
class Pressure:
    """How one device's counts become kPa."""

    serial: str
    source: str | None  # DEVICE, CALIBRATED, NOMINAL, or None when unusable
    kpa_per_count: float = 0.0  # linear sources
    calibration_id: str | None = None
    problem: str = ""
    stuck_counts: int | None = None  # NOMINAL only: a sensel reading exactly this (the ADC maximum) reads 0
    _convert: object = None

    def kpa(self, counts: np.ndarray) -> np.ndarray:
        if self._convert is not None:
            return np.ascontiguousarray(self._convert(counts), dtype=np.float32)
        if self.kpa_per_count > 0:
            out = counts.astype(np.float32) * np.float32(self.kpa_per_count)
            if self.stuck_counts is not None:
                # Without a calibration there is no dead/hot-sensel mask; a sensel pinned at the ADC
                # maximum is the classic stuck ("hot") sensor, and left in it joins the nearest foot
                # and moves its outline (a stuck sensel at the mat's edge reads as a foot off the mat).
                out[counts >= self.stuck_counts] = 0.0
            return out
        raise ValueError(self.problem or f"device {self.serial} has no pressure conversion")

    @property
    def usable(self) -> bool:
        return self.source is not None


def nominal_kpa_per_count(bits: int, full_scale_kpa: float = 800.0, full_scale_fraction: float = 0.95) -> float:
    """The virtual sensor's factory line (device.sim.sensors.SensorModel defaults)."""
    return full_scale_kpa / (full_scale_fraction * ((1 << bits) - 1))


def pressure_for(hello, url: str, calibration=None) -> Pressure:
    """The conversion for a device with this hello; ``calibration`` a store Calibration or None."""
    serial = hello.serial
    if hello.kpa_per_count > 0:
        return Pressure(serial, DEVICE, kpa_per_count=float(hello.kpa_per_count))
    if calibration is not None:
        try:
            from calibration.model import CalibrationModel

            model = CalibrationModel.from_json(calibration.record)
            model.check_device(serial, hello.shape)
            model, warning = model.for_stream(getattr(hello, "zero_state", None))  # device ZERO then and now
            if warning:
                log.warning("%s", warning)
            return Pressure(serial, CALIBRATED, calibration_id=calibration.id, _convert=model.converter())
        except Exception as exc:  # noqa: BLE001 - a bad record must not stop the kiosk; it is reported
            log.warning("calibration %s of %s cannot be used: %s", calibration.id, serial, exc)
            if not url.startswith("sim:"):
                return Pressure(serial, None, problem=f"the calibration of {serial} cannot be used ({exc}); "
                                                      "calibrate the sensor again")
    if url.startswith("sim:"):
        # From the virtual sensor model itself when the patient is alive (exact), else its defaults.
        scale = nominal_kpa_per_count(hello.bits)
        try:
            from device.handlers.protocol_sim import patient as sim_patient
            from device.handlers.virtual_port import parse_query

            _, params = parse_query(url, "sim")
            p = sim_patient(params.get("patient", "shared") or "shared")
            if p is not None:
                sensor = p.mat_sensor if hello.kind.label == "mat" else p.insole_sensor_for(
                    "left" if hello.kind.label == "insole_left" else "right")
                scale = float(sensor.kpa_per_count)
        except Exception:  # noqa: BLE001 - the default line is the same number for default sensors
            pass
        return Pressure(serial, NOMINAL, kpa_per_count=scale, stuck_counts=(1 << hello.bits) - 1)
    return Pressure(serial, None, problem=f"sensor {serial} is not calibrated yet; a therapist or technician "
                                           "must calibrate it before drills can run (gaitkiosk calibrate)")


def tile_pressures(walkway_mat, calibrations) -> tuple[Pressure | None, dict[str, Pressure]]:
    """A walkway whose tiles each have their own calibration: its conversion through each tile's curve.

    ``walkway_mat`` a :class:`device.tiles.TiledMat` laid out; ``calibrations(serial)`` a store
    Calibration or None. Returns (the walkway's Pressure, each tile's own Pressure by its serial)
    when every tile has a calibration in force; (a Pressure naming the tiles without one, {}) when
    some have and some have not; (None, {}) when none has (the caller then tries the walkway's own
    calibration rules: device-reported, virtual, uncalibrated).
    """
    from calibration.model import CalibrationModel
    from device.tiles import TileCalibration, TileConverter, composite_calibration_id

    hellos, walkway, hello = walkway_mat.tile_hellos, walkway_mat.walkway, walkway_mat.hello
    if not hellos or walkway is None or hello is None or any(h.kpa_per_count > 0 for h in hellos):
        return None, {}
    cals = [calibrations(h.serial) if calibrations else None for h in hellos]
    if all(c is None for c in cals):
        return None, {}
    missing = [f"tile {i + 1} ({h.serial})" for i, (h, c) in enumerate(zip(hellos, cals, strict=True)) if c is None]
    if missing:
        return Pressure(hello.serial, None, problem=f"{', '.join(missing)} of the walkway not calibrated yet: calibrate "
                                                     "each tile on its own port (gaitkiosk calibrate), docs/walkway.md"), {}
    parts, pieces, tiles = [], [], {}
    for i, (h, cal, place) in enumerate(zip(hellos, cals, walkway.places, strict=True)):
        try:
            model = CalibrationModel.from_json(cal.record)
            model.check_device(h.serial, h.shape)
            model, warning = model.for_stream(getattr(h, "zero_state", None))
            if warning:
                log.warning("%s", warning)
            convert = model.converter()
        except Exception as exc:  # noqa: BLE001 - a bad record must not stop the kiosk; it is reported
            log.warning("calibration %s of tile %s cannot be used: %s", cal.id, h.serial, exc)
            return Pressure(hello.serial, None, problem=f"the calibration of tile {i + 1} ({h.serial}) cannot be used "
                                                         f"({exc}); calibrate that tile again"), {}
        part = TileCalibration(cal.id, place.row, place.col, place.turns)
        parts.append(part)
        pieces.append((part, (h.rows, h.cols), convert))
        tiles[h.serial] = Pressure(h.serial, CALIBRATED, calibration_id=cal.id, _convert=convert)
    converter = TileConverter((walkway.rows, walkway.cols), pieces)
    return Pressure(hello.serial, CALIBRATED, calibration_id=composite_calibration_id(parts), _convert=converter), tiles
