"""Sway set: hand-checkable cases, invariances, bad input, and the online
accumulators (compiled and reference) against the batch definitions."""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kernels import online_reference
from kernels.series import MetricsInputError
from kernels.sway import MIN_SAMPLES, SWAY_FIELDS, prediction_ellipse_k, sway_metrics


def test_square_path_by_hand():
    # COP walks round a 10 mm square, 1 sample per corner, repeated: every step is 10 mm.
    corners = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], dtype=float)
    cop = np.tile(corners, (5, 1))  # 20 samples
    v, reasons = sway_metrics(cop, rate_hz=10.0)
    assert v["path_length_mm"] == pytest.approx(19 * 10.0)
    assert v["mean_velocity_mm_s"] == pytest.approx(190.0 / (20 / 10.0))
    assert v["mean_velocity_ml_mm_s"] == pytest.approx(10 * 10.0 / 2.0)  # 10 of the 19 steps are along x
    assert v["mean_velocity_ap_mm_s"] == pytest.approx(9 * 10.0 / 2.0)
    assert v["range_ml_mm"] == 10.0 and v["range_ap_mm"] == 10.0
    assert v["mean_distance_mm"] == pytest.approx(math.hypot(5, 5))
    assert v["rms_distance_mm"] == pytest.approx(math.hypot(5, 5))
    assert v["mean_frequency_hz"] == pytest.approx(95.0 / (2 * math.pi * math.hypot(5, 5)))
    # Equal spread in x and y, no correlation: a circle, so no major-axis angle.
    assert v["ellipse95_angle_deg"] is None and "ellipse95_angle_deg" in reasons
    a, b = v["ellipse95_axes_mm"]
    assert a == pytest.approx(b)
    assert v["ellipse95_area_mm2"] == pytest.approx(math.pi * a * b)


def test_ellipse_constant_and_orientation():
    n = 2000
    rng = np.random.default_rng(3)
    major = rng.normal(0, 4.0, n)
    minor = rng.normal(0, 1.0, n)
    theta = math.radians(30.0)
    x = major * math.cos(theta) - minor * math.sin(theta)
    y = major * math.sin(theta) + minor * math.cos(theta)
    v, _ = sway_metrics(np.column_stack([x, y]), 100.0)
    assert v["ellipse95_angle_deg"] == pytest.approx(30.0, abs=2.0)
    lam = np.sort(np.linalg.eigvalsh(np.cov(np.vstack([x, y]))))[::-1]
    k = prediction_ellipse_k(n)
    assert v["ellipse95_axes_mm"] == pytest.approx(list(np.sqrt(k * lam)), rel=1e-12)
    # For large n the prediction ellipse tends to the chi-square one (5.991)
    assert k == pytest.approx(5.991464547107979, rel=5e-3)


def test_angle_is_folded_into_0_180():
    t = np.linspace(0, 1, 200)
    x = t
    y = -t  # major axis along -45 degrees, i.e. 135
    v, _ = sway_metrics(np.column_stack([x, y]), 100.0)
    assert v["ellipse95_angle_deg"] == pytest.approx(135.0)


def test_still_cop_gives_zeros_and_reasoned_nulls():
    v, reasons = sway_metrics(np.full((100, 2), 42.0), 100.0)
    assert v["path_length_mm"] == 0.0 and v["ellipse95_area_mm2"] == 0.0
    for field in ("mean_frequency_hz", "mean_power_frequency_hz", "ellipse95_angle_deg"):
        assert v[field] is None and reasons[field]


def test_too_few_samples_give_nulls_with_reason():
    v, reasons = sway_metrics(np.zeros((3, 2)), 100.0)
    assert all(v[f] is None for f in SWAY_FIELDS)
    assert set(reasons) == set(SWAY_FIELDS) and "3 COP samples" in reasons["path_length_mm"]
    v, _ = sway_metrics(np.random.default_rng(0).normal(size=(MIN_SAMPLES, 2)), 100.0)
    assert v["path_length_mm"] is not None


@pytest.mark.parametrize(
    "cop, message",
    [
        (np.zeros((50, 3)), "shape"),
        (np.zeros(50), "shape"),
        (np.array([[0.0, 1.0]] * 20 + [[np.nan, 0.0]]), "NaN"),
    ],
)
def test_bad_cop_is_refused(cop, message):
    with pytest.raises(MetricsInputError, match=message):
        sway_metrics(cop, 100.0)


def test_bad_rate_is_refused():
    with pytest.raises(MetricsInputError, match="rate"):
        sway_metrics(np.zeros((20, 2)), 0.0)


finite = st.floats(-300, 300, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(MIN_SAMPLES, 300), st.just(2)), elements=finite),
       st.floats(-1000, 1000), st.floats(-1000, 1000))
