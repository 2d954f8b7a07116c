"""`gaitkiosk analyze --extended`: the 72-descriptor section in the JSON and text reports, its
sensor and calibration state, and the peer's convention end to end through the CLI."""

from __future__ import annotations

import csv
import gzip
import json

import numpy as np
import pytest

from gaitkiosk.cli import main
from kernels.cop_csv import write_cop_csv
from kernels.posturography import extended_set
from kernels.posturography_table import CM_TO_OURS, DESCRIPTORS
from kernels.report import analyze_recording


def run(capsys, *argv):
    code = main(["analyze", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def bds(test_data, trial):
    """(t, (ML, AP) mm) of a Santos & Duarte (2016) trial: ML = COPy, AP = COPx, cm -> mm."""
    with gzip.open(test_data / "santos-duarte-2016" / f"{trial}_cop.txt.gz", "rt") as f:
        d = np.loadtxt(f, skiprows=1)
    return d[:, 0], np.column_stack([d[:, 2], d[:, 1]]) * 10.0


@pytest.fixture
def bds4_csv(tmp_path, test_data):
    t, cop = bds(test_data, "BDS00004")
    path = tmp_path / "bds00004.csv"
    write_cop_csv(path, t, cop)
    return path


def test_json_extended_section_is_the_extended_set_of_the_sway_cop(capsys, bds4_csv, test_data):
    code, out, err = run(capsys, bds4_csv, "--json", "--extended")
    assert code == 0, err
    report = json.loads(out)
    e = report["extended"]
    assert e["source"] == "cop" and e["calibration"] == report["calibration"]["sensors"]["cop"]["state"]
    assert e["convention"] == "gaitkiosk" and e["preprocessing"]["recentred_after_filter"] is True
    assert set(e["values"]) == {d.key for d in DESCRIPTORS} and e["units"]["ellipse95_area_mm2"] == "mm²"
    _, cop = bds(test_data, "BDS00004")
    want, _ = extended_set(cop, 100.0)
    for key, value in want.items():
        assert e["values"][key] == pytest.approx(value, rel=1e-12, abs=1e-12), key


def test_peer_convention_through_the_cli_matches_the_peer_outputs(capsys, bds4_csv, test_data):
    code, out, _ = run(capsys, bds4_csv, "--json", "--extended", "--extended-convention", "quijoux2021")
    assert code == 0
    values = json.loads(out)["extended"]["values"]
    with open(test_data / "santos-duarte-2016" / "quijoux2021_descriptors_subset.csv", newline="") as f:
        peer = next(r for r in csv.DictReader(f) if r["Trial"] == "BDS00004")
    for d in DESCRIPTORS:
        if d.key.startswith("mean_position"):
            continue  # the peer was given the COP with its mean removed; the CSV keeps where it stood
        ref = float(peer[d.peer]) * CM_TO_OURS[d.unit]
        assert values[d.key] == pytest.approx(ref, rel=1e-6), d.key


def test_text_report_has_the_section_with_its_sensor_and_calibration(capsys, bds4_csv):
    code, out, _ = run(capsys, bds4_csv, "--extended")
    assert code == 0
    assert ("Extended posturography set (Quijoux et al. 2021; gaitkiosk convention), from the cop, "
            "calibration: not stated") in out
    assert "resampled to 25 Hz (SWARII), 10 Hz low-pass" in out
    for d in DESCRIPTORS:
        assert f"    {d.key} " in out
    code, plain, _ = run(capsys, bds4_csv)
    assert "Extended posturography" not in plain


def test_without_extended_the_report_is_unchanged(test_data):
    t, cop = bds(test_data, "BDS00004")
    from kernels.cop_csv import CopRecording

    rec = CopRecording(cop_t=t, cop_mm=cop)
    plain = analyze_recording(rec)
    extended = analyze_recording(rec, extended="gaitkiosk")
    assert "extended" not in plain
    assert {k: v for k, v in extended.items() if k not in ("extended", "null_reasons")} == \
        {k: v for k, v in plain.items() if k != "null_reasons"}


def test_an_unknown_convention_is_refused_before_any_work(test_data):
    from kernels.cop_csv import CopRecording

    t, cop = bds(test_data, "BDS00004")
    with pytest.raises(ValueError, match="extended must be None or one of"):
        analyze_recording(CopRecording(cop_t=t, cop_mm=cop), extended="prieto")


def test_a_short_trial_gets_one_reason(capsys, tmp_path, test_data):
    t, cop = bds(test_data, "BDS00004")
    path = tmp_path / "short.csv"
    write_cop_csv(path, t[:800], cop[:800])
    code, out, _ = run(capsys, path, "--extended")
    assert code == 0
    assert "n/a: the extended set needs at least 10.2 s of unbroken COP, got 8.00 s" in out
    code, out, _ = run(capsys, path, "--extended", "--json")
    report = json.loads(out)
    assert all(v is None for v in report["extended"]["values"].values())
    assert report["null_reasons"]["extended.values.fractal_dimension"].startswith("the extended set needs")


def test_a_virtual_mat_names_the_mat_and_its_calibration():
    from device.sim.patient import VirtualPatient
    from device.sim.record import simulate_recording

    rec = simulate_recording(VirtualPatient(scenario="quiet", seed=3), 12.0, insoles=False)
    report = analyze_recording(rec, extended="gaitkiosk")
    e = report["extended"]
    assert e["source"] == "mat" and report["sources"]["sway"] == "mat"
    assert e["calibration"] == report["calibration"]["sensors"]["mat"]["state"] and e["calibration"]
    assert all(v is not None for v in e["values"].values()), report["null_reasons"]
    # The same COP as the basic set's: the extended set's path is of that COP, resampled and low-passed.
    assert e["values"]["mean_velocity_mm_s"] == pytest.approx(report["sway"]["mean_velocity_mm_s"], rel=0.25)
