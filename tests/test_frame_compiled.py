"""The compiled per-frame kernel agrees with the numpy reference (1e-6 relative).

Random frames (hypothesis: any shape, pitch, threshold, with NaN, infinities and
negative values, fed as sequences so the tracking state is compared too),
synthetic MUN104 feet, and virtual-patient streams (also tandem walks whose footprints the
mat's edges cut). Skipped only where the
extension is not built (the fallback tests cover that case).
"""

from __future__ import annotations

import math

import frame_synth as fs
import numpy as np
import pytest
import tandem_walks as tw
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kernels import FrameAnalyzer, InsoleAnalyzer, _backend
from kernels.results import FOOT_FIELDS

pytestmark = pytest.mark.skipif(
    _backend.compiled("_frame") is None, reason="kernels._frame is not built (or GAITKIOSK_PURE=1)"
)

REL = 1e-6


def close(a, b, what):
    if a is None or b is None:
        assert a is None and b is None, what
        return
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b), what
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            close(x, y, f"{what}[{k}]")
        return
    if isinstance(a, (int, str)) and not isinstance(a, bool):
        assert a == b, f"{what}: {a!r} != {b!r}"
        return
    assert math.isclose(a, b, rel_tol=REL, abs_tol=1e-9), f"{what}: {a!r} != {b!r}"


def same_result(c, r, where=""):
    for name in ("force_n", "cop_mm", "contact_area_mm2", "peak_kpa", "stray_force_n",
                 "invalid_sensels", "negative_sensels"):
        close(getattr(c, name), getattr(r, name), f"{where}{name}")
    assert len(c.feet) == len(r.feet), f"{where}feet: {c.feet} != {r.feet}"
    for k, (fc, fr) in enumerate(zip(c.feet, r.feet, strict=True)):
        for name in FOOT_FIELDS:
            close(getattr(fc, name), getattr(fr, name), f"{where}feet[{k}].{name}")


def run_both(frames, rows, cols, pitch, threshold=10.0, **params):
    compiled = FrameAnalyzer(rows, cols, pitch, threshold, implementation="compiled", **params)
    reference = FrameAnalyzer(rows, cols, pitch, threshold, implementation="reference", **params)
    for t, frame in enumerate(frames):
        same_result(compiled.analyze(frame), reference.analyze(frame), f"frame {t}: ")
        assert np.array_equal(compiled.foot_labels(), reference.foot_labels()), f"frame {t}: labels"
    return compiled, reference


values = st.one_of(
    st.just(0.0), st.just(0.0), st.floats(0.0, 9.99), st.floats(10.0, 800.0), st.just(50.0),
    st.just(float("nan")), st.just(float("inf")), st.just(-float("inf")), st.floats(-50.0, -1e-3),
)


@st.composite
def frame_sequences(draw):
    rows = draw(st.integers(1, 14))
    cols = draw(st.integers(1, 14))
    count = draw(st.integers(1, 5))
    frames = [
        draw(hnp.arrays(np.float32, (rows, cols), elements=values.map(np.float32)))
        for _ in range(count)
    ]
    pitch = (draw(st.sampled_from([5.0, 8.47, 10.0, 16.9])), draw(st.sampled_from([5.0, 8.47, 12.5])))
    return rows, cols, pitch, frames


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame_sequences(), st.sampled_from([1.0, 10.0, 49.5]))
def test_random_frames_agree(case, threshold):
    rows, cols, pitch, frames = case
    # small feet limits so that splitting and joining rules fire on small grids
    run_both(frames, rows, cols, pitch, threshold, max_foot_length_mm=60.0,
             max_foot_width_mm=40.0, min_foot_force_n=0.5, full_footprint_mm=30.0,
             min_region_length_mm=15.0)