def test_translation_leaves_sway_unchanged(cop, ox, oy):
    a, _ = sway_metrics(cop, 50.0)
    b, _ = sway_metrics(cop + [ox, oy], 50.0)
    for f in ("path_length_mm", "rms_distance_mm", "range_ml_mm", "range_ap_mm", "ellipse95_area_mm2"):
        assert b[f] == pytest.approx(a[f], rel=1e-6, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(MIN_SAMPLES, 300), st.just(2)), elements=finite))
def test_swapping_axes_swaps_ml_and_ap(cop):
    a, _ = sway_metrics(cop, 50.0)
    b, _ = sway_metrics(cop[:, ::-1], 50.0)
    assert b["range_ml_mm"] == a["range_ap_mm"] and b["range_ap_mm"] == a["range_ml_mm"]
    assert b["mean_velocity_ml_mm_s"] == pytest.approx(a["mean_velocity_ap_mm_s"])
    assert b["ellipse95_area_mm2"] == pytest.approx(a["ellipse95_area_mm2"], rel=1e-9, abs=1e-9)


# -- online accumulators ----------------------------------------------------------------------


def implementations():
    impls = [online_reference.SwayAccumulator]
    try:
        compiled = importlib.import_module("kernels._online")
        impls.append(compiled.SwayAccumulator)
    except ImportError:
        pass
    return impls


@pytest.mark.parametrize("Acc", implementations(), ids=lambda c: c.__module__)
@settings(max_examples=60, deadline=None)
@given(cop=arrays(np.float64, st.tuples(st.integers(MIN_SAMPLES, 400), st.just(2)), elements=finite))
def test_online_agrees_with_batch(Acc, cop):
    acc = Acc(100.0)
    for x, y in cop:
        assert acc.add(x, y)
    got = acc.summary(ellipse_k=prediction_ellipse_k(len(cop)))
    want, _ = sway_metrics(cop, 100.0)
    assert got["n"] == len(cop)
    for f in ("path_length_mm", "mean_velocity_mm_s", "mean_velocity_ml_mm_s", "mean_velocity_ap_mm_s",
              "range_ml_mm", "range_ap_mm", "rms_distance_mm"):
        assert got[f] == pytest.approx(want[f], rel=1e-9, abs=1e-9), f
    # A degenerate (collinear) cloud has area 0 up to rounding in either method.
    scale = prediction_ellipse_k(len(cop)) * (np.var(cop[:, 0]) + np.var(cop[:, 1])) + 1.0
    assert got["ellipse95_area_mm2"] == pytest.approx(want["ellipse95_area_mm2"], rel=1e-6, abs=1e-7 * scale)


@settings(max_examples=40, deadline=None)
@given(cop=arrays(np.float64, st.tuples(st.integers(1, 200), st.just(2)), elements=finite))
def test_compiled_accumulator_matches_reference(cop):
    impls = implementations()
    if len(impls) < 2:
        pytest.skip("kernels._online is not built (python setup.py build_ext --inplace)")
    ref, fast = (cls(25.0) for cls in impls)
    for x, y in cop:
        ref.add(x, y)
        fast.add(x, y)
    k = prediction_ellipse_k(len(cop)) if len(cop) >= 3 else None
    a, b = ref.summary(k), fast.summary(k)
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], float):
            assert b[key] == pytest.approx(a[key], rel=1e-12, abs=1e-12), key
        else:
            assert b[key] == a[key], key


@pytest.mark.parametrize("Acc", implementations(), ids=lambda c: c.__module__)
def test_online_refuses_bad_samples_without_crashing(Acc):
    acc = Acc(100.0)
    assert acc.summary()["path_length_mm"] is None
    assert acc.add(1.0, 2.0)
    assert not acc.add(float("nan"), 2.0)
    assert not acc.add(1.0, float("inf"))
    assert acc.add(4.0, 6.0)
    s = acc.summary()
    assert s["n"] == 2 and s["rejected"] == 2 and s["path_length_mm"] == pytest.approx(5.0)
    acc.reset()
    assert acc.summary()["n"] == 0
    with pytest.raises(ValueError):
        Acc(0.0)


def test_wrapper_says_which_implementation_runs(monkeypatch):
    import kernels.online as online
    from kernels import _backend

    assert online.IMPLEMENTATION in ("compiled", "reference")
    monkeypatch.setattr(_backend, "PURE", True)  # what GAITKIOSK_PURE=1 sets at import
    reloaded = importlib.reload(online)
    try:
        assert reloaded.IMPLEMENTATION == "reference"
        assert reloaded.SwayAccumulator is online_reference.SwayAccumulator
    finally:
        monkeypatch.undo()
        importlib.reload(online)
