"""The report against the virtual patient's ground truth (device.sim, true kPa).

* COP path: the sway set of the mat pipeline against the sway set of the
  simulator's true whole-body COP;
* steps on the insoles: one step per true stance, contact and off within one
  frame of the true events, cadence and stance from the true event times;
* contact/off on the mat: the detector fed each foot's load on the mat finds
  the true events within one frame (single-leg lifts, tandem steps);
* left/right and region shares of the full mat pipeline against the truth.
"""

from __future__ import annotations

import numpy as np
import pytest

from device.sim.patient import VirtualPatient
from device.sim.record import simulate_recording
from kernels.detectors import detect_steps
from kernels.report import analyze_recording
from kernels.sway import sway_metrics

FRAME_S = 0.01  # 100 Hz


def true_stances(events: np.ndarray, side: int, end_s: float) -> list[tuple[float, float]]:
    """(contact, off) of every complete true stance of one foot."""
    rows = events[events[:, 1] == side]
    out, contact = [], None
    for t, _, kind in rows:
        if kind == 1:
            contact = t
        elif contact is not None and t <= end_s:
            out.append((contact, t))
            contact = None
    return out


@pytest.fixture(scope="module")
def quiet():
    rec = simulate_recording(VirtualPatient(scenario="quiet", seed=2), 20.0, insoles=False)
    return rec, analyze_recording(rec)


def test_sway_follows_the_true_cop(quiet):
    rec, report = quiet
    truth, _ = sway_metrics(rec.truth["truth_cop_mm"], 100.0)
    got = report["sway"]
    # The 10 kPa noise threshold of the per-frame analysis trims the feet's edges,
    # which moves the COP by up to ~2 mm and exaggerates sway a little (docs/metrics.md).
    for key, rel in (("rms_distance_mm", 0.12), ("path_length_mm", 0.15), ("range_ml_mm", 0.15),
                     ("range_ap_mm", 0.15), ("ellipse95_area_mm2", 0.25), ("mean_power_frequency_hz", 0.05),
                     ("mean_frequency_hz", 0.06)):
        assert got[key] == pytest.approx(truth[key], rel=rel), key
    # With a threshold near the noise floor the COP path agrees closely.
    low = analyze_recording(rec, mat_threshold_kpa=1.0)["sway"]
    for key in ("rms_distance_mm", "path_length_mm", "ellipse95_area_mm2", "mean_power_frequency_hz"):
        assert low[key] == pytest.approx(truth[key], rel=0.03), key


@pytest.fixture(scope="module")
def walk_insoles():
    rec = simulate_recording(VirtualPatient(scenario="walk", seed=3), 12.0, mat=False)
    return rec, analyze_recording(rec)


def test_insole_steps_match_true_events(walk_insoles):
    rec, report = walk_insoles
    events = rec.truth["truth_events"]
    end = rec.insole_t[-1]
    total = 0
    for j, side in enumerate(("left", "right")):
        truth = true_stances(events, j, end)
        steps = [s for s in report["steps"] if s["foot"] == side]
        # the recording may start inside a stance: that one has no true contact
        steps = [s for s in steps if s["contact_s"] > 0.0]
        assert len(steps) == len(truth), side
        total += len(truth)
        for s, (c, o) in zip(steps, truth, strict=True):
            assert abs(s["contact_s"] - c) <= FRAME_S, (side, s["contact_s"], c)
            assert abs(s["off_s"] - o) <= FRAME_S, (side, s["off_s"], o)
    contacts = np.sort(events[events[:, 2] == 1, 0])
    contacts = contacts[contacts <= end]
    true_cadence = 60 * (len(contacts) - 1) / (contacts[-1] - contacts[0])
    assert report["gait"]["cadence_steps_min"] == pytest.approx(true_cadence, rel=0.03)
    assert report["source"] == "insoles" and report["sway"]["path_length_mm"] is None


def on_mat_at(on_mat, mat_force, tt, kind) -> bool:
    """The foot carries load on the mat just after a contact / just before an off."""
    n = len(on_mat)
    k = int(round(tt / FRAME_S))
    k = min(n - 1, k + 1) if kind == "contact" else max(0, k - 1)
    return bool(on_mat[k] and mat_force[k] > 0)


