"""Response curves: fitting, choice by leave-one-out, refusals, JSON checks."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibration.curves import (
    Observation,
    PiecewiseLinearCurve,
    PowerLawCurve,
    curve_from_json,
    fit_curve,
    fit_piecewise,
)
from calibration.errors import CalibrationFileError, CurveFitError


def points(curve, pressures):
    """Point observations (median n, kPa) that a sensor following ``curve`` would give."""
    grid = np.linspace(0, 20000, 200001)
    vals = curve(grid)
    return [Observation(np.array([np.interp(p, vals, grid)]), 1.0, p, f"{p:g} kPa") for p in pressures]


def test_power_law_recovered_from_points():
    true = PowerLawCurve(0.006, 1.43)
    curve, report = fit_curve(points(true, [50, 100, 200, 300]))
    assert report["chosen"] == "power"
    assert curve.b == pytest.approx(1.43, rel=1e-3)
    assert curve.a == pytest.approx(0.006, rel=1e-2)


def test_power_law_recovered_from_forces():
    """Known weights: only the totals are known, over many sensels with different counts."""
    true = PowerLawCurve(0.01, 1.3)
    rng = np.random.default_rng(3)
    obs = []
    for w in (100.0, 250.0, 500.0, 900.0):
        n = rng.uniform(50, 1500, 150) * (w / 500) ** 0.8
        obs.append(Observation(n, 71.74, float(np.sum(true(n)) * 71.74), f"{w} N"))
    curve, report = fit_curve(obs)
    assert report["chosen"] == "power"
    assert curve.b == pytest.approx(1.3, rel=2e-3)
    for o in obs:
        assert np.sum(curve(o.n)) * 71.74 == pytest.approx(o.target, rel=1e-3)


def test_piecewise_chosen_when_sensor_is_not_a_power_law():
    # a sensor that saturates (kPa rises steeply at the top): a power law cannot follow it
    knots_n = [0.0, 500.0, 1000.0, 1500.0, 2000.0, 2500.0]
    knots_kpa = [0.0, 40.0, 80.0, 120.0, 300.0, 480.0]
    true = PiecewiseLinearCurve(knots_n, knots_kpa)
    obs = points(true, [40, 80, 120, 210, 300, 390, 480])
    curve, report = fit_curve(obs)
    assert report["chosen"] == "piecewise", report
    assert report["piecewise"]["loo_pct"] < report["power"]["loo_pct"]
    assert float(curve(np.array([1750.0]))[0]) == pytest.approx(float(true(np.array([1750.0]))[0]), rel=0.05)


def test_piecewise_is_monotone_and_through_zero():
    true = PowerLawCurve(0.02, 1.2)
    curve = fit_piecewise(points(true, [30, 90, 200]))
    assert curve.knots_n[0] == 0 and curve.knots_kpa[0] == 0
    assert np.all(np.diff(curve(np.linspace(0, 5000, 500))) >= 0)


def test_too_few_points_refused():
    with pytest.raises(CurveFitError, match="at least 2"):
        fit_curve([Observation(np.array([800.0]), 1.0, 100.0, "100 kPa")])


def test_non_monotone_points_refused():
    obs = [Observation(np.array([900.0]), 1.0, 100.0, "100 kPa"),
           Observation(np.array([700.0]), 1.0, 200.0, "200 kPa"),
           Observation(np.array([1200.0]), 1.0, 300.0, "300 kPa")]
    with pytest.raises(CurveFitError, match="not monotone") as info:
        fit_curve(obs)
    assert "200 kPa" in str(info.value) and "run again" in str(info.value)


def test_repeated_load_refused():
    obs = [Observation(np.array([900.0]), 1.0, 100.0, "a"), Observation(np.array([901.0]), 1.0, 100.5, "b")]
    with pytest.raises(CurveFitError, match="same"):
        fit_curve(obs)


@pytest.mark.parametrize("bad", [
    None, [], {"kind": "spline"}, {"kind": "power", "a": -1, "b": 1.4}, {"kind": "power", "a": 1, "b": 40},
    {"kind": "power", "a": "x", "b": 1}, {"kind": "piecewise", "knots_n": [0, 2, 1], "knots_kpa": [0, 1, 2]},
    {"kind": "piecewise", "knots_n": [0, 1, 2], "knots_kpa": [0, 2, 1]},
    {"kind": "piecewise", "knots_n": [1, 2], "knots_kpa": [0, 2]},
    {"kind": "piecewise", "knots_n": [0, 1], "knots_kpa": [0, float("nan")]},
])
def test_malformed_curve_refused(bad):
    with pytest.raises(CalibrationFileError):
        curve_from_json(bad)


@settings(max_examples=60, deadline=None)
@given(st.floats(1e-5, 10), st.floats(0.2, 5.0))
def test_power_curve_json_round_trip(a, b):
    c = PowerLawCurve(a, b)
    back = curve_from_json(json.loads(json.dumps(c.to_json())))
    assert (back.a, back.b) == (c.a, c.b)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0.01, 1000), st.floats(0.0, 100)), min_size=1, max_size=10))
def test_piecewise_curve_json_round_trip(steps):
    x = np.concatenate([[0.0], np.cumsum([s[0] for s in steps])])
    y = np.concatenate([[0.0], np.cumsum([s[1] for s in steps])])
    if y[-1] <= 0:
        y[-1] = 1.0
    c = PiecewiseLinearCurve(x, y)
    back = curve_from_json(json.loads(json.dumps(c.to_json())))
    assert np.array_equal(back.knots_n, c.knots_n) and np.array_equal(back.knots_kpa, c.knots_kpa)
