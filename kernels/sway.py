"""The sway set of DESIGN 4.2 on a whole-body COP series (numpy, float64).

Definitions follow Santos & Duarte (2016) and Prieto et al. (1996) exactly as
written out in ``docs/metrics.md`` (metrics version 2); the test suite checks
them against the authors' published values for every trial in the shared
data to 1e-9 relative. x is medio-lateral (ML), y antero-posterior (AP).

Whole recordings are analysed with numpy here; the live kiosk uses the O(1)
accumulators in :mod:`kernels.online`, which agree with these to rounding.
"""

from __future__ import annotations

import math

import numpy as np

from kernels.series import FILTER_ORDER, MetricsInputError, filter_description, lowpass
from kernels.spectrum import welch

# Fewer samples than this give no sway measure: the ellipse needs n > 2 and
# the Welch spectrum needs segments of several samples to mean anything.
MIN_SAMPLES = 10
ELLIPSE_PROBABILITY = 0.95
# A COP whose RMS distance from its mean is below this (1 nm) did not move: the
# remaining spread is floating-point rounding, and frequencies of it would be invented.
STILL_MM = 1e-6

# The COP of a pressure mat is low-passed at this cut-off before its sway measures (metrics
# version 3): the mat's read noise makes a white COP jitter, flat across the spectrum, whose
# frame-to-frame steps the path length sums (2.3 x the true sway speed of the virtual patient
# through the calibrated sensor path). 10 Hz at 100 Hz sampling is what Ruhe, Fejer & Walker
# (2010) recommend for COP measures; quiet standing has nearly all its power below 2 Hz.
SENSOR_COP_LOWPASS_HZ = 10.0

SWAY_FIELDS = (
    "mean_distance_mm",
    "rms_distance_mm",
    "path_length_mm",
    "mean_velocity_mm_s",
    "mean_velocity_ml_mm_s",
    "mean_velocity_ap_mm_s",
    "range_ml_mm",
    "range_ap_mm",
    "ellipse95_area_mm2",
    "ellipse95_axes_mm",
    "ellipse95_angle_deg",
    "mean_frequency_hz",
    "mean_power_frequency_hz",
)


def prediction_ellipse_k(n: int, probability: float = ELLIPSE_PROBABILITY) -> float:
    """Scale of the bivariate prediction ellipse (Chew 1966), p = 2 dimensions.

    k = F_prob(2, n-2) * (n-1) * 2 * (n+1) / (n * (n-2)); semi-axes are
    sqrt(k * eigenvalue) of the sample covariance (ddof 1).
    """
    if n < 3:
        raise MetricsInputError(f"the prediction ellipse needs at least 3 samples, got {n}")
    p = 2
    return float(f_quantile_2(probability, n - p) * (n - 1) * p * (n + 1) / (n * (n - p)))


def f_quantile_2(probability: float, dfd: int) -> float:
    """Quantile of the F distribution with 2 and ``dfd`` degrees of freedom, in closed form.

    For 2 numerator degrees of freedom the CDF is 1 - (1 + 2x/dfd)^(-dfd/2) (Johnson, Kotz &
    Balakrishnan, Continuous Univariate Distributions vol. 2, ch. 27), so the quantile is
    dfd/2 * ((1 - p)^(-2/dfd) - 1). Equal to ``scipy.stats.f.ppf(p, 2, dfd)`` to rounding
    (tests/test_iir.py) without importing scipy.stats, which takes longer than an analysis.
    """
    if not 0 < probability < 1:
        raise MetricsInputError(f"probability must be between 0 and 1, got {probability!r}")
    return dfd / 2 * math.expm1(-2 / dfd * math.log1p(-probability))


def ellipse95(x: np.ndarray, y: np.ndarray) -> tuple[float, tuple[float, float], float | None]:
    """(area mm², (major, minor) semi-axes mm, major-axis angle from +x in [0, 180) or None)."""
    n = len(x)
    cov = np.cov(np.vstack([x, y]), ddof=1)
    lam, vec = np.linalg.eigh(cov)  # ascending
    lam = np.clip(lam, 0.0, None)  # rounding can make a zero eigenvalue slightly negative
    k = prediction_ellipse_k(n)
    major, minor = math.sqrt(k * lam[1]), math.sqrt(k * lam[0])
    area = math.pi * major * minor
    angle = None
    if lam[1] > lam[0] * (1 + 1e-12):  # a circle (or a point) has no major axis
        vx, vy = vec[:, 1]
        angle = math.degrees(math.atan2(vy, vx)) % 180.0
        if angle >= 180.0:  # -0.0 % 180 and rounding
            angle = 0.0
    return area, (major, minor), angle


