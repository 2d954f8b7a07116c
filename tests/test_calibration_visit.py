"""A calibration made as docs/calibration.md describes applies in the next simulated visit; an
uncalibrated visit says so in words everywhere its numbers go (docs/metrics.md, "Calibration state").

Before: ``gaitkiosk calibrate equilibrate sim://mat`` stored its calibration under
``sim-mat-shared`` while the kiosk's virtual mat was ``sim-mat-kioskN`` (the serial followed the
person), so the calibration never applied; quiet standing of the 70 kg virtual patient read
~1,605 N on the mat (2.3 x body weight) and the report said nothing of it. (Once applied, the
kiosk could not even make the trial's report: it had no calibration converter installed.)

Real parts: the CLI's calibration on the virtual rig, the whole kiosk in-process on sim://
ports (readers, analysis and worker threads, pygame's dummy driver), a real SQLite file.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from test_visit_storage import CODE, prescribe

from gaitkiosk import cli
from store import open_store

G = 9.80665
SERIAL = "sim-mat-48x48-seed1"  # the default [sim] mat: 48 x 48 sensels, seed 1


def quiet(*args) -> tuple[int, str, str]:
    """Run the CLI, capturing what it prints (module fixtures cannot use capsys)."""
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
    try:
        code = cli.main(list(args))
        return code, sys.stdout.getvalue(), sys.stderr.getvalue()
    finally:
        sys.stdout, sys.stderr = old


def visit(data: Path) -> None:
    prescribe(data, 1)  # one quiet-standing drill
    code, out, err = quiet("run", "--simulate", "--headless", "--no-seed", "--code", CODE, "--seconds", "4",
                           "--countdown", "0.3", "--timeout", "300", "--data-dir", str(data), "--json")
    assert code == 0, err[-2000:]
    assert json.loads(out)["completed"]


def the_trial(data: Path):
    """The last visit's session id, its one trial and the trial's recordings."""
    with open_store(data) as st:
        s = max(st.sessions.list(patient_id=st.patients.by_code(CODE).id), key=lambda s: s.session.started_at)
        (trial,) = st.trials.for_session(s.session.id)
        return s.session.id, trial, st.recordings.for_trial(trial.id)


def mat_force_n(data: Path, trial_id: str) -> float:
    """Median total force on the mat, from the stored raw counts as an export converts them."""
    from calibration.storage import install_export_converter
    from store.export import recording_arrays

    install_export_converter()
    with open_store(data) as st:
        arrays = recording_arrays(st, [r for r in st.recordings.for_trial(trial_id) if r.kind == "mat"], {})
    pitch = arrays["mat_pitch_mm"]
    return float(np.median(arrays["mat_kpa"].sum(axis=(1, 2), dtype=np.float64) * pitch[0] * pitch[1] * 1e-3))


def truth_force_n() -> float:
    """The simulator's truth: the force on the mat of the person the kiosk makes for quiet standing."""
    from drills import registry
    from drills.autopilot import patient_for

    person = patient_for(registry.get("quiet_standing")({"stance": "apart", "eyes": "open"}))
    return float(np.median([person.sample(t, insoles=False).force_n for t in np.arange(1.0, 5.0, 0.1)]))


@pytest.fixture(scope="module")
def env():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SDL_VIDEODRIVER", "dummy")
        mp.setenv("SDL_AUDIODRIVER", "dummy")
        mp.delenv("DISPLAY", raising=False)
        mp.delenv("WAYLAND_DISPLAY", raising=False)
        yield


@pytest.fixture(scope="module")
def uncalibrated(env, tmp_path_factory):
    data = tmp_path_factory.mktemp("uncal") / "data"
    visit(data)
    return data


@pytest.fixture(scope="module")
def calibrated(env, tmp_path_factory):
    data = tmp_path_factory.mktemp("cal") / "data"
    visit(data)  # a visit before the calibration: the next one is not compared with it
    # As docs/calibration.md, "Trying it on the virtual patient", says it.
    code, out, err = quiet("calibrate", "equilibrate", "sim://mat", "--by", "Ana", "--data-dir", str(data), "--json")
    assert code == 0, err[-2000:]
    cal = json.loads(out)
    assert cal["passed"] and cal["active"] and cal["device_serial"] == SERIAL
    visit(data)
    return data, cal["calibration_id"]


