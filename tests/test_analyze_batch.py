"""`gaitkiosk analyze DIR|FILES… --csv OUT`: one row per recording, on all cores, bad files said."""

from __future__ import annotations

import csv
import json

import pytest

from gaitkiosk.cli import main


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Three short virtual-patient recordings and one file that is not a recording."""
    root = tmp_path_factory.mktemp("recordings")
    for seed, scenario in ((1, "quiet"), (2, "quiet_eyes_closed"), (3, "walk")):
        assert main(["simulate", "--out", str(root / f"{seed}-{scenario}.npz"), "--seconds", "8",
                     "--scenario", scenario, "--seed", str(seed)]) == 0
    (root / "0-broken.npz").write_bytes(b"PK\x03\x04 not really a zip")
    (root / "notes.txt").write_text("not a recording, not picked up")
    return root


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_a_folder_gives_one_row_per_recording_equal_to_the_single_file_report(folder, tmp_path, capsys):
    out = tmp_path / "table.csv"
    assert main(["analyze", str(folder), "--csv", str(out), "--jobs", "2"]) == 1  # one file is broken
    said = capsys.readouterr().out
    assert "3 of 4 recordings analysed" in said and "1 could not be read" in said
    rows = read(out)
    assert [r["file"].rsplit("/", 1)[-1] for r in rows] == ["0-broken.npz", "1-quiet.npz", "2-quiet_eyes_closed.npz",
                                                          "3-walk.npz"]
    broken = rows[0]
    assert broken["status"] == "error" and "0-broken.npz" in broken["error"] and broken["sway.path_length_mm"] == ""
    for row in rows[1:]:
        assert row["status"] == "ok" and row["error"] == ""
        assert main(["analyze", row["file"], "--json"]) == 0
        single = json.loads(capsys.readouterr().out)
        assert float(row["duration_s"]) == single["duration_s"]
        assert row["calibration.state"] == single["calibration"]["state"]
        assert row["sources.sway"] == str(single["sources"]["sway"] or "")
        for key, value in single["sway"].items():
            if isinstance(value, float):
                assert float(row[f"sway.{key}"]) == value  # repr round-trips: the same number
        assert int(row["gait.step_count"]) == single["gait"]["step_count"]
    assert int(rows[3]["gait.step_count"]) > 0  # the walk has steps: the columns are not all empty


def test_parallel_and_serial_tables_are_identical(folder, tmp_path):
    serial, parallel = tmp_path / "serial.csv", tmp_path / "parallel.csv"
    main(["analyze", str(folder), "--csv", str(serial), "--jobs", "1"])
    main(["analyze", str(folder), "--csv", str(parallel), "--jobs", "3"])
    assert serial.read_bytes() == parallel.read_bytes()


def test_files_given_one_by_one_keep_their_order(folder, tmp_path):
    out = tmp_path / "two.csv"
    files = [folder / "3-walk.npz", folder / "1-quiet.npz"]
    assert main(["analyze", *map(str, files), "--csv", str(out)]) == 0
    assert [r["file"] for r in read(out)] == list(map(str, files))


def test_several_files_without_csv_and_missing_files_are_one_line(folder, tmp_path, capsys):
    assert main(["analyze", str(folder)]) != 0
    assert "add --csv" in capsys.readouterr().err
    assert main(["analyze", str(folder / "1-quiet.npz"), str(folder / "3-walk.npz")]) != 0
    assert "add --csv" in capsys.readouterr().err
    out = tmp_path / "none.csv"
    assert main(["analyze", str(tmp_path / "nowhere"), "--csv", str(out)]) != 0
    err = capsys.readouterr().err
    assert "does not exist" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_an_empty_folder_is_said_and_leaves_no_table(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    out = tmp_path / "t.csv"
    assert main(["analyze", str(tmp_path / "empty"), "--csv", str(out)]) != 0
    assert "no recordings found" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob(".t.csv*"))


WORKER_PROBE = """
import json, sys
from pathlib import Path
from gaitkiosk import batch_analyze

analyse = batch_analyze.analyze_one

def noting_imports(job):
    # What the worker had imported before its first recording (a fork of this fresh process).
    ready = all(m in sys.modules for m in ("kernels.report", "kernels.frame", "kernels.insole", "device.recording"))
    index, row = analyse(job)
    return index, {**row, "error": f"preloaded={ready}"}

batch_analyze.analyze_one = noting_imports
files = [Path(p) for p in sys.argv[1:-1]]
print(json.dumps(batch_analyze.run_batch(files, Path(sys.argv[-1]), {}, jobs=2, progress=False)))
"""


def test_workers_start_with_the_analysis_imported_and_rows_come_back_in_order(folder, tmp_path):
    """Issue 16, folder throughput: every forked worker inherits the analysis modules (the frame kernels
    included) instead of importing them on its first recording, takes one recording at a time as it
    finishes the last, and the table keeps the given order whatever order they finish in. (A fresh
    interpreter: this test process has imported everything already.)"""
    import subprocess
    import sys

    files = [folder / "1-quiet.npz", folder / "3-walk.npz", folder / "2-quiet_eyes_closed.npz"]
    out = tmp_path / "t.csv"
    run = subprocess.run([sys.executable, "-c", WORKER_PROBE, *map(str, files), str(out)], capture_output=True,
                         text=True, timeout=300, check=True)
    assert json.loads(run.stdout.strip().splitlines()[-1]) == [3, 0]
    rows = read(out)
    assert [r["file"] for r in rows] == list(map(str, files))
    assert {r["error"] for r in rows} == {"preloaded=True"}
