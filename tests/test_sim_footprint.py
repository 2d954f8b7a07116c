"""Footprint anatomy, load spreading and rendering onto the mat."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.sim import MatGeometry, VirtualPatient
from device.sim.footprint import COMPONENT_NAMES, FootTemplate, foot_to_mat, mat_to_foot
from device.sim.mat import MatRenderer


@given(x=st.floats(-40, 40), y=st.floats(-20, 230), length=st.floats(200, 320))
@settings(max_examples=60, deadline=None)
def test_load_shares_put_the_cop_where_asked_or_on_the_nearest_reachable_point(x, y, length):
    foot = FootTemplate(length, "right")
    w = foot.weights_for_cop(np.array((x, y)))
    assert w.min() >= 0 and w.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(w @ foot.centres, foot.clip_cop(np.array((x, y))), atol=1e-5)


def test_regions_split_each_component_and_the_resting_foot_is_heel_heavy():
    foot = FootTemplate(260, "left")
    np.testing.assert_allclose(foot.region_fractions.sum(axis=1), 1.0)
    rest = foot.base_weights @ foot.region_fractions
    assert 0.45 < rest[0] < 0.6 and rest[1] < 0.15 and 0.3 < rest[2] < 0.45


def test_left_foot_mirrors_right_foot():
    right, left = FootTemplate(250, "right"), FootTemplate(250, "left")
    np.testing.assert_allclose(left.centres[:, 0], -right.centres[:, 0])
    hallux = COMPONENT_NAMES.index("hallux")
    assert left.centres[hallux, 0] > 0 > right.centres[hallux, 0]  # medial is +x on the left foot


def test_transform_round_trip():
    pts = np.random.default_rng(1).uniform(-100, 300, (50, 2))
    back = mat_to_foot(foot_to_mat(pts, (120.0, 80.0), -12.0), (120.0, 80.0), -12.0)
    np.testing.assert_allclose(back, pts, atol=1e-9)


def test_rendered_footprint_has_unloaded_arch_and_separate_toes():
    mat = MatGeometry(rows=120, cols=60, pitch_mm=(2.5, 2.5))  # fine mat to see the shape
    foot = FootTemplate(260, "right")
    heel = (75.0, 60.0)
    stamp = MatRenderer(mat).stamp(foot, heel, 0.0)
    frame = np.zeros((mat.rows, mat.cols))
    frame[stamp.rows, stamp.cols] = np.tensordot(foot.base_weights * 500.0, stamp.shapes, axes=1)

    def p_at(x, y):
        return frame[int((heel[1] + y) / 2.5), int((heel[0] + x) / 2.5)]

    L = 260
    assert p_at(0, 0) > 50  # heel
    assert p_at(0.105 * L, 0.29 * L) > 5  # lateral midfoot band
    assert p_at(-0.10 * L, 0.29 * L) == 0  # medial arch unloaded
    assert p_at(-0.125 * L, 0.59 * L) > 20  # first metatarsal head
    assert p_at(-0.105 * L, 0.775 * L) > 20  # hallux
    assert p_at(-0.11 * L, 0.69 * L) == 0  # gap between the hallux and the metatarsal heads
    # the whole load is on the mat
    assert frame.sum() * 6.25 * 1e-3 == pytest.approx(500.0, rel=1e-6)


def test_a_foot_partly_off_the_mat_puts_only_its_on_mat_part_there():
    p = VirtualPatient("quiet", seed=1, position_x_mm=110.0)  # left foot hangs over the left edge
    s = p.sample(1.0)
    left = s.feet["left"]
    assert 0 < left.mat_force_n < left.force_n
    area = p.mat.sensel_area_mm2
    assert float(s.mat_kpa.astype(np.float64).sum() * area * 1e-3) == pytest.approx(s.force_n, rel=1e-4)
    assert s.force_n == pytest.approx(left.mat_force_n + s.feet["right"].mat_force_n)
    assert s.force_n < s.grf_n
