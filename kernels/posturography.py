"""The extended posturography set: the 72 COP descriptors of Quijoux et al. (2021), numpy/scipy.

Names, units and one-line definitions are in :mod:`kernels.posturography_table`; every formula is
written out in ``docs/metrics.md`` ("Extended posturography set"). The descriptors are computed on
the COP after the peer's preprocessing (:func:`kernels.swarii.preprocess`: 25 Hz, 10 Hz low-pass).

Two conventions (``convention``):

- ``"gaitkiosk"`` (the report's): the preprocessed COP is centred again on its own mean (the
  filter and the resampling move the mean a little, and a distance "from the mean point" should be
  from the mean of the signal measured), and the confidence ellipse uses moments with n − 1, as
  the basic set's ``ellipse95_area_mm2`` (Chew 1966; Santos & Duarte 2016);
- ``"quijoux2021"``: exactly the peer's: centred once before resampling, moments with n.

Everything is vectorised; the sway density compares each sample with its neighbours in bands of
offsets that go further only where a run is longer (no Python loop over samples).
"""

from __future__ import annotations

import math

import numpy as np

from kernels.posturography_table import DESCRIPTORS
from kernels.series import MetricsInputError
from kernels.swarii import TARGET_HZ, preprocess

CONVENTIONS = ("gaitkiosk", "quijoux2021")
SWAY_DENSITY_RADIUS_MM = 3.0  # the peer's default, 0.3 cm
SWAY_DENSITY_LOWPASS_HZ = 2.5
BAND_HZ = (0.15, 5.0)  # the spectral measures' band
PSD_SEGMENT_S = 10.0
DIFFUSION_PART = 1 / 3  # the diffusion plot spans Δt up to a third of the trial
SHORT_FROM_S, SHORT_TO_S = 0.3, 2.5  # where the short-term region may end
# Below this many seconds after resampling the Welch segment (10 s) and the diffusion plot (Δt to
# 2.5 s, a third of the trial) do not fit: the set is not computed.
MIN_SECONDS = 10.0
# A COP sampled below 25 Hz is not resampled up (SWARII would interpolate empty windows: samples
# nobody measured). 2 % below still counts as 25 Hz: a rate estimated from time stamps wobbles.
RATE_TOLERANCE = 0.02


