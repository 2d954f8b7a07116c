"""Calibration records in a real SQLite store: activation rules, refusals, verification history, health."""

import datetime as dt
import json

import numpy as np
import pytest
from calibration_support import blank_mat, run_on_rig, truth_frames

from calibration import EquilibrationCalibration, Verification, ZeroCalibration, storage
from calibration.errors import (
    CalibrationError,
    CalibrationFileError,
    NotCalibratedError,
    WrongDeviceError,
)
from calibration.health import DUE, OK, OUT_OF_SPEC, UNCALIBRATED, device_health, limits_from_config
from device.frames import RawFrame
from gaitkiosk.config import default_config
from store import open_store
from store.recordings import Recording

SERIAL = "sim-mat-shared"


@pytest.fixture(scope="module")
def good():
    res, rig = run_on_rig([ZeroCalibration(), EquilibrationCalibration(levels_kpa=(100, 200, 300))], blank_mat(SERIAL))
    return res, rig


@pytest.fixture
def st(tmp_path):
    s = open_store(tmp_path)
    yield s
    s.close()


def failed_copy(res):
    """The same fit with its accuracy check failed (as if the bladder leaked)."""
    procs = [type(p).from_json(p.to_json()) for p in res.procedures]
    procs[-1].passed_ = False
    return procs


def test_a_passing_calibration_becomes_active(st, good):
    res, _ = good
    cal = storage.save(st, res.model, res.procedures, operator="Ana", port="sim://mat")
    assert cal.active and st.calibrations.active_for(SERIAL).id == cal.id
    cal_id, model = storage.active_model(st, SERIAL)
    assert cal_id == cal.id and model.to_json() == res.model.to_json()
    assert [e.action for e in st.audit.recent(5)] == ["calibration.add"]


def test_a_failed_calibration_never_replaces_the_active_one(st, good):
    res, _ = good
    first = storage.save(st, res.model, res.procedures)
    failed = storage.save(st, res.model, failed_copy(res))
    assert not failed.active and failed.record["passed"] is False
    assert st.calibrations.active_for(SERIAL).id == first.id
    with pytest.raises(CalibrationError, match="did not pass"):
        storage.activate(st, failed.id)
    assert st.calibrations.active_for(SERIAL).id == first.id


def test_an_incomplete_model_is_not_activated(st):
    res, _ = run_on_rig([ZeroCalibration()], blank_mat(SERIAL))
    cal = storage.save(st, res.model, res.procedures)
    assert not cal.active
    with pytest.raises(NotCalibratedError):
        storage.activate(st, cal.id)


def test_an_older_calibration_can_be_reactivated(st, good):
    res, _ = good
    old = storage.save(st, res.model, res.procedures)
    new = storage.save(st, res.model, res.procedures)
    assert st.calibrations.active_for(SERIAL).id == new.id
    storage.activate(st, old.id, user_id=None)
    assert st.calibrations.active_for(SERIAL).id == old.id
    assert st.audit.recent(1)[0].action == "calibration.activate"


def test_a_record_edited_in_the_database_is_refused(st, good):
    res, _ = good
    old = storage.save(st, res.model, res.procedures)
    new = storage.save(st, res.model, res.procedures)
    record = dict(old.record)
    record["model"] = {**record["model"], "gain": ["x"] * 3}
    st.db.execute("UPDATE calibrations SET record = ? WHERE id = ?", [json.dumps(record), old.id])
    with pytest.raises(CalibrationFileError, match="gain"):
        storage.activate(st, old.id)
    assert st.calibrations.active_for(SERIAL).id == new.id


def test_live_conversion_per_device(st, good):
    res, _ = good
    cal = storage.save(st, res.model, res.procedures)
    live = storage.LiveCalibration(st)
    _, counts, truth = truth_frames("quiet", seconds=0.2)
    frame = RawFrame(SERIAL, "mat", 1, 0.0, 0.0, counts[0])
    kpa = live.kpa(frame)
    assert kpa.dtype == np.float32 and abs(kpa.sum() / truth[0].sum() - 1) < 0.03
    assert live.calibration_ids() == {SERIAL: cal.id}
    with pytest.raises(NotCalibratedError, match="no active calibration"):
        live.kpa(RawFrame("another-mat", "mat", 1, 0.0, 0.0, counts[0]))
    with pytest.raises(WrongDeviceError, match="shape"):
        storage.LiveCalibration(st).kpa(RawFrame(SERIAL, "mat", 1, 0.0, 0.0, counts[0][:16, :16].copy()))
    kpa_dev = RawFrame("kpa-device", "mat", 1, 0.0, 0.0, np.full((2, 2), 10, np.uint16), kpa_per_count=0.5)
    assert np.all(live.kpa(kpa_dev) == 5.0)


