"""Per-frame mat analysis: API, bad input, segmentation and left/right tracking.

Every test runs on each implementation that is available here (the compiled
kernel when built and not forced off by GAITKIOSK_PURE=1, and always the
numpy reference). Frames are synthetic feet from the MUN104 templates
(tests/frame_synth.py), whose placement is the ground truth.
"""

from __future__ import annotations

import math

import frame_synth as fs
import numpy as np
import pytest

import kernels
from kernels import FrameAnalyzer, FrameError, ParameterError, _backend

PITCH = (8.47, 8.47)
IMPLEMENTATIONS = ["reference"] + ([] if _backend.compiled("_frame") is None else ["compiled"])


@pytest.fixture(params=IMPLEMENTATIONS)
def make(request):
    def build(rows=64, cols=64, pitch=PITCH, threshold=10.0, **kw):
        return FrameAnalyzer(rows, cols, pitch, threshold, implementation=request.param, **kw)

    return build


def manual_force(frame, threshold=10.0, pitch=PITCH):
    p = frame.astype(np.float64)
    p[~(p >= threshold)] = 0
    return p.sum() * pitch[0] * pitch[1] * 1e-3


# -- API, units and bad input ---------------------------------------------------------------


def test_empty_mat_has_no_cop_and_no_feet(make):
    r = make().analyze(np.zeros((64, 64), np.float32))
    assert r.force_n == 0.0 and r.cop_mm is None and r.feet == ()
    assert r.left is None and r.right is None and r.contact_area_mm2 == 0.0


def test_single_sensel_force_cop_and_foot(make):
    frame = np.zeros((64, 64), np.float32)
    frame[10, 20] = 500.0
    r = make().analyze(frame)
    area = PITCH[0] * PITCH[1]
    assert r.force_n == pytest.approx(500 * area * 1e-3)
    assert r.cop_mm == pytest.approx(((20 + 0.5) * PITCH[1], (10 + 0.5) * PITCH[0]))
    (foot,) = r.feet
    assert foot.force_n == pytest.approx(r.force_n) and foot.cop_mm == pytest.approx(r.cop_mm)
    assert foot.contact_area_mm2 == pytest.approx(area) and foot.peak_kpa == 500.0
    assert foot.regions_n is None  # one sensel is no footprint to split
    assert foot.side is None and foot.bbox_rc == (10, 20, 10, 20) and foot.frames == 1


def test_light_sensel_below_contact_force_has_no_cop(make):
    frame = np.zeros((64, 64), np.float32)
    frame[3, 3] = 20.0  # 1.4 N < min_force_n
    r = make().analyze(frame)
    assert r.force_n == pytest.approx(20 * PITCH[0] * PITCH[1] * 1e-3)
    assert r.cop_mm is None and r.feet == ()  # too light to start a foot
    assert r.stray_force_n == pytest.approx(r.force_n)


def test_rectangular_mat_coordinates_follow_design(make):
    # rows are y (forward) with the row pitch, columns x with the column pitch
    frame = np.zeros((10, 30), np.float32)
    frame[7, 2] = 400.0
    r = make(rows=10, cols=30, pitch=(5.0, 10.0)).analyze(frame)
    assert r.cop_mm == pytest.approx((2.5 * 10.0, 7.5 * 5.0))
    assert r.force_n == pytest.approx(400 * 50 * 1e-3)


@pytest.mark.parametrize("bad, word", [
    (np.zeros((64, 64), np.float64), "float32"),
    (np.zeros((64, 63), np.float32), "shape"),
    (np.zeros((64, 64, 1), np.float32), "shape"),
    (np.zeros((64, 128), np.float32)[:, ::2], "contiguous"),
    ([[0.0] * 64] * 64, "numpy array"),
    (None, "numpy array"),
])
def test_wrong_frame_raises_frame_error(make, bad, word):
    analyzer = make()
    with pytest.raises(FrameError, match=word) as err:
        analyzer.analyze(bad)
    assert isinstance(err.value, ValueError) and isinstance(err.value, kernels.KernelError)
    # the analyzer still works afterwards
    assert analyzer.analyze(fs.two_feet()).force_n > 0