@st.composite
def wide_sparse_sequences(draw):
    """Rows up to 140 sensels (vector steps of 16 and 64-column words, runs across a
    word boundary), mostly empty, with runs of load and NaN, infinities, negatives, -0.0."""
    rows = draw(st.integers(1, 6))
    cols = draw(st.integers(15, 140))
    frames = []
    for _ in range(draw(st.integers(1, 4))):
        frame = np.zeros((rows, cols), np.float32)
        for _ in range(draw(st.integers(0, 8))):
            r = draw(st.integers(0, rows - 1))
            c0 = draw(st.integers(0, cols - 1))
            c1 = draw(st.integers(c0 + 1, min(cols, c0 + 70)))
            frame[r, c0:c1] = draw(values.map(np.float32))
        for _ in range(draw(st.integers(0, 3))):
            frame[draw(st.integers(0, rows - 1)), draw(st.integers(0, cols - 1))] = draw(
                st.sampled_from([np.float32(-0.0), np.float32(40.0), np.float32(np.nan)]))
        frames.append(frame)
    return rows, cols, frames


@pytest.fixture(params=[True, False], ids=["avx2-if-available", "baseline-scan"])
def scan_path(request):
    from kernels import _frame

    before = _frame.AVX2
    _frame._use_avx2(request.param)
    yield request.param
    _frame._use_avx2(before)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=wide_sparse_sequences(), threshold=st.sampled_from([1.0, 10.0, 49.5]))
def test_wide_rows_agree_on_both_scan_paths(scan_path, case, threshold):
    rows, cols, frames = case
    run_both(frames, rows, cols, (5.0, 5.0), threshold, max_foot_length_mm=60.0,
             max_foot_width_mm=400.0, min_foot_force_n=0.5, full_footprint_mm=30.0,
             min_region_length_mm=15.0)


def test_a_run_across_the_64_column_word_boundary(scan_path):
    frame = np.zeros((3, 130), np.float32)
    frame[1, 40:100] = 50.0  # one run over columns 40..99 (words 0 and 1)
    frame[2, 120:130] = 30.0  # a run ending at the last column
    compiled, _ = run_both([frame, frame], 3, 130, (5.0, 5.0), 10.0, max_foot_width_mm=400.0)
    assert compiled.foot_labels()[1, 40:100].min() > 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**31 - 1))
