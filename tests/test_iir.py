"""kernels/iir.py, spectrum.py, blobs.py and the closed-form F quantile equal scipy's definitions.

They exist so the analysis does not import scipy.signal, scipy.stats or scipy.ndimage (each
longer to import than the analysis takes); these tests hold them to scipy's results. They run
under GAITKIOSK_PURE=1 too (the numpy reference of the recursion).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage, signal, stats

from kernels import iir
from kernels.blobs import largest_blob
from kernels.series import MetricsInputError, lowpass
from kernels.spectrum import hann_periodic, welch
from kernels.sway import f_quantile_2, prediction_ellipse_k


@pytest.mark.parametrize("order", [1, 2, 3, 4, 6, 8])
@pytest.mark.parametrize("wn", [0.01, 0.1, 0.2, 0.5, 0.95])
def test_butterworth_design_is_scipys_to_the_bit(order, wn):
    b, a = iir.butter_lowpass(order, wn)
    b_ref, a_ref = signal.butter(order, wn)
    np.testing.assert_array_equal(b, b_ref)
    np.testing.assert_array_equal(a, a_ref)
    np.testing.assert_allclose(iir.lfilter_zi(b, a), signal.lfilter_zi(b_ref, a_ref), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("shape", [(6000, 2), (16, 2), (100,), (3001, 3)])
def test_filtfilt_equals_scipy(shape):
    rng = np.random.default_rng(sum(shape))
    x = np.cumsum(rng.normal(size=shape), axis=0)
    b, a = iir.butter_lowpass(4, 0.2)
    got = iir.filtfilt(b, a, x)
    want = signal.filtfilt(b, a, x, axis=0)
    assert got.shape == x.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())


def test_the_reference_recursion_equals_the_compiled_one():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(500, 2))
    b, a = iir.butter_lowpass(4, 0.1)
    zi = iir.lfilter_zi(b, a)[:, None] * x[0]
    reference = iir.lfilter_reference(b, a, x, zi)
    np.testing.assert_allclose(reference, signal.lfilter(b, a, x, axis=0, zi=zi)[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(iir._lfilter(b, a, x, zi), reference)  # compiled when built: same order of arithmetic


def test_too_short_a_series_is_refused_like_scipy():
    b, a = iir.butter_lowpass(4, 0.2)
    with pytest.raises(ValueError, match="15 samples are too few"):
        iir.filtfilt(b, a, np.zeros(15))
    with pytest.raises(ValueError):
        signal.filtfilt(b, a, np.zeros(15))
    with pytest.raises(MetricsInputError, match="need more than 15"):
        lowpass(np.zeros((15, 2)), 100.0, 10.0)
    assert lowpass(np.zeros((16, 2)), 100.0, 10.0).shape == (16, 2)


@pytest.mark.parametrize("n", [6000, 3001, 100, 777])
def test_welch_equals_scipy(n):
    rng = np.random.default_rng(n)
    x = np.cumsum(rng.normal(size=n))
    f, p = welch(x, 100.0, nperseg=n // 2, noverlap=n // 4, nfft=n // 2)
    f_ref, p_ref = signal.welch(x, fs=100.0, window="hann", nperseg=n // 2, noverlap=n // 4, nfft=n // 2,
                                detrend="constant")
    np.testing.assert_array_equal(f, f_ref)
    np.testing.assert_allclose(p, p_ref, rtol=1e-10, atol=1e-13 * p_ref.max())
    np.testing.assert_array_equal(hann_periodic(n // 2), signal.get_window("hann", n // 2))


@pytest.mark.parametrize("dfd", [1, 2, 3, 10, 100, 5998, 100_000])
@pytest.mark.parametrize("p", [0.5, 0.95, 0.99])
def test_f_quantile_with_two_numerator_degrees_equals_scipy(dfd, p):
    assert f_quantile_2(p, dfd) == pytest.approx(stats.f.ppf(p, 2, dfd), rel=1e-12)


def test_prediction_ellipse_scale_is_chews():
    n = 6000
    want = stats.f.ppf(0.95, 2, n - 2) * (n - 1) * 2 * (n + 1) / (n * (n - 2))
    assert prediction_ellipse_k(n) == pytest.approx(want, rel=1e-12)


def test_largest_blob_equals_ndimage_label():
    rng = np.random.default_rng(3)
    for _ in range(200):
        mask = rng.random((int(rng.integers(1, 40)), int(rng.integers(1, 40)))) < rng.uniform(0.1, 0.7)
        labels, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
        want = np.zeros_like(mask)
        if n:
            sizes = ndimage.sum(mask, labels, index=range(1, n + 1))
            want = labels == 1 + int(np.argmax(sizes))
        np.testing.assert_array_equal(largest_blob(mask), want)
