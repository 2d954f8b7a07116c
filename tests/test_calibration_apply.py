"""counts -> kPa: compiled kernel against the numpy reference, the table against the curve, filling."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from calibration import apply as apply_mod
from calibration.apply import CountsToKpa, neighbours
from calibration.curves import PiecewiseLinearCurve, PowerLawCurve
from calibration.errors import NotCalibratedError, WrongDeviceError
from calibration.model import MASK_DEAD, MASK_HOT, CalibrationModel

ROOT = Path(__file__).resolve().parent.parent
compiled_only = pytest.mark.skipif(apply_mod.IMPLEMENTATION != "compiled",
                                   reason="compiled calibration._apply not in use (GAITKIOSK_PURE=1, or not built: "
                                          "python setup.py build_ext --inplace)")


def random_model(seed=0, shape=(48, 48), curve=None):
    rng = np.random.default_rng(seed)
    m = CalibrationModel.for_device("dev-1", "mat" if len(shape) == 2 else "insole_left", shape,
                                    sensel_area_mm2=71.74, pitch_mm=(8.47, 8.47) if len(shape) == 2 else None)
    m.offset = rng.uniform(0, 30, shape).astype(np.float32)
    m.noise = rng.uniform(0.5, 4, shape).astype(np.float32)
    m.gain = rng.uniform(0.7, 1.3, shape).astype(np.float32)
    mask = np.zeros(shape, np.uint8)
    mask.flat[rng.choice(mask.size, 5, replace=False)] = MASK_DEAD
    mask.flat[rng.choice(mask.size, 2, replace=False)] = MASK_HOT
    m.mask = mask
    m.curve = curve or PowerLawCurve(0.006, 1.43)
    m.scale = 1.04
    return m


def exact(model, counts):
    """The model's definition, straight from the curve (no table)."""
    n = (counts.astype(np.float64) - model.offset) / model.gain
    kpa = np.where(n <= model.floor(), 0.0, model.scale * model.curve(n))
    return kpa


@compiled_only
@pytest.mark.parametrize("shape", [(48, 48), (16,), (7, 31)])
def test_compiled_matches_reference(shape):
    m = random_model(1, shape)
    comp, ref = CountsToKpa(m, "compiled"), CountsToKpa(m, "reference")
    rng = np.random.default_rng(2)
    for _ in range(20):
        c = rng.integers(0, 4096, shape).astype(np.uint16)
        np.testing.assert_allclose(comp(c), ref(c), rtol=1e-5, atol=1e-4)


@compiled_only
def test_compiled_matches_reference_on_sim_frames():
    from calibration_support import truth_frames

    m = random_model(3)
    _, counts, _ = truth_frames("walk", seconds=2.0)
    comp, ref = CountsToKpa(m, "compiled"), CountsToKpa(m, "reference")
    for c in counts:
        np.testing.assert_allclose(comp(c), ref(c), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("curve", [PowerLawCurve(0.006, 1.43), PowerLawCurve(3.0, 0.6),
                                   PiecewiseLinearCurve([0, 400, 1500, 3000], [0, 30, 200, 700])])
def test_table_reproduces_the_curve(curve):
    m = random_model(4, curve=curve)
    m.mask[:] = 0
    conv = CountsToKpa(m)
    c = np.random.default_rng(5).integers(0, 4096, m.shape).astype(np.uint16)
    full_scale = m.scale * float(curve(np.array([conv.n_top]))[0])
    np.testing.assert_allclose(conv(c), exact(m, c), atol=5e-4 * full_scale, rtol=1e-3)


def test_golden_sensel_values():
    """Hand-computed: offset 10, gain 2, a=0.5, b=1 -> kPa = 0.5 * (c - 10) / 2 above the floor."""
    m = CalibrationModel.for_device("g", "insole_left", (4,), sensel_area_mm2=100.0)
    m.offset[:] = 10
    m.gain[:] = 2
    m.noise[:] = 1  # floor = 3 * 1 / 2 = 1.5 normalised counts
    m.curve = PowerLawCurve(0.5, 1.0)
    out = m.kpa(np.array([10, 12, 14, 410], np.uint16))
    np.testing.assert_allclose(out, [0.0, 0.0, 1.0, 100.0], atol=2e-3)
    assert float(m.force_n(out)) == pytest.approx(10.1, abs=1e-3)


def test_masked_sensels_filled_from_live_neighbours():
    m = random_model(6, (5, 5))
    m.mask[:] = 0
    m.mask[2, 2] = MASK_DEAD
    m.mask[0, 0] = MASK_HOT
    m.mask[0, 1] = MASK_DEAD
    c = np.full((5, 5), 800, np.uint16)
    c[2, 2], c[0, 0], c[0, 1] = 0, 4095, 0
    out = CountsToKpa(m)(c)
    ref = exact(m, c)
    assert out[2, 2] == pytest.approx(np.mean([ref[r, cc] for r in (1, 2, 3) for cc in (1, 2, 3) if (r, cc) != (2, 2)]), rel=1e-3)
    assert out[0, 0] == pytest.approx(np.mean([ref[1, 0], ref[1, 1]]), rel=1e-3)  # (0,1) is masked too


def test_insole_masked_sensor_reads_zero():
    m = random_model(7, (16,))
    fill, ptr, idx = neighbours(m.mask)
    assert len(idx) == 0 and len(ptr) == len(fill) + 1
    out = CountsToKpa(m)(np.full(16, 2000, np.uint16))
    assert np.all(out[m.mask != 0] == 0) and np.all(out[m.mask == 0] > 0)


def test_wrong_shape_and_uncalibrated_refused():
    m = random_model(8)
    with pytest.raises(WrongDeviceError, match="calibrate this device"):
        CountsToKpa(m)(np.zeros((16,), np.uint16))
    with pytest.raises(TypeError):
        CountsToKpa(m)(np.zeros((48, 48), np.float32))
    m.curve = None
    with pytest.raises(NotCalibratedError, match="equilibrate"):
        m.converter()


def test_other_integer_dtypes_accepted():
    m = random_model(9)
    c = np.random.default_rng(1).integers(0, 4096, m.shape)
    np.testing.assert_array_equal(m.kpa(c.astype(np.int64)), m.kpa(c.astype(np.uint16)))


def test_pure_mode_uses_reference():
    code = "import calibration.apply as a; print(a.IMPLEMENTATION)"
    env = {**os.environ, "GAITKIOSK_PURE": "1"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "reference"
