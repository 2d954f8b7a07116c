"""How the running kiosk turns each device's counts into kPa (gaitkiosk/pressure.py)."""

from __future__ import annotations

import numpy as np
import pytest

from device.packets import DeviceKind, Hello
from gaitkiosk.pressure import CALIBRATED, DEVICE, NOMINAL, nominal_kpa_per_count, pressure_for
from store.calibrations import Calibration


def hello(kpa_per_count=0.0, bits=12, serial="m1"):
    return Hello(DeviceKind.MAT, serial, "fw 1", 100.0, 4, 4, (8.47, 8.47), bits, kpa_per_count)


def test_a_device_that_reports_kpa_is_used_as_is():
    p = pressure_for(hello(0.05), "replay://x.npz")
    assert p.source == DEVICE and p.usable
    assert p.kpa(np.full((4, 4), 200, np.uint16))[0, 0] == pytest.approx(10.0)


def test_the_virtual_mat_without_calibration_uses_the_factory_line_and_drops_stuck_sensels():
    p = pressure_for(hello(bits=12), "sim://mat?patient=nobody-here")
    assert p.source == NOMINAL and p.usable and p.calibration_id is None
    assert p.kpa_per_count == pytest.approx(nominal_kpa_per_count(12)) == pytest.approx(800 / (0.95 * 4095))
    counts = np.full((4, 4), 100, np.uint16)
    counts[0, 0] = 4095  # pinned at the ADC maximum: a stuck sensel
    kpa = p.kpa(counts)
    assert kpa[0, 0] == 0.0 and kpa[1, 1] == pytest.approx(100 * p.kpa_per_count)
    assert counts[0, 0] == 4095  # the raw counts (what is stored) are not touched


def test_the_virtual_mat_uses_the_live_sensor_models_own_factor():
    import serial

    import device  # noqa: F401 - registers sim://

    port = serial.serial_for_url("sim://mat?patient=pressure-test")
    try:
        from device.handlers.protocol_sim import patient

        p = pressure_for(hello(), "sim://mat?patient=pressure-test")
        assert p.kpa_per_count == pytest.approx(patient("pressure-test").mat_sensor.kpa_per_count)
    finally:
        port.close()


def test_a_real_uncalibrated_sensor_is_refused_with_what_to_do():
    p = pressure_for(hello(), "/dev/gaitkiosk/mat")
    assert not p.usable and "calibrate" in p.problem
    with pytest.raises(ValueError, match="calibrate"):
        p.kpa(np.zeros((4, 4), np.uint16))


def test_a_broken_calibration_record_is_reported_not_fatal():
    cal = Calibration(device_serial="m1", record={"format": "not a calibration"})
    p = pressure_for(hello(), "/dev/gaitkiosk/mat", cal)
    assert not p.usable and "calibrate the sensor again" in p.problem
    # a virtual device falls back to its factory line, still labelled as uncalibrated
    assert pressure_for(hello(), "sim://mat", cal).source == NOMINAL


def test_a_stored_calibration_is_applied_with_its_id():
    from calibration.curves import PowerLawCurve
    from calibration.model import CalibrationModel

    model = CalibrationModel.for_device("m1", "mat", (4, 4), sensel_area_mm2=71.7, pitch_mm=(8.47, 8.47))
    model.curve = PowerLawCurve(0.5, 1.0)  # kPa = 0.5 x counts above zero
    cal = Calibration(device_serial="m1", record=model.to_json())
    p = pressure_for(hello(), "/dev/gaitkiosk/mat", cal)
    assert p.source == CALIBRATED and p.calibration_id == cal.id
    kpa = p.kpa(np.full((4, 4), 400, np.uint16))
    assert kpa.dtype == np.float32 and kpa[2, 2] == pytest.approx(model.kpa(np.full((4, 4), 400, np.uint16))[2, 2])
    wrong = pressure_for(hello(serial="m2"), "/dev/gaitkiosk/mat", cal)  # another mat's calibration
    assert not wrong.usable and "m2" in wrong.problem
