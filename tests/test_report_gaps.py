"""Recordings with gaps: the window first, then each unbroken part (issue 10, item 4).

Before: a COP CSV with NaN or empty dropout rows, or a time gap in a CSV or an .npz,
was refused before ``--window`` was applied, although the refusal (and
docs/metrics.md section 1) said to use ``--window``; and a kiosk trial that lost
frames (recording ``partial``) got no report at all.

Now: the window is cut first; the parts between gaps are each analysed on their own,
the sway measures are of the longest part (named in ``sway_part``), and the gaps are
listed in ``gaps``, counted in ``quality.gaps`` and named in ``notes``. The answers
are checked against the same recording cut by hand: a window that leaves a gap out
gives exactly the report of the part alone.
"""

from __future__ import annotations

import gzip
import json

import metrics_synth as ms
import numpy as np
import pytest

from device.sim.patient import VirtualPatient
from device.sim.record import simulate_recording
from gaitkiosk.cli import main
from kernels.cop_csv import write_cop_csv
from kernels.report import analyze_recording
from kernels.sway import SWAY_FIELDS


def analyze(capsys, *argv) -> dict:
    code = main(["analyze", *map(str, argv), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def bds(test_data_dir):
    """BDS00001 (Santos & Duarte 2016, 60 s at 100 Hz): t, ML and AP COP in mm."""
    with gzip.open(test_data_dir / "santos-duarte-2016" / "BDS00001_cop.txt.gz", "rt") as f:
        d = np.loadtxt(f, skiprows=1)
    return d[:, 0], np.column_stack([d[:, 2], d[:, 1]]) * 10.0


@pytest.fixture(scope="module")
def test_data_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent / "data"


def csv_lines(t, cop) -> list[str]:
    return ["t_s,x_mm,y_mm"] + [f"{ti!r},{x!r},{y!r}" for ti, (x, y) in zip(t.tolist(), cop.tolist(), strict=True)]


def same_sway(a: dict, b: dict) -> None:
    for key in SWAY_FIELDS:
        assert a["sway"][key] == pytest.approx(b["sway"][key], rel=1e-12), key


@pytest.mark.parametrize("dropout", ["nan,nan", ",", "NaN,", ""])
def test_a_cop_csv_with_dropout_rows(tmp_path, capsys, bds, dropout):
    """Rows 2000-2049 (20.00-20.49 s) have their time but no sample."""
    t, cop = bds
    lines = csv_lines(t, cop)
    for i in range(2000, 2050):
        lines[i + 1] = f"{float(t[i])!r},{dropout}" if dropout else f"{float(t[i])!r},,"
    path = tmp_path / "dropouts.csv"
    path.write_text("\n".join(lines) + "\n")

    whole = analyze(capsys, path)
    assert whole["quality"]["dropout_rows"] == 50 and whole["quality"]["gaps"] == 1
    (gap,) = whole["gaps"]
    assert gap["stream"] == "cop" and gap["after_s"] == pytest.approx(t[1999])
    assert gap["length_s"] == pytest.approx(0.51) and gap["missing_samples"] == 50
    assert any("50 rows of the file had no sample" in n for n in whole["notes"])
    # the sway of the longest unbroken part: 20.50 s to the end, the same as that part alone
    part = whole["sway_part"]
    assert part == {"start_s": pytest.approx(t[2050]), "end_s": pytest.approx(t[-1]), "samples": len(t) - 2050,
                    "of_parts": 2}
    alone = tmp_path / "alone.csv"
    write_cop_csv(alone, t[2050:], cop[2050:])
    same_sway(whole, analyze(capsys, alone))
    assert whole["rate_hz"] == pytest.approx(100.0, rel=1e-9)

    # --window rescues either side, exactly as the part cut out by hand
    before = analyze(capsys, path, "--window", f":{t[2000]:.2f}")
    assert before["gaps"] == [] and before["sway_part"] is None and before["samples"] == 2000
    first = tmp_path / "first.csv"
    write_cop_csv(first, t[:2000], cop[:2000])
    same_sway(before, analyze(capsys, first))


def test_a_time_gap_in_a_cop_csv_is_cut_off_by_the_window(tmp_path, capsys, bds):
    t, cop = bds
    keep = np.ones(len(t), bool)
    keep[3000:3100] = False  # one second of rows missing
    path = tmp_path / "gap.csv"
    write_cop_csv(path, t[keep], cop[keep])
    whole = analyze(capsys, path)
    assert [g["missing_samples"] for g in whole["gaps"]] == [100]
    assert whole["sway_part"]["samples"] == 3000 and whole["sway_part"]["start_s"] == pytest.approx(t[0])
    after = analyze(capsys, path, "--window", "31:")
    assert after["gaps"] == [] and after["samples"] == len(t) - 3100
    alone = tmp_path / "after.csv"
    write_cop_csv(alone, t[3100:], cop[3100:])
    same_sway(after, analyze(capsys, alone))


def test_a_gap_in_a_mat_recording(tmp_path, capsys):
    """Frames lost in the middle of a walk: the steps either side are kept, none spans the gap."""
    from device.recording import Recording, save_recording

    rec, truth = ms.walk(n_steps=6)  # six footfalls on the 1.08 m mat
    t = rec.mat_t
    lost = (t >= 1.35) & (t < 1.55)  # inside the third and fourth stances (0.9-1.49 s, 1.3-1.89 s)
    path = tmp_path / "walk-gap.npz"
    save_recording(path, Recording(meta={}, mat_kpa=rec.mat_kpa[~lost], mat_t=t[~lost],
                                   mat_pitch_mm=rec.mat_pitch_mm))
    r = analyze(capsys, path)
    assert r["quality"]["gaps"] == 1 and r["gaps"][0]["stream"] == "mat"
    assert r["gaps"][0]["missing_samples"] == 20
    assert any("1 gap(s) in the samples" in n for n in r["notes"])
    # the stances the gap cut are no steps; the others are, with their true times
    contacts = sorted(s["contact_s"] for s in r["steps"])
    want = [tr["contact"] for tr in truth if not (tr["contact"] <= 1.35 and 1.34 <= tr["off"])]
    assert len(want) == 4 and contacts == pytest.approx(want, abs=0.011)
    assert r["quality"]["incomplete_stances"] >= 1
    # cadence within the walk either side of the gap: no interval spans it
    assert r["gait"]["cadence_steps_min"] == pytest.approx(60 / 0.4, rel=0.01)
    assert r["rate_hz"] == pytest.approx(100.0, rel=1e-9)
    # the window before the gap is exactly the recording cut there
    before = analyze(capsys, path, "--window", ":1.35")
    cut = tmp_path / "cut.npz"
    keep = t < 1.35
    save_recording(cut, Recording(meta={}, mat_kpa=rec.mat_kpa[keep], mat_t=t[keep], mat_pitch_mm=rec.mat_pitch_mm))
    alone = analyze(capsys, cut)
    for r_ in (before, alone):
        r_.pop("file"), r_.pop("window")
    assert before == alone


def test_insole_gap_keeps_the_steps_either_side():
    rec = simulate_recording(VirtualPatient("walk", seed=3), 10.0, mat=False)
    t = rec.insole_t
    lost = (t >= 4.0) & (t < 4.3)
    rec.insole_t = t[~lost]
    rec.insole_left_kpa, rec.insole_right_kpa = rec.insole_left_kpa[~lost], rec.insole_right_kpa[~lost]
    r = analyze_recording(rec)
    assert r["source"] == "insoles" and [g["missing_samples"] for g in r["gaps"]] == [30]
    assert r["gait"]["cadence_steps_min"] == pytest.approx(110.0, rel=0.01)
    assert not any(s["contact_s"] < 4.0 < s["off_s"] for s in r["steps"])  # no stance across the gap
    assert len(r["steps"]) >= 14


def test_a_kiosk_trial_that_lost_frames_gets_a_report_naming_its_gaps(tmp_path):
    """The trial's raw frames in a real store, 25 frames lost in the middle (recording partial)."""
    from device.frames import RawFrame
    from device.sim.patient import MatGeometry
    from gaitkiosk.visit import trial_report
    from store import open_store
    from store.devices import Device
    from store.patients import Patient

    p = VirtualPatient("quiet", seed=4, mat=MatGeometry(rows=48, cols=48))
    kpa_per_count = p.mat_sensor.kpa_per_count
    with open_store(tmp_path) as st:
        st.devices.seen(Device(serial="MAT-1", kind="mat", info={"pitch_mm": [8.47, 8.47], "rows": 48, "cols": 48}))
        patient = st.patients.add(Patient(code="80421"))
        session = st.sessions.start(patient.id)
        trial = st.trials.start(session.id, "quiet_standing")
        writer = st.recording_writer(session.id, trial_id=trial.id, min_free_bytes=0).start()
        lost = 0
        for i in range(1200):  # 12 s at 100 Hz
            if 500 <= i < 525:
                lost += 1
                continue
            counts = p.mat_counts(p.sample(i / 100.0, insoles=False))
            writer.put(RawFrame("MAT-1", "mat", i, i / 100.0, 50.0 + i / 100.0, counts,
                                kpa_per_count=kpa_per_count, lost_before=lost))
            lost = 0
        stats = writer.stop()
        assert stats.outcome()[0] == "partial"
        report, error = trial_report(st, trial, ["mat"])
    assert error is None, error
    assert report["source"] == "mat" and report["quality"]["gaps"] == 1
    (gap,) = report["gaps"]
    assert gap["after_s"] == pytest.approx(4.99, abs=1e-6) and gap["missing_samples"] == 25
    assert any("gap" in n and "4.99 s" in n for n in report["notes"])
    assert report["sway_part"]["start_s"] == pytest.approx(5.25, abs=1e-6)  # the longer part: 5.25-11.99 s
    assert report["sway"]["path_length_mm"] is not None
