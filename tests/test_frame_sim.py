"""Per-frame analysis against the virtual patient's ground truth (device.sim).

For every foot the simulator knows its side, the force that lands on the mat's
sensels, its centre of pressure and its rearfoot/midfoot/forefoot loads. The
analyzer must find each loaded foot, give it the right side, and hold its
identity while the patient stands (also feet together), shifts weight, rocks,
lifts one leg and puts it down, walks over the mat and walks heel to toe.

Tolerances: the analyzer drops sensels under the 10 kPa threshold, so its
force reads a few per cent under the truth; COPs within a few mm; region
shares (of the foot's force) within a few hundredths.
"""

from __future__ import annotations

import numpy as np
import pytest

from kernels import FrameAnalyzer, _backend

IMPLEMENTATIONS = ["reference"] + ([] if _backend.compiled("_frame") is None else ["compiled"])
PITCH = (8.47, 8.47)


def stream(scenario, shape, seconds, step_s=0.02, seed=5, implementation="reference", **params):
    """Yield (truth sample, result) for a scenario on a rows x cols mat."""
    from device.sim import MatGeometry, VirtualPatient

    rows, cols = shape
    patient = VirtualPatient(scenario=scenario, seed=seed,
                             mat=MatGeometry(rows=rows, cols=cols, pitch_mm=PITCH), **params)
    analyzer = FrameAnalyzer(rows, cols, PITCH, 10.0, implementation=implementation)
    for k in range(int(round(seconds / step_s))):
        sample = patient.sample(k * step_s, insoles=False)
        yield sample, analyzer.analyze(np.ascontiguousarray(sample.mat_kpa, dtype=np.float32))


def compare(pairs, min_force_n=100.0):
    """Per loaded foot: side found?, COP error, force ratio, worst region-share error, ids."""
    out = {"n": 0, "missing": 0, "wrong_side": 0, "cop": [], "force": [], "share": [],
           "ids": {"left": [], "right": []}}
    for sample, result in pairs:
        for side, truth in sample.feet.items():
            if truth.mat_force_n < min_force_n or not truth.on_mat:
                continue
            out["n"] += 1
            feet = [f for f in result.feet if f.side == side]
            if not feet:
                wrong = any(f.side is not None for f in result.feet if f.side != side)
                out["wrong_side" if wrong and len(result.feet) == 1 else "missing"] += 1
                continue
            foot = feet[0]
            if out["ids"][side][-1:] != [foot.track_id]:
                out["ids"][side].append(foot.track_id)
            out["cop"].append(float(np.hypot(foot.cop_mm[0] - truth.cop_mm[0],
                                             foot.cop_mm[1] - truth.cop_mm[1])))
            out["force"].append(foot.force_n / truth.mat_force_n)
            whole_on_mat = abs(truth.mat_force_n - truth.force_n) < 1.0
            if foot.regions_n is not None and whole_on_mat:
                got = np.array(foot.regions_n) / foot.force_n
                want = np.array(truth.regions_n) / truth.force_n
                out["share"].append(float(np.abs(got - want).max()))
    return out


@pytest.fixture(params=IMPLEMENTATIONS)
def impl(request):
    return request.param


@pytest.mark.parametrize("scenario, params", [
    ("quiet", {}), ("weight_shift", {}), ("rocking", {}),
    ("quiet", {"stance_width_mm": 90.0}),  # feet together: one blob, split at the valley
    ("weight_shift", {"stance_width_mm": 120.0}),
])
def test_standing_feet_match_the_truth(impl, scenario, params):
    out = compare(stream(scenario, (48, 48), 6.0, implementation=impl, **params))
    assert out["n"] > 500
    assert out["missing"] == 0 and out["wrong_side"] == 0
    assert out["ids"] == {"left": out["ids"]["left"][:1], "right": out["ids"]["right"][:1]}
    assert np.percentile(out["cop"], 95) < 8.0 and max(out["cop"]) < 12.0
    assert 0.90 < min(out["force"]) and max(out["force"]) < 1.01  # threshold drops a few %
    assert max(out["share"]) < 0.08


def test_lifted_leg_keeps_sides_and_comes_back_as_a_new_contact(impl):
    pairs = list(stream("single_leg", (48, 48), 24.0, step_s=0.04, implementation=impl))
    out = compare(pairs)
    assert out["missing"] == 0 and out["wrong_side"] == 0
    assert len(out["ids"]["left"]) == 1  # the standing leg: one contact throughout
    assert len(out["ids"]["right"]) >= 2  # lifted and put down again, a new contact each time
    assert np.percentile(out["cop"], 95) < 6.0
    lifted = [r for s, r in pairs if s.feet["right"].mat_force_n == 0 and s.feet["left"].mat_force_n > 600]
    assert lifted and all([f.side for f in r.feet] == ["left"] for r in lifted)


def test_walking_over_the_mat_one_footfall_at_a_time(impl):
    # a 54 cm mat catches one footfall per pass; the side comes from the footprint's arch
    out = compare(stream("walk", (64, 64), 24.0, implementation=impl))
    assert out["n"] > 150
    assert out["wrong_side"] == 0 and out["missing"] <= 0.03 * out["n"]
    assert len(out["ids"]["left"]) >= 2 and len(out["ids"]["right"]) >= 2
    assert np.percentile(out["cop"], 95) < 10.0
    assert np.percentile(out["share"], 95) < 0.08


def test_tandem_walking_heel_to_toe(impl):
    # each heel lands right in front of the other foot's toes; on a 81 cm mat
    out = compare(stream("tandem", (96, 48), 20.0, implementation=impl))
    assert out["n"] > 300
    assert out["wrong_side"] == 0 and out["missing"] <= 0.03 * out["n"]
    assert np.percentile(out["cop"], 95) < 12.0
    assert np.percentile(out["share"], 95) < 0.1