def test_random_blob_frames_agree(seed):
    """Blobby random frames (smoothed noise): many pieces, splits and joins."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    rows, cols = rng.integers(8, 40, size=2)
    frames = []
    for _ in range(4):
        noise = ndimage.gaussian_filter(rng.random((rows, cols)), 1.5)
        frame = np.clip((noise - noise.mean()) * 4000.0, 0.0, None).astype(np.float32)
        frames.append(frame)
    run_both(frames, int(rows), int(cols), (8.47, 8.47), 10.0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.floats(-20, 20), st.floats(60, 260), st.floats(70, 110), st.floats(-25, 25),
       st.booleans(), st.sampled_from([(0.0, 1.0), (0.0, 0.4), (0.5, 1.0)]))
def test_synthetic_feet_agree(dy, width, angle, dangle, toes, keep):
    mid = 32 * 8.47
    frames = []
    for step in range(3):
        left = fs.foot(64, 64, (8.47, 8.47), "left", (mid - width / 2, 40.0 + dy + 5 * step),
                       angle + dangle, separate_toes=toes, keep=keep)
        right = fs.foot(64, 64, (8.47, 8.47), "right", (mid + width / 2, 40.0 - dy),
                        180.0 - angle, separate_toes=toes)
        frames.append(np.maximum(left, right))
        frames.append(right)
    run_both(frames, 64, 64, (8.47, 8.47))


@pytest.mark.parametrize("scenario, shape", [
    ("quiet", (48, 48)), ("walk", (64, 64)), ("tandem", (96, 48)), ("single_leg", (48, 48)),
    ("weight_shift", (48, 48)),
])
def test_virtual_patient_streams_agree(scenario, shape):
    from device.sim import MatGeometry, VirtualPatient

    rows, cols = shape
    patient = VirtualPatient(scenario=scenario, seed=5,
                             mat=MatGeometry(rows=rows, cols=cols, pitch_mm=(8.47, 8.47)))
    frames = []
    t = 0.0
    while len(frames) < 160 and t < 40.0:
        s = patient.sample(t, insoles=False)
        if s.force_n > 0 or frames:
            frames.append(np.ascontiguousarray(s.mat_kpa, dtype=np.float32))
        t += 0.02
    assert len(frames) >= 100
    run_both(frames, rows, cols, (8.47, 8.47))


@pytest.mark.parametrize("path", ["truth", "sensor"])
@pytest.mark.parametrize("rows, foot, step, seed, seconds", [
    (142, 260.0, 262.0, 5, 20.0), (142, 275.0, 290.0, 6, 20.0),  # the long mat, two passes
    (96, 225.0, 227.0, 5, 8.0), (102, 245.0, 251.0, 6, 8.0),  # starting partly on the mat
])
def test_tandem_walks_at_the_mat_edges_agree(path, rows, foot, step, seed, seconds):
    # the walks of test_frame_tandem_edges.py: footprints cut by the mat's edges
    patient = tw.tandem_patient(rows, seed=seed, foot_length_mm=foot, step_length_mm=step)
    _, frames = tw.tandem_frames(patient, seconds, path)
    run_both(frames, rows, tw.COLS, tw.PITCH)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 20).flatmap(lambda n: st.tuples(
    hnp.arrays(np.float64, (n, 2), elements=st.floats(-300, 300)),
    hnp.arrays(np.float64, (n,), elements=st.floats(1.0, 500.0)),
    hnp.arrays(np.float32, (n,), elements=values.map(np.float32)),
)), st.sampled_from([0.0, 5.0]))
def test_insole_agrees(case, threshold):
    sensors, area, frame = case
    outline = {} if np.ptp(sensors[:, 1]) > 0 else {"length_mm": 100.0}  # one row of sensors
    c = InsoleAnalyzer(sensors, area, threshold_kpa=threshold, implementation="compiled", **outline)
    r = InsoleAnalyzer(sensors, area, threshold_kpa=threshold, implementation="reference", **outline)
    a, b = c.analyze(frame), r.analyze(frame)
    for name in a.__slots__:
        close(getattr(a, name), getattr(b, name), name)


@pytest.mark.parametrize("rows, cols, pitch, at, threshold", [
    (13, 5, (16.9, 12.5), (12, 0), 1.0),
    (12, 6, (16.9, 5.0), (11, 0), 1.0),
    (12, 6, (16.9, 5.0), (11, 0), 10.0),
])
def test_one_sensel_footprint_agrees_without_fused_multiply_add(rows, cols, pitch, at, threshold):
    # A one-sensel foot far from the origin: its variance is exactly 0 only if y*y is rounded the
    # same way in sum(y*y)/n and in mean*mean. GCC on aarch64 fused the second into an FMA (no
    # rounding), left a residue above the isotropy tolerance and turned the axis (89.7 deg against
    # 90). Found by `make test-arm64`; setup.py compiles with -ffp-contract=off. Reproduce on x86:
    # CFLAGS="-mfma" setup.py build_ext without that flag fails these.
    frame = np.zeros((rows, cols), np.float32)
    frame[at] = 3.0 if threshold == 1.0 and pitch[1] == 12.5 else 10.0
    run_both([frame], rows, cols, pitch, threshold, max_foot_length_mm=60.0, max_foot_width_mm=40.0,
             min_foot_force_n=0.5, full_footprint_mm=30.0, min_region_length_mm=15.0)


def test_feet_at_the_same_cop_x_are_listed_in_the_same_order():
    # Found by test_random_frames_agree: two feet whose COP x differ only by rounding (12.705 and
    # 12.705000000000002: the two implementations sum in another order) were listed in opposite
    # orders. Closer than SAME_X_MM they are one place and the older track comes first.
    f0 = np.zeros((5, 3), np.float32)
    f0[0, 0], f0[4, 0] = 50.0, 4.0
    compiled, reference = run_both([f0, np.ones((5, 3), np.float32)], 5, 3, (16.9, 8.47), 1.0,
                                   max_foot_length_mm=60.0, max_foot_width_mm=40.0, min_foot_force_n=0.5,
                                   full_footprint_mm=30.0, min_region_length_mm=15.0)
    assert [f.track_id for f in compiled.analyze(np.ones((5, 3), np.float32)).feet] == [1, 2]
