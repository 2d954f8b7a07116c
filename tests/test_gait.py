"""Per-step metrics on hand-made footprints and COP paths: CPEI, strike index,
footprint geometry, loading rate, and the step entry's nulls with reasons."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kernels.steps import (
    Footprint,
    Step,
    cpei,
    gait_line_length,
    loading_rate,
    step_metrics,
    strike_index,
)

PITCH = 5.0


def rectangle_footprint(length=250.0, width=100.0, angle_deg=90.0, heel=(0.0, 0.0)):
    """Sensel centres of a length x width rectangle whose long axis points at angle_deg."""
    a = math.radians(angle_deg)
    u = np.array([math.cos(a), math.sin(a)])
    left = np.array([-u[1], u[0]])
    along = np.arange(PITCH / 2, length, PITCH)
    across = np.arange(-width / 2 + PITCH / 2, width / 2, PITCH)
    pts = np.array([np.asarray(heel) + s * u + c * left for s in along for c in across])
    return pts, u, left


def cop_path(u, left, lateral_mm, side, heel=(0.0, 0.0), n=50):
    """A COP path from near the heel to near the toe bowing ``lateral_mm`` to the lateral side
    at two thirds of a 250 mm foot."""
    s = np.linspace(10, 240, n)
    bow = lateral_mm * np.sin(np.pi * (s - 10) / 230) / math.sin(np.pi * (250 * 2 / 3 - 10) / 230)
    sign = 1.0 if side == "left" else -1.0  # lateral is the foot's left for a left foot
    return np.array([np.asarray(heel) + si * u + sign * b * left for si, b in zip(s, bow, strict=True)])


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("angle", [90.0, 75.0, 120.0])
def test_cpei_of_a_known_path(side, angle):
    pts, u, left = rectangle_footprint(angle_deg=angle)
    fp = Footprint.from_points(pts, PITCH, toward=pts.mean(axis=0) + 100 * u)
    assert fp.length_mm == pytest.approx(250.0)
    assert fp.width_at(2 / 3) == pytest.approx(100.0)
    path = cop_path(u, left, 15.0, side)
    assert cpei(path, fp, side) == pytest.approx(15.0, abs=0.2)
    # a path bowing to the medial side gives a negative CPE
    assert cpei(cop_path(u, left, -10.0, side), fp, side) == pytest.approx(-10.0, abs=0.2)


def test_cpei_needs_a_side_and_a_path_reaching_the_anterior_third():
    pts, u, left = rectangle_footprint()
    fp = Footprint.from_points(pts, PITCH)
    path = cop_path(u, left, 15.0, "left")
    assert cpei(path, fp, None) is None
    assert cpei(path[:20], fp, "left") is None  # stops before 2/3 of the foot


def test_footprint_heel_axis_and_strike_index():
    pts, u, _ = rectangle_footprint(angle_deg=60.0, heel=(100.0, 50.0))
    fp = Footprint.from_points(pts, PITCH, toward=(100 + 300 * u[0], 50 + 300 * u[1]))
    assert fp.heel_mm == pytest.approx((100.0, 50.0), abs=1e-6)
    assert fp.axis == pytest.approx(tuple(u))
    assert strike_index(np.array([100.0, 50.0]) + 25 * u, fp) == pytest.approx(10.0)
    assert strike_index(np.array([100.0, 50.0]) + 200 * u, fp) == pytest.approx(80.0)
    assert strike_index(np.array([np.nan, 0.0]), fp) is None


def test_footprint_from_mat_uses_the_heel_and_toe_ends():
    mask = np.zeros((40, 20), bool)
    mask[5:35, 5:15] = True
    fp = Footprint.from_mat((50.0, 25.0), (50.0, 175.0), 150.0, mask, (5.0, 5.0))
    assert fp.axis == pytest.approx((0.0, 1.0))
    assert fp.width_at(0.5) == pytest.approx(50.0)
    assert Footprint.from_mat((50.0, 25.0), (50.0, 25.0), 0.0, mask, (5.0, 5.0)) is None


@settings(max_examples=50, deadline=None)
@given(peak=st.floats(100, 2000), rise_s=st.floats(0.02, 0.2), rate=st.sampled_from([100.0, 500.0, 1000.0]))
def test_loading_rate_of_linear_ramps(peak, rise_s, rate):
    assume(rise_s * rate >= 8)  # sampled well enough that the 20-80 % crossings lie on the ramp
    t = np.arange(0, 4 * rise_s, 1 / rate)
    force = np.where(t <= rise_s, peak * t / rise_s, np.maximum(0.0, peak * (1 - (t - rise_s) / (3 * rise_s))))
    assert loading_rate(t, force) == pytest.approx(peak / rise_s, rel=1e-6)


def test_loading_rate_needs_a_rise():
    t = np.arange(0, 0.5, 0.01)
    assert loading_rate(t, np.full_like(t, 500.0)) is None  # no rise in the data
    assert loading_rate(t[:3], np.array([0.0, 10.0, 20.0])) is None  # too short


def test_gait_line_skips_unknown_samples():
    cop = np.array([[0, 0], [3, 4], [np.nan, np.nan], [3, 10]], dtype=float)
    assert gait_line_length(cop) == pytest.approx(5.0 + 6.0)
    assert gait_line_length(np.full((3, 2), np.nan)) is None


def test_step_entry_nulls_have_reasons():
    t = np.arange(0, 0.6, 0.01)
    force = 700 * np.sin(np.pi * t / 0.6)
    step = Step("left", 0.0, 0.6, t, force, np.full((len(t), 2), np.nan))
    entry, reasons = step_metrics(step)
    for key, value in entry.items():
        if value is None:
            assert key in reasons, key
    assert entry["peak_force_n"] == pytest.approx(700.0, rel=1e-3)
    assert entry["gait_line_length_mm"] is None and "COP" in reasons["gait_line_length_mm"]
