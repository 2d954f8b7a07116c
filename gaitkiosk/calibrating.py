"""One calibration run, the same from ``gaitkiosk calibrate`` and from the kiosk's calibration wizard.

The CLI (gaitkiosk/commands/calibrate.py) opens a port of its own; the wizard
(gaitkiosk/staff_rooms/calibration.py) uses the running kiosk's reader. Both
build the procedures here, start from the same model, and keep the result the
same way, so a calibration made on the touchscreen is the record the CLI would
have made:

    procedures = procedures_for("load", "mat", config["calibration"])
    model = start_model(store, hello, procedures)            # the active calibration, or a blank one
    result = calibration.steps.run(procedures, model, feed, operator=...)
    out = keep(store, "load", result, serial, port=url, user_id=..., operator=...)
"""

from __future__ import annotations

import logging

from gaitkiosk.errors import KioskError, UsageError

log = logging.getLogger(__name__)

PROCEDURES = ("zero", "equilibrate", "load", "bodyweight", "sweep", "verify")
# The defaults of the CLI's options (and the wizard's loads): bladder pressures (kPa), plate
# weights (N), the plates' sides (mm), the verification weight (N).
LEVELS_KPA = (50.0, 100.0, 200.0, 300.0)
WEIGHTS_N = (100.0, 200.0, 400.0, 800.0)
PLATE_MM = (100.0, 100.0)
VERIFY_N = 200.0


def procedures_for(action: str, kind: str, cal_config: dict, *, levels_kpa=LEVELS_KPA, weights_n=WEIGHTS_N,
                   plate_mm=PLATE_MM, weight_kg: float | None = None, method: str = "point",
                   weight_n: float = VERIFY_N, zero_first: bool = True) -> list:
    """The procedure objects of one action on a device of ``kind`` (UsageError for a wrong pairing)."""
    from calibration import (
        BodyWeightCalibration,
        DeadSenselDetection,
        EquilibrationCalibration,
        KnownLoadCalibration,
        Verification,
        ZeroCalibration,
    )

    timeout = cal_config["step_timeout_s"]
    zero = [ZeroCalibration(timeout_s=timeout)] if zero_first else []
    if action == "zero":
        return [ZeroCalibration(timeout_s=timeout)]
    if action == "equilibrate":
        return zero + [EquilibrationCalibration(levels_kpa=levels_kpa, timeout_s=timeout)]
    if action == "load":
        if kind != "mat":
            raise UsageError("known-load calibration is for the mat; calibrate insoles with equilibrate and bodyweight")
        return zero + [KnownLoadCalibration(weights_n=weights_n, plate_mm=plate_mm, timeout_s=timeout)]
    if action == "bodyweight":
        if weight_kg is None:
            raise UsageError("calibrate bodyweight needs --weight-kg (the person's weight)")
        return [BodyWeightCalibration(weight_kg=weight_kg, method=method, timeout_s=timeout)]
    if action == "sweep":
        return [DeadSenselDetection()]
    if action == "verify":
        return [Verification(weight_n=weight_n, weight_kg=weight_kg if kind != "mat" else None,
                             plate_mm=plate_mm, timeout_s=timeout, tolerance_pct=cal_config["max_error_pct"])]
    raise UsageError(f"unknown calibration procedure {action!r}; one of {', '.join(PROCEDURES)}")


def start_model(store, hello, procedures: list, *, fresh: bool = False, fresh_hint: str = ""):
    """The model the procedures start from: the device's active calibration (or a blank one when
    it has none, or ``fresh``), checked against the device and fitted to its stream's zero state."""
    from calibration import storage
    from calibration.errors import CalibrationFileError
    from calibration.model import CalibrationModel

    kind, serial = hello.kind.label, hello.serial
    model = None
    if not fresh:
        try:
            found = storage.active_model(store, serial)
        except CalibrationFileError as exc:
            raise KioskError(f"{exc}{fresh_hint}") from None
        model = None if found is None else found[1]
    if model is None:
        area = (hello.pitch_mm[0] * hello.pitch_mm[1] if kind == "mat"
                else float(hello.sensor_area_mm2[0]) if hello.sensor_area_mm2 is not None else 154.0)
        model = CalibrationModel.for_device(serial, kind, hello.shape, sensel_area_mm2=area,
                                            max_counts=(1 << hello.bits) - 1,
                                            pitch_mm=tuple(hello.pitch_mm) if kind == "mat" else None)
    model.check_device(serial, hello.shape)
    return fit_stream(model, hello, procedures)


def fit_stream(model, hello, procedures):
    """The model for this stream's device zero state, which the new record then keeps."""
    from calibration.errors import WrongDeviceError

    try:
        model, warning = model.for_stream(hello.zero_state)
    except WrongDeviceError:
        if not any(p.name == "zero" for p in procedures):
            raise
        warning = ""  # its offsets are re-measured right now
    if warning:
        log.warning("%s", warning)
    model.device_zero = dict(hello.zero_state)
    return model


def keep(store, action: str, result, serial: str, *, port: str, user_id: str | None, operator: str | None,
         activate: bool = True) -> dict:
    """Store a finished run as ``gaitkiosk calibrate`` does; what was kept, as data.

    A verification is appended to the device's verification history; any other
    run becomes a calibration record, put in force only if it passed and has a
    response curve (calibration/storage.py). Both are audited with ``user_id``.
    """
    from calibration import storage

    procs = [{"procedure": p.name, "passed": bool(p.passed_), "accuracy_pct": p.accuracy_pct_, "message": p.message_}
             for p in result.procedures]
    out = {"action": action, "device_serial": serial, "procedures": procs,
           "passed": all(p["passed"] for p in procs)}
    if action == "verify":
        found = storage.active_model(store, serial)
        out["verification"] = storage.record_verification(store, serial, found[0] if found else None,
                                                          result.procedures[-1], user_id=user_id)
    else:
        cal = storage.save(store, result.model, result.procedures, operator=operator, port=port,
                           user_id=user_id, activate=activate)
        out.update(calibration_id=cal.id, active=cal.active, complete=result.model.complete)
    return out
