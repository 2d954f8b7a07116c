"""`gaitkiosk analyze`: text and JSON reports of .npz recordings and COP CSV
files, --lowpass, --window, and one clear line for every bad input."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitkiosk.cli import main
from kernels.cop_csv import CopFileError, read_cop_csv, write_cop_csv

GOLDEN = Path(__file__).resolve().parent / "data" / "golden_mat_walk.npz"


def run(capsys, *argv):
    code = main(["analyze", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def bds_csv(tmp_path, test_data):
    """BDS00001 (Santos & Duarte 2016) as a COP CSV: x = ML = COPy, y = AP = COPx, cm -> mm."""
    with gzip.open(test_data / "santos-duarte-2016" / "BDS00001_cop.txt.gz", "rt") as f:
        d = np.loadtxt(f, skiprows=1)
    path = tmp_path / "bds00001.csv"
    write_cop_csv(path, d[:, 0], np.column_stack([d[:, 2], d[:, 1]]) * 10.0)
    return path


def test_text_report_of_a_cop_csv(capsys, bds_csv):
    code, out, err = run(capsys, bds_csv)
    assert code == 0, err
    assert "Analysis of bds00001.csv (metrics version 3, source: cop)" in out
    assert "95 % ellipse area" in out and "94.5 mm²" in out  # published 0.9447 cm²
    assert "mean velocity" in out and "6.20 mm/s" in out  # published 0.6202 cm/s
    assert "filter                            none (raw COP)" in out
    assert "n/a  (no per-foot force" in out  # a null says why


def test_json_report_matches_published_values(capsys, bds_csv):
    code, out, _ = run(capsys, bds_csv, "--json")
    assert code == 0
    report = json.loads(out)
    assert report["metrics_version"] == 3 and report["filter"] is None  # a COP file: as recorded
    assert report["sway"]["ellipse95_area_mm2"] == pytest.approx(94.46915167229832, rel=1e-9)
    assert report["sway"]["mean_velocity_mm_s"] == pytest.approx(6.20189911656219, rel=1e-9)
    assert report["sway"]["mean_power_frequency_hz"] == pytest.approx(0.2565758824783575, rel=1e-9)


def test_lowpass_and_window_are_applied_and_said(capsys, bds_csv):
    code, out, _ = run(capsys, bds_csv, "--json", "--lowpass", "5", "--window", "10:40")
    assert code == 0
    r = json.loads(out)
    assert r["filter"]["cutoff_hz"] == 5.0 and r["filter"]["order"] == 4 and r["filter"]["zero_phase"] is True
    assert r["window"] == {"start_s": 10.0, "end_s": 40.0}
    assert r["samples"] == 3000 and r["duration_s"] == pytest.approx(30.0)
    code, text, _ = run(capsys, bds_csv, "--lowpass", "5")
    assert "5 Hz low-pass, Butterworth order 4, zero-phase (filtfilt)" in text


def test_npz_recording(capsys):
    code, out, err = run(capsys, GOLDEN, "--json")
    assert code == 0, err
    r = json.loads(out)
    assert r["source"] == "mat" and r["gait"]["step_count"] == 5
    code, text, _ = run(capsys, GOLDEN)
    assert "Gait (5 steps, from the mat)" in text and "cadence" in text and "150.0 steps/min" in text


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "empty"),
        ("time,x,y\n0,1,2\n", "lacks t_s, x_mm, y_mm"),
        ("t_s,x_mm,y_mm\n", "no samples"),
        # (empty or NaN values are dropout rows, analysed around: tests/test_report_gaps.py)
        ("t_s,x_mm,y_mm\n0.01,,\n0.02,nan,nan\n", "no samples (2 rows without"),
        ("t_s,x_mm,y_mm\n0.00,1,2\n,1,2\n0.02,1,2\n", "line 3: t_s is ''; every row needs its time"),
        ("t_s,x_mm,y_mm\n0.00,1,2\n0.01,1,2\n0.02,abc,2\n", "not a number"),
        ("t_s,x_mm,y_mm\n0.00,1,2\n0.02,1,2\n0.01,1,2\n", "not strictly increasing"),
        ("t_s,x_mm,y_mm\n0.00,1,2\n0.01,1,2\n0.01,1,2\n", "not strictly increasing"),
        ("t_s,x_mm,y_mm\n0.00,1\n", "2 values, the header has 3"),
    ],
)
def test_bad_cop_files_get_one_clear_line(capsys, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    code, out, err = run(capsys, path)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("gaitkiosk analyze: error: ")
    assert message in err
    with pytest.raises(CopFileError):
        read_cop_csv(path)


def test_binary_junk_and_wrong_files(capsys, tmp_path):
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\xff\xfe\x00garbage\x9c")
    code, _, err = run(capsys, junk)
    assert code == 1 and "not a text" in err
    code, _, err = run(capsys, tmp_path / "missing.npz")
    assert code == 1 and "does not exist" in err
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    code, _, err = run(capsys, other)
    assert code == 1 and "unknown file type" in err
    fake = tmp_path / "fake.npz"
    fake.write_bytes(b"PK not really a zip")
    code, _, err = run(capsys, fake)
    assert code == 1 and err.count("\n") == 1 and "internal error" not in err


def test_bad_options(capsys, bds_csv):
    code, _, err = run(capsys, bds_csv, "--window", "40:10")
    assert code == 1 and "END must be after START" in err
    code, _, err = run(capsys, bds_csv, "--lowpass", "80")
    assert code == 1 and "below half the sampling rate" in err
    code, _, err = run(capsys, bds_csv, "--window", "100:200")
    assert code == 1 and "window holds no samples" in err


def test_three_samples_give_nulls_not_a_crash(capsys, tmp_path):
    path = tmp_path / "short.csv"
    write_cop_csv(path, [0.0, 0.01, 0.02], [[1.0, 2.0], [1.5, 2.0], [2.0, 2.5]])
    code, out, _ = run(capsys, path, "--json")
    assert code == 0
    r = json.loads(out)
    assert r["sway"]["path_length_mm"] is None
    assert "3 COP samples" in r["null_reasons"]["sway.path_length_mm"]


finite = st.floats(-500, 500, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 60), rate=st.sampled_from([25.0, 100.0, 1000.0]), data=st.data())
def test_cop_csv_round_trip(tmp_path_factory, n, rate, data):
    t = np.arange(n) / rate + data.draw(st.floats(0, 100))
    cop = np.array(data.draw(st.lists(st.tuples(finite, finite), min_size=n, max_size=n)))
    fl = np.array(data.draw(st.lists(st.floats(0, 900), min_size=n, max_size=n)))
    path = tmp_path_factory.mktemp("rt") / "cop.csv"
    write_cop_csv(path, t, cop, force_left_n=fl, force_right_n=900 - fl)
    back = read_cop_csv(path)
    assert np.array_equal(back.cop_t, t) and np.array_equal(back.cop_mm, cop)
    assert np.array_equal(back.force_left_n, fl) and back.cop_force_n is None
    assert all(math.isfinite(v) for v in back.cop_mm.ravel())


def test_analysis_settings_come_from_the_config(capsys, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[analysis]\ncontact_on_n = 50\ncontact_off_n = 40\n")
    walk = Path(__file__).resolve().parent / "data" / "golden_mat_walk.npz"
    code, out, err = run(capsys, walk, "--json", "--config", config)
    assert code == 0, err
    params = json.loads(out)["parameters"]
    assert params["contact_on_n"] == 50.0 and params["contact_off_n"] == 40.0
    config.write_text("[analysis]\ncontact_on_n = 10\ncontact_off_n = 40\n")
    code, _, err = run(capsys, walk, "--config", config)
    assert code == 1 and "contact_off_n must not exceed contact_on_n" in err


def test_simulate_then_analyze(capsys, tmp_path):
    """The virtual patient's recording, written by `gaitkiosk simulate`, analysed end to end."""
    out_file = tmp_path / "quiet.npz"
    assert main(["simulate", "--scenario", "quiet", "--seed", "3", "--seconds", "6", "--out", str(out_file)]) == 0
    capsys.readouterr()
    code, out, err = run(capsys, out_file, "--json")
    assert code == 0, err
    r = json.loads(out)
    assert r["source"] == "mat" and r["samples"] == 600
    assert 1.0 < r["sway"]["mean_velocity_mm_s"] < 50.0  # quiet standing sways a few mm/s
    assert 40.0 < r["weight"]["left_pct"] < 60.0
    assert r["steps"] == [] and r["arch_index"]["left"] is not None


def test_insole_only_text_says_once_why_there_is_no_sway(capsys, tmp_path):
    path = tmp_path / "walk.npz"
    assert main(["simulate", "--scenario", "walk", "--seconds", "4", "--no-mat", "--out", str(path)]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, path)
    assert code == 0
    assert out.count("not a whole-body COP") == 1
    assert "Gait (" in out and "cadence" in out
