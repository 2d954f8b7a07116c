"""``gaitkiosk calibrate`` end to end: real reader stack on sim:// (the virtual rig), real SQLite file.

These run in real time (the virtual device streams at 100 Hz): about 20 s in all.
"""

import json

import pytest

from gaitkiosk.cli import main

URL = "sim://mat?seed=5&patient=calcli"  # its own virtual patient: no clash with other tests' sim ports
SERIAL = "sim-mat-48x48-seed5"  # the virtual sensor of seed 5, whoever stands on it


def cli(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("calcli"))


@pytest.fixture(scope="module")
def calibrated(data_dir):
    """One equilibration through the CLI, shared by the tests below (module scope: it takes ~8 s)."""
    import io
    import sys

    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
    try:
        code = main(["calibrate", "equilibrate", URL, "--levels-kpa", "100,250", "--by", "Ana",
                     "--data-dir", data_dir, "--json"])
        out, err = sys.stdout.getvalue(), sys.stderr.getvalue()
    finally:
        sys.stdout, sys.stderr = old
    return code, json.loads(out), err


def test_equilibrate_stores_an_active_calibration(calibrated):
    code, out, err = calibrated
    assert code == 0, err
    assert out["passed"] and out["active"] and out["complete"]
    assert out["device_serial"] == SERIAL
    assert [p["procedure"] for p in out["procedures"]] == ["zero", "equilibrate"]
    assert "Step off the mat" in err and "inflate it to 250 kPa" in err  # instructions go to stderr with --json


def test_verify_and_health(capsys, data_dir, calibrated):
    code, out, err = cli(capsys, "calibrate", "verify", URL, "--weight-n", "300", "--data-dir", data_dir, "--json")
    assert code == 0, err
    v = json.loads(out)["verification"]
    assert v["calibration_id"] == calibrated[1]["calibration_id"] and abs(v["error_pct"]) < 3.0
    code, out, _ = cli(capsys, "calibrate", "health", "--data-dir", data_dir, "--json")
    assert code == 0 and json.loads(out)[0]["status"] == "ok"


def test_someone_on_the_mat_while_zeroing_keeps_the_active_calibration(capsys, data_dir, calibrated):
    code, out, err = cli(capsys, "calibrate", "zero", URL + "&misbehave=zero", "--data-dir", data_dir)
    assert code == 1
    assert "step off the mat" in err and "zero again" in err
    code, out, _ = cli(capsys, "calibrate", "list", "--data-dir", data_dir, "--json")
    rows = json.loads(out)
    assert len(rows) == 1 and rows[0]["active"] and rows[0]["id"] == calibrated[1]["calibration_id"]


def test_export_import_and_refusals(capsys, data_dir, calibrated, tmp_path):
    cal_id = calibrated[1]["calibration_id"]
    path = tmp_path / "cal.json"
    assert cli(capsys, "calibrate", "export", cal_id, "--out", str(path), "--data-dir", data_dir)[0] == 0
    # for another device: refused
    code, _, err = cli(capsys, "calibrate", "import", str(path), "--serial", "mat-B", "--data-dir", data_dir)
    assert code == 1 and "not mat-B" in err and "calibrate mat-B" in err
    # edited by hand into nonsense: refused
    data = json.loads(path.read_text())
    data["record"]["model"]["offset"] = "zero"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    code, _, err = cli(capsys, "calibrate", "import", str(bad), "--serial", SERIAL, "--data-dir", data_dir)
    assert code == 1 and "'offset'" in err and "re-run the calibration" in err
    (tmp_path / "junk.json").write_text("{not json")
    code, _, err = cli(capsys, "calibrate", "import", str(tmp_path / "junk.json"), "--serial", "x", "--data-dir", data_dir)
    assert code == 1 and "not a readable calibration file" in err
    # a good import is stored and put in force; the old one can be re-activated
    code, out, _ = cli(capsys, "calibrate", "import", str(path), "--serial", SERIAL, "--data-dir", data_dir, "--json")
    assert code == 0 and json.loads(out)["active"]
    assert cli(capsys, "calibrate", "activate", cal_id, "--data-dir", data_dir)[0] == 0
    code, out, _ = cli(capsys, "calibrate", "list", SERIAL, "--data-dir", data_dir, "--json")
    assert [r["id"] for r in json.loads(out) if r["active"]] == [cal_id]
    code, _, err = cli(capsys, "calibrate", "activate", "no-such-id", "--data-dir", data_dir)
    assert code == 1 and "no-such-id" in err


def test_usage_errors(capsys, data_dir):
    code, _, err = cli(capsys, "calibrate", "zero", "--data-dir", data_dir)
    assert code == 1 and "PORT_URL" in err
    code, _, err = cli(capsys, "calibrate", "bodyweight", URL, "--data-dir", data_dir)
    assert code == 1 and "--weight-kg" in err


def test_a_load_that_never_settles_is_refused_within_the_configured_timeout(capsys, data_dir, calibrated, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[calibration]\nstep_timeout_s = 3.0\n")
    before = json.loads(cli(capsys, "calibrate", "health", "--data-dir", data_dir, "--json")[1])[0]["verifications"]
    code, _, err = cli(capsys, "calibrate", "verify", URL + "&misbehave=unstable", "--config", str(config),
                       "--data-dir", data_dir)
    assert code == 1 and "did not settle within 3 s" in err and "% per second" in err
    code, out, _ = cli(capsys, "calibrate", "health", "--data-dir", data_dir, "--json")
    # a refused verification is not a verification: the history is unchanged
    assert json.loads(out)[0]["verifications"] == before