def test_the_truth_is_the_patients_body_weight():
    assert truth_force_n() == pytest.approx(70.0 * G, rel=0.01)


def test_a_cli_calibration_applies_in_the_next_simulated_visit(calibrated):
    data, cal_id = calibrated
    _, trial, recs = the_trial(data)
    assert trial.calibration_ids == {SERIAL: cal_id}
    (mat,) = [r for r in recs if r.kind == "mat"]
    assert mat.device_serial == SERIAL and mat.calibration_id == cal_id
    force, truth = mat_force_n(data, trial.id), truth_force_n()
    assert force == pytest.approx(truth, rel=0.03), (force, truth)  # the factory line reads 2.3 x
    assert trial.report is not None, trial.results.get("report_error")
    cal = trial.report["calibration"]
    assert cal["state"] == "calibrated" and cal["sensors"]["mat"]["calibration_id"] == cal_id
    assert cal["sensors"]["mat"]["calibrated_at"] and f"calibration {cal_id[:8]}" in cal["words"]
    assert not any("NOT CALIBRATED" in n for n in trial.report["notes"])
    assert trial.results["calibration"]["state"] == "calibrated"
    assert trial.results["stance"]["weight_n"] == pytest.approx(truth, rel=0.1)  # kept: it is in newtons
    # the visit before the calibration read through the factory line: no trend across the change
    assert trial.results["comparison_note"] == "not compared with last time: measured calibrated, last time uncalibrated"
    assert trial.results["comparison"]["previous_score"] is None


def test_an_uncalibrated_visit_says_factory_nominal_in_words(uncalibrated):
    _, trial, recs = the_trial(uncalibrated)
    assert trial.calibration_ids == {}
    assert {r.device_serial for r in recs if r.kind == "mat"} == {SERIAL}  # the same mat as the calibrated unit's
    assert mat_force_n(uncalibrated, trial.id) > 1.5 * truth_force_n()  # what the factory line does
    report = trial.report
    assert report is not None, trial.results.get("report_error")
    cal = report["calibration"]
    assert cal["state"] == "uncalibrated"
    assert cal["sensors"]["mat"]["state"] == "factory-nominal (uncalibrated)"
    assert "NOT CALIBRATED" in cal["words"] and "factory-nominal" in cal["words"] and "withheld" in cal["words"]
    assert report["notes"][0] == cal["words"]
    # the trial's results agree with the report, and its newtons are withheld with the reason
    assert trial.results["pressure"] == ["factory-nominal (uncalibrated)"]
    assert trial.results["calibration"]["state"] == "uncalibrated"
    assert trial.results["stance"]["weight_n"] is None
    assert "not calibrated" in trial.results["withheld"]["stance.weight_n"]


def test_the_export_and_analyze_carry_the_calibration_state(uncalibrated, tmp_path):
    session_id, trial, _ = the_trial(uncalibrated)
    out = tmp_path / "visit.npz"
    code, _, err = quiet("sessions", "export", session_id, "--out", str(out), "--data-dir", str(uncalibrated))
    assert code == 0, err
    with open(tmp_path / "visit-metrics.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row["calibration"] == "uncalibrated"
    assert row["calibration.sensors.mat.state"] == "factory-nominal (uncalibrated)"
    assert row["results.calibration.state"] == "uncalibrated"
    code, text, err = quiet("analyze", str(out))
    assert code == 0, err
    head = " ".join(text.split("Balance")[0].split())
    assert "calibration uncalibrated" in head and f"factory-nominal (uncalibrated) ({SERIAL})" in head
    assert "NOT CALIBRATED: the mat" in head


def test_a_comparison_across_a_calibration_change_is_not_made():
    from gaitkiosk.visit import footing

    now = {"calibration": {"state": "calibrated"}}
    assert footing(now) == "calibrated"
    assert footing({"pressure": ["factory-nominal (uncalibrated)"]}) == "uncalibrated"  # a trial from before
    assert footing({"pressure": ["calibrated"]}) == footing(now)
    assert footing({"calibration": {"state": "partly calibrated"}}) == "mixed"
