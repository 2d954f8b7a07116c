"""Calibration records in the store: save, activate, look up, verify, and apply to live frames.

A record (``store.calibrations`` row ``record``) is::

    {"format": "gaitkiosk-calibration-record/1",
     "model": CalibrationModel.to_json(),
     "procedures": [procedure.to_json(), ...],   # exactly what was measured and fitted
     "passed": true, "accuracy_pct": 0.4, "operator": "...", "port": "sim://mat", "software": "gaitkiosk 0.1.0"}

Rules: one active calibration per device (the store enforces it); a record
that did not pass is kept for the record but never activated, so the active
calibration is never replaced by a failed one; a record is checked (named
checker :func:`check_record`) every time it is read, so a hand-edited or
foreign record is refused with what to do instead of producing wrong kPa.
Verifications are appended to the audit log (action ``calibration.verify``,
subject the device serial): the history of their errors is the device's drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calibration.base import Procedure
from calibration.errors import (
    CalibrationError,
    CalibrationFileError,
    NotCalibratedError,
    WrongDeviceError,
)
from calibration.model import RECORD_FORMAT, CalibrationModel, check_model_json

VERIFY_ACTION = "calibration.verify"


@dataclass
class CheckedRecord:
    model: CalibrationModel
    procedures: list[Procedure]
    passed: bool
    accuracy_pct: float | None
    raw: dict


def make_record(model: CalibrationModel, procedures: list[Procedure], *, operator: str | None = None,
                port: str | None = None) -> dict:
    from gaitkiosk import __version__

    passed = all(bool(getattr(p, "passed_", False)) for p in procedures)
    acc = [p.accuracy_pct_ for p in procedures if getattr(p, "accuracy_pct_", None) is not None]
    return {
        "format": RECORD_FORMAT,
        "model": model.to_json(),
        "procedures": [p.to_json() for p in procedures],
        "passed": passed,
        "accuracy_pct": max(acc) if acc else None,
        "operator": operator,
        "port": port,
        "software": f"gaitkiosk {__version__}",
    }


def check_record(record, device_serial: str | None = None) -> CheckedRecord:
    """The record as objects, or CalibrationFileError / WrongDeviceError saying what to do."""
    if not isinstance(record, dict):
        raise CalibrationFileError("calibration record: expected a JSON object; re-run the calibration")
    if record.get("format") != RECORD_FORMAT:
        raise CalibrationFileError(
            f"calibration record: format is {record.get('format')!r}, expected {RECORD_FORMAT!r}; "
            "it was not written by gaitkiosk calibrate (or by a newer version): re-run the calibration")
    model = check_model_json(record.get("model"))
    if device_serial is not None and model.device_serial != device_serial:
        raise WrongDeviceError(
            f"this calibration is for device {model.device_serial}, not {device_serial}; "
            f"calibrate {device_serial} itself, or use the file on {model.device_serial}")
    procs = record.get("procedures")
    if not isinstance(procs, list):
        raise CalibrationFileError("calibration record: 'procedures' must be a list; re-run the calibration")
    procedures = [Procedure.from_json(p) for p in procs]
    passed = record.get("passed")
    if not isinstance(passed, bool):
        raise CalibrationFileError("calibration record: 'passed' must be true or false")
    acc = record.get("accuracy_pct")
    if acc is not None and not isinstance(acc, (int, float)):
        raise CalibrationFileError("calibration record: 'accuracy_pct' must be a number or null")
    return CheckedRecord(model, procedures, passed, acc, record)


def save(store, model: CalibrationModel, procedures: list[Procedure], *, operator: str | None = None,
         port: str | None = None, user_id: str | None = None, activate: bool = True):
    """Store a new calibration; activate it only if every procedure passed and the model is complete.

    Returns the stored ``store.calibrations.Calibration`` (``.active`` says whether it is in force).
    """
    from store.calibrations import Calibration

    record = make_record(model, procedures, operator=operator, port=port)
    check_record(record, model.device_serial)  # what we write must be what we accept
    ok = record["passed"] and model.complete
    cal = store.calibrations.add(Calibration(device_serial=model.device_serial, record=record, created_by=user_id),
                                 activate=activate and ok)
    store.audit.log("calibration.add", user_id=user_id, subject=cal.id,
                    details={"device_serial": model.device_serial, "passed": record["passed"],
                             "active": cal.active, "procedures": [p.name for p in procedures]})
    return cal


def activate(store, calibration_id: str, *, user_id: str | None = None):
    """Re-activate a stored calibration after checking its record (a broken or failed one is refused)."""
    cal = store.calibrations.require(calibration_id)
    checked = check_record(cal.record, cal.device_serial)
    if not checked.passed:
        raise CalibrationError(
            f"calibration {calibration_id} did not pass when it was made; it cannot be put in force. "
            "Re-activate another one (gaitkiosk calibrate list) or calibrate again")
    if not checked.model.complete:
        raise NotCalibratedError(f"calibration {calibration_id} has no response curve; it cannot convert counts to kPa")
    store.calibrations.activate(calibration_id)
    store.audit.log("calibration.activate", user_id=user_id, subject=calibration_id,
                    details={"device_serial": cal.device_serial})
    return store.calibrations.get(calibration_id)


def active_model(store, device_serial: str) -> tuple[str, CalibrationModel] | None:
    """(calibration id, model) in force for a device, or None; a broken record raises."""
    cal = store.calibrations.active_for(device_serial)
    if cal is None:
        return None
    return cal.id, check_record(cal.record, device_serial).model


def record_verification(store, device_serial: str, calibration_id: str | None, verification, *,
                        user_id: str | None = None) -> dict:
    details = {
        "calibration_id": calibration_id,
        "error_pct": verification.error_pct_,
        "passed": bool(verification.passed_),
        "known_n": verification.known_n(),
        "measured_n": verification.measured_force_n_,
        "tolerance_pct": verification.tolerance_pct,
    }
    entry = store.audit.log(VERIFY_ACTION, user_id=user_id, subject=device_serial, details=details)
    return {"at": entry.at, **details}


def verification_history(store, device_serial: str, limit: int = 200) -> list[dict]:
    """The device's verifications, oldest first: [{at, calibration_id, error_pct, passed, ...}]."""
    entries = [e for e in store.audit.recent(limit * 4, subject=device_serial) if e.action == VERIFY_ACTION]
    return [{"at": e.at, **e.details} for e in reversed(entries[:limit])]