def mean_power_frequency(x: np.ndarray, rate_hz: float) -> tuple[float, float]:
    """(mean power frequency Hz, total power) of one axis from a Welch PSD.

    Hann window, segment N//2, overlap N//4, FFT length N//2, constant detrend
    (Santos & Duarte 2016); mean frequency = trapz(f * P) / trapz(P).
    """
    n = len(x)
    f, p = welch(x, rate_hz, nperseg=n // 2, noverlap=n // 4, nfft=n // 2)
    total = float(np.trapezoid(p, f))
    if not total > 0:
        return float("nan"), 0.0
    return float(np.trapezoid(f * p, f) / total), float(p.sum())


def sway_metrics(cop_mm: np.ndarray, rate_hz: float) -> tuple[dict, dict]:
    """The sway set of a COP series sampled at ``rate_hz``.

    Returns ``(values, reasons)``: ``values`` has every key of
    :data:`SWAY_FIELDS` (None where the measure is undefined for this input)
    and ``reasons`` maps each None field to why. Raises
    :class:`MetricsInputError` for input that is not a finite (N, 2) series.
    """
    cop = np.asarray(cop_mm, dtype=np.float64)
    if cop.ndim != 2 or cop.shape[1] != 2:
        raise MetricsInputError(f"COP must be an (N, 2) array of x/y in mm, got shape {cop.shape}")
    if not np.all(np.isfinite(cop)):
        raise MetricsInputError("COP contains NaN or infinite values; sway measures need a complete series")
    if not (rate_hz > 0 and math.isfinite(rate_hz)):
        raise MetricsInputError(f"sampling rate must be positive, got {rate_hz!r}")
    n = len(cop)
    values: dict = dict.fromkeys(SWAY_FIELDS)
    reasons: dict = {}
    if n < MIN_SAMPLES:
        why = f"only {n} COP samples; sway measures need at least {MIN_SAMPLES}"
        return values, dict.fromkeys(SWAY_FIELDS, why)

    x = cop[:, 0] - cop[:, 0].mean()
    y = cop[:, 1] - cop[:, 1].mean()
    duration = n / rate_hz  # N / fs, as Santos & Duarte (not (N - 1) / fs)
    dist = np.hypot(x, y)
    dx, dy = np.diff(x), np.diff(y)
    path = float(np.sum(np.hypot(dx, dy)))

    values["mean_distance_mm"] = float(dist.mean())
    values["rms_distance_mm"] = float(math.sqrt(np.mean(x * x + y * y)))
    values["path_length_mm"] = path
    values["mean_velocity_mm_s"] = path / duration
    values["mean_velocity_ml_mm_s"] = float(np.sum(np.abs(dx))) / duration
    values["mean_velocity_ap_mm_s"] = float(np.sum(np.abs(dy))) / duration
    values["range_ml_mm"] = float(x.max() - x.min())
    values["range_ap_mm"] = float(y.max() - y.min())

    area, axes, angle = ellipse95(x, y)
    values["ellipse95_area_mm2"] = area
    values["ellipse95_axes_mm"] = [axes[0], axes[1]]
    values["ellipse95_angle_deg"] = angle
    if angle is None:
        reasons["ellipse95_angle_deg"] = "the COP spread is the same in every direction (or zero): no major axis"

    if values["rms_distance_mm"] < STILL_MM:
        values["ellipse95_angle_deg"] = None
        for key in ("ellipse95_angle_deg", "mean_frequency_hz", "mean_power_frequency_hz"):
            reasons[key] = "the COP did not move"
        return values, reasons
    values["mean_frequency_hz"] = values["mean_velocity_mm_s"] / (2 * math.pi * values["mean_distance_mm"])

    mf_ml, p_ml = mean_power_frequency(x, rate_hz)
    mf_ap, p_ap = mean_power_frequency(y, rate_hz)
    if p_ml + p_ap > 0:
        # An axis without power carries no weight (and its NaN frequency none either).
        num = (mf_ml * p_ml if p_ml > 0 else 0.0) + (mf_ap * p_ap if p_ap > 0 else 0.0)
        values["mean_power_frequency_hz"] = num / (p_ml + p_ap)
    else:
        reasons["mean_power_frequency_hz"] = "the COP has no spectral power (it did not move)"
    return values, reasons


def filtered_sway(cop_mm: np.ndarray, rate_hz: float, lowpass_hz: float | None,
                  strict: bool = True) -> tuple[dict, dict, dict | None, str]:
    """The sway set of a COP low-passed at ``lowpass_hz`` first (None: as it is).

    Returns ``(values, reasons, filter, note)``: ``filter`` describes the filter
    applied (None if none), ``note`` says in a sentence why a filter asked for
    was not applied. With ``strict`` a cut-off the series cannot take raises
    :class:`MetricsInputError` (a user's ``--lowpass``); without, the COP is
    analysed unfiltered and ``note`` says why (the mat's default on a slow or
    short series: at 20 Hz sampling there is nothing above 10 Hz to remove).
    """
    cop = np.asarray(cop_mm, dtype=np.float64)
    if lowpass_hz is None or len(cop) < MIN_SAMPLES:  # too short: sway_metrics gives the reason
        return *sway_metrics(cop, rate_hz), None, ""
    pad = 3 * (FILTER_ORDER + 1)  # filtfilt's edge padding (kernels.series.lowpass)
    note = ""
    if not lowpass_hz < rate_hz / 2:
        note = (f"the COP was not low-passed at {lowpass_hz:g} Hz: sampled at {rate_hz:.4g} Hz, "
                f"it holds nothing above {rate_hz / 2:.4g} Hz")
    elif len(cop) <= pad:
        note = f"the COP was not low-passed: {len(cop)} samples are too few to filter (need more than {pad})"
    if note and not strict:
        return *sway_metrics(cop, rate_hz), None, note
    # Filtered about its mean (the filter passes a constant unchanged): a COP that did not move
    # stays exactly still instead of gaining a path of rounding errors.
    mean = cop.mean(axis=0)
    values, reasons = sway_metrics(lowpass(cop - mean, rate_hz, lowpass_hz) + mean, rate_hz)
    return values, reasons, filter_description(lowpass_hz), ""
