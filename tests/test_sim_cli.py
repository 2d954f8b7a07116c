"""`gaitkiosk simulate`: writes DESIGN 4.1 recordings with truth; clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from device.recording import load_recording
from gaitkiosk.cli import main


def run(capsys, *argv):
    code = main(["simulate", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_quiet_recording_has_true_kpa_truth_and_meta(tmp_path, capsys):
    path = tmp_path / "quiet.npz"
    code, out, _ = run(capsys, "--scenario", "quiet", "--seconds", "2", "--seed", "4", "--out", str(path))
    assert code == 0 and "wrote" in out and "200 mat frames" in out
    rec = load_recording(path)
    assert rec.mat_kpa.shape == (200, 48, 48) and rec.mat_kpa.dtype == np.float32
    assert rec.insole_left_kpa.shape == (200, 16)
    np.testing.assert_allclose(rec.mat_pitch_mm, [8.47, 8.47])
    assert rec.meta["scenario"] == "quiet" and rec.meta["seed"] == 4
    assert rec.meta["units"]["pressure"] == "kPa (true)"
    force = rec.mat_kpa.astype(np.float64).sum(axis=(1, 2)) * 8.47 * 8.47 * 1e-3
    np.testing.assert_allclose(force, rec.truth["truth_force_n"], rtol=1e-4)
    np.testing.assert_allclose(rec.truth["truth_force_n"], 70 * 9.81)
    assert rec.truth["truth_cop_mm"].shape == (200, 2) and np.isfinite(rec.truth["truth_cop_mm"]).all()


def test_same_seed_same_file_contents(tmp_path, capsys):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    for p in (a, b):
        assert run(capsys, "--scenario", "walk", "--seconds", "1.5", "--seed", "9", "--out", str(p))[0] == 0
    ra, rb = load_recording(a), load_recording(b)
    np.testing.assert_array_equal(ra.mat_kpa, rb.mat_kpa)
    np.testing.assert_array_equal(ra.insole_right_kpa, rb.insole_right_kpa)


def test_options_geometry_rates_groups_and_params(tmp_path, capsys):
    path = tmp_path / "w.npz"
    code, out, _ = run(
        capsys, "--scenario", "walk", "--seconds", "3", "--rate", "50", "--insole-rate", "200",
        "--rows", "96", "--cols", "32", "--pitch", "10,5", "--param", "cadence=100", "-p", "mass_kg=80",
        "--out", str(path), "--json",
    )
    assert code == 0
    summary = json.loads(out)
    assert summary["mat_frames"] == 150 and summary["insole_frames"] == 600 and summary["gait_events"] >= 8
    rec = load_recording(path)
    assert rec.mat_kpa.shape == (150, 96, 32)
    np.testing.assert_allclose(rec.mat_pitch_mm, [10.0, 5.0])
    assert rec.meta["params"]["cadence"] == 100.0 and rec.meta["body"]["mass_kg"] == 80.0
    ev = rec.truth["truth_events"]
    assert ev.shape[1] == 3 and set(np.unique(ev[:, 1])) == {0.0, 1.0}
    np.testing.assert_allclose(rec.truth["truth_grf_n"].max() / (80 * 9.81), 1.15, atol=0.1)

    only_insoles = tmp_path / "i.npz"
    assert run(capsys, "--scenario", "walk", "--seconds", "1", "--no-mat", "--out", str(only_insoles))[0] == 0
    rec = load_recording(only_insoles)
    assert rec.mat_kpa is None and rec.insole_t is not None and len(rec.truth["truth_t"]) == 100


def test_sensor_counts_store_what_an_uncalibrated_device_delivers(tmp_path, capsys):
    path = tmp_path / "c.npz"
    assert run(capsys, "--scenario", "quiet", "--seconds", "1", "--sensor-counts", "--out", str(path))[0] == 0
    rec = load_recording(path)
    assert rec.meta["sensor_counts"] and "nominal" in rec.meta["units"]["pressure"]
    k = rec.meta["mat_sensor"]["kpa_per_count"]
    counts = rec.mat_kpa / k
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-3)  # integer counts underneath
    true = rec.truth["truth_mat_kpa"]
    area = 8.47 * 8.47 * 1e-3
    nominal_force = rec.mat_kpa.astype(np.float64).sum(axis=(1, 2)) * area
    true_force = true.astype(np.float64).sum(axis=(1, 2)) * area
    assert np.all(np.abs(nominal_force / true_force - 1) >= 0.2)


def test_list_shows_scenarios_and_parameters(capsys):
    code, out, _ = run(capsys, "--list")
    assert code == 0 and "walk:" in out and "cadence" in out and "eyes" in out
    code, out, _ = run(capsys, "--list", "--json")
    data = json.loads(out)
    assert data["single_leg"]["params"]["side"]["choices"] == ["left", "right"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--scenario", "moonwalk", "--out", "X"], "unknown scenario 'moonwalk'; valid scenarios: quiet"),
        (["--scenario", "walk", "--param", "cadence", "--out", "X"], "KEY=VALUE"),
        (["--scenario", "walk", "--param", "speed=3", "--out", "X"], "no parameter 'speed'"),
        (["--seconds", "0", "--out", "X"], "argument --seconds: must be a number of seconds above 0"),
        (["--no-mat", "--no-insoles", "--out", "X"], "nothing to record"),
        (["--pitch", "abc", "--out", "X"], "--pitch"),
        (["--rows", "0", "--out", "X"], "argument --rows: must be a whole number from 1 to 256, got '0'"),
        ([], "--out FILE"),
        (["--pty", "--out", "X"], "choose one"),
    ],
)
def test_bad_arguments_give_one_clear_line(tmp_path, capsys, argv, message):
    argv = [str(tmp_path / a) if a == "X" else a for a in argv]
    code, out, err = run(capsys, *argv)
    assert code == (2 if "argument --" in message else 1)  # 2: the command line itself (argparse)
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_out_directory_must_exist(tmp_path, capsys):
    code, _, err = run(capsys, "--seconds", "1", "--out", str(tmp_path / "missing" / "r.npz"))
    assert code == 1 and "does not exist" in err


def test_pty_mode_is_handed_to_device_pty(monkeypatch, capsys):
    import sys
    import types

    seen = {}
    fake = types.ModuleType("device.pty")
    fake.serve = lambda args, ctx: seen.update(scenario=args.scenario, seconds=args.seconds) or 0
    monkeypatch.setitem(sys.modules, "device.pty", fake)
    import device

    monkeypatch.setattr(device, "pty", fake, raising=False)
    code, _, _ = run(capsys, "--pty", "--scenario", "walk", "--seconds", "2")
    assert code == 0 and seen == {"scenario": "walk", "seconds": 2.0}


def test_pty_mode_without_the_serial_side_says_so(monkeypatch, capsys):
    import sys

    import device

    monkeypatch.setitem(sys.modules, "device.pty", None)  # as if device/pty.py were missing
    monkeypatch.delattr(device, "pty", raising=False)
    code, _, err = run(capsys, "--pty")
    assert code == 1 and "needs device/pty.py" in err
