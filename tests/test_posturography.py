"""The extended posturography set (72 descriptors) against the peer outputs of Quijoux et al. (2021).

The peer outputs (tests/data/santos-duarte-2016/quijoux2021_descriptors_subset.csv, see
tests/data/README.md) are what the MIT code of Quijoux et al. computed for these Santos & Duarte
(2016) trials with its defaults: input (ML, AP) in cm with the mean removed, 100 Hz, resampled to
25 Hz (SWARII), low-passed at 10 Hz. With ``convention="quijoux2021"`` ours must give every
descriptor within 1e-6 relative (the peer's file is rounded to 8 significant digits, 5e-9).
``convention="gaitkiosk"`` differs on purpose (re-centred after filtering; ellipse moments with
n − 1), and the tests below show it differs by exactly that.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np
import pytest

from kernels.posturography import (
    _velocity_peaks,
    descriptors,
    diffusion_plot,
    extended_set,
    sway_density,
)
from kernels.posturography_table import CM_TO_OURS, DESCRIPTORS
from kernels.swarii import preprocess, purge, swarii

DATA = Path(__file__).parent / "data" / "santos-duarte-2016"
REL = 1e-6
TRIALS = ("BDS00001", "BDS00004", "BDS00007", "BDS00010", "BDS00037", "BDS00043", "BDS00046")
# The peer's input had its mean removed, so its mean_value is rounding noise (~1e-16 cm): no
# relative comparison is possible; ours, of the same de-meaned input, must be as close to 0.
ZERO_MEAN = ("mean_position_ml_mm", "mean_position_ap_mm")
# Unchanged by moving the COP by a constant (differences, spectra with linear detrend, a principal
# axis about the mean): the two conventions must agree on these to rounding.
SHIFT_FREE = (
    "range_ml_mm", "range_ap_mm", "range_mm", "range_ratio", "principal_sway_direction_deg",
    "mean_velocity_ml_mm_s", "mean_velocity_ap_mm_s", "mean_velocity_mm_s",
    "zero_crossings_ml", "zero_crossings_ap", "peak_velocity_pos_ml_mm_s", "peak_velocity_neg_ml_mm_s",
    "peak_velocity_ml_mm_s", "peak_velocity_pos_ap_mm_s", "peak_velocity_neg_ap_mm_s", "peak_velocity_ap_mm_s",
    "sway_density_peak_s", "sway_density_peak_distance_mm",
    *(d.key for d in DESCRIPTORS if d.group in ("frequency", "stochastic")),
)


def peer_rows() -> dict[str, dict[str, str]]:
    with open(DATA / "quijoux2021_descriptors_subset.csv", newline="") as f:
        return {r["Trial"]: r for r in csv.DictReader(f)}


def trial_cop(trial: str) -> np.ndarray:
    """(ML, AP) in mm, mean removed, as the peer was given it (BDS: COPx = AP, COPy = ML, cm)."""
    with gzip.open(DATA / f"{trial}_cop.txt.gz", "rt") as f:
        header = f.readline().strip().split("\t")
        d = np.loadtxt(f, delimiter="\t")
    cop = np.column_stack([d[:, header.index("COPy[cm]")], d[:, header.index("COPx[cm]")]]) * 10.0
    return cop - cop.mean(axis=0)


@pytest.fixture(scope="module")
def peer():
    return peer_rows()


def test_the_subset_has_every_trial_and_all_72_names(peer):
    assert set(peer) == set(TRIALS)
    assert set(next(iter(peer.values()))) - {"Trial"} == {d.peer for d in DESCRIPTORS}


@pytest.mark.parametrize("trial", TRIALS)
def test_peer_convention_matches_the_peer_outputs(trial, peer):
    values, reasons = extended_set(trial_cop(trial), 100.0, convention="quijoux2021")
    assert reasons == {}
    bad = {}
    for d in DESCRIPTORS:
        ref = float(peer[trial][d.peer]) * CM_TO_OURS[d.unit]
        got = values[d.key]
        if d.key in ZERO_MEAN:
            assert abs(ref) < 1e-12 and abs(got) < 1e-12, (d.key, ref, got)
        elif d.unit == "count":
            assert got == int(ref), (d.key, got, ref)
        elif abs(got - ref) > REL * abs(ref):
            bad[d.key] = (got, ref, abs(got - ref) / abs(ref))
    assert bad == {}


@pytest.mark.parametrize("trial", TRIALS[:3])
def test_gaitkiosk_convention_is_the_peer_definition_on_the_recentred_cop_with_n_minus_1(trial):
    cop = trial_cop(trial) + np.array([12.0, -30.0])  # standing off the plate's centre
    ours, _ = extended_set(cop, 100.0)
    theirs, _ = extended_set(cop, 100.0, convention="quijoux2021")
    signal, mean = preprocess(cop, 100.0, recentre=True)
    peer_signal, _ = preprocess(cop, 100.0, recentre=False)
    n = len(signal)
    assert abs(signal.mean(axis=0)).max() < 1e-12
    assert abs(peer_signal.mean(axis=0)).max() > 1e-6  # filtering moved the peer's mean off 0
    # Ours is exactly the peer's formulas on the re-centred signal, with the ellipse's moments n - 1:
    assert ours == descriptors(signal, 25.0, mean, unbiased=True)
    assert descriptors(signal, 25.0, mean, unbiased=False)["ellipse95_area_mm2"] * n / (n - 1) == pytest.approx(
        ours["ellipse95_area_mm2"], rel=1e-13)
    # ... and the same ellipse as the basic set's (kernels.sway) on that signal.
    from kernels.sway import ellipse95

    assert ours["ellipse95_area_mm2"] == pytest.approx(ellipse95(signal[:, 0], signal[:, 1])[0], rel=1e-12)
    for key in SHIFT_FREE:
        assert ours[key] == pytest.approx(theirs[key], rel=1e-9), key
    # Where the conventions differ, they differ by far less than the measures vary between trials.
    for key in ("mean_distance_mm", "rms_distance_mm", "ellipse95_area_mm2", "lfs_1_mm", "sway_area_per_second_mm2_s"):
        assert ours[key] != theirs[key]
        assert ours[key] == pytest.approx(theirs[key], rel=0.02), key
    assert ours["mean_position_ml_mm"] == pytest.approx(12.0, abs=1e-9)


def test_velocity_peaks_of_a_hand_worked_series():
    # Crossings at 2 (to -), 5 (to +), 7 (to -): complete phases [2, 5) negative, peak |-3|,
    # and [5, 7) positive, peak 2; the phase before the first crossing and after the last count not.
    out: dict = {}
    _velocity_peaks(np.array([1.0, 2.0, -1.0, -3.0, 0.0, 2.0, 1.0, -1.0]), "ml", out)
    assert out == {"zero_crossings_ml": 3, "peak_velocity_pos_ml_mm_s": 2.0, "peak_velocity_neg_ml_mm_s": 3.0,
                   "peak_velocity_ml_mm_s": 2.5}


def test_the_fft_diffusion_plot_is_the_direct_mean_square_displacement():
    rng = np.random.default_rng(9)
    s = np.cumsum(rng.normal(0, 0.3, (1500, 2)), axis=0)
    s -= s.mean(axis=0)
    times, msd = diffusion_plot(s, 25.0)
    assert len(times) == 501 and times[-1] == 20.0 and (msd[0] == 0).all()
    for k in (1, 2, 7, 62, 300, 500):
        direct = np.mean((s[k:] - s[:-k]) ** 2, axis=0)
        np.testing.assert_allclose(msd[k], direct, rtol=1e-10)


def literal_sway_density_counts(s: np.ndarray, radius: float) -> np.ndarray:
    """The definition sample by sample: the run of neighbours within radius of each sample."""
    n = len(s)
    out = np.empty(n - 1)
    for t in range(n - 1):
        stop = t + 1
        while stop < n and np.hypot(*(s[stop] - s[t])) <= radius:
            stop += 1
        start = t - 1
        while start >= 0 and np.hypot(*(s[start] - s[t])) <= radius:
            start -= 1
        out[t] = (stop - 1) - (start + 1)
    return out


def test_sway_density_is_the_run_of_samples_within_the_radius():
    from scipy.signal import butter, filtfilt

    rng = np.random.default_rng(5)
    s = np.cumsum(rng.normal(0, 0.4, (700, 2)), axis=0)  # runs from 1 to several hundred samples
    b, a = butter(4, 2.5 / 12.5)
    expected = filtfilt(b, a, literal_sway_density_counts(s, 3.0) / 25.0)
    np.testing.assert_allclose(sway_density(s, 25.0, 3.0), expected, rtol=1e-12, atol=1e-12)


def literal_swarii(t, s, hz=25.0, window=0.08):
    """SWARII as the docs write it, one output sample at a time."""
    half = (window - 1e-6) / 2
    c, times, out, missing = max(0.0, t[0]), [], [], 0
    while c < t[-1]:
        rel = [i for i in range(len(t)) if abs(t[i] - c) < half]
        missing += not rel
        if len(rel) == 1:
            times.append(c)
            out.append(s[rel[0]])
        elif rel:
            acc, wsum = 0.0, 0.0
            for k, i in enumerate(rel):
                lo = max(t[0], c - half) if k == 0 or i == 0 else 0.5 * (t[i] + t[i - 1])
                hi = min(t[-1], c + half) if k == len(rel) - 1 else 0.5 * (t[i + 1] + t[i])
                acc = acc + s[i] * (hi - lo)
                wsum += hi - lo
            times.append(c)
            out.append(acc / wsum)
        c += 1 / hz
    times, out = np.array(times), np.array(out)
    if missing:  # empty windows: linear interpolation on a regular grid
        grid = np.arange(times[0], times[-1], 1 / hz)
        out = np.column_stack([np.interp(grid, times, out[:, k]) for k in range(out.shape[1])])
    return out


@pytest.mark.parametrize("rate,jitter,drop,gap", [
    (100.0, 0.0, 0.0, False), (60.0, 0.3, 0.0, False), (100.0, 0.2, 0.3, False), (20.0, 0.0, 0.0, False),
    (100.0, 0.1, 0.0, True), (50.0, 0.0, 0.5, True)])
def test_swarii_matches_its_definition_on_irregular_and_slow_sampling(rate, jitter, drop, gap):
    rng = np.random.default_rng(int(rate))
    n = int(8 * rate)
    t = (np.arange(n) + rng.uniform(-jitter, jitter, n)) / rate
    keep = np.sort(rng.choice(n, int(n * (1 - drop)), replace=False)) if drop else np.arange(n)
    t = np.sort(t[keep])
    if gap:  # samples lost for 0.3 s: empty windows, filled by interpolation
        t = t[(t < 3.0) | (t > 3.3)]
    s = np.cumsum(rng.normal(0, 0.1, (len(t), 2)), axis=0)
    got = swarii(t, s)
    want = literal_swarii(t, s)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_the_purge_drops_a_spike_and_the_first_tenth_of_a_second():
    t = np.arange(300) / 100.0
    s = np.zeros((300, 2))
    s[150] = [25.0, 0.0]  # 25 mm away and straight back: an artefact
    keep = purge(t, s)
    assert keep[0] == 10 and keep[-1] == 298 and 150 not in keep and len(keep) == 288


def test_a_cop_sampled_below_25_hz_is_not_resampled_up():
    rng = np.random.default_rng(3)
    cop = np.cumsum(rng.normal(0, 0.5, (1200, 2)), axis=0)
    values, reasons = extended_set(cop, 20.0)
    assert all(v is None for v in values.values())
    assert "sampled at 20 Hz, below the extended set's 25 Hz" in reasons["mean_velocity_mm_s"]
    values, reasons = extended_set(cop, 24.6)  # 25 Hz as estimated from time stamps
    assert reasons == {} and values["mean_velocity_mm_s"] > 0


def test_a_steady_drift_has_no_velocity_peaks_and_says_why():
    t = np.arange(1500) / 100.0
    values, reasons = extended_set(np.column_stack([0.5 * t, t]), 100.0)  # no sign change of the velocity
    assert values["zero_crossings_ml"] == 0 and values["peak_velocity_ml_mm_s"] is None
    assert reasons["peak_velocity_pos_ap_mm_s"].startswith("the velocity changes sign fewer than twice")
    assert values["mean_velocity_mm_s"] == pytest.approx(np.hypot(0.5, 1.0), rel=0.02)


def test_short_or_still_cop_gives_reasons_not_numbers():
    values, reasons = extended_set(np.zeros((500, 2)), 100.0)
    assert all(v is None for v in values.values())
    assert "needs at least 10.2 s" in reasons["fractal_dimension"]
    values, reasons = extended_set(np.full((3000, 2), 4.0), 100.0)
    assert values["mean_velocity_mm_s"] == 0.0 and values["mean_position_ml_mm"] == 4.0
    assert values["centroid_frequency_ml_hz"] is None and "did not move" in reasons["centroid_frequency_ml_hz"]