def test_nan_inf_and_negative_are_zero_and_counted(make):
    frame = fs.two_feet(peak_kpa=250.0)
    clean = make().analyze(frame.copy())
    dirty = frame.copy()
    empty = np.argwhere(frame == 0)
    for k, value in enumerate([np.nan, np.inf, -np.inf, -5.0, -1e30]):
        r, c = empty[k * 7]
        dirty[r, c] = value
    result = make().analyze(dirty)
    assert result.invalid_sensels == 3 and result.negative_sensels == 2
    assert result.force_n == pytest.approx(clean.force_n, rel=1e-12)
    assert result.cop_mm == pytest.approx(clean.cop_mm, rel=1e-12)
    assert all(math.isfinite(v) for v in (result.peak_kpa, result.force_n))
    all_nan = np.full((64, 64), np.nan, np.float32)
    r = make().analyze(all_nan)
    assert r.invalid_sensels == 64 * 64 and r.force_n == 0.0 and r.cop_mm is None


@pytest.mark.parametrize("kwargs", [
    {"rows": 0}, {"cols": -3}, {"pitch": (0.0, 8.0)}, {"pitch": (8.0,)}, {"threshold": -1.0},
    {"threshold": float("nan")}, {"valley_ratio": 1.5}, {"max_foot_width_mm": -1.0}, {"bogus": 1},
])
def test_bad_parameters_raise_parameter_error(make, kwargs):
    with pytest.raises(ParameterError):
        make(**kwargs)


def test_force_is_sum_of_pressure_times_area(make):
    frame = fs.two_feet(peak_kpa=250.0)
    r = make().analyze(frame)
    assert r.force_n == pytest.approx(manual_force(frame), rel=1e-12)
    assert sum(f.force_n for f in r.feet) + r.stray_force_n == pytest.approx(r.force_n, rel=1e-12)
    assert r.peak_kpa == pytest.approx(float(frame.max()))


# -- segmentation -----------------------------------------------------------------------------


def test_two_feet_sides_cops_and_regions(make):
    left = fs.foot(64, 64, PITCH, "left", (170.0, 60.0), 95.0, peak_kpa=250.0)
    right = fs.foot(64, 64, PITCH, "right", (370.0, 60.0), 85.0, peak_kpa=250.0)
    r = make().analyze(np.maximum(left, right))
    assert [f.side for f in r.feet] == ["left", "right"]
    for foot, alone in zip(r.feet, (left, right), strict=True):
        assert foot.force_n == pytest.approx(manual_force(alone), rel=1e-9)
        assert sum(foot.regions_n) == pytest.approx(foot.force_n, rel=1e-12)
        rear, mid, fore = foot.regions_n
        assert fore > rear > mid > 0  # the MUN104 mean foot: forefoot > heel > midfoot
        assert 230 < foot.length_mm < 290
        assert foot.heel_mm[1] == pytest.approx(60.0, abs=PITCH[0])
    assert r.left.axis_deg > 90 > r.right.axis_deg  # toe-out both sides


def test_separate_toes_stay_with_their_foot(make):
    frame = np.maximum(
        fs.foot(64, 64, PITCH, "left", (170.0, 60.0), 92.0, separate_toes=True),
        fs.foot(64, 64, PITCH, "right", (370.0, 60.0), 88.0, separate_toes=True),
    )
    from scipy import ndimage

    _, blobs = ndimage.label(frame >= 10, structure=np.ones((3, 3)))
    assert blobs >= 3  # toes really are apart
    r = make().analyze(frame)
    assert len(r.feet) == 2 and r.stray_force_n == 0.0
    assert r.feet[0].force_n + r.feet[1].force_n == pytest.approx(r.force_n)


def test_touching_feet_side_by_side_are_split(make):
    left = fs.foot(64, 64, PITCH, "left", (237.5, 60.0), 90.0)
    right = fs.foot(64, 64, PITCH, "right", (312.5, 60.0), 90.0)
    frame = np.maximum(left, right)
    from scipy import ndimage

    _, blobs = ndimage.label(frame >= 10, structure=np.ones((3, 3)))
    assert blobs == 1  # one blob on the mat
    r = make().analyze(frame)
    assert [f.side for f in r.feet] == ["left", "right"]
    assert r.left.force_n == pytest.approx(manual_force(left), rel=0.1)
    assert r.right.force_n == pytest.approx(manual_force(right), rel=0.1)


