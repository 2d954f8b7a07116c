"""Insole steps on PhysioNet gaitpdb (8 force sensors per foot, N, 100 Hz).

Checks, with references independent of our detector:
* every stance is found: the number of steps matches the number of loading
  humps found by ``scipy.signal.find_peaks`` on the 2 Hz low-passed force;
* stride times are those the signal implies: the median stride matches the
  median interval between those humps, and almost all strides lie near the
  force signal's autocorrelation period
  (the exceptions are the turns at the ends of the walkway, where a foot
  pivots without unloading);
* the COP moves from heel to toe during stance.
Sensor positions are the dataset's (arbitrary units: heel y = -800, toe +800).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import butter, filtfilt, find_peaks

from kernels.detectors import detect_steps

LEFT_XY = np.array([[-500, -800], [-700, -400], [-300, -400], [-700, 0],
                    [-300, 0], [-700, 400], [-300, 400], [-500, 800]], dtype=float)
FOOT = {"left": (slice(1, 9), LEFT_XY), "right": (slice(9, 17), LEFT_XY * [-1, 1])}


def load(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        return np.loadtxt(f)


def foot_series(d: np.ndarray, side: str):
    cols, xy = FOOT[side]
    sensors = d[:, cols]
    force = sensors.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cop = (sensors @ xy) / force[:, None]
    return d[:, 0], force, cop


def autocorrelation_period(force: np.ndarray, rate: float) -> float:
    x = force[: int(60 * rate)] - force[: int(60 * rate)].mean()
    ac = np.correlate(x, x, "full")[len(x) - 1:]
    lo, hi = int(0.5 * rate), int(3.0 * rate)
    return (lo + int(np.argmax(ac[lo:hi]))) / rate


def loading_humps(force: np.ndarray, rate: float, period: float) -> np.ndarray:
    """Indices of the loading humps (one per stance) of the 2 Hz low-passed force."""
    b, a = butter(2, 2.0 / (rate / 2))
    smooth = filtfilt(b, a, force)
    high = np.median(smooth[smooth > np.percentile(smooth, 90)])
    peaks, _ = find_peaks(smooth, prominence=0.4 * high, distance=int(0.5 * period * rate))
    return peaks


def check_walk(d: np.ndarray, side: str, name: str) -> None:
    t, force, cop = foot_series(d, side)
    rate = (len(t) - 1) / (t[-1] - t[0])
    events, stream = detect_steps(t, force, cop, foot=side, source="insole")
    steps = [e for e in events if e.kind == "step"]
    edges = [e.kind for e in events if e.kind in ("contact", "off")]
    assert edges[0::2] == ["contact"] * len(edges[0::2]) and edges[1::2] == ["off"] * len(edges[1::2])

    period = autocorrelation_period(force, rate)
    humps = loading_humps(force, rate, period)
    assert abs(len(steps) - len(humps)) <= max(3, 0.03 * len(humps)), \
        f"{name} {side}: {len(steps)} steps, {len(humps)} loading humps"

    contacts = np.array([e.metrics["contact_s"] for e in steps])
    strides = np.diff(contacts)
    # the typical stride: the median time between loading humps, found without any threshold
    assert np.median(strides) == pytest.approx(np.median(np.diff(t[humps])), rel=0.02), name
    near = np.abs(strides / period - 1) < 0.25
    assert near.mean() >= 0.94, f"{name} {side}: only {near.mean():.0%} of strides near {period:.2f} s"
    stance = np.array([e.metrics["stance_s"] for e in steps])
    assert 0.5 < np.median(stance / np.median(strides)) < 0.75  # stance ~60 % of the stride

    # Heel to toe: early-stance COP behind the middle of the insole, late-stance ahead of it.
    heel_to_toe = []
    for e in steps:
        y = e.step.cop_mm[:, 1]
        k = max(1, len(y) // 10)
        heel_to_toe.append(np.mean(y[:k]) < -300 and np.mean(y[-k:]) > 200)
    assert np.mean(heel_to_toe) >= 0.9, f"{name} {side}: heel-to-toe in {np.mean(heel_to_toe):.0%} of steps"


def test_gaitpdb_subset_in_test_data(test_data):
    d = load(test_data / "gaitpdb" / "GaCo01_01_first30s.txt.gz")
    for side in ("left", "right"):
        t, force, cop = foot_series(d, side)
        events, _ = detect_steps(t, force, cop, foot=side, source="insole")
        steps = [e for e in events if e.kind == "step"]
        # 30 s of walking at a 1.24 s stride (turns excepted): 21-25 stances per foot.
        assert 21 <= len(steps) <= 25, (side, len(steps))
        strides = np.diff([e.metrics["contact_s"] for e in steps])
        assert np.median(strides) == pytest.approx(1.24, abs=0.04)
        # Columns 18/19 are the dataset's own per-foot totals: our sum must agree.
        assert np.max(np.abs(force - d[:, 17 if side == "left" else 18])) < 1e-9


def test_dataset_sanity_number_from_its_readme(shared_data):
    """README: GaCo01_01 has 96 left-foot contacts (20 N threshold) and a mean left stride of ~1.26 s."""
    d = load(shared_data / "gaitpdb-physionet" / "data" / "GaCo01_01.txt")
    t, force, cop = foot_series(d, "left")
    events, _ = detect_steps(t, force, cop, foot="left", source="insole")
    steps = [e for e in events if e.kind == "step"]
    # 95 complete stances, plus one already on at t = 0 and one still on at the end:
    # their start or end is unknown, so they are not steps
    assert len(steps) == 95
    assert [e.kind for e in events].count("incomplete") == 2
    assert events[0].t == 0.0 and events[2].kind == "incomplete" and events[-1].kind == "incomplete"
    assert np.mean(np.diff([e.metrics["contact_s"] for e in steps])) == pytest.approx(1.26, abs=0.01)


def test_every_gaitpdb_walk(shared_data):
    files = sorted((shared_data / "gaitpdb-physionet" / "data").glob("GaCo*_01.txt"))
    assert len(files) >= 5
    for path in files:
        d = load(path)
        for side in ("left", "right"):
            check_walk(d, side, path.stem)
