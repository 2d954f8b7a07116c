"""Which sensor a report's numbers come from (issue 10, item 1; docs/metrics.md section 1).

Before: the insole gait drill's stored report, its export CSV and ``analyze`` of the
exported file all came from the mat the walker crossed now and then: 7 steps,
cadence 15.7 steps/min, step length 0, stance 8.7 %, ``source: mat``, while the
drill itself counted 44 steps at 110 steps/min.

Now: a report uses the sensors its drill used (the kiosk writes them into the
trial's recording meta and export), ``--source mat|insoles|auto`` picks one by
hand, and the stored report, the export CSV and ``analyze`` of the export agree.
The kiosk test runs the real headless visit on the virtual patient and checks
the stored report against the simulator's truth.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from device.sim.patient import MatGeometry, VirtualPatient
from device.sim.record import simulate_recording
from gaitkiosk import cli
from kernels.report import analyze_recording
from kernels.series import MetricsInputError
from store import open_store
from store.programs import Prescription, Program

CODE = "5931"
CADENCE = 110.0  # the virtual walker's cadence (device.sim walk scenario default), steps/min
FRAME_S = 0.01


# -- the kiosk: stored report, export CSV and analyze agree, and match the truth -------------------


def visit_with_the_insole_drill(data: Path) -> None:
    from gaitkiosk.config import load_config
    from gaitkiosk.demo_seed import seed_demo

    seed_demo(data, load_config(None), CODE)
    with open_store(data) as st:
        patient = st.patients.by_code(CODE)
        for p in st.programs.for_patient(patient.id):
            st.programs.set_active(p.id, False)
        st.programs.add(Program(patient_id=patient.id, name="insole gait",
                                prescriptions=[Prescription(drill="gait_insoles", params={"uplift_pct": 0.0})]))
    code = cli.main(["run", "--simulate", "--headless", "--no-seed", "--code", CODE, "--seconds", "20",
                     "--countdown", "0.3", "--timeout", "300", "--data-dir", str(data), "--json"])
    assert code == 0


def true_offset(t: np.ndarray, left_kpa_sum: np.ndarray, walker: VirtualPatient) -> float:
    """Sim time minus recording time, modulo one stride, found by matching the recorded left
    insole's load to the walker's true left foot force (the walk repeats every stride)."""
    stride = 2 * 60.0 / CADENCE
    grid = np.arange(0.0, stride, 0.002)
    start = 5.0  # any time after the walk has settled into its schedule
    force = np.array([walker.sample(start + g, mat=False, insoles=False).feet["left"].force_n for g in grid])
    sel = t < t[0] + 4.0
    rec = left_kpa_sum[sel] - left_kpa_sum[sel].mean()
    best, phase = -np.inf, 0.0
    for phi in grid:
        f = np.interp((t[sel] + phi) % stride, grid, force, period=stride)
        score = float(np.dot(rec, f - f.mean()))
        if score > best:
            best, phase = score, phi
    return start + phase


@pytest.fixture(scope="module")
def kiosk_trial(tmp_path_factory):
    """The insole gait drill done in the real headless kiosk, its stored trial and its export."""
    data = tmp_path_factory.mktemp("insole-visit")
    with pytest.MonkeyPatch.context() as mp:  # conftest's headless_env, for a module-wide fixture
        mp.setenv("SDL_VIDEODRIVER", "dummy")
        mp.setenv("SDL_AUDIODRIVER", "dummy")
        mp.delenv("DISPLAY", raising=False)
        mp.delenv("WAYLAND_DISPLAY", raising=False)
        visit_with_the_insole_drill(data)
    with open_store(data) as st:
        patient = st.patients.by_code(CODE)
        (s,) = st.sessions.list(patient_id=patient.id)
        (trial,) = st.trials.for_session(s.session.id)
    out = data / "export" / "visit.npz"
    out.parent.mkdir()  # the USB stick's folder
    assert cli.main(["sessions", "export", s.session.id, "--out", str(out), "--data-dir", str(data)]) == 0
    return data, trial, out


def test_the_insole_drill_report_is_from_the_insoles_and_matches_the_truth(kiosk_trial):
    from device.recording import load_recording

    _, trial, exported = kiosk_trial
    report = trial.report
    assert report is not None, trial.results.get("report_error")
    assert report["source"] == "insoles"
    assert report["sources"] == {"sway": None, "weight": "insoles", "steps": "insoles", "gait": "insoles",
                                 "arch_index": None}
    assert all(s["source"] == "insole" for s in report["steps"])
    assert trial.results["sensors"] == ["insoles"]

    # The truth: the walker's true contacts, moved onto the recording's clock.
    rec = load_recording(exported)
    walker = VirtualPatient("walk", seed=1)
    offset = true_offset(rec.insole_t, rec.insole_left_kpa.sum(axis=1), walker)
    t0, t1 = float(rec.insole_t[0]), float(rec.insole_t[-1])
    stride = 2 * 60.0 / CADENCE
    # Shift by whole strides so that the truth covers the recording (the walk is periodic).
    while offset < t1 - t0 + 5.0:
        offset += stride
    events = walker.events_until(offset + t1 + 1.0)
    contacts = {0: [], 1: []}
    stances = []
    for ev in events:
        side = 0 if ev.side == "left" else 1
        if ev.kind == "contact":
            contacts[side].append(ev.t - offset)
        elif contacts[side]:
            stances.append((side, contacts[side][-1], ev.t - offset))
    complete = [(side, c, o) for side, c, o in stances if t0 < c and o <= t1]
    gait = report["gait"]
    # Tolerance: one stance either way, for a stance that begins or ends within a frame of the edges.
    assert abs(gait["step_count"] - len(complete)) <= 1, (gait["step_count"], len(complete))
    assert gait["step_count"] >= 30
    assert gait["cadence_steps_min"] == pytest.approx(CADENCE, rel=0.005)
    # Each step is one true stance: its contact the nearest to one true contact (a step is 0.55 s:
    # within 10 frames is unambiguous), no two steps on the same one. The truth is put on the
    # recording's clock by the match above (good to a frame or two) and the reader maps the
    # sensor's clock to the host's, so the signed errors carry a common offset (about 1.5 frames
    # here, and the two insoles' clocks are fitted apart, up to a frame from each other) and may
    # drift slowly. With those removed by a straight line per insole, each step's contact lies within 2 frames of its
    # true one (residuals of up to 0.6 frames seen): the steps are timed as the sensors saw them. (The detector's own accuracy, on the sensor's
    # clock: within a frame, tests/test_report_virtual_patient.py.)
    matched, by_side = set(), {0: ([], []), 1: ([], [])}
    for s in report["steps"]:
        side = 0 if s["foot"] == "left" else 1
        k = int(np.argmin([abs(s["contact_s"] - c) for c in contacts[side]]))
        assert abs(s["contact_s"] - contacts[side][k]) <= 10 * FRAME_S, (s["foot"], s["contact_s"], contacts[side][k])
        assert (side, k) not in matched
        matched.add((side, k))
        by_side[side][0].append(s["contact_s"])
        by_side[side][1].append(s["contact_s"] - contacts[side][k])
    for side, (t_steps, errors) in by_side.items():  # each insole's own clock fit: its own line
        slope, offset = np.polyfit(t_steps, errors, 1)
        residual = np.asarray(errors) - (offset + slope * np.asarray(t_steps))
        assert abs(slope) < 2e-3, (side, slope)  # the clocks agree to 0.2 %
        # 2 frames on a quiet machine; beside two other test suites the host's arrival times, which the
        # clock fit follows, wobble more (2.3 frames seen once): 3 frames is still well inside a step.
        assert np.abs(residual).max() <= 3 * FRAME_S, (side, np.round(residual, 4))
    assert gait["stance_pct"] == pytest.approx(60.0, abs=2.0)  # the walker's stance is 0.60 of the stride


def test_the_export_csv_and_analyze_agree_with_the_stored_report(kiosk_trial, capsys):
    _, trial, exported = kiosk_trial
    report = trial.report
    assert cli.main(["analyze", str(exported), "--json"]) == 0
    analysed = json.loads(capsys.readouterr().out)
    analysed.pop("file")
    assert analysed == report
    with open(exported.with_name("visit-metrics.csv"), newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row["source"] == "insoles" and row["sources.steps"] == "insoles"
    assert int(row["gait.step_count"]) == report["gait"]["step_count"]
    assert float(row["gait.cadence_steps_min"]) == pytest.approx(report["gait"]["cadence_steps_min"], rel=1e-12)
    # By hand, the mat's view of the same walk: the passes over it, no cadence across them.
    assert cli.main(["analyze", str(exported), "--json", "--source", "mat"]) == 0
    mat = json.loads(capsys.readouterr().out)
    assert mat["source"] == "mat" and mat["gait"]["step_count"] < report["gait"]["step_count"] / 3
    assert mat["gait"]["cadence_steps_min"] is None and mat["gait"]["stance_pct"] is None
    assert "not" in mat["null_reasons"]["gait.cadence_steps_min"]


# -- the rule of --source auto, on recordings of the virtual patient --------------------------------


@pytest.fixture(scope="module")
def walk_both():
    """The walker over the 48-row mat, wearing insoles: the mat sees one footfall per pass."""
    return simulate_recording(VirtualPatient("walk", seed=3), 12.0)


def test_auto_takes_steps_from_the_sensor_that_saw_them(walk_both):
    r = analyze_recording(walk_both)
    assert r["source"] == "mat+insoles"
    assert r["sources"]["steps"] == r["sources"]["gait"] == r["sources"]["weight"] == "insoles"
    assert r["sources"]["sway"] == "mat" and r["sources"]["arch_index"] == "mat"
    assert r["gait"]["cadence_steps_min"] == pytest.approx(CADENCE, rel=0.01)
    assert any("source: mat+insoles" in n for n in r["notes"])


def test_source_by_hand_and_by_the_drill(walk_both):
    mat = analyze_recording(walk_both, source="mat")
    insoles = analyze_recording(walk_both, source="insoles")
    assert mat["source"] == "mat" and set(mat["sources"].values()) <= {"mat"}
    assert insoles["source"] == "insoles" and insoles["sway"]["path_length_mm"] is None
    assert insoles["gait"]["step_count"] > 3 * mat["gait"]["step_count"]
    # The drill's sensors in the recording's meta decide for auto.
    by_drill = analyze_recording(dataclasses.replace(walk_both, meta={**walk_both.meta, "sensors": ["mat"],
                                                                        "drill": "tandem_walk"}))
    assert by_drill["source"] == "mat" and by_drill["gait"] == mat["gait"]
    assert any("drill tandem_walk" in n for n in by_drill["notes"])


def test_standing_with_insoles_worn_is_reported_from_the_mat():
    rec = simulate_recording(VirtualPatient("quiet", seed=2), 6.0)
    r = analyze_recording(rec)
    assert r["source"] == "mat" and r["sources"]["weight"] == "mat" and r["sway"]["path_length_mm"] is not None
    assert any("insoles data were not used" in n for n in r["notes"])


def test_a_source_the_recording_lacks_is_one_clear_error():
    rec = simulate_recording(VirtualPatient("quiet", seed=2, mat=MatGeometry(rows=48, cols=48)), 1.0, insoles=False)
    with pytest.raises(MetricsInputError, match="--source insoles: the recording has no insoles data"):
        analyze_recording(rec, source="insoles")
    with pytest.raises(MetricsInputError, match="must be one of"):
        analyze_recording(rec, source="plate")


def test_analyze_source_option_on_the_command_line(tmp_path, capsys):
    from device.recording import save_recording

    path = tmp_path / "quiet.npz"
    save_recording(path, simulate_recording(VirtualPatient("quiet", seed=2), 1.0, insoles=False))
    assert cli.main(["analyze", str(path), "--source", "insoles"]) == 1
    err = capsys.readouterr().err
    assert "--source insoles: the recording has no insoles data" in err and err.count("\n") == 1
    assert "Traceback" not in err
    assert cli.main(["analyze", str(path), "--source", "mat"]) == 0
    assert "source: mat" in capsys.readouterr().out
