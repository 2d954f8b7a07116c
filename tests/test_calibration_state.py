"""Every force, pressure and load-derived number says its calibration state (docs/metrics.md,
"Calibration state"); newtons from a sensor nobody calibrated are withheld with the reason.

Before: a report on the factory-nominal line (quiet standing of the 70 kg virtual patient at
~1,605 N, 2.3 x body weight) said nothing of it, and printed its step peak forces as newtons.
"""

from __future__ import annotations

import json

import metrics_synth as ms
import pytest

from device import calibration_state as cs
from device.recording import Recording, load_recording, save_recording
from kernels.report import analyze_recording
from kernels.report_text import render


def with_meta(rec, meta: dict):
    rec.meta = json.dumps(meta)
    return rec


def nominal(serial="sim-mat-48x48-seed1"):
    return {"mat": cs.entry(serial, cs.NOMINAL, kpa_per_count=0.2056)}


def calibrated(serial="sim-mat-48x48-seed1"):
    return {"mat": cs.entry(serial, cs.CALIBRATED, calibration_id="6c18c24e-52d2-4398", calibrated_at="2025-05-02T09:14:03")}


def test_an_uncalibrated_walk_withholds_its_newtons_and_says_so_in_words():
    rec, truth = ms.walk()
    report = analyze_recording(with_meta(rec, {"calibration": nominal()}))
    cal = report["calibration"]
    assert cal["state"] == "uncalibrated"
    assert cal["sensors"]["mat"]["state"] == cs.NOMINAL and cal["sensors"]["mat"]["serial"] == "sim-mat-48x48-seed1"
    assert cal["sensors"]["mat"]["used"] and cal["sensors"]["mat"]["uncalibrated"]
    assert "NOT CALIBRATED" in cal["words"] and "factory-nominal" in cal["words"] and "withheld" in cal["words"]
    assert report["notes"][0] == cal["words"]
    assert len(report["steps"]) == len(truth)
    for i, step in enumerate(report["steps"]):
        assert step["calibration"] == cs.NOMINAL
        assert step["peak_force_n"] is None and step["loading_rate_n_s"] is None
        assert report["null_reasons"][f"steps[{i}].peak_force_n"].startswith("withheld: the mat is not calibrated")
        # what does not rest on the newtons' scale stays
        assert step["stance_s"] is not None and step["heel_mm"] is not None
    assert report["gait"]["peak_force_n"] == {"left": None, "right": None}
    assert "gait.peak_force_n.left" in report["null_reasons"]
    assert report["gait"]["symmetry_peak_force_pct"] is not None  # a ratio: kept, flagged by the block
    assert report["gait"]["cadence_steps_min"] is not None and report["weight"]["left_pct"] is not None


def test_a_calibrated_walk_keeps_its_newtons_and_names_the_calibration():
    rec, _ = ms.walk()
    report = analyze_recording(with_meta(rec, {"calibration": calibrated()}))
    cal = report["calibration"]
    assert cal["state"] == "calibrated" and "NOT CALIBRATED" not in cal["words"]
    assert "calibration 6c18c24e of 2025-05-02" in cal["words"]
    assert cal["sensors"]["mat"]["calibration_id"] == "6c18c24e-52d2-4398"
    assert all(s["peak_force_n"] > 0 and s["calibration"] == cs.CALIBRATED for s in report["steps"])
    assert not any(n.startswith("NOT CALIBRATED") for n in report["notes"])


def test_a_file_that_does_not_say_is_not_stated_and_keeps_its_numbers():
    rec, _ = ms.walk()
    report = analyze_recording(rec)
    assert report["calibration"]["state"] == "not stated"
    assert report["calibration"]["sensors"]["mat"]["state"] == "not stated"
    assert all(s["peak_force_n"] is not None for s in report["steps"])