@pytest.mark.parametrize("scenario, params", [("single_leg", {"lift_at": 1.0, "hold_s": 2.0, "rest_s": 1.5}),
                                               ("tandem", {})])
def test_mat_contact_and_off_within_one_frame(scenario, params):
    rec = simulate_recording(VirtualPatient(scenario=scenario, seed=4, **params), 8.0, insoles=False)
    t = rec.mat_t
    mat_force = rec.truth["truth_foot_mat_force_n"]
    events = rec.truth["truth_events"]
    on_mat = rec.truth["truth_on_mat"]
    checked = 0
    for j, side in enumerate(("left", "right")):
        found, _ = detect_steps(t, mat_force[:, j], foot=side)
        found = [e for e in found if e.kind in ("contact", "off")]
        truth = [(tt, "contact" if k == 1 else "off") for tt, s, k in events if s == j and tt <= t[-1]]
        # only events where the load lands on (or leaves) the mat itself are visible to it
        truth = [(tt, kind) for tt, kind in truth if on_mat_at(on_mat[:, j], mat_force[:, j], tt, kind)]
        for tt, kind in truth:
            near = [e for e in found if e.kind == kind and abs(e.t - tt) <= FRAME_S]
            assert near, f"{scenario} {side}: no {kind} within one frame of {tt:.3f} s"
            checked += 1
    assert checked >= 3


def test_mat_weight_and_regions_match_the_truth(quiet):
    rec, report = quiet
    mat_force = rec.truth["truth_foot_mat_force_n"]
    want_left = 100 * mat_force[:, 0].sum() / mat_force.sum()
    assert report["weight"]["left_pct"] == pytest.approx(want_left, abs=2.0)
    regions = rec.truth["truth_regions_n"]
    for j, side in enumerate(("left", "right")):
        want = 100 * regions[:, j].sum(axis=0) / regions[:, j].sum()
        got = report["weight"][side]
        for k, name in enumerate(("rearfoot_pct", "midfoot_pct", "forefoot_pct")):
            assert got[name] == pytest.approx(want[k], abs=5.0), (side, name)


def test_insole_strike_index_needs_the_heel_edge(walk_insoles):
    rec, report = walk_insoles
    assert all(s["strike_index_pct"] is None for s in report["steps"])
    assert "heel_edge_y_mm" in report["null_reasons"]["steps[0].strike_index_pct"]
    patient = VirtualPatient(scenario="walk", seed=3)
    meta = dict(rec.meta, insoles=dict(rec.meta["insoles"], heel_edge_y_mm=patient.feet_templates["left"].rear_edge_mm))
    rec2 = type(rec)(**{**{k: getattr(rec, k) for k in ("insole_t", "insole_left_kpa", "insole_right_kpa",
                                                         "insole_left_sensors_mm", "insole_right_sensors_mm",
                                                         "insole_sensor_area_mm2")}, "meta": meta})
    steps = analyze_recording(rec2)["steps"]
    # the virtual patient strikes with the heel: COP at contact in the rearfoot third
    assert steps and all(0 <= s["strike_index_pct"] < 33 for s in steps)
    assert all(s["foot_length_mm"] == patient.body.foot_length_mm for s in steps)


def test_mat_steps_of_a_walk_match_the_true_events():
    rec = simulate_recording(VirtualPatient(scenario="walk", seed=5), 20.0, insoles=False)
    report = analyze_recording(rec)
    tr = rec.truth
    # stances wholly on the mat from contact to off
    whole = np.isclose(tr["truth_foot_mat_force_n"], tr["truth_foot_force_n"]) & (tr["truth_foot_force_n"] > 0)
    checked = 0
    for j, side in enumerate(("left", "right")):
        contact = None
        for t, s, kind in tr["truth_events"]:
            if s != j:
                continue
            if kind == 1:
                contact = t
                continue
            if contact is None:
                continue
            k0, k1 = int(round(contact / FRAME_S)) + 1, int(round(t / FRAME_S)) - 1
            if k1 < len(whole) and whole[k0:k1, j].all():
                near = [st for st in report["steps"] if abs(st["contact_s"] - contact) <= FRAME_S]
                assert len(near) == 1, (side, contact, near)
                assert near[0]["foot"] == side and abs(near[0]["off_s"] - t) <= FRAME_S
                checked += 1
            contact = None
    assert checked >= 4
