"""`gaitkiosk report SESSION --out FILE.pdf` (issue 11, item 7): the one-page session report.

A real headless visit (one short quiet-standing drill on the virtual patient) stores a
session; the report of it is written, its text extracted with poppler's ``pdftotext`` and
checked against the stored report's own numbers, units, sensors and calibration state.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from gaitkiosk import cli
from store import open_store

CODE = "4822"

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                   reason="poppler-utils (pdftotext, pdfinfo) not installed; .ci/run installs it")


@pytest.fixture(scope="module")
def visit(tmp_path_factory):
    """A data directory holding one real session: a 3 s quiet-standing drill, headless."""
    from gaitkiosk.config import load_config
    from gaitkiosk.demo_seed import seed_demo

    data = tmp_path_factory.mktemp("report-visit") / "data"
    with pytest.MonkeyPatch.context() as mp:  # conftest's headless_env, for a module-wide fixture
        mp.setenv("SDL_VIDEODRIVER", "dummy")
        mp.setenv("SDL_AUDIODRIVER", "dummy")
        mp.delenv("DISPLAY", raising=False)
        mp.delenv("WAYLAND_DISPLAY", raising=False)
        seed_demo(data, load_config(None), CODE)  # a scripted visit checks in as a demo patient only
        assert cli.main(["program", "set", CODE, "quiet_standing", "--data-dir", str(data)]) == 0
        assert cli.main(["run", "--simulate", "--headless", "--no-seed", "--code", CODE, "--seconds", "3",
                         "--countdown", "0.3", "--timeout", "300", "--data-dir", str(data), "--json"]) == 0
    with open_store(data, create=False) as st:
        session = st.sessions.list(limit=1)[0].session
        trials = st.trials.for_session(session.id)
    assert trials and trials[0].report, "the visit stored no analysis report"
    return data, session, trials


def report(capsys, *argv):
    code = cli.main(["report", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))


@needs_poppler
def test_the_report_shows_the_stored_numbers_on_one_page(visit, tmp_path, capsys):
    data, session, trials = visit
    out = tmp_path / "report.pdf"
    code, said, err = report(capsys, session.id[:8], "--out", str(out), "--data-dir", str(data))
    assert code == 0, err
    assert str(out) in said
    assert pages(out) == 1
    text = pdf_text(out)
    stored = trials[0].report
    sway = stored["sway"]
    assert f"{sway['ellipse95_area_mm2']:.0f}" in text and "mm²" in text
    assert f"{sway['mean_velocity_mm_s']:.1f}" in text and "mm/s" in text
    assert f"{stored['weight']['left_pct']:.0f}" in text
    assert stored["sources"]["sway"] in text  # the sensor each number comes from
    score = trials[0].results.get("score")
    assert (f"score {score:.0f} of 100" if isinstance(score, int | float) else "no score") in text
    cal = (stored.get("calibration") or trials[0].results.get("calibration"))["state"]
    assert f"calibration: {cal}" in text
    assert CODE in text and session.id[:8] in text
    assert f"Metrics version {stored['metrics_version']}" in text and "docs/metrics.md" in text
    from drills import registry

    assert f"1. {registry.get('quiet_standing').title} - {trials[0].status}" in text
    # the plot's caption gives the stored ellipse's semi-axes it was drawn from
    major, minor = sway["ellipse95_axes_mm"]
    assert f"Semi-axes {major:.1f} mm" in text and f"{minor:.1f} mm" in text


@needs_poppler
def test_clinic_name_and_logo_from_the_config(visit, tmp_path, capsys):
    data, session, _ = visit
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (60, 30), (0, 114, 178)).save(logo)
    config = tmp_path / "config.toml"
    config.write_text(f'[clinic]\nname = "Physio am Markt"\nlogo = "{logo}"\n')
    out = tmp_path / "r.pdf"
    code, _, err = report(capsys, session.id, "--out", str(out), "--data-dir", str(data), "--config", str(config))
    assert code == 0, err
    assert "Physio am Markt" in pdf_text(out)
    images = subprocess.run(["pdfimages", "-list", str(out)], capture_output=True, text=True, check=True).stdout
    assert len(images.strip().splitlines()) - 2 >= 2  # the logo and the COP plot


def test_a_missing_logo_is_a_clear_error(visit, tmp_path, capsys):
    data, session, _ = visit
    config = tmp_path / "config.toml"
    config.write_text(f'[clinic]\nlogo = "{tmp_path / "nowhere.png"}"\n')
    out = tmp_path / "r.pdf"
    code, _, err = report(capsys, session.id, "--out", str(out), "--data-dir", str(data), "--config", str(config))
    assert code == 1 and "nowhere.png does not exist" in err and "Traceback" not in err
    assert not out.exists()


def test_an_unknown_session_is_a_clear_error(visit, tmp_path, capsys):
    data, _, _ = visit
    out = tmp_path / "r.pdf"
    code, _, err = report(capsys, "ffffffff", "--out", str(out), "--data-dir", str(data))
    assert code == 1 and "ffffffff" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_a_missing_or_read_only_folder_is_refused_before_anything_is_written(visit, tmp_path, capsys):
    data, session, _ = visit
    code, _, err = report(capsys, session.id, "--out", str(tmp_path / "stick" / "r.pdf"), "--data-dir", str(data))
    assert code == 1 and "does not exist (is the USB stick mounted?)" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "stick").exists()
    if os.geteuid() != 0:  # root writes anywhere: the mode check cannot fail for it
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        code, _, err = report(capsys, session.id, "--out", str(locked / "r.pdf"), "--data-dir", str(data))
        assert code == 1 and "not writable" in err


def test_an_old_report_is_replaced_whole_and_no_temporary_file_stays(visit, tmp_path, capsys):
    data, session, _ = visit
    out = tmp_path / "r.pdf"
    out.write_bytes(b"old")
    code, said, err = report(capsys, session.id, "--out", str(out), "--data-dir", str(data), "--json")
    assert code == 0, err
    assert json.loads(said)["file"] == str(out)
    assert out.read_bytes().startswith(b"%PDF-") and out.read_bytes().rstrip().endswith(b"%%EOF")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.pdf"]