def test_insoles_recorded_beside_a_calibrated_mat_do_not_make_a_mat_report_uncalibrated():
    rec, _ = ms.walk()
    meta = {"calibration": {**calibrated(), "insole_left": cs.entry("sim-insole-left-seed1", cs.NOMINAL)}}
    from kernels.calibration_state import apply

    report = analyze_recording(with_meta(rec, {"calibration": calibrated()}))
    apply(report, meta, ["mat", "insole_left"])  # as if the file also held a left insole
    cal = report["calibration"]
    assert cal["state"] == "calibrated" and not cal["sensors"]["insole_left"]["used"]
    assert cal["sensors"]["insole_left"]["state"] == cs.NOMINAL  # still named, for the record
    assert all(s["peak_force_n"] is not None for s in report["steps"])


def test_older_files_are_read_from_what_their_meta_said():
    rec, _ = ms.walk()
    # gaitkiosk record before meta["calibration"]: the device list says it in words
    old_record = {"devices": [{"kind": "mat", "serial": "m1", "pressure": "raw counts x 1 (uncalibrated)"}]}
    report = analyze_recording(with_meta(rec, old_record))
    assert report["calibration"]["state"] == "uncalibrated" and report["steps"][0]["peak_force_n"] is None
    # gaitkiosk simulate before it: units.pressure
    rec, _ = ms.walk()
    report = analyze_recording(with_meta(rec, {"units": {"pressure": "kPa (true)"}}))
    assert report["calibration"]["sensors"]["mat"]["state"] == "kPa (true)"
    assert report["steps"][0]["peak_force_n"] is not None


def test_analyze_says_it_in_words_and_the_file_round_trips(tmp_path, capsys):
    from gaitkiosk.cli import main

    rec, _ = ms.walk()
    path = tmp_path / "walk.npz"
    save_recording(path, Recording(meta={"calibration": nominal()}, mat_kpa=rec.mat_kpa, mat_t=rec.mat_t,
                                   mat_pitch_mm=rec.mat_pitch_mm))
    assert load_recording(path).meta["calibration"]["mat"]["state"] == cs.NOMINAL
    assert main(["analyze", str(path)]) == 0
    out = capsys.readouterr().out
    head = out.split("Balance")[0]
    assert "calibration                       uncalibrated" in head
    assert "factory-nominal (uncalibrated)  (sim-mat-48x48-seed1)" in head
    assert "NOT CALIBRATED" in " ".join(head.split())
    table = out.split("gait line")[1].split("\n\n")[0]
    assert table.count(" n/a ") >= 5 and " N " not in table  # the step table shows no newtons
    report = render(analyze_recording(load_recording(path)))
    assert report.count("NOT CALIBRATED") == 1  # said once, at the top, not again under Notes


@pytest.mark.parametrize("state,uncal", [(cs.CALIBRATED, False), (cs.DEVICE, False), (cs.TRUTH, False),
                                         (cs.NOMINAL, True), (cs.RAW, True), (cs.UNKNOWN, False)])
def test_each_state_says_whether_it_is_uncalibrated(state, uncal):
    assert cs.entry("x", state)["uncalibrated"] is uncal


def test_a_stored_recordings_state_follows_what_the_store_kept():
    assert cs.state_of("cal-1", 0.0, 0.0) == cs.CALIBRATED
    assert cs.state_of(None, 0.05, 0.05) == cs.DEVICE  # the device declared kPa in its hello
    assert cs.state_of(None, 0.2056, 0.0) == cs.NOMINAL  # the kiosk's factory line for a sim device
    assert cs.state_of(None, 0.2056, None) == cs.UNKNOWN  # no hello kept: cannot tell


