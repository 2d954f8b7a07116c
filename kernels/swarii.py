"""The preprocessing of Quijoux et al. (2021) before their COP descriptors.

Quijoux, Nicolaï, Chairi, Bargiotas, Ricard, Yelnik, Oudre, Bertin-Hugault, Vidal, Vayatis, Buffat,
Audiffren (2021), *A review of center of pressure (COP) variables to quantify standing balance
in elderly people: algorithms and open-access code*, Physiological Reports 9(22):e15067, and
their published code (MIT): the COP is centred, resampled to 25 Hz with SWARII (Audiffren
et al. 2016, the sliding-window weighted-average interpolation) and low-passed with a 4th-order
Butterworth filter at 10 Hz run forwards and backwards. Every step is written out in
``docs/metrics.md`` ("Extended posturography set", "Preprocessing"); no code of theirs is copied.

All loops over samples are numpy operations; the only sequential step, the artefact purge, runs
in Python only when the COP jumps by more than its threshold between two samples (never in
quiet standing), because its rule depends on the last sample it kept.
"""

from __future__ import annotations

import numpy as np

TARGET_HZ = 25.0
WINDOW_S = 0.08  # SWARII's window; the peer subtracts 1e-6 s so a sample on the edge is outside
LOWPASS_HZ = 10.0
LOWPASS_ORDER = 4
SKIP_S = 0.1  # the purge drops the samples of the first 0.1 s
# Artefact purge (Audiffren et al. 2016): a sample more than JUMP away (sum of |Δ| over the two
# axes) from the last kept one, while the next (or the one after) is back within BACK of it,
# is a spike. The peer's thresholds are 2 and 0.5 in its units, cm: here in mm.
JUMP_MM = 20.0
BACK_MM = 5.0


def purge(t: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Indices of the samples SWARII keeps: not the first or last, not before ``SKIP_S``, no spike."""
    n = len(t)
    inner = np.arange(1, max(n - 1, 1))
    inner = inner[t[inner] >= SKIP_S]
    if len(inner) == 0:
        return inner
    step = np.abs(np.diff(s, axis=0)).sum(axis=1)
    # While nothing was dropped the last kept sample is the previous one: a spike needs a step
    # above JUMP_MM from it, so without such a step nothing is dropped at all.
    if not (step > JUMP_MM).any():
        return inner
    kept: list[int] = []
    for i in inner:
        if kept:
            last = s[kept[-1]]
            far = np.abs(s[i] - last).sum() > JUMP_MM
            if far and np.abs(s[i + 1] - last).sum() < BACK_MM:
                continue
            if far and 1 < i < n - 2 and np.abs(s[i + 2] - last).sum() < BACK_MM:
                continue
        kept.append(int(i))
    return np.asarray(kept, dtype=np.intp)


def swarii(t: np.ndarray, s: np.ndarray, target_hz: float = TARGET_HZ, window_s: float = WINDOW_S) -> np.ndarray:
    """SWARII resampling of samples ``s`` (N, d) at times ``t`` (N,) to ``target_hz``.

    Output sample k is at c_k = c_0 + k / target_hz (c_0 = max(0, t_0), accumulated step by
    step as the peer does, while c_k < t_last). Its value is the mean of the input samples
    within half a window of c_k (|t_i - c_k| < h, h = (window - 1e-6) / 2), each weighted by
    the time it stands for: from the midpoint with its left neighbour to the midpoint with its
    right one, the outermost cut at c_k ± h (and at t_0, t_last). A window holding one sample
    takes it as it is; empty windows are filled by linear interpolation on the grid
    c_0 + k / target_hz (then an arange, as the peer's).
    """
    half = (window_s - 1e-6) * 0.5
    start = max(0.0, float(t[0]))
    count = int(np.ceil((t[-1] - start) * target_hz)) + 2
    steps = np.full(count, 1.0 / target_hz)
    steps[0] = start
    centres = np.add.accumulate(steps)  # sequential sums, bit for bit the peer's running time
    centres = centres[centres < t[-1]]
    # Candidate samples of each window: a few either side of the first one at or after c - h.
    lo = np.searchsorted(t, centres - half, side="left") - 1
    span = int(np.max(np.searchsorted(t, centres + half, side="right") - lo)) + 2
    idx = lo[:, None] + np.arange(span)[None, :]
    valid = (idx >= 0) & (idx < len(t))
    idx = np.clip(idx, 0, len(t) - 1)
    inside = valid & (np.abs(t[idx] - centres[:, None]) < half)
    n_in = inside.sum(axis=1)
    first = np.argmax(inside, axis=1)
    last = span - 1 - np.argmax(inside[:, ::-1], axis=1)
    col = np.arange(span)[None, :]
    left = np.where((col == first[:, None]) | (idx == 0), np.maximum(t[0], centres - half)[:, None],
                    0.5 * (t[idx] + t[np.maximum(idx - 1, 0)]))
    right = np.where(col == last[:, None], np.minimum(t[-1], centres + half)[:, None],
                     0.5 * (t[np.minimum(idx + 1, len(t) - 1)] + t[idx]))
    w = np.where(inside, right - left, 0.0)
    # Summed column by column in the peer's order (value += s * w): adding the zeros of the
    # samples outside the window changes nothing, so the sums are the peer's to the bit.
    value = np.zeros((len(centres), s.shape[1]))
    weight = np.zeros(len(centres))
    for j in range(span):
        value = value + s[idx[:, j]] * w[:, j, None]
        weight = weight + w[:, j]
    single = n_in == 1
    with np.errstate(invalid="ignore", divide="ignore"):
        out = value / weight[:, None]
    out[single] = s[idx[single, first[single]]]
    full = n_in > 0
    if full.all():
        return out
    times, out = centres[full], out[full]
    grid = np.arange(times[0], times[-1], 1.0 / target_hz)
    return np.column_stack([np.interp(grid, times, out[:, k]) for k in range(out.shape[1])])


def preprocess(cop_mm: np.ndarray, rate_hz: float, target_hz: float = TARGET_HZ, lowpass_hz: float = LOWPASS_HZ,
               order: int = LOWPASS_ORDER, recentre: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``(signal, mean)``: the (N, 2) COP (ML, AP) in mm sampled at ``rate_hz``, centred on its mean,
    purged and resampled to ``target_hz`` (SWARII), low-passed at ``lowpass_hz`` (Butterworth of
    ``order``, filtfilt with scipy's default odd padding), and, with ``recentre``, centred again.

    ``mean`` is the mean of the input. Times are k / rate_hz from 0, as the peer's for a COP
    given with its sampling rate. Without ``recentre`` this is the peer's signal exactly; with it
    (gaitkiosk's convention) the distances are from the mean point of the signal measured.
    """
    from kernels import iir  # scipy's butter/filtfilt to the bit, without importing scipy.signal

    cop = np.asarray(cop_mm, dtype=np.float64)
    mean = cop.mean(axis=0)
    centred = cop - mean
    t = np.arange(len(cop)) / rate_hz
    keep = purge(t, centred)
    signal = swarii(t[keep], centred[keep], target_hz)
    b, a = iir.butter_lowpass(order, lowpass_hz / (0.5 * target_hz))
    signal = iir.filtfilt(b, a, signal)
    if recentre:
        signal = signal - signal.mean(axis=0)
    return signal, mean
