"""Tandem walking where the mat's edges cut footprints, against the virtual patient's truth.

Two walks used to merge two feet into one (docs/frame-analysis.md, "Known limits"):

- on a long mat (1.2 m, 142 x 48 sensels) the first footfall of a pass lies partly over the
  mat's rear edge; its short footprint was remembered as that side's foot length, so the
  toes of that side's next whole footfall counted as "beyond its toes", stayed stray, and
  started a foot of their own that the next heel then joined (footprints of 300-345 mm on
  true pressures, up to 449 mm through the uncalibrated sensor);
- a foot standing partly on the mat (forefoot or toes over the rear edge, heel off the
  mat) had no tandem rule at all: the next heel, landing in front of its toes, joined it
  (the walker with 225 or 245 mm feet: first footprints of 275-332 mm).

Several walks each: foot lengths, step lengths (heel to heel: the gap between toes and
the next heel) and sensor seeds, read as true pressures and through the sensor path.
"""

from __future__ import annotations

import pytest
import tandem_walks as tw

from kernels import FrameAnalyzer, _backend

IMPLEMENTATIONS = ["reference"] + ([] if _backend.compiled("_frame") is None else ["compiled"])
PATHS = ["truth", "sensor"]
# footprint length (heel to toe of the stance footprint, sensel extents included) may exceed
# the true foot by up to this (mm, about three sensels): two feet in one exceed it by far
LENGTH_TOL_MM = 25.0
# (foot length mm, step length mm, seed); the walker's own step is the foot length + 2 mm
LONG_MAT_WALKS = [(260.0, 262.0, 5), (260.0, 275.0, 6), (260.0, 290.0, 7),
                  (275.0, 277.0, 5), (275.0, 290.0, 6)]
# and the mat's rows: where the first footfall lands on the mat (toes only, the forefoot)
PARTLY_ON_WALKS = [(225.0, 227.0, 5, 96), (225.0, 231.0, 6, 102), (225.0, 235.0, 7, 108),
                   (245.0, 247.0, 5, 96), (245.0, 251.0, 6, 102), (245.0, 255.0, 7, 108)]


def analyze(rows, walk, path, implementation, seconds):
    foot, step, seed = walk[:3]
    patient = tw.tandem_patient(rows, seed=seed, foot_length_mm=foot, step_length_mm=step)
    samples, frames = tw.tandem_frames(patient, seconds, path)
    analyzer = FrameAnalyzer(rows, tw.COLS, tw.PITCH, 10.0, implementation=implementation)
    results = [analyzer.analyze(f) for f in frames]
    return tw.footfalls(samples, patient), tw.tracks(samples, results)


def own_track(ff, all_tracks, foot_mm):
    """The one track that began with footfall ff; it ends with it and is one foot long."""
    mine = tw.track_of(ff, all_tracks)
    assert len(mine) == 1, (ff, mine)
    tr = mine[0]
    assert tw.ends_with(ff, tr), (ff, tr)  # not held on by the next heel
    assert tr["length"] <= foot_mm + LENGTH_TOL_MM, (ff, tr)
    return tr


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("walk", LONG_MAT_WALKS, ids=str)
def test_long_mat_every_footfall_is_one_foot_of_its_side(walk, path, implementation):
    # two passes over the 1.2 m mat; each pass starts with a footfall partly over the rear edge
    falls, all_tracks = analyze(142, walk, path, implementation, 20.0)
    whole = [ff for ff in falls if ff["whole"]]
    assert len(whole) >= 4
    for ff in whole:
        tr = own_track(ff, all_tracks, walk[0])
        assert tr["sides"] - {None} == {ff["side"]}, (ff, tr)
    for ff in falls:
        if not ff["whole"]:
            for tr in tw.track_of(ff, all_tracks):
                assert tr["sides"] - {None} <= {ff["side"]}, (ff, tr)
    assert max(tr["length"] for tr in all_tracks.values()) <= walk[0] + LENGTH_TOL_MM


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("walk", PARTLY_ON_WALKS, ids=str)
def test_a_foot_partly_on_the_mat_does_not_take_the_next_heel(walk, path, implementation):
    falls, all_tracks = analyze(walk[3], walk, path, implementation, 6.0)
    first, second = falls[0], falls[1]
    assert not first["whole"] and second["whole"]  # the premise: the walk starts partly on the mat
    tr = own_track(first, all_tracks, walk[0])
    assert tr["sides"] - {None} <= {first["side"]}, (first, tr)
    mine = tw.track_of(second, all_tracks)
    assert len(mine) == 1 and mine[0]["sides"] - {None} == {second["side"]}, (second, mine)