def test_export_converts_with_the_recordings_calibration(st, good):
    from store import export

    res, _ = good
    cal = storage.save(st, res.model, res.procedures)
    storage.install_export_converter()
    try:
        rec = Recording(session_id="s", device_serial=SERIAL, kind="mat", shape=[48, 48], calibration_id=cal.id)
        _, counts, truth = truth_frames("quiet", seconds=0.2)
        kpa = export.kpa_converter(st, rec)(counts)
        assert kpa.shape == counts.shape and kpa.dtype == np.float32
        assert abs(kpa.sum() / truth.sum() - 1) < 0.03
    finally:
        export.set_calibration_converter(None)


def test_verification_history_and_health(st, good):
    res, rig = good
    cal = storage.save(st, res.model, res.procedures)
    limits = limits_from_config(default_config())
    made = dt.datetime.fromisoformat(cal.created_at.replace("Z", "+00:00"))
    assert device_health(st, "nobody", limits=limits)["status"] == UNCALIBRATED
    h = device_health(st, SERIAL, limits=limits, now=made + dt.timedelta(days=1))
    assert h["status"] == OK and h["last_verification"] is None
    # not verified within verify_every_days (30): due
    h = device_health(st, SERIAL, limits=limits, now=made + dt.timedelta(days=31))
    assert h["status"] == DUE and "calibrate verify" in h["reasons"][0]
    ver, _ = run_on_rig([Verification(weight_n=300.0)], res.model, rig)
    storage.record_verification(st, SERIAL, cal.id, ver.procedures[0])
    h = device_health(st, SERIAL, limits=limits)
    assert h["status"] == OK and abs(h["last_verification"]["error_pct"]) < 1.0
    # a later verification erring 6 %: out of spec (limit 3 %)
    v = ver.procedures[0]
    v.error_pct_, v.passed_ = 6.0, False
    storage.record_verification(st, SERIAL, cal.id, v)
    h = device_health(st, SERIAL, limits=limits)
    assert h["status"] == OUT_OF_SPEC and "recalibrate" in h["reasons"][0]
    assert h["verifications"] == 2 and h["drift_pct_per_30_days"] is not None
    # configurable: with a 10 % limit the same device is ok
    assert device_health(st, SERIAL, limits={**limits, "max_error_pct": 10.0})["status"] == OK
    # old: due by age
    assert device_health(st, SERIAL, limits={**limits, "max_error_pct": 10.0},
                         now=made + dt.timedelta(days=200))["status"] == DUE
    hist = storage.verification_history(st, SERIAL)
    assert [h["error_pct"] for h in hist][-1] == 6.0 and hist[0]["at"] <= hist[1]["at"]


def test_a_stored_record_gives_its_model_directly(st, good):
    """gaitkiosk/pressure.py reads the active Calibration row's record with CalibrationModel.from_json."""
    from calibration.model import CalibrationModel

    res, _ = good
    cal = storage.save(st, res.model, res.procedures)
    model = CalibrationModel.from_json(st.calibrations.active_for(SERIAL).record)
    assert model.to_json() == res.model.to_json() and cal.active
    with pytest.raises(CalibrationFileError, match="no model"):
        CalibrationModel.from_json({"format": storage.RECORD_FORMAT, "model": None})


def test_export_of_a_device_zeroed_recording_does_not_subtract_offsets_twice(st, good):
    """A calibration made on raw counts, exported for a trial whose sensor zeroed itself."""
    from store import export
    from store.patients import Patient

    res, _ = good
    model = res.model.copy()
    model.device_zero = {"zeroed": False, "gate_counts": None}  # made on raw counts
    cal = storage.save(st, model, res.procedures)
    patient = st.patients.add(Patient(code="Z1"))
    session = st.sessions.start(patient.id)
    zeroed = {"zeroed": True, "gate_counts": 9}
    trials = {}
    for state in ("raw", "zeroed"):
        trial = st.trials.start(session.id, "quiet_standing", {}, {SERIAL: cal.id})
        results = {"device_zero": {SERIAL: zeroed}} if state == "zeroed" else {}
        st.trials.finish(trial.id, results=results)
        trials[state] = trial.id
    _, counts, _ = truth_frames("quiet", seconds=0.1)
    storage.install_export_converter()
    try:
        def convert(state):
            rec = Recording(session_id=session.id, trial_id=trials[state], device_serial=SERIAL, kind="mat",
                            shape=[48, 48], calibration_id=cal.id)
            return export.kpa_converter(st, rec)(counts)

        raw_kpa, zeroed_kpa = convert("raw"), convert("zeroed")
        expected = model.for_stream(zeroed)[0].converter().many(counts)
        np.testing.assert_allclose(zeroed_kpa, expected, rtol=1e-6)
        assert zeroed_kpa.sum() > raw_kpa.sum()  # offsets were not subtracted from the zeroed stream
    finally:
        export.set_calibration_converter(None)
