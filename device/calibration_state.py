"""How a recording's kPa were made: the calibration state of each sensor, as the recording's meta says it.

The recording file's ``meta`` (DESIGN 4.1) carries one entry per sensor stream
under ``meta["calibration"]`` (``mat``, ``insole_left``, ``insole_right``)::

    {"serial": "sim-mat-48x48-seed1", "state": "calibrated", "uncalibrated": false,
     "calibration_id": "6c18...", "calibrated_at": "2025-05-02T09:14:03Z", "kpa_per_count": null}

``state`` is one of the words below; ``uncalibrated`` is true when the kPa
rest on a conversion nobody measured for this sensor (the factory-nominal
line, or counts times a scale given by hand), so a reader needs no
vocabulary of its own to know which numbers are not in true units.
Writers: ``store.export`` (kiosk trials and exports), ``gaitkiosk record``,
``gaitkiosk simulate``. Reader: ``kernels.report`` (docs/metrics.md,
"Calibration state").
"""

from __future__ import annotations

CALIBRATED = "calibrated"  # converted with a gaitkiosk calibration record of this sensor
DEVICE = "device-reported kPa"  # the device sends kPa itself (its maker calibrated it)
NOMINAL = "factory-nominal (uncalibrated)"  # the sensor's nominal straight line: not measured
RAW = "raw counts (uncalibrated)"  # counts times a scale given by hand (gaitkiosk record)
TRUTH = "simulator truth"  # gaitkiosk simulate without --sensor-counts: the true kPa
UNKNOWN = "not stated"  # the file does not say
UNCALIBRATED = frozenset({NOMINAL, RAW})


def entry(serial: str | None, state: str, *, calibration_id: str | None = None,
          calibrated_at: str | None = None, kpa_per_count: float | None = None) -> dict:
    """One sensor's entry of ``meta["calibration"]``."""
    return {"serial": serial, "state": state, "uncalibrated": state in UNCALIBRATED,
            "calibration_id": calibration_id, "calibrated_at": calibrated_at,
            "kpa_per_count": kpa_per_count if kpa_per_count and kpa_per_count > 0 else None}


def state_of(calibration_id: str | None, kpa_per_count: float, device_kpa_per_count: float | None) -> str:
    """The state of a stored recording from what the store keeps of it.

    ``kpa_per_count`` is the recording's linear scale, ``device_kpa_per_count``
    the one the device declared in its HELLO (None: no hello kept). The kiosk
    stores a linear scale for a device without a calibration only when it used
    the virtual sensor's factory-nominal line (gaitkiosk/pressure.py).
    """
    if calibration_id:
        return CALIBRATED
    if device_kpa_per_count is not None and device_kpa_per_count > 0:
        return DEVICE
    if kpa_per_count > 0 and device_kpa_per_count is not None:
        return NOMINAL
    return UNKNOWN
