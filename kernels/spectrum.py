"""Welch's power spectral density in numpy, without importing scipy.signal (see kernels/iir.py).

Same definition as ``scipy.signal.welch`` with ``window="hann"`` (periodic), constant
detrend per segment, ``scaling="density"``, one-sided, mean over segments; equal to it
to rounding (tests/test_iir.py). Welch, P. D. (1967), IEEE Trans. Audio Electroacoustics
15(2):70-73.
"""

from __future__ import annotations

import numpy as np


def hann_periodic(n: int) -> np.ndarray:
    """The periodic (DFT-even) Hann window of ``n`` samples, as scipy's ``get_window("hann", n)``."""
    phase = np.linspace(-np.pi, np.pi, n + 1)
    window = np.zeros(n + 1)
    window += 0.5 * np.cos(0 * phase)
    window += 0.5 * np.cos(1 * phase)
    return window[:-1]


def welch(x: np.ndarray, rate_hz: float, nperseg: int, noverlap: int, nfft: int) -> tuple[np.ndarray, np.ndarray]:
    """(frequencies Hz, one-sided PSD in units²/Hz) of the 1-D series ``x``."""
    x = np.asarray(x, dtype=np.float64)
    if not 0 < nperseg <= len(x) or not 0 <= noverlap < nperseg or nfft < nperseg:
        raise ValueError(f"Welch segments of {nperseg} (overlap {noverlap}, FFT {nfft}) do not fit {len(x)} samples")
    window = hann_periodic(nperseg)
    step = nperseg - noverlap
    count = (len(x) - noverlap) // step
    segments = np.lib.stride_tricks.sliding_window_view(x, nperseg)[::step][:count]
    segments = segments - segments.mean(axis=-1, keepdims=True)
    spectrum = np.fft.rfft(segments * window, n=nfft)
    power = (np.conjugate(spectrum) * spectrum).real / (rate_hz * (window * window).sum())
    if nfft % 2:
        power[..., 1:] *= 2
    else:
        power[..., 1:-1] *= 2
    return np.fft.rfftfreq(nfft, 1.0 / rate_hz), power.mean(axis=0)