def test_tandem_stance_touching_is_split_and_keeps_sides(make):
    analyzer = make(rows=96, cols=48)
    # right foot behind, left foot in front, heel touching its toes
    back = fs.foot(96, 48, PITCH, "right", (210.0, 30.0), 90.0)
    front = fs.foot(96, 48, PITCH, "left", (195.0, 285.0), 90.0)
    # sides are first learnt from a normal stance, then the patient steps into tandem
    analyzer.analyze(np.maximum(fs.foot(96, 48, PITCH, "left", (110.0, 30.0)), back))
    r = analyzer.analyze(back)  # left foot lifted
    assert [f.side for f in r.feet] == ["right"]
    r = analyzer.analyze(np.maximum(back, front))
    assert [f.side for f in r.feet] == ["left", "right"]
    assert r.left.cop_mm[1] > r.right.cop_mm[1] + 150
    assert r.left.force_n == pytest.approx(manual_force(front), rel=0.1)


def test_toes_touching_down_after_heel_off_stay_with_their_foot(make):
    # Real walking (SpeedPP2D): the toes often load only after the heel is off, just in front
    # of the metatarsal heads. That is not the next foot's tandem heel strike (which lands in
    # front of the toes): the footprint's front is still the wide row of metatarsal heads.
    analyzer = make()
    stance = ([(0.0, 0.3, False)] * 2 + [(0.0, 0.72, False)] * 3 + [(0.3, 0.72, False)] * 2
              + [(0.3, 1.0, True)] * 3 + [(0.6, 1.0, True)] * 2)
    ids = set()
    for keep_from, keep_to, toes in stance:
        frame = fs.foot(64, 64, PITCH, "right", (270.0, 40.0), 90.0, separate_toes=toes,
                        keep=(keep_from, keep_to))
        r = analyzer.analyze(frame)
        assert len(r.feet) == 1 and r.stray_force_n == 0.0, (keep_from, keep_to, r.feet)
        assert r.feet[0].force_n == pytest.approx(manual_force(frame), rel=1e-6)
        ids.add(r.feet[0].track_id)
    assert ids == {1}
    assert r.feet[0].length_mm > 240  # heel to toes


def test_lifted_foot_keeps_its_side_when_put_down(make):
    analyzer = make()
    left = fs.foot(64, 64, PITCH, "left", (170.0, 60.0), 92.0)
    right = fs.foot(64, 64, PITCH, "right", (370.0, 60.0), 88.0)
    first = analyzer.analyze(np.maximum(left, right))
    ids = {f.side: f.track_id for f in first.feet}
    for _ in range(5):
        alone = analyzer.analyze(left.copy())
        assert [(f.side, f.track_id) for f in alone.feet] == [("left", ids["left"])]
    back = analyzer.analyze(np.maximum(left, right))
    assert [f.side for f in back.feet] == ["left", "right"]
    assert back.left.track_id == ids["left"] and back.right.track_id not in ids.values()
    assert back.left.frames == 7 and back.right.frames == 1


def test_lone_foot_gets_side_from_where_feet_were(make):
    analyzer = make()
    left = fs.foot(64, 64, PITCH, "left", (170.0, 60.0), 92.0)
    right = fs.foot(64, 64, PITCH, "right", (370.0, 60.0), 88.0)
    analyzer.analyze(np.maximum(left, right))
    analyzer.analyze(np.zeros((64, 64), np.float32))  # stepped off
    assert analyzer.analyze(right).feet[0].side == "right"


def flat_foot(rows=64, cols=64, r0=10, c0=20, length=30, width=11, kpa=150.0):
    """A footprint with no arch (a uniform rectangle): nothing tells its side."""
    frame = np.zeros((rows, cols), np.float32)
    frame[r0:r0 + length, c0:c0 + width] = kpa
    return frame


def test_first_lone_flat_foot_side_is_unknown(make):
    r = make().analyze(flat_foot())
    assert [f.side for f in r.feet] == [None]


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("angle", [75.0, 90.0, 105.0])
def test_lone_foot_side_from_its_arch(make, side, angle):
    # one footfall at a time (walking over a short mat): the lateral midfoot band tells
    r = make().analyze(fs.foot(64, 64, PITCH, side, (270.0, 60.0), angle))
    assert [f.side for f in r.feet] == [side]


