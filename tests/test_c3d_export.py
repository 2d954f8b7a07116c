"""Recordings as C3D (device/c3d_file.py, `gaitkiosk import FILE --out rec.c3d`), read back with the
``c3d`` package's own Reader: rates, labels, units and the numbers intact (float32, C3D's word)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.c3d_file import read_c3d, write_c3d, write_c3d_per_time_base
from device.errors import RecordingError
from device.importers import import_file
from device.recording import Recording, save_recording
from tests.test_importers import unpack
from tests.test_importers_formats import gaitkiosk


def test_mat_frames_become_one_analog_channel_per_loaded_sensel(tmp_path):
    rec = import_file(unpack(tmp_path, "fscan_testL.asf"))
    back = read_c3d(write_c3d(tmp_path / "walk.c3d", rec))
    assert back["point_rate"] == pytest.approx(1 / 0.032) and back["analog_rate"] == back["point_rate"]
    assert len(back["analog_labels"]) == 471  # the F-Scan file's loaded sensels (> 255: LABELS2 follows LABELS)
    assert back["analog_labels"][0] == "P10_9" and set(back["analog_units"]) == {"kPa"}
    rows, cols = back["params"]["SENSEL_ROW"].astype(int), back["params"]["SENSEL_COL"].astype(int)
    assert np.array_equal(back["analog"], rec.mat_kpa[:, rows, cols].T)  # kPa bit for bit
    assert back["params"]["MAT_ROWS"][0] == 60 and back["params"]["MAT_COLS"][0] == 21
    assert back["params"]["MAT_PITCH_MM"] == pytest.approx([5.08, 5.08])
    rebuilt = np.zeros_like(rec.mat_kpa)
    rebuilt[:, rows, cols] = back["analog"].T
    assert np.array_equal(rebuilt, rec.mat_kpa)  # the unloaded sensels left out are all zero


def test_cop_and_forces_of_two_plates(tmp_path):
    rec = import_file(unpack(tmp_path, "PDS13OR1grf_first1000.txt"))
    back = read_c3d(write_c3d(tmp_path / "stance.c3d", rec))
    assert back["point_labels"] == ["COP", "COP_L", "COP_R"] and back["point_units"] == "mm"
    assert back["analog_labels"] == ["FZ", "FZ_L", "FZ_R"] and back["analog_units"] == ["N", "N", "N"]
    assert back["point_rate"] == pytest.approx(100.0)
    assert np.allclose(back["points"][:, 0, :2], rec.cop_mm, rtol=0, atol=1e-4)  # float32 of ~200 mm
    assert np.array_equal(back["points"][:, 2, :2], rec.cop_right_mm.astype(np.float32))
    assert np.array_equal(back["analog"][0], rec.cop_force_n.astype(np.float32))


def test_a_sample_without_cop_is_an_invalid_point(tmp_path):
    t = np.arange(5) * 0.01
    cop = np.array([[1.0, 2.0], [np.nan, np.nan], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    rec = Recording(meta={}, cop_t=t, cop_mm=cop, cop_force_n=np.array([400.0, 0.0, 400.0, 400.0, 400.0]))
    back = read_c3d(write_c3d(tmp_path / "gap.c3d", rec))
    assert back["points"][1, 0, 3] == -1 and (back["points"][[0, 2, 3, 4], 0, 3] >= 0).all()
    assert back["points"][2, 0, :2].tolist() == [3.0, 4.0]


def test_insoles_with_positions_and_millisecond_time_stamps(tmp_path):
    rec = import_file(unpack(tmp_path, "xsensor_data.csv"))  # 13 and 14 ms steps: stamps rounded to ms
    back = read_c3d(write_c3d(tmp_path / "insoles.c3d", rec))
    assert back["point_rate"] == pytest.approx(100 / 1.331)
    assert back["params"]["TIME_OFF_GRID_S"][0] < 0.002  # ~1 ms: the stamps' rounding
    left = [k for k, label in enumerate(back["analog_labels"]) if label.startswith("L")]
    used = back["params"]["L_SENSOR"].astype(int)
    assert len(left) == 228 and np.array_equal(back["analog"][left], rec.insole_left_kpa[:, used].T)
    assert back["params"]["L_SENSOR_X_MM"] == pytest.approx(rec.insole_left_sensors_mm[used, 0])


def test_groups_on_different_time_bases_and_uneven_times_are_refused(tmp_path):
    rec = import_file(unpack(tmp_path, "pliance_test.asc"))  # mat 5.8-17.5 s, its COP block 0-44.5 s
    with pytest.raises(RecordingError, match="different time bases.*--omit cop"):
        write_c3d(tmp_path / "x.c3d", rec)
    back = read_c3d(write_c3d(tmp_path / "x.c3d", rec, omit=("cop",)))
    assert back["analog"].shape == (179, 281) and back["params"]["START_S"][0] == pytest.approx(5.79167)
    t = np.array([0.0, 0.01, 0.02, 0.05, 0.06])
    gap = Recording(meta={}, cop_t=t, cop_mm=np.zeros((5, 2)))
    with pytest.raises(RecordingError, match="not uniform"):
        write_c3d(tmp_path / "gap.c3d", gap)
    assert not (tmp_path / "gap.c3d").exists()


def test_import_command_writes_c3d_from_an_export_and_from_a_kiosk_recording(tmp_path):
    src = unpack(tmp_path, "emed_test.lst")
    out = tmp_path / "step.c3d"
    result = gaitkiosk("import", str(src), "--out", str(out))
    assert result.returncode == 0, result.stderr
    back = read_c3d(out)
    assert len(back["analog_labels"]) == 506  # emed: 506 loaded sensels (pressuRe's 106 x 506)
    npz = tmp_path / "step.npz"
    save_recording(npz, import_file(src))
    again = tmp_path / "again.c3d"
    assert gaitkiosk("import", str(npz), "--out", str(again)).returncode == 0
    assert np.array_equal(read_c3d(again)["analog"], back["analog"])
    refused = gaitkiosk("import", str(unpack(tmp_path, "pliance_test.asc")), "--out", str(tmp_path / "p.c3d"))
    assert refused.returncode == 1 and "--omit cop" in refused.stderr and refused.stderr.count("\n") == 1
    assert not (tmp_path / "p.c3d").exists()


def test_sessions_export_writes_c3d_beside_each_recording(tmp_path, capsys):
    """`gaitkiosk sessions export ID --out s.npz --c3d`: the stored kPa of mat and insoles intact."""
    from device.recording import load_recording
    from store import open_store
    from store.export import set_calibration_converter
    from tests.test_store_cli import cli, record_session

    data_dir = tmp_path / "data"
    with open_store(data_dir) as st:
        session, _ = record_session(st, seconds=0.5)
    out = tmp_path / "s.npz"
    try:
        code, text, err = cli(capsys, "sessions", "export", session.id, "--out", str(out), "--data-dir",
                              str(data_dir), "--c3d")
    finally:
        set_calibration_converter(None)  # export installs calibration's converter process-wide
    assert code == 0, err
    assert str(tmp_path / "s.c3d") in text  # the virtual patient's devices share one clock: one file
    rec = load_recording(out)
    back = read_c3d(tmp_path / "s.c3d")
    assert back["point_rate"] == pytest.approx(100.0, rel=1e-6)
    mat = [k for k, label in enumerate(back["analog_labels"]) if label.startswith("P")]
    rows, cols = back["params"]["SENSEL_ROW"].astype(int), back["params"]["SENSEL_COL"].astype(int)
    assert np.array_equal(back["analog"][mat], rec.mat_kpa[:, rows, cols].T)
    right = [k for k, label in enumerate(back["analog_labels"]) if label.startswith("R")]
    used = back["params"]["R_SENSOR"].astype(int)
    assert np.array_equal(back["analog"][right], rec.insole_right_kpa[:, used].T)


def test_groups_on_their_own_clocks_get_one_c3d_file_each(tmp_path):
    rec = import_file(unpack(tmp_path, "pliance_test.asc"))  # mat and the software's COP: two time bases
    files = write_c3d_per_time_base(tmp_path / "mat.c3d", rec)
    assert [f.name for f in files] == ["mat-mat.c3d", "mat-cop.c3d"]
    assert read_c3d(files[0])["analog"].shape == (179, 281)
    cop = read_c3d(files[1])
    assert cop["point_labels"] == ["COP"] and cop["points"].shape == (1067, 1, 5)


@settings(max_examples=25, deadline=None)
@given(frames=st.integers(2, 40), rows=st.integers(1, 6), cols=st.integers(1, 6), rate=st.sampled_from([50.0, 100.0, 500.0]),
       seed=st.integers(0, 2**32 - 1))
def test_round_trip_of_any_small_recording(tmp_path_factory, frames, rows, cols, rate, seed):
    rng = np.random.default_rng(seed)
    t = 1.5 + np.arange(frames) / rate
    kpa = rng.uniform(0, 500, (frames, rows, cols)).astype(np.float32)
    kpa[:, 0, 0] = 0.0  # a sensel never loaded: left out, rebuilt as zeros
    cop = rng.uniform(-300, 300, (frames, 2))
    cop[rng.random(frames) < 0.2] = np.nan
    rec = Recording(meta={}, mat_kpa=kpa, mat_t=t, mat_pitch_mm=np.array([5.0, 7.5]), cop_t=t.copy(), cop_mm=cop,
                    cop_force_n=rng.uniform(0, 900, frames))
    back = read_c3d(write_c3d(tmp_path_factory.mktemp("c3d") / "r.c3d", rec))
    rebuilt = np.zeros_like(kpa)
    ch = [k for k, label in enumerate(back["analog_labels"]) if label.startswith("P")]
    rebuilt[:, back["params"]["SENSEL_ROW"].astype(int), back["params"]["SENSEL_COL"].astype(int)] = back["analog"][ch].T
    assert np.array_equal(rebuilt, kpa)
    valid = back["points"][:, 0, 3] >= 0
    assert np.array_equal(valid, ~np.isnan(cop[:, 0]))
    assert np.array_equal(back["points"][valid, 0, :2], cop[valid].astype(np.float32))
    assert np.array_equal(back["analog"][0], rec.cop_force_n.astype(np.float32))
    assert back["point_rate"] == pytest.approx(rate, rel=1e-6) and back["params"]["START_S"][0] == np.float32(1.5)
