"""Body model pieces: seekable sway, movement curves, GRF shape, parameter checks."""

from __future__ import annotations

import random

import numpy as np
import pytest

from device.sim import Body
from device.sim.body import SwayProcess, minimum_jerk, shift_duration_s, stance_grf


def test_sway_is_the_same_in_any_order_with_a_tiny_cache():
    times = np.arange(0, 150, 0.731)
    ref = SwayProcess(7, 935.0)
    expected = [ref.at(t) for t in times]
    lazy = SwayProcess(7, 935.0, cache_chunks=2)
    order = list(range(len(times)))
    random.Random(3).shuffle(order)
    for i in order:
        np.testing.assert_array_equal(lazy.at(times[i]), expected[i])
    assert len(lazy._checkpoints) <= 150 // 32 + 2  # memory stays bounded


def test_sway_is_continuous_and_starts_settled():
    sp = SwayProcess(1, 935.0)
    c = np.array([sp.at(t) for t in np.arange(0, 10, 0.01)])
    assert np.abs(np.diff(c[:, 2:], axis=0)).max() < 1.5  # no jumps at chunk borders (mm per 10 ms)
    assert c[:300, 2:].std() > 0.5  # already swaying at t = 0 (warm start)
    with pytest.raises(ValueError):
        sp.at(-0.1)


def test_minimum_jerk_is_smooth_and_symmetric():
    s = np.linspace(0, 1, 101)
    x = np.array([minimum_jerk(v) for v in s])
    assert x[0] == 0 and x[-1] == 1 and x[50] == pytest.approx(0.5)
    v = np.diff(x)
    assert np.argmax(v) in (49, 50) and v[0] < 0.1 * v.max()
    assert shift_duration_s(0) == 0.5 and shift_duration_s(150) > 1.1


def test_stance_grf_double_hump_and_weaker_push_off():
    tau = np.linspace(0, 1, 201)
    f = np.array([stance_grf(t) for t in tau])
    weak = np.array([stance_grf(t, push_off=0.5) for t in tau])
    assert f[0] == 0 and f[-1] == 0
    assert f[:100].max() > 1.05 and f[100:].max() > 1.05 and f[100] < 0.85
    assert weak[:100].max() == pytest.approx(f[:100].max())
    assert weak[120:].max() < 0.95 * f[120:].max()


def test_body_parameters_are_checked():
    assert Body().weight_n == pytest.approx(686.7)
    for bad in ({"mass_kg": 0}, {"foot_length_mm": 50}, {"weight_left_pct": 120}, {"push_off_left": -1}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            Body(**bad)