def test_heel_alone_has_no_side_until_the_footprint_is_long(make):
    analyzer = make()
    sides = []
    for keep in [(0.0, 0.3), (0.0, 0.5), (0.0, 1.0), (0.5, 1.0)]:
        r = analyzer.analyze(fs.foot(64, 64, PITCH, "right", (270.0, 60.0), 90.0, keep=keep))
        sides.append(r.feet[0].side)
    assert sides == [None, None, "right", "right"]


def test_reset_forgets_tracks(make):
    analyzer = make()
    analyzer.analyze(fs.two_feet())
    analyzer.reset()
    r = analyzer.analyze(flat_foot())
    assert r.feet[0].side is None and r.feet[0].track_id == 1


def test_foot_labels_and_footprint(make):
    analyzer = make()
    r = analyzer.analyze(fs.two_feet())
    labels = analyzer.foot_labels()
    assert labels.shape == (64, 64)
    for foot in r.feet:
        mask = labels == foot.track_id
        assert mask.sum() * PITCH[0] * PITCH[1] == pytest.approx(foot.contact_area_mm2)
        assert np.array_equal(analyzer.footprint(foot.track_id), mask)
    assert analyzer.footprint(99) is None
    labels[:] = -1  # a copy: the analyzer is not affected
    assert (analyzer.foot_labels() >= 0).all()


def test_heel_strike_to_toe_off_moves_load_from_rearfoot_to_forefoot(make):
    analyzer = make()
    other = fs.foot(64, 64, PITCH, "left", (170.0, 60.0), 90.0, peak_kpa=150.0)
    phases = [(0.0, 0.45), (0.0, 0.6), (0.0, 1.0), (0.3, 1.0), (0.6, 1.0)]
    heel = fs.foot(64, 64, PITCH, "right", (370.0, 60.0), 90.0, keep=(0.0, 0.2))
    r = analyzer.analyze(np.maximum(other, heel))
    # the first contact of a foot: a heel alone is too short to split into regions
    assert r.right.regions_n is None
    analyzer.analyze(np.maximum(other, fs.foot(64, 64, PITCH, "right", (370.0, 60.0), 90.0)))
    analyzer.analyze(other)  # swing: the foot's length is remembered
    r = analyzer.analyze(np.maximum(other, heel))
    assert r.right.regions_n[0] == pytest.approx(r.right.force_n)  # heel strike: all rearfoot
    ids = {r.right.track_id}
    shares = []
    for keep in phases:
        foot = fs.foot(64, 64, PITCH, "right", (370.0, 60.0), 90.0, keep=keep)
        r = analyzer.analyze(np.maximum(other, foot))
        ids.add(r.right.track_id)
        rear, mid, fore = r.right.regions_n
        shares.append((rear / r.right.force_n, fore / r.right.force_n))
    assert len(ids) == 1  # one stance, one track
    assert shares[0][0] > 0.9 and shares[-1][1] > 0.9
    assert [s[1] for s in shares] == sorted(s[1] for s in shares)


def test_missing_extension_falls_back_to_the_reference_with_a_warning(monkeypatch):
    import importlib

    from kernels import reference

    real = importlib.import_module

    def no_extension(name, *args):
        if name == "kernels._frame":
            raise ImportError("No module named 'kernels._frame' (simulated)")
        return real(name, *args)

    monkeypatch.setattr(_backend, "PURE", False)
    monkeypatch.setattr(_backend, "_warned", set())
    monkeypatch.setattr(_backend.importlib, "import_module", no_extension)
    with pytest.warns(RuntimeWarning, match="build_ext --inplace"):
        module = _backend.frame_module()
    assert module is reference
    analyzer = FrameAnalyzer(8, 8, PITCH, 10.0)
    assert analyzer.implementation == "reference"
    frame = np.zeros((8, 8), np.float32)
    frame[2:6, 2:4] = 100.0
    assert analyzer.analyze(frame).force_n == pytest.approx(8 * 100 * PITCH[0] * PITCH[1] * 1e-3)


def test_gaitkiosk_pure_forces_the_reference(monkeypatch):
    monkeypatch.setattr(_backend, "PURE", True)
    assert FrameAnalyzer(8, 8, PITCH, 10.0).implementation == "reference"
