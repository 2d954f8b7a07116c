"""JSON round trips of every calibration object (hypothesis), and hand-edited records refused."""

import copy
import json

import numpy as np
import pytest
from calibration_support import blank_mat, run_on_rig
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calibration import (
    BodyWeightCalibration,
    DeadSenselDetection,
    EquilibrationCalibration,
    KnownLoadCalibration,
    Verification,
    ZeroCalibration,
    storage,
)
from calibration.base import Procedure
from calibration.curves import PiecewiseLinearCurve, PowerLawCurve
from calibration.errors import CalibrationError, CalibrationFileError, WrongDeviceError
from calibration.model import CalibrationModel, check_model_json
from calibration.steps import Progress, Step

finite = st.floats(-1e6, 1e6, allow_nan=False)
positive = st.floats(0.01, 1000.0)


@st.composite
def models(draw):
    shape = draw(st.sampled_from([(16,), (3, 4), (6, 5)]))
    kind = "mat" if len(shape) == 2 else draw(st.sampled_from(["insole_left", "insole_right"]))
    n = int(np.prod(shape))

    def arr(lo, hi):
        return np.array(draw(st.lists(st.floats(lo, hi, width=32), min_size=n, max_size=n)), np.float32)

    mask = np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), np.uint8)
    mask[0] = 0
    curve = draw(st.one_of(
        st.none(),
        st.builds(PowerLawCurve, st.floats(1e-4, 10), st.floats(0.2, 5.0)),
        st.lists(st.tuples(positive, st.floats(0, 100)), min_size=1, max_size=6).map(
            lambda s: PiecewiseLinearCurve(np.r_[0.0, np.cumsum([a for a, _ in s])], np.r_[0.0, np.cumsum([b for _, b in s]) + 1e-3])),
    ))
    return CalibrationModel(
        device_serial=draw(st.text(min_size=1, max_size=20).filter(str.strip)), kind=kind, shape=shape,
        sensel_area_mm2=draw(positive), max_counts=draw(st.sampled_from([255, 4095, 65535])),
        pitch_mm=(draw(positive), draw(positive)) if kind == "mat" else None,
        offset=arr(0.0, 255.0), noise=arr(0.0, 50.0), gain=arr(0.015625, 100.0), mask=mask, curve=curve,
        scale=draw(st.floats(0.2, 5.0)), floor_sigma=draw(st.floats(0, 20)),
        history=draw(st.lists(st.fixed_dictionaries({"procedure": st.sampled_from(["zero", "verify"]),
                                                     "passed": st.booleans()}), max_size=3)),
    )


def same_model(a: CalibrationModel, b: CalibrationModel) -> bool:
    return json.dumps(a.to_json(), sort_keys=True) == json.dumps(b.to_json(), sort_keys=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models())
def test_model_json_round_trip(model):
    back = CalibrationModel.from_json(json.loads(json.dumps(model.to_json())))
    assert same_model(model, back)
    for name in ("offset", "noise", "gain", "mask"):
        assert np.array_equal(getattr(back, name), getattr(model, name))


results = st.dictionaries(
    st.from_regex(r"[a-z]{1,8}_", fullmatch=True),
    st.one_of(finite, st.booleans(), st.text(max_size=10), st.none(),
              st.lists(finite, max_size=5),
              st.lists(finite, min_size=1, max_size=8).map(lambda v: np.array(v)),
              st.lists(st.booleans(), min_size=1, max_size=8).map(lambda v: np.array(v)),
              st.dictionaries(st.text(max_size=5), finite, max_size=3)),
    max_size=5)

procedures = st.one_of(
    st.builds(ZeroCalibration, window_s=positive, loaded_counts=positive,
              max_loaded_fraction=st.none() | st.floats(0, 1)),
    st.builds(EquilibrationCalibration, levels_kpa=st.lists(positive, min_size=1, max_size=5).map(tuple)),
    st.builds(KnownLoadCalibration, weights_n=st.lists(positive, min_size=1, max_size=5).map(tuple),
              plate_mm=st.tuples(positive, positive)),
    st.builds(BodyWeightCalibration, weight_kg=st.floats(10, 350), method=st.sampled_from(["point", "step"]),
              ratio_limits=st.none() | st.tuples(st.floats(0.1, 1), st.floats(1, 10))),
    st.builds(DeadSenselDetection, sweep_kpa=positive, min_response=st.floats(0, 1)),
    st.builds(Verification, weight_n=positive, weight_kg=st.none() | st.floats(10, 300), tolerance_pct=positive),
)


