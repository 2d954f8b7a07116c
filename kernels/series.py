"""Time series of centre of pressure: the checked input of every session metric.

Whole-recording metrics (sway, weight, steps) are computed with numpy in
float64 on a :class:`CopSeries`; live feedback uses the O(1) accumulators of
:mod:`kernels.online` instead. This module validates the boundary once
(``check_cop_series``), cuts a time window, finds the gaps of a recording (the
window is cut first, so a gap outside it does not matter) and applies the
optional zero-phase low-pass filter, so the metric functions can trust their input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kernels.errors import KernelError

# A sampling interval this much longer than the median counts as a gap
# (a dropped frame at 100 Hz is 2x; anything from 1.5x is not uniform sampling).
GAP_FACTOR = 1.5
# filtfilt needs a few samples beyond 3 * (filter order + 1) to pad the edges.
FILTER_ORDER = 4


class MetricsInputError(KernelError):
    """A time series handed to the metrics cannot be analysed as it is."""


@dataclass(frozen=True)
class CopSeries:
    """Whole-body COP samples at a uniform rate.

    ``t`` (N,) seconds, strictly increasing; ``cop_mm`` (N, 2) x = medio-lateral
    (to the patient's right), y = antero-posterior (forward); ``rate_hz`` the
    sampling rate.
    """

    t: np.ndarray
    cop_mm: np.ndarray
    rate_hz: float

    def __len__(self) -> int:
        return len(self.t)


def estimate_rate(t: np.ndarray, parts: list[tuple[int, int]] | None = None) -> float:
    """Sampling rate of uniformly sampled times: (N - 1) / (t_last - t_first).

    With ``parts`` (the unbroken runs of :func:`unbroken_parts`) the time of the
    gaps does not count: sum of (n - 1) over the parts / sum of their durations.
    """
    t = np.asarray(t, dtype=np.float64)
    if parts is None:
        parts = [(0, len(t))]
    count = sum(b - a - 1 for a, b in parts if b - a >= 2)
    span = sum(float(t[b - 1] - t[a]) for a, b in parts if b - a >= 2)
    if count < 1 or not span > 0:
        raise MetricsInputError("need at least two samples at increasing times to know the sampling rate")
    return float(count / span)


def check_times(t: np.ndarray, what: str = "time", *, allow_gaps: bool = False) -> np.ndarray:
    """Refuse NaN and non-increasing time stamps (and, unless ``allow_gaps``, gapped ones);
    returns float64 (N,). With gaps allowed, :func:`unbroken_parts` finds them."""
    t = np.asarray(t, dtype=np.float64)
    if t.ndim != 1:
        raise MetricsInputError(f"{what} must be one column of seconds, got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        bad = int(np.flatnonzero(~np.isfinite(t))[0])
        raise MetricsInputError(f"{what} has a missing or non-finite value at sample {bad}; repair or cut the file there")
    if len(t) < 2:
        return t
    dt = np.diff(t)
    if np.any(dt <= 0):
        bad = int(np.flatnonzero(dt <= 0)[0])
        raise MetricsInputError(
            f"{what} is not strictly increasing at sample {bad + 1} "
            f"({t[bad]:.6g} s then {t[bad + 1]:.6g} s); sort the samples or remove duplicates"
        )
    gaps = find_gaps(t)
    if gaps and not allow_gaps:
        bad = gaps[0]
        raise MetricsInputError(
            f"{what} has a gap of {dt[bad]:.6g} s after {t[bad]:.6g} s (sampling interval {median(dt):.6g} s); "
            "sway measures need uniform sampling: analyse the parts either side with --window"
        )
    return t


def median(values) -> float:
    """``np.median`` of a 1-D array without NaN, to the bit: the mean of its middle one or two
    values after ``np.partition``, as numpy computes it, but without ``np.median``'s masked-array
    check, whose first use imports ``numpy.ma`` (~10 ms of a command's start, issue 16)."""
    a = np.asarray(values, dtype=np.float64).ravel()
    n, half = len(a), len(a) // 2
    if n == 0:
        return math.nan
    if n % 2:
        return float(np.partition(a, half)[half:half + 1].mean())
    return float(np.partition(a, [half - 1, half])[half - 1:half + 1].mean())


def find_gaps(t: np.ndarray) -> list[int]:
    """Positions i where t[i + 1] - t[i] is more than GAP_FACTOR x the median interval."""
    t = np.asarray(t, dtype=np.float64)
    if len(t) < 3:
        return []
    dt = np.diff(t)
    step = median(dt)
    return [int(i) for i in np.flatnonzero(dt > GAP_FACTOR * step)]


def unbroken_parts(t: np.ndarray) -> list[tuple[int, int]]:
    """[(start, stop), ...] index ranges of uniformly sampled runs between gaps (all of ``t``
    when it has none; empty for no samples)."""
    n = len(t)
    if n == 0:
        return []
    cuts = [i + 1 for i in find_gaps(t)]
    edges = [0, *cuts, n]
    return [(a, b) for a, b in zip(edges, edges[1:], strict=False) if b > a]


def check_cop_series(t, cop_mm, rate_hz: float | None = None) -> CopSeries:
    """Validate times and COP samples at the boundary and return a :class:`CopSeries`."""
    t = check_times(t)
    cop = np.asarray(cop_mm, dtype=np.float64)
    if cop.ndim != 2 or cop.shape[1] != 2 or cop.shape[0] != len(t):
        raise MetricsInputError(f"COP must be (N, 2) x/y in mm matching {len(t)} time stamps, got shape {cop.shape}")
    if not np.all(np.isfinite(cop)):
        bad = int(np.flatnonzero(~np.all(np.isfinite(cop), axis=1))[0])
        raise MetricsInputError(f"COP has a missing or non-finite value at sample {bad} (t = {t[bad]:.6g} s)")
    if rate_hz is None:
        rate_hz = estimate_rate(t)
    return CopSeries(t=t, cop_mm=cop, rate_hz=float(rate_hz))


def parse_window(text: str) -> tuple[float | None, float | None]:
    """``"START:END"`` in seconds, either side may be empty: ``"10:"``, ``":30"``."""
    if ":" not in text:
        raise MetricsInputError(f"window {text!r} must be START:END in seconds, e.g. 10:40 or 5: or :30")
    a, b = text.split(":", 1)
    try:
        start = float(a) if a.strip() else None
        end = float(b) if b.strip() else None
    except ValueError:
        raise MetricsInputError(f"window {text!r} must be START:END in seconds, e.g. 10:40") from None
    if start is not None and end is not None and not end > start:
        raise MetricsInputError(f"window {text!r}: END must be after START")
    return start, end


def window_mask(t: np.ndarray, window: tuple[float | None, float | None] | None) -> np.ndarray:
    """Boolean mask of samples with START <= t < END (the whole series without a window)."""
    mask = np.ones(len(t), dtype=bool)
    if window is None:
        return mask
    start, end = window
    if start is not None:
        mask &= t >= start
    if end is not None:
        mask &= t < end
    return mask


def lowpass(x: np.ndarray, rate_hz: float, cutoff_hz: float, order: int = FILTER_ORDER) -> np.ndarray:
    """Zero-phase Butterworth low-pass along axis 0 (``scipy.signal.filtfilt``'s definition).

    The filter of ``order`` runs forward and backward, so the phase lag is zero
    and the effective order doubles. kernels/iir.py does it without importing
    scipy.signal (half a second, more than the analysis), equal to scipy's to rounding.
    """
    from kernels import iir

    if not 0 < cutoff_hz < rate_hz / 2:
        raise MetricsInputError(
            f"low-pass cut-off {cutoff_hz:g} Hz must be above 0 and below half the sampling rate ({rate_hz / 2:g} Hz)"
        )
    b, a = iir.butter_lowpass(order, cutoff_hz / (rate_hz / 2))
    padlen = iir.padlen(b, a)
    if len(x) <= padlen:
        raise MetricsInputError(f"{len(x)} samples are too few to low-pass filter (need more than {padlen})")
    return iir.filtfilt(b, a, np.asarray(x, dtype=np.float64))


def filter_description(cutoff_hz: float, order: int = FILTER_ORDER) -> dict:
    """What the report's ``filter`` field says about :func:`lowpass`."""
    return {
        "type": "butterworth_lowpass",
        "cutoff_hz": float(cutoff_hz),
        "order": order,
        "zero_phase": True,
        "method": "scipy.signal.filtfilt (forward and backward, effective order doubles)",  # the definition; kernels/iir.py runs it
        "applied_to": "centre of pressure",
    }