def extended_set(cop_mm: np.ndarray, rate_hz: float, convention: str = "gaitkiosk",
                 sway_density_radius_mm: float = SWAY_DENSITY_RADIUS_MM) -> tuple[dict, dict]:
    """``(values, reasons)`` of the 72 descriptors of a uniformly sampled COP (N, 2) = (ML, AP) mm.

    ``values`` maps every key of :data:`~kernels.posturography_table.DESCRIPTORS` to a float
    (an int for the zero-crossing counts) or None; ``reasons`` says why for each None.
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    cop = np.asarray(cop_mm, dtype=np.float64)
    if cop.ndim != 2 or cop.shape[1] != 2 or not np.all(np.isfinite(cop)):
        raise MetricsInputError("the extended set needs a complete (N, 2) COP of finite ML/AP values in mm")
    keys = [d.key for d in DESCRIPTORS]
    if rate_hz < TARGET_HZ * (1 - RATE_TOLERANCE):
        why = (f"the COP is sampled at {rate_hz:.3g} Hz, below the extended set's {TARGET_HZ:g} Hz: resampling it "
               "up would invent the samples between the recorded ones")
        return dict.fromkeys(keys), dict.fromkeys(keys, why)
    seconds = len(cop) / rate_hz
    if seconds < MIN_SECONDS + 0.2:  # the purge drops the first 0.1 s and the last sample
        why = f"the extended set needs at least {MIN_SECONDS + 0.2:g} s of unbroken COP, got {seconds:.2f} s"
        return dict.fromkeys(keys), dict.fromkeys(keys, why)
    signal, mean = preprocess(cop, rate_hz, recentre=(convention == "gaitkiosk"))
    values = descriptors(signal, TARGET_HZ, mean, unbiased=(convention == "gaitkiosk"),
                         sway_density_radius=sway_density_radius_mm)
    reasons = {}
    for key in keys:
        v = values[key]
        if v is not None and not math.isfinite(v):
            values[key] = None
            reasons[key] = _why_undefined(key)
    return values, reasons


def _why_undefined(key: str) -> str:
    if key.startswith("peak_velocity"):
        return "the velocity changes sign fewer than twice on this axis: no complete phase to take a peak from"
    if key.startswith("sway_density"):
        return "the sway density has too few peaks (none, or one for a distance between peaks)"
    return "undefined for this COP (it did not move enough: a division by zero)"


def descriptors(s: np.ndarray, fs: float, mean: np.ndarray, unbiased: bool = True,
                sway_density_radius: float = SWAY_DENSITY_RADIUS_MM) -> dict:
    """All 72 of a preprocessed, centred COP ``s`` (n, 2) sampled at ``fs``; ``mean`` its position.

    ``unbiased``: the ellipse's moments with n − 1 (gaitkiosk) instead of n (Quijoux et al.).
    Lengths come out in the unit of ``s``.
    """
    out: dict = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        _positional(s, mean, unbiased, out)
        velocity = _savgol_velocity(s, fs)
        _dynamic(s, fs, velocity, out)
        for axis, name in ((0, "ml"), (1, "ap")):
            _velocity_peaks(velocity[:, axis], name, out)
        _sway_density(s, fs, sway_density_radius, out)
        _spectral(s, fs, out)
        _diffusion(s, fs, out)
    return {d.key: _plain(out[d.key]) for d in DESCRIPTORS}


def _plain(value):
    return int(value) if isinstance(value, (int, np.integer)) else float(value)


def _positional(s, mean, unbiased, out) -> None:
    n = len(s)
    r = np.linalg.norm(s, axis=1)
    for axis, name in ((0, "ml"), (1, "ap")):
        x = s[:, axis]
        out[f"mean_position_{name}_mm"] = mean[axis]
        out[f"mean_distance_{name}_mm"] = np.mean(np.abs(x))
        out[f"max_distance_{name}_mm"] = np.max(np.abs(x))
        out[f"rms_{name}_mm"] = np.sqrt(np.mean(x ** 2))
        out[f"range_{name}_mm"] = x.max() - x.min()
    out["mean_distance_mm"] = np.mean(r)
    out["max_distance_mm"] = np.max(r)
    out["rms_distance_mm"] = np.sqrt(np.mean(r ** 2))
    out["range_mm"] = _diameter(s)
    out["range_ratio"] = out["range_ml_mm"] / out["range_ap_mm"]
    rx, ry = out["rms_ml_mm"], out["rms_ap_mm"]
    out["planar_deviation_mm"] = np.sqrt(rx ** 2 + ry ** 2)
    sxy = (1 / n) * np.sum(s[:, 0] * s[:, 1])
    out["sway_direction_coefficient"] = sxy / (rx * ry)
    out["ellipse95_area_mm2"] = _ellipse_area(n, rx, ry, sxy, unbiased)
    out["principal_sway_direction_deg"] = _principal_direction(s)


def _diameter(s: np.ndarray) -> float:
    """Largest distance between two points: it is between two vertices of the convex hull."""
    from scipy.spatial import ConvexHull, QhullError

    try:
        pts = s[ConvexHull(s).vertices]
    except (QhullError, ValueError):  # all points on a line (or one point): every point is a candidate
        pts = s[[int(np.argmin(s[:, 0])), int(np.argmax(s[:, 0])), int(np.argmin(s[:, 1])), int(np.argmax(s[:, 1]))]]
    d = pts[:, None, :] - pts[None, :, :]
    return float(np.max(np.linalg.norm(d, axis=2)))


def _ellipse_area(n, rx, ry, sxy, unbiased) -> float:
    """Area of the 95 % ellipse: 2π F₀.₉₅(2, n−2) (n+1)(n−1)/(n(n−2)) sqrt(det of the moments)."""
    from scipy.stats import f

    det = rx ** 2 * ry ** 2 - sxy ** 2
    if unbiased:
        det *= (n / (n - 1)) ** 2  # each moment times n / (n − 1): the determinant twice
    coeff = ((n + 1) * (n - 1)) / (n * (n - 2))
    return 2 * np.pi * f.ppf(0.95, 2, n - 2) * np.sqrt(det) * coeff


def _principal_direction(s: np.ndarray) -> float:
    """Angle (°) between the first principal axis and the AP axis: arccos |v_AP| of its unit vector."""
    c = s - s.mean(axis=0)
    _, vec = np.linalg.eigh(c.T @ c)
    v = vec[:, 1]
    # arccos(|v_AP| / |v|) as the peer writes it; atan2 is the same angle without arccos' loss of
    # digits near 0° (an axis close to AP, the usual case).
    return float(np.degrees(np.arctan2(abs(v[0]), abs(v[1]))))


def _savgol_velocity(s: np.ndarray, fs: float) -> np.ndarray:
    """Velocity by a Savitzky-Golay derivative: cubic over 5 samples (the peer's), edges by polynomial fit."""
    from scipy.signal import savgol_filter

    return savgol_filter(s, window_length=5, polyorder=3, deriv=1, axis=0, delta=1 / fs)


def _dynamic(s, fs, velocity, out) -> None:
    n = len(s)
    d = np.diff(s, axis=0)
    step = np.linalg.norm(d, axis=1)
    path = np.sum(step)
    for axis, name in ((0, "ml"), (1, "ap")):
        out[f"mean_velocity_{name}_mm_s"] = np.sum(np.abs(d[:, axis])) * (fs / n)
        rms = out[f"rms_{name}_mm"]
        out[f"phase_plane_{name}_mm"] = np.sqrt(rms ** 2 + np.var(velocity[:, axis]))
        out[f"mean_frequency_{name}_hz"] = (1 / (4 * np.sqrt(2))) * (
            np.mean(np.abs(fs * d[:, axis])) / out[f"mean_distance_{name}_mm"])
    out["mean_velocity_mm_s"] = path * (fs / n)
    triangles = np.abs(s[1:, 0] * s[:-1, 1] - s[1:, 1] * s[:-1, 0])
    out["sway_area_per_second_mm2_s"] = np.sum(triangles) / (2 * ((n - 1) / fs))
    area = out["ellipse95_area_mm2"]
    out["lfs_1_mm"] = path / area
    diameter = np.sqrt(area * 4 / np.pi)
    out["fractal_dimension"] = np.log(n) / (np.log(n) + np.log(diameter) - np.log(path))
    out["mean_frequency_hz"] = (1 / (2 * np.pi)) * (np.mean(np.linalg.norm(fs * d, axis=1)) / out["mean_distance_mm"])


def _velocity_peaks(v: np.ndarray, name: str, out) -> None:
    """Zero crossings of a velocity and the mean peak of each complete phase between two of them.

    A crossing is a non-zero sample whose sign differs from the last non-zero sample's; a phase
    runs from one crossing to the sample before the next. The phases before the first crossing
    and after the last are incomplete and give no peak.
    """
    nz = np.flatnonzero(v)
    sign = np.sign(v[nz])
    crossings = nz[1:][sign[1:] != sign[:-1]]
    out[f"zero_crossings_{name}"] = int(len(crossings))
    if len(crossings) >= 2:
        peaks = np.maximum.reduceat(np.abs(v), crossings)[:-1]  # the last phase is incomplete
        positive = v[crossings[:-1]] > 0
    else:
        peaks, positive = np.zeros(0), np.zeros(0, bool)
    out[f"peak_velocity_pos_{name}_mm_s"] = np.mean(peaks[positive]) if positive.any() else np.nan
    out[f"peak_velocity_neg_{name}_mm_s"] = np.mean(peaks[~positive]) if (~positive).any() else np.nan
    out[f"peak_velocity_{name}_mm_s"] = np.mean(np.concatenate([peaks[positive], peaks[~positive]])) \
        if len(peaks) else np.nan


def sway_density(s: np.ndarray, fs: float, radius: float) -> np.ndarray:
    """Sway density (Baratto et al. 2002, as Quijoux et al.): for each sample but the last, the time
    (s) of the run of consecutive samples around it that stay within ``radius`` of it, low-passed at
    2.5 Hz (Butterworth 4th order, filtfilt)."""
    from kernels import iir  # scipy's butter/filtfilt to the bit, without importing scipy.signal

    n = len(s)
    t = np.arange(n - 1)
    stop = t + _run_length(s, radius, t) + 1  # first sample after t farther than radius (n if none)
    back = s[::-1]
    start = t - _run_length(back, radius, (n - 1) - t) - 1  # last such sample before t (-1 if none)
    b, a = iir.butter_lowpass(4, SWAY_DENSITY_LOWPASS_HZ / (0.5 * fs))
    return iir.filtfilt(b, a, ((stop - 1) - (start + 1)) / fs)


def _run_length(s: np.ndarray, radius: float, rows: np.ndarray) -> np.ndarray:
    """For each row t: how many samples after t follow within ``radius`` of s[t] before the first
    one farther away (or the end). Looked for in bands of offsets, each twice as far as the last
    and only for the rows still inside: O(n · run length) instead of comparing every pair."""
    n = len(s)
    out = np.empty(len(rows), dtype=np.intp)
    pending = np.arange(len(rows))
    done, width = 0, 32  # offsets 1..done are checked already; this band checks done+1..width
    while len(pending):
        t = rows[pending]
        cols = t[:, None] + np.arange(done + 1, width + 1)[None, :]
        valid = cols < n
        cols = np.minimum(cols, n - 1)
        dx = s[cols, 0] - s[t, None, 0]
        dy = s[cols, 1] - s[t, None, 1]
        far = valid & (np.sqrt(dx * dx + dy * dy) > radius)
        found = far.any(axis=1)
        out[pending[found]] = done + np.argmax(far[found], axis=1)
        ended = ~found & (t + width >= n - 1)  # no far sample up to the end
        out[pending[ended]] = (n - 1) - t[ended]
        pending = pending[~found & ~ended]
        done, width = width, 2 * width
    return out


def _sway_density(s, fs, radius, out) -> None:
    density = sway_density(s, fs, radius)
    peaks = np.flatnonzero((density[1:-1] > density[:-2]) & (density[1:-1] > density[2:])) + 1
    out["sway_density_peak_s"] = np.mean(density[peaks]) if len(peaks) else np.nan
    steps = np.linalg.norm(np.diff(s[peaks], axis=0), axis=1)
    out["sway_density_peak_distance_mm"] = np.mean(steps) if len(steps) else np.nan


def power_spectrum(s: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Welch PSD per axis: Hann segments of 10 s, half overlapping, linear detrend, FFT length n."""
    from scipy.signal import welch

    seg = int(PSD_SEGMENT_S * fs)
    return welch(s, fs=fs, detrend="linear", nperseg=seg, noverlap=seg // 2, axis=0, nfft=len(s))


def _spectral(s, fs, out) -> None:
    freqs, psd = power_spectrum(s, fs)
    band = (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])
    f = freqs[band]
    for axis, name in ((0, "ml"), (1, "ap")):
        p = psd[band, axis]
        cum = np.cumsum(p)
        out[f"total_power_{name}_mm2_hz"] = np.sum(p)
        out[f"power_frequency_50_{name}_hz"] = f[np.argmax(cum >= cum[-1] * 0.5)]
        out[f"power_frequency_95_{name}_hz"] = f[np.argmax(cum >= cum[-1] * 0.95)]
        out[f"frequency_mode_{name}_hz"] = f[np.argmax(p)]
        m0, m1, m2 = np.sum(p), np.sum(f * p), np.sum(f ** 2 * p)
        out[f"centroid_frequency_{name}_hz"] = np.sqrt(m2 / m0)
        out[f"frequency_dispersion_{name}"] = np.sqrt(1 - (m1 ** 2) / (m0 * m2))
        out[f"energy_below_05_{name}_mm2_hz"] = np.sum(p[f <= 0.5])
        out[f"energy_05_2_{name}_mm2_hz"] = np.sum(p[(f > 0.5) & (f <= 2)])
        out[f"energy_above_2_{name}_mm2_hz"] = np.sum(p[f > 2])
        out[f"frequency_quotient_{name}"] = np.sum(p[f > 2]) / np.sum(p[f <= 2])


def diffusion_plot(s: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """(Δt, MSD per axis) for Δt = k / fs, k = 0 … ⌊n/3⌋: MSD_k = mean over i of (s_{i+k} − s_i)².

    Σ (s_{i+k} − s_i)² = Σ_{i ≥ k} s_i² + Σ_{i < n−k} s_i² − 2 Σ s_{i+k} s_i: the first two from
    cumulative sums, the products for all k at once by an FFT autocorrelation.
    """
    n = len(s)
    kmax = int(n * DIFFUSION_PART)
    k = np.arange(kmax + 1)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spec = np.fft.rfft(s, size, axis=0)
    auto = np.fft.irfft(spec * np.conj(spec), size, axis=0)[: kmax + 1]
    sq = np.concatenate([np.zeros((1, 2)), np.cumsum(s ** 2, axis=0)])
    tail = sq[n] - sq[k]  # Σ_{i ≥ k} s_i²
    head = sq[n - k]  # Σ_{i < n−k} s_i²
    msd = (tail + head - 2 * auto) / (n - k)[:, None]
    msd[0] = 0.0
    return k / fs, msd


def _fits(x: np.ndarray, y: np.ndarray, lengths: np.ndarray, from_end: bool) -> tuple[np.ndarray, ...]:
    """Least-squares lines of y on x over the first (or last) ``lengths`` points: (intercept, slope, rmse)."""
    if from_end:
        x, y = x[::-1], y[::-1]
    # Sums about a reference point keep the cancellation in the centred sums small.
    x0, y0 = x.mean(), y.mean()
    xc, yc = x - x0, y - y0
    c = [np.concatenate([[0.0], np.cumsum(v)]) for v in (np.ones_like(xc), xc, yc, xc * xc, xc * yc, yc * yc)]
    m, sx, sy, sxx, sxy, syy = (v[lengths] for v in c)
    vxx = sxx - sx * sx / m
    vxy = sxy - sx * sy / m
    vyy = syy - sy * sy / m
    slope = vxy / vxx
    intercept = (sy - slope * sx) / m + y0 - slope * x0
    sse = np.maximum(vyy - slope * vxy, 0.0)
    return intercept, slope, np.sqrt(sse / m)


def _diffusion(s, fs, out) -> None:
    """Stabilogram diffusion analysis (Collins & De Luca 1993) as Quijoux et al. fit it: two lines in
    log-log, the short-term one over Δt from the first lag to one that ends in 0.3–2.5 s, the long-term
    one from that lag to the end, each end chosen for the smallest RMS residual (the last of equals)."""
    times, msd = diffusion_plot(s, fs)
    lt = np.log(times[1:])
    start, stop = int(SHORT_FROM_S * fs) + 1, int(SHORT_TO_S * fs)
    ends = np.arange(start, stop + 1)
    for axis, name in ((0, "ml"), (1, "ap")):
        lm = np.log(msd[1:, axis])
        b_s, a_s, e_s = _fits(lt, lm, ends, from_end=False)
        b_l, a_l, e_l = _fits(lt, lm, len(lt) - (ends - 1), from_end=True)
        i = len(e_s) - 1 - int(np.argmin(e_s[::-1]))  # "rmse <= best": the last of equal minima
        j = len(e_l) - 1 - int(np.argmin(e_l[::-1]))
        bs, as_, bl, al = b_s[i], a_s[i], b_l[j], a_l[j]
        log_tc = (bl - bs) / (as_ - al)
        log_tc = min(log_tc, lt[-1])
        out[f"critical_time_{name}_s"] = np.exp(log_tc)
        out[f"critical_displacement_{name}_mm2"] = np.exp(bs + as_ * log_tc)
        out[f"diffusion_short_{name}_mm2"] = np.exp(bs)
        out[f"diffusion_long_{name}_mm2"] = np.exp(bl)
        out[f"scaling_short_{name}"] = as_ / 2
        out[f"scaling_long_{name}"] = al / 2