class LiveCalibration:
    """counts -> kPa for live RawFrames of any device, with the active calibration of each.

    ``kpa(frame)`` converts (raising NotCalibratedError for an uncalibrated
    device); ``calibration_ids()`` is what a trial stores (serial -> id in force).
    Devices that already send kPa (``kpa_per_count`` > 0) pass through.
    """

    def __init__(self, store):
        self.store = store
        self._cache: dict[str, tuple[str, object]] = {}

    def converter(self, device_serial: str, shape=None):
        hit = self._cache.get(device_serial)
        if hit is None:
            found = active_model(self.store, device_serial)
            if found is None:
                raise NotCalibratedError(
                    f"device {device_serial} has no active calibration; run gaitkiosk calibrate equilibrate "
                    "for its port (or activate an earlier calibration)")
            cal_id, model = found
            model.check_device(device_serial, shape)
            hit = (cal_id, model.converter())
            self._cache[device_serial] = hit
        return hit[1]

    def kpa(self, frame) -> np.ndarray:
        if frame.kpa_per_count > 0:
            return frame.kpa()
        return self.converter(frame.device, frame.counts.shape)(frame.counts)

    def calibration_ids(self) -> dict[str, str]:
        return {serial: cal_id for serial, (cal_id, _) in self._cache.items()}

    def refresh(self) -> None:
        """Forget cached models (after a calibration was added or re-activated)."""
        self._cache.clear()


def install_export_converter() -> None:
    """Let ``store.export`` turn stored raw counts into kPa with the recording's calibration."""
    from store import export

    def factory(calibration, device_zero=None):
        model = check_record(calibration.record, calibration.device_serial).model
        # A calibration made on raw counts drops its offsets for a device-zeroed recording
        # (and one made on zeroed counts refuses a raw one): CalibrationModel.for_stream.
        model, _warning = model.for_stream(device_zero)
        return model.converter().many

    export.set_calibration_converter(factory)