@settings(max_examples=120, deadline=None)
@given(procedures, results)
def test_procedure_json_round_trip(proc, res):
    for k, v in res.items():
        setattr(proc, k, v)
    text = json.dumps(proc.to_json(), allow_nan=False)
    back = Procedure.from_json(json.loads(text))
    assert type(back) is type(proc)
    assert back == proc
    assert json.dumps(back.to_json()) == json.dumps(proc.to_json())
    for k, v in res.items():
        got = getattr(back, k)
        if isinstance(v, np.ndarray):
            assert got.dtype == v.dtype and np.array_equal(got, v)
        else:
            assert got == v


def test_step_and_progress_are_json():
    s = Step("a", "Do this.", {"load": "empty"})
    assert json.loads(json.dumps(s.to_json()))["instruction"] == "Do this."
    p = Progress("zero", 1, 1, "a", "Do this.", "waiting")
    assert json.loads(json.dumps(p.to_json()))["state"] == "waiting"


@pytest.fixture(scope="module")
def fitted_record():
    res, _ = run_on_rig([ZeroCalibration(), EquilibrationCalibration(levels_kpa=(100, 250))], blank_mat("mat-A"))
    return storage.make_record(res.model, res.procedures, operator="Ana", port="sim://mat")


def test_fitted_record_round_trip(fitted_record):
    text = json.dumps(fitted_record, allow_nan=False)
    checked = storage.check_record(json.loads(text), "mat-A")
    again = storage.make_record(checked.model, checked.procedures, operator="Ana", port="sim://mat")
    again["software"] = fitted_record["software"]
    assert again == json.loads(text)


def test_record_for_another_device_refused(fitted_record):
    with pytest.raises(WrongDeviceError, match="calibrate mat-B itself"):
        storage.check_record(fitted_record, "mat-B")
    model = storage.check_record(fitted_record).model
    with pytest.raises(WrongDeviceError):
        model.check_device("mat-B")
    with pytest.raises(WrongDeviceError, match="shape"):
        model.check_device("mat-A", (32, 32))


EDITS = [
    ("format", "gaitkiosk-calibration-record/9"),
    ("model.format", "something"),
    ("model.gain", "all ones"),
    ("model.gain", [1.0] * 10),
    ("model.offset", [float("nan")] * 2304),
    ("model.gain", [0.0] * 2304),
    ("model.mask", [7] * 2304),
    ("model.mask", [1] * 2304),
    ("model.shape", [48, -48]),
    ("model.kind", "treadmill"),
    ("model.scale", 50.0),
    ("model.curve", {"kind": "power", "a": 0.006, "b": -1}),
    ("model.curve", {"kind": "piecewise", "knots_n": [0, 100, 50], "knots_kpa": [0, 10, 20]}),
    ("model.device_serial", ""),
    ("procedures", "none"),
    ("procedures", [{"procedure": "magic", "params": {}}]),
    ("procedures", [{"procedure": "zero", "params": {"colour": "red"}}]),
    ("passed", "yes"),
]


def set_path(record, path, value):
    d = record
    *head, last = path.split(".")
    for k in head:
        d = d[k]
    d[last] = value


@pytest.mark.parametrize("path,value", EDITS)
def test_hand_edited_record_refused(fitted_record, path, value):
    bad = copy.deepcopy(fitted_record)
    set_path(bad, path, value)
    with pytest.raises(CalibrationFileError, match="calibration record|curve") as info:
        storage.check_record(bad, "mat-A")
    assert "re-run" in str(info.value) or "re-activate" in str(info.value) or "calibration record" in str(info.value)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_random_edits_give_a_model_or_a_clear_refusal(fitted_record, data):
    bad = copy.deepcopy(fitted_record)
    key = data.draw(st.sampled_from(sorted(bad["model"])))
    junk = data.draw(st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=5),
                               st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)))
    bad["model"][key] = junk
    try:
        model = check_model_json(bad["model"])
    except CalibrationError:
        return
    assert isinstance(model, CalibrationModel)