def test_drill_measures_in_newtons_are_withheld_when_their_sensor_is_not_calibrated():
    from kernels.calibration_state import block, withhold_measures

    measures = {"baseline": {"loading_rate_n_s": 6200.0, "cadence_steps_min": 108.0},
                "steps": [{"peak_force_n": 900.0, "stance_s": 0.6}], "weight_n": 1605.0, "count_n": True}
    meta = {"calibration": {"insole_left": cs.entry("l", cs.NOMINAL), "insole_right": cs.entry("r", cs.NOMINAL),
                            "mat": cs.entry("m", cs.CALIBRATED, calibration_id="c1")}}
    cal = block(meta, ["mat", "insole_left", "insole_right"], ["insole_left", "insole_right"])
    assert cal["state"] == "uncalibrated" and not cal["sensors"]["mat"]["used"]
    withheld = withhold_measures(measures, cal, ["insole_left", "insole_right"])
    assert set(withheld) == {"baseline.loading_rate_n_s", "steps.0.peak_force_n", "weight_n"}
    assert measures["baseline"] == {"loading_rate_n_s": None, "cadence_steps_min": 108.0}
    assert measures["steps"][0]["stance_s"] == 0.6 and measures["count_n"] is True
    # the same measures from the calibrated mat are kept
    kept = {"weight_n": 700.0}
    assert withhold_measures(kept, block(meta, ["mat"], ["mat"]), ["mat"]) == {} and kept["weight_n"] == 700.0


def test_a_virtual_sensor_keeps_its_serial_whoever_stands_on_it():
    """The person (patient=, scenario, body) changes; the device serial must not (a real mat's does not)."""
    import serial as pyserial

    import device  # noqa: F401 - registers sim://

    def serial_of(url):
        port = pyserial.serial_for_url(url)
        try:
            return port.device.serial
        finally:
            port.close()

    assert serial_of("sim://mat?patient=ser-a") == "sim-mat-48x48-seed1"
    assert serial_of("sim://mat?patient=ser-b&scenario=walk&mass_kg=90") == "sim-mat-48x48-seed1"
    assert serial_of("sim://mat?patient=ser-c&rig=1") == "sim-mat-48x48-seed1"  # the calibration rig's mat
    assert serial_of("sim://insole?side=left&patient=ser-d&scenario=walk") == "sim-insole-left-seed1"
    # another sensor: another size, pitch or seed (its sensels are drawn from the seed)
    assert serial_of("sim://mat?patient=ser-e&rows=96") == "sim-mat-96x48-seed1"
    assert serial_of("sim://mat?patient=ser-f&pitch=5") == "sim-mat-48x48-5x5mm-seed1"
    assert serial_of("sim://mat?patient=ser-g&seed=5") == "sim-mat-48x48-seed5"
    assert serial_of("sim://mat?patient=ser-h&serial=MAT-0042") == "MAT-0042"


def test_the_patient_reads_no_forces_or_pressures_whatever_the_results_hold():
    """The patient's result words and live numbers carry no N or kPa: the calibration state is for staff."""
    import re

    from drills import registry
    from gaitkiosk.liveview import drill_view
    from gaitkiosk.resultwords import comparison, patient_lines

    unit = re.compile(r"\d\s*(N|kPa|N/s)\b|newton|kilopascal", re.I)
    heavy = {"stance": {"weight_n": 1605.0}, "score": 80.0, "status": "complete"}
    measures = {"gait_insoles": {"baseline": {"loading_rate_n_s": 6200.0, "steps": 10, "cadence_steps_min": 108.0},
                                 "training": {"loading_rate_n_s": 6400.0, "steps": 12, "cadence_steps_min": 110.0},
                                 "on_beat_pct": 70.0}}
    for name in registry.names():
        result = {**heavy, "drill": name, "measures": measures.get(name, {"peak_force_n": 1375.0})}
        words = patient_lines(result, 1) + [(comparison(result, {**result, "score": 60.0}) or {}).get("text", "")]
        assert not any(unit.search(w) for w in words), (name, words)
        view = drill_view(registry.get(name)(None))
        assert not any(unit.search(f"{label} {text}") for label, text in view.get("values") or []), (name, view)
