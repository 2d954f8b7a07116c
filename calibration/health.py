"""Calibration health per device: "ok", "due", "out of spec" or "uncalibrated".

From the active calibration's age and the device's verifications
(calibration/storage.py), with limits from the ``[calibration]`` config:

* ``out of spec``: the last verification of the active calibration erred by
  more than ``max_error_pct`` -- measurements are not trustworthy: recalibrate;
* ``due``: the calibration is older than ``due_after_days``, or it has not
  been verified for ``verify_every_days`` (counting from when it was made);
* ``ok`` otherwise. The drift (%/30 days) is the slope of the device's
  verification errors over time, shown when there are two or more.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from calibration.storage import verification_history

DEFAULT_LIMITS = {"due_after_days": 180.0, "verify_every_days": 30.0, "max_error_pct": 3.0}
OK, DUE, OUT_OF_SPEC, UNCALIBRATED = "ok", "due", "out of spec", "uncalibrated"


def limits_from_config(config: dict | None) -> dict:
    section = (config or {}).get("calibration") or {}
    return {k: float(section.get(k, v)) for k, v in DEFAULT_LIMITS.items()}


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _days(a: dt.datetime, b: dt.datetime) -> float:
    return (b - a).total_seconds() / 86400.0


def drift_pct_per_30_days(history: list[dict]) -> float | None:
    if len(history) < 2:
        return None
    t = np.array([_parse(h["at"]).timestamp() / 86400.0 for h in history])
    e = np.array([float(h["error_pct"]) for h in history])
    if np.ptp(t) <= 0:
        return None
    return float(np.polyfit(t - t[0], e, 1)[0] * 30.0)


def device_health(store, device_serial: str, *, limits: dict | None = None, now: dt.datetime | None = None) -> dict:
    limits = {**DEFAULT_LIMITS, **(limits or {})}
    now = now or dt.datetime.now(dt.UTC)
    cal = store.calibrations.active_for(device_serial)
    history = verification_history(store, device_serial)
    out = {"device_serial": device_serial, "calibration_id": None, "age_days": None, "last_verification": None,
           "verifications": len(history), "drift_pct_per_30_days": drift_pct_per_30_days(history),
           "status": UNCALIBRATED, "reasons": []}
    if cal is None:
        out["reasons"].append("no active calibration: run gaitkiosk calibrate equilibrate for this device")
        return out
    made = _parse(cal.created_at)
    age = _days(made, now)
    out.update(calibration_id=cal.id, age_days=round(age, 3), created_by=cal.created_by)
    mine = [h for h in history if h.get("calibration_id") == cal.id]
    last = mine[-1] if mine else None
    out["last_verification"] = last
    status, reasons = OK, []
    if last is not None and abs(float(last["error_pct"])) > limits["max_error_pct"]:
        status = OUT_OF_SPEC
        reasons.append(f"last verification erred {float(last['error_pct']):+.1f} % (limit +-{limits['max_error_pct']:g} %): "
                       "recalibrate before measuring patients")
    if age > limits["due_after_days"]:
        reasons.append(f"calibration is {age:.0f} days old (limit {limits['due_after_days']:g}): recalibrate")
        status = status if status == OUT_OF_SPEC else DUE
    since = _days(_parse(last["at"]), now) if last else age
    if since > limits["verify_every_days"]:
        reasons.append(f"not verified for {since:.0f} days (every {limits['verify_every_days']:g}): "
                       "run gaitkiosk calibrate verify")
        status = status if status == OUT_OF_SPEC else DUE
    out["status"], out["reasons"] = status, reasons
    return out


def all_devices_health(store, *, limits: dict | None = None, now: dt.datetime | None = None) -> list[dict]:
    serials = [r[0] for r in store.db.execute("SELECT DISTINCT device_serial FROM calibrations ORDER BY device_serial")]
    return [device_health(store, s, limits=limits, now=now) for s in serials]
