"""Plantar-pressure plate footsteps of SpeedPP2D (Pataky et al. 2008), read in place.

The data are GPL-3.0 and are never copied into this repository: the test reads
``../shared/data/speedpp2d-pataky-2008`` and skips, saying so, where it is
absent. Each trial is one foot's step on an RSscan Footscan plate at 500 Hz,
(63 rows along the walking direction, 33 columns) x 500 frames, starting at
first contact and zero-padded to 1 s. The package states neither pressure units
nor sensor pitch; the checks below only use relative quantities, with the
plate's sensor size of 5.08 mm (rows) x 7.62 mm (columns) and values taken as kPa.
The images look resampled to about square ~5 mm pixels (PITCH below): a footprint spans
~53 rows x ~20 columns, which at 7.62 mm along the rows would be a 400 mm foot, and at
7.62 mm across a 137 mm wide forefoot. (Segmentation holds at (5.08, 7.62) too: one foot
in 118 of the 120 trials.)

For every trial of the two subjects whose time series are in the collection:
* one step, with a contact duration equal to the time the plate was loaded
  (typically within a frame; toe drag and brief re-touches at toe-off end it up
  to ~30 ms early, see the test);
* heel-to-toe roll-over: the COP starts in the rear third of the footprint and
  ends in its front 40 %;
* across trials, faster walking means shorter contact (speeds.csv);
* and the per-frame analysis segments one foot per step (heel, forefoot and late toes).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from kernels.report import analyze_recording

RATE = 500.0
PITCH = (5.08, 5.08)
PAD = 5  # zero frames put before first contact, which is frame 0 in the files


@pytest.fixture(scope="module")
def speedpp2d():
    from pathlib import Path

    from conftest import SHARED_DATA

    folder = Path(SHARED_DATA) / "speedpp2d-pataky-2008"
    if not (folder / "timeseries_500Hz").is_dir():
        pytest.skip(f"SpeedPP2D (GPL-3.0, read in place only) not found at {folder}")
    h5py = pytest.importorskip("h5py", reason="h5py reads SpeedPP2D (pip install -e '.[test]')")
    speeds = np.genfromtxt(folder / "speeds.csv", delimiter=",", names=True)
    return folder, h5py, speeds


def trial_recording(frames_rct: np.ndarray):
    frames = np.moveaxis(frames_rct.astype(np.float32), 2, 0)
    frames = np.concatenate([np.zeros((PAD, *frames.shape[1:]), np.float32), frames])
    t = np.arange(len(frames)) / RATE
    return SimpleNamespace(meta="{}", mat_kpa=np.ascontiguousarray(frames), mat_t=t,
                           mat_pitch_mm=np.array(PITCH)), frames


def trials(speedpp2d):
    folder, h5py, speeds = speedpp2d
    files = sorted((folder / "timeseries_500Hz").glob("subj*.h5"))
    assert files
    for path in files:
        with h5py.File(path, "r") as f:
            names = sorted(f.keys())
            assert len(names) == 60
            for i, name in enumerate(names):
                yield path.stem, i, name, f[name][()], speeds[path.stem][i]


def test_every_speedpp2d_step_contact_and_rollover(speedpp2d):
    """The plate holds one foot: its total force and COP give the step (independent of how
    the per-frame analysis splits the footprint)."""
    from kernels.detectors import detect_steps
    from kernels.frame import FrameAnalyzer

    by_subject: dict[str, tuple[list, list]] = {}
    diffs = []
    for subject, _, name, data, speed in trials(speedpp2d):
        rec, frames = trial_recording(data)
        analyzer = FrameAnalyzer(*frames.shape[1:], pitch_mm=PITCH)
        results = [analyzer.analyze(f) for f in rec.mat_kpa]
        force = np.array([r.force_n for r in results])
        cop = np.array([r.cop_mm if r.cop_mm is not None else (np.nan, np.nan) for r in results])
        events, _ = detect_steps(rec.mat_t, force, cop)
        steps = [e for e in events if e.kind == "step"]
        where = f"{subject}/{name}"
        # one step; a brief touch after it (a toe dragging at the plate's edge) is no step
        assert len(steps) == 1 and "incomplete" not in [e.kind for e in events], f"{where}: {[e.kind for e in events]}"
        m, step = steps[0].metrics, steps[0].step
        loaded = np.flatnonzero((frames >= analyzer.params.threshold_kpa).any(axis=(1, 2)))
        plate_contact = (loaded[-1] - loaded[0] + 1) / RATE
        diffs.append(m["stance_s"] - plate_contact)
        # Heel to toe along the plate's rows: the footprint's extent from the peak image
        rows = np.flatnonzero((frames.max(axis=0) >= analyzer.params.threshold_kpa).any(axis=1))
        heel_y, toe_y = rows[0] * PITCH[0], (rows[-1] + 1) * PITCH[0]
        y = step.cop_mm[:, 1]
        y = y[np.isfinite(y)]
        length = toe_y - heel_y
        assert (y[0] - heel_y) / length < 0.33, f"{where}: first COP not in the rearfoot"
        assert (y[-1] - heel_y) / length > 0.6, f"{where}: last COP not in the forefoot"
        assert y[-1] - y[0] > 0.4 * length, where
        times, speeds = by_subject.setdefault(subject, ([], []))
        times.append(m["stance_s"])
        speeds.append(speed)
    # Contact time against the time any sensel was loaded: typically within a frame (2 ms);
    # where the toes drag at under 20 N or leave, touch again briefly and leave, the step ends
    # at the first unloading (the re-touch is a short contact, not part of the step): up to
    # ~30 ms early, under 3 frames of the kiosk's 100 Hz.
    frames_off = np.abs(np.array(diffs)) * RATE
    assert np.median(frames_off) <= 1 + 1e-6, np.percentile(frames_off, [50, 90, 100])
    assert np.percentile(frames_off, 95) <= 15 and frames_off.max() <= 20, np.percentile(frames_off, [50, 95, 100])
    for subject, (times, speeds) in by_subject.items():
        rho = np.corrcoef(np.argsort(np.argsort(times)), np.argsort(np.argsort(speeds)))[0, 1]
        assert rho < -0.6, f"{subject}: contact time vs walking speed rank correlation {rho:.2f}"


def test_every_speedpp2d_step_is_one_foot(speedpp2d):
    """One foot per trial: every frame holds at most one foot, with one track while the plate
    carries a contact's load (heel, forefoot and toes, which here often touch down only after
    heel-off, all stay with it), and the report finds one step. Toe re-touches after the step
    (see the contact test above) are short contacts by design, not a second foot."""
    from kernels.detectors import CONTACT_ON_N
    from kernels.frame import FrameAnalyzer

    for subject, _, name, data, _ in trials(speedpp2d):
        rec, _ = trial_recording(data)
        where = f"{subject}/{name}"
        analyzer = FrameAnalyzer(*rec.mat_kpa.shape[1:], pitch_mm=PITCH)
        results = [analyzer.analyze(f) for f in rec.mat_kpa]
        assert max(len(r.feet) for r in results) == 1, f"{where}: two feet in one frame"
        tracks = {f.track_id for r in results if r.force_n >= CONTACT_ON_N for f in r.feet}
        assert len(tracks) == 1, f"{where}: tracks {sorted(tracks)}"
        report = analyze_recording(rec)
        assert len(report["steps"]) == 1, f"{where}: {len(report['steps'])} steps"
        q = report["quality"]
        assert q["incomplete_stances"] == 0, where
        step = report["steps"][0]
        assert 0 <= step["strike_index_pct"] < 33, where
        assert step["gait_line_length_mm"] > 0.5 * step["foot_length_mm"], where
