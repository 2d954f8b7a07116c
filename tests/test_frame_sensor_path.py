"""Tandem walking through the real sensor path, against the virtual patient's truth.

The other frame tests feed the simulator's true kPa. The kiosk sees something else:
the mat's counts (per-sensel offset, gain, a p^0.7 response, read noise, dead and hot
sensels), zeroed and noise-gated on the device (ZERO), then turned into kPa by the
factory-nominal straight line of an uncalibrated mat (gaitkiosk.pressure), which
over-reads low pressures far more than high ones. On that path the unloading heel of
terminal stance read as still loaded, so each tandem heel joined the planted foot in
front of it (footprints of 340-449 mm, one or two judged steps a pass). Here every
whole footfall on the mat must be one foot, of its true side and length, from its
true contact to its true foot-off.
"""

from __future__ import annotations

import pytest

from kernels import FrameAnalyzer, _backend

IMPLEMENTATIONS = ["reference"] + ([] if _backend.compiled("_frame") is None else ["compiled"])
PITCH = (8.47, 8.47)
STEP_S = 0.02
SECONDS = 10.0  # one pass over the 0.8 m mat: three whole footfalls and one at its far end


def sensor_path_walk(implementation):
    """(truth samples, results, patient) of a tandem walk read as the kiosk reads the mat."""
    from tandem_walks import sensor_reader

    from device.sim import MatGeometry, VirtualPatient

    patient = VirtualPatient(scenario="tandem", seed=5, mat=MatGeometry(rows=96, cols=48, pitch_mm=PITCH))
    read = sensor_reader(patient)
    analyzer = FrameAnalyzer(96, 48, PITCH, 10.0, implementation=implementation)
    samples, results = [], []
    for k in range(int(round(SECONDS / STEP_S))):
        sample = patient.sample(k * STEP_S, insoles=False)
        kpa = read(sample)
        samples.append(sample)
        results.append(analyzer.analyze(kpa))
    return samples, results, patient


def whole_footfalls(samples, patient):
    """Truth (side, contact t, off t) of footfalls wholly on the mat in the run."""
    events = patient.events_until(SECONDS)
    out = []
    for e in events:
        if e.kind != "contact":
            continue
        off = next((f.t for f in events if f.side == e.side and f.kind == "off" and f.t > e.t), None)
        if off is None:
            continue
        mid = samples[int(round((e.t + off) / 2 / STEP_S))].feet[e.side]
        if mid.on_mat and abs(mid.mat_force_n - mid.force_n) < 1.0:
            out.append((e.side, e.t, off))
    return out


@pytest.fixture(scope="module", params=IMPLEMENTATIONS)
def walk(request):
    samples, results, patient = sensor_path_walk(request.param)
    tracks = {}
    for sample, result in zip(samples, results, strict=True):
        for foot in result.feet:
            tr = tracks.setdefault(foot.track_id, {"t0": sample.t, "length": 0.0, "sides": set()})
            tr["t1"] = sample.t
            tr["length"] = max(tr["length"], foot.length_mm)
            tr["sides"].add(foot.side)
    return tracks, whole_footfalls(samples, patient)


def test_the_sensor_path_reads_like_an_uncalibrated_mat():
    # the premise: force on the factory line is well over the truth (else this file tests nothing new)
    samples, results, _ = sensor_path_walk(IMPLEMENTATIONS[-1])
    k = int(round(4.0 / STEP_S))
    truth = sum(f.mat_force_n for f in samples[k].feet.values())
    assert results[k].force_n > 1.3 * truth


def test_every_whole_tandem_footfall_is_one_foot_of_plausible_length(walk):
    tracks, truth = walk
    assert len(truth) == 3
    for side, contact, off in truth:
        mine = [tr for tr in tracks.values() if abs(tr["t0"] - contact) <= 3 * STEP_S]
        assert len(mine) == 1, (side, contact, tracks)
        tr = mine[0]
        assert tr["sides"] - {None} == {side}
        assert abs(tr["t1"] - off) <= 3 * STEP_S  # not held on by the next heel
        assert 230.0 <= tr["length"] <= 290.0  # the walker's feet are ~250 mm


def test_no_footprint_spans_two_feet(walk):
    tracks, truth = walk
    assert all(tr["length"] <= 290.0 for tr in tracks.values()), tracks
    whole = [tr for tr in tracks.values() if tr["length"] >= 180.0]
    assert len(whole) == len(truth)
