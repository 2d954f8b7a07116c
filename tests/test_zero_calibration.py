"""Device ZERO and kiosk calibration: the record keeps the zero state; a mismatch is adapted or refused."""

from __future__ import annotations

import numpy as np
import pytest
from calibration_support import blank_mat, truth_frames

from calibration.curves import PowerLawCurve
from calibration.errors import CalibrationFileError, WrongDeviceError
from calibration.model import CalibrationModel
from device.sim.zero_gate import ZERO_WINDOW_SCANS, ZeroGate

RAW = {"zeroed": False, "gate_counts": None}
ZEROED = {"zeroed": True, "gate_counts": 0}


def _calibrated_on_raw(sensor) -> CalibrationModel:
    """A model as kiosk zero + a curve make it on a device that does not zero itself."""
    unloaded = np.stack([sensor.counts(np.zeros(sensor.shape), key=9_000_000 + k) for k in range(64)]).astype(float)
    model = blank_mat()
    model.offset = unloaded.mean(axis=0).astype(np.float32)
    model.noise = np.maximum(unloaded.std(axis=0), 0.5).astype(np.float32)
    model.curve = PowerLawCurve(sensor.full_scale_kpa / sensor.full_counts ** (1.0 / sensor.exponent),
                                1.0 / sensor.exponent)
    model.device_zero = dict(RAW)
    return model


def test_device_zero_state_round_trips_through_the_record_json():
    model = blank_mat()
    assert CalibrationModel.from_json(model.to_json()).device_zero is None  # unknown (older records)
    model.device_zero = dict(ZEROED)
    assert CalibrationModel.from_json(model.to_json()).device_zero == ZEROED
    for bad in ({"zeroed": "yes"}, {"zeroed": True, "gate_counts": -3}, [1], {"zeroed": True, "gate_counts": True}):
        data = model.to_json()
        data["device_zero"] = bad
        with pytest.raises(CalibrationFileError, match="device_zero"):
            CalibrationModel.from_json(data)


def test_a_raw_calibration_on_a_zeroed_stream_drops_its_offsets_and_reads_the_same_force():
    p, raw, truth = truth_frames("quiet", seconds=2.0)
    sensor = p.mat_sensor
    model = _calibrated_on_raw(sensor)
    window = np.stack([sensor.counts(np.zeros(sensor.shape), key=8_000_000 + k) for k in range(ZERO_WINDOW_SCANS)])
    gate = ZeroGate.measure(window, 0)
    zeroed = np.stack([gate.apply(c) for c in raw])

    wrong = model.force_n(model.converter().many(zeroed))  # the raw model as it is on zeroed counts: offsets twice
    adapted, warning = model.for_stream(ZEROED)
    assert "offsets are not used" in warning and adapted.device_zero == ZEROED
    assert not adapted.offset.any() and model.offset.any()  # the stored model is untouched
    force_raw = model.force_n(model.converter().many(raw))
    force_adapted = adapted.force_n(adapted.converter().many(zeroed))
    np.testing.assert_allclose(force_adapted, force_raw, rtol=0.01)
    assert np.all(wrong < 0.97 * force_raw)  # why it must not be used unadapted
    true_force = truth.sum(axis=(1, 2)) * model.sensel_area_mm2 * 1e-3
    np.testing.assert_allclose(force_adapted, true_force, rtol=0.1)


def test_same_or_unknown_state_is_used_as_is_and_a_zeroed_calibration_on_raw_counts_is_refused():
    model = blank_mat()
    model.device_zero = dict(ZEROED)
    assert model.for_stream(ZEROED) == (model, "")
    assert model.for_stream(None) == (model, "")
    model.device_zero = None
    assert model.for_stream(RAW) == (model, "")
    model.device_zero = dict(ZEROED)
    with pytest.raises(WrongDeviceError, match="does not now.*zero"):
        model.for_stream(RAW)


def test_pressure_for_uses_the_stream_state(caplog):
    from device.framing import DeviceKind, Hello
    from gaitkiosk.pressure import CALIBRATED, pressure_for

    p, raw, _ = truth_frames("quiet", seconds=0.2)
    model = _calibrated_on_raw(p.mat_sensor)

    class Cal:
        id = "cal-1"
        record = model.to_json()

    hello = Hello(DeviceKind.MAT, "sim-mat-shared", "1", 100.0, 48, 48, (8.47, 8.47), zeroed=True, gate_counts=0)
    pressure = pressure_for(hello, "/dev/gaitkiosk/mat", Cal)
    assert pressure.source == CALIBRATED and "offsets are not used" in caplog.text
    assert pressure.kpa(np.zeros((48, 48), np.uint16)).max() == 0.0  # no offset left to subtract

    model.device_zero = dict(ZEROED)
    Cal.record = model.to_json()
    refused = pressure_for(Hello(DeviceKind.MAT, "sim-mat-shared", "1", 100.0, 48, 48, (8.47, 8.47)),
                           "/dev/gaitkiosk/mat", Cal)
    assert not refused.usable and "calibrate" in refused.problem


def test_calibrate_device_zero_records_the_zeroed_stream(tmp_path, capsys):
    """``calibrate zero --device-zero``: the sensor zeroes itself first; kiosk offsets come out ~0."""
    import json

    from calibration import storage
    from gaitkiosk.cli import main
    from store import open_store

    code = main(["calibrate", "zero", "sim://mat?seed=6&patient=calzero", "--device-zero", "--data-dir", str(tmp_path),
                 "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    result = json.loads(out.out)
    assert result["passed"]
    with open_store(tmp_path) as st:
        model = storage.check_record(st.calibrations.get(result["calibration_id"]).record, "sim-mat-48x48-seed6").model
    assert model.device_zero == ZEROED
    live = model.mask == 0
    assert np.median(model.offset[live]) < 0.5 and model.offset[live].max() < 3  # the sensor took its baseline off
