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
