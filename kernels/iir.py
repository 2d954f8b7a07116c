"""Butterworth low-pass design and zero-phase filtering, without importing scipy.signal.

``scipy.signal`` costs about half a second to import (it pulls in ``scipy.stats``), more
than the whole analysis of a minute-long recording; the kiosk's commands need only one
filter from it. These functions follow scipy's definitions step by step, so their
results equal ``scipy.signal.butter`` and ``filtfilt`` (default ``padtype="odd"``) to
rounding; tests/test_iir.py compares them.

- Design (``butter_lowpass``): the analog Butterworth prototype's poles
  ``-exp(i*pi*m/(2N))``, m = -N+1, -N+3, ..., N-1, moved to the pre-warped cut-off
  ``2*fs*tan(pi*Wn/fs)`` with fs = 2 (Wn as a fraction of Nyquist), then the bilinear
  transform (zeros at z = -1), gain matched as scipy's ``bilinear_zpk`` does.
- Filtering (``filtfilt``): odd extension of 3*max(len(a), len(b)) samples at both ends,
  initial state ``lfilter_zi`` scaled by the first sample, forward then backward
  (Gustafsson's steady-state start, as scipy).

The recursion runs compiled (``kernels._iir``) or as the numpy reference below.
"""

from __future__ import annotations

import numpy as np

from kernels import _backend

_compiled = _backend.compiled("_iir")
IMPLEMENTATION = "compiled" if _compiled is not None else "reference"


def butter_lowpass(order: int, wn: float) -> tuple[np.ndarray, np.ndarray]:
    """(b, a) of a digital Butterworth low-pass; ``wn`` is the cut-off over Nyquist, 0 < wn < 1."""
    if not 0 < wn < 1:
        raise ValueError(f"the cut-off must be between 0 and 1 of Nyquist, got {wn!r}")
    if order < 1:
        raise ValueError(f"the order must be at least 1, got {order!r}")
    m = np.arange(-order + 1, order, 2)
    poles = -np.exp(1j * np.pi * m / (2 * order))
    fs = 2.0
    warped = 2 * fs * np.tan(np.pi * wn / fs)
    poles = warped * poles
    gain = warped**order
    fs2 = 2.0 * fs
    poles_z = (fs2 + poles) / (fs2 - poles)
    gain_z = gain * np.real(1.0 / np.prod(fs2 - poles))  # no analog zeros: prod(fs2 - z) = 1
    b = gain_z * np.poly(-np.ones(order))
    a = np.poly(poles_z)
    return np.real(b).astype(np.float64), np.real(a).astype(np.float64)


def lfilter_zi(b: np.ndarray, a: np.ndarray) -> np.ndarray:
    """The steady-state initial state of ``lfilter`` for a step of height 1 (scipy's definition)."""
    b = np.asarray(b, dtype=np.float64) / a[0]
    a = np.asarray(a, dtype=np.float64) / a[0]
    n = max(len(a), len(b))
    a = np.r_[a, np.zeros(n - len(a))]
    b = np.r_[b, np.zeros(n - len(b))]
    companion_t = np.zeros((n - 1, n - 1))
    companion_t[:, 0] = -a[1:]  # the companion matrix's first row, transposed
    companion_t[np.arange(n - 2), np.arange(1, n - 1)] = 1.0
    return np.linalg.solve(np.eye(n - 1) - companion_t, b[1:] - a[1:] * b[0])


def lfilter_reference(b: np.ndarray, a: np.ndarray, x: np.ndarray, zi: np.ndarray) -> np.ndarray:
    """Direct form II transposed along axis 0 (the specification of ``kernels._iir``)."""
    order = len(b) - 1
    y = np.empty_like(x)
    z = zi.copy()
    for t in range(len(x)):
        xv = x[t]
        yv = z[0] + b[0] * xv
        for i in range(order - 1):
            z[i] = z[i + 1] + xv * b[i + 1] - yv * a[i + 1]
        z[order - 1] = xv * b[order] - yv * a[order]
        y[t] = yv
    return y


def _lfilter(b, a, x, zi):
    if _compiled is not None:
        return _compiled.lfilter_columns(b, a, np.ascontiguousarray(x), np.ascontiguousarray(zi))
    return lfilter_reference(b, a, x, zi)


def padlen(b: np.ndarray, a: np.ndarray) -> int:
    """Samples of odd extension at each end (scipy's default for filtfilt)."""
    return 3 * max(len(a), len(b))


def filtfilt(b: np.ndarray, a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Zero-phase filtering of ``x`` along axis 0 (1-D or samples x columns)."""
    b = np.asarray(b, dtype=np.float64) / a[0]
    a = np.asarray(a, dtype=np.float64) / a[0]
    if len(a) != len(b):
        raise ValueError("filtfilt here needs b and a of the same length (a Butterworth design)")
    x = np.asarray(x, dtype=np.float64)
    one_d = x.ndim == 1
    cols = x.reshape(len(x), -1)
    edge = padlen(b, a)
    if len(cols) <= edge:
        raise ValueError(f"{len(cols)} samples are too few to filter (need more than {edge})")
    ext = np.concatenate([2 * cols[0] - cols[edge:0:-1], cols, 2 * cols[-1] - cols[-2:-(edge + 2):-1]])
    zi = lfilter_zi(b, a)[:, None]
    forward = _lfilter(b, a, ext, zi * ext[0])
    backward = _lfilter(b, a, np.ascontiguousarray(forward[::-1]), zi * forward[-1])
    out = backward[::-1][edge:-edge]
    return out.reshape(len(x)) if one_d else out.reshape(x.shape)
