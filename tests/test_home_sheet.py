"""`gaitkiosk program sheet CODE --out FILE.pdf` (issue 11, item 7): the home-exercise sheet.

Patients and programs go into a real SQLite file through the CLI; the sheet's text is read back
with poppler's ``pdftotext`` and its pictures counted with ``pdfimages -list``.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from drills import registry
from drills.base import Drill
from gaitkiosk import cli
from store import open_store

CODE = "4822"
PROGRAM = ("quiet_standing:eyes=both,duration_s=45", "tandem_walk*2", "rhythmic_shift:axis=ap,cycles=12",
           "weight_symmetry:posture=sit_to_stand,target_left_pct=60")

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                   reason="poppler-utils (pdftotext, pdfimages) not installed; .ci/run installs it")


def run(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def images_per_page(path: Path) -> list[int]:
    listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    return [int(row.split()[0]) for row in listing.splitlines()[2:] if row.strip()]


def flat(text: str) -> str:
    """pdftotext's layout breaks lines; the words in order, one space apart."""
    return " ".join(text.split())


@pytest.fixture
def data(tmp_path, capsys):
    d = str(tmp_path / "data")
    assert run(capsys, "patients", "add", CODE, "--data-dir", d)[0] == 0
    assert run(capsys, "program", "set", CODE, *PROGRAM, "--data-dir", d)[0] == 0
    return d


# --- every drill says how it is done at home ---------------------------------------------------

def _choices(cls) -> list[dict]:
    """Every combination of the drill's choice parameters (stance, eyes, posture, axis...)."""
    chosen = [(p.name, p.choices) for p in cls.PARAMS if p.choices]
    names = [n for n, _ in chosen]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(c for _, c in chosen))] or [{}]


def missing_home_words(cls) -> list[str]:
    """What a drill lacks for the sheet: instructions for any of its choices, or a "how much" for a
    drill that ends on a count (no planned length)."""
    missing = []
    for params in _choices(cls):
        drill = cls(params)
        words = drill.home_instructions()
        if not isinstance(words, str) or len(words.split()) < 8:
            missing.append(f"{cls.name} {params}: no home instructions")
        if drill.planned_duration() is None and not drill.home_details():
            missing.append(f"{cls.name} {params}: ends on a count but does not say how many")
    return missing


def test_every_registered_drill_has_home_instructions_for_each_of_its_choices():
    assert registry.names()
    assert [m for name in registry.names() for m in missing_home_words(registry.get(name))] == []


def test_the_check_finds_a_drill_without_home_words():
    class Bare(Drill):
        name = "bare"
        title = "Bare"
        INSTRUCTION = "Stand on the mat."

    assert missing_home_words(Bare) == ["bare {}: no home instructions",
                                        "bare {}: ends on a count but does not say how many"]


def test_home_words_follow_the_parameters():
    stand = registry.create("quiet_standing", {"stance": "tandem", "eyes": "closed"})
    assert "right in front of the other" in stand.home_instructions() and "Close your eyes" in stand.home_instructions()
    assert stand.home_details() == ["eyes closed"]
    shift = registry.create("rhythmic_shift", {"axis": "ap"})
    assert "towards your toes" in shift.home_instructions()
    assert registry.create("weight_symmetry", {"target_left_pct": 40}).home_details() == [
        "a little more weight on your right foot (about 60 %)"]


# --- the sheet -----------------------------------------------------------------------------------

@needs_poppler
def test_the_sheet_names_each_drill_with_its_parameters_in_words_and_a_picture(data, tmp_path, capsys):
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (60, 30), (0, 114, 178)).save(logo)
    config = tmp_path / "config.toml"
    config.write_text(f'[clinic]\nname = "Physio am Markt"\nlogo = "{logo}"\n')
    out = tmp_path / "sheet.pdf"
    code, said, err = run(capsys, "program", "sheet", CODE, "--out", str(out), "--data-dir", data,
                          "--config", str(config))
    assert code == 0, err
    assert str(out) in said and "4 drills" in said
    text = flat(pdf_text(out))
    assert "Physio am Markt" in text and f"Patient {CODE}" in text
    import datetime as dt

    today = dt.date.today()
    assert f"{today.day} {today:%B %Y}" in text
    for name in ("quiet_standing", "tandem_walk", "rhythmic_shift", "weight_symmetry"):
        assert registry.get(name).title in text
    # parameters in words: 45 s twice (eyes both) = 1½ minutes; repeats; counts; the weight share
    assert "1. Stand still 1½ minutes; first half with your eyes open, second half with your eyes closed; do it once" \
        in text
    assert "2. Heel-to-toe walk 10 steps; do it twice" in text
    assert "12 times there and back, about 3 seconds each time" in text and "towards your toes" in text
    assert "a little more weight on your left foot (about 60 %)" in text and "Sit on a firm chair" in text
    assert text.count("Stop and sit down if you feel dizzy or have pain.") >= 4
    assert "Page 1 of 1" in text
    # one picture per drill (repeats are said, not printed twice), plus the logo
    assert len(images_per_page(out)) == len(PROGRAM) + 1


@needs_poppler
def test_a_long_program_runs_onto_more_pages_each_numbered(tmp_path, capsys):
    d = str(tmp_path / "data")
    assert run(capsys, "patients", "add", CODE, "--data-dir", d)[0] == 0
    every = list(registry.names())
    assert run(capsys, "program", "set", CODE, *every, "--data-dir", d)[0] == 0
    out = tmp_path / "sheet.pdf"
    code, _, err = run(capsys, "program", "sheet", CODE, "--out", str(out), "--data-dir", d)
    assert code == 0, err
    text = flat(pdf_text(out))
    pages = images_per_page(out)
    assert max(pages) >= 2 and len(pages) == len(every)
    assert f"Page 1 of {max(pages)}" in text and f"Page {max(pages)} of {max(pages)}" in text
    for name in every:
        assert registry.get(name).title in text


@needs_poppler
def test_the_sheet_uses_todays_level_not_only_the_prescription(data, tmp_path, capsys):
    """The sheet prints the plan's parameters: what `program show` lists for today."""
    import json

    code, said, _ = run(capsys, "program", "show", CODE, "--data-dir", data, "--json")
    today = json.loads(said)["today"]
    assert today[0]["params"]["duration_s"] == 45
    out = tmp_path / "sheet.pdf"
    assert run(capsys, "program", "sheet", CODE, "--out", str(out), "--data-dir", data)[0] == 0
    assert "Stand with your feet apart" in flat(pdf_text(out))  # today's stance (the default, apart)


# --- refusals: one line, non-zero, nothing left behind ------------------------------------------

def _one_line_error(code, err):
    assert code != 0
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


def test_an_unknown_code_is_one_line_and_writes_nothing(data, tmp_path, capsys):
    out = tmp_path / "sheet.pdf"
    code, _, err = run(capsys, "program", "sheet", "9999", "--out", str(out), "--data-dir", data)
    _one_line_error(code, err)
    assert "no patient with code '9999'" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_a_patient_without_a_program_is_one_line(tmp_path, capsys):
    d = str(tmp_path / "data")
    assert run(capsys, "patients", "add", "5555", "--data-dir", d)[0] == 0
    code, _, err = run(capsys, "program", "sheet", "5555", "--out", str(tmp_path / "s.pdf"), "--data-dir", d)
    _one_line_error(code, err)
    assert "5555 has no program" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_an_archived_patient_gets_no_sheet(data, tmp_path, capsys):
    with open_store(data, create=False) as st:
        p = st.patients.by_code(CODE)
        st.patients.update(dataclasses.replace(p, archived=True))
    code, _, err = run(capsys, "program", "sheet", CODE, "--out", str(tmp_path / "s.pdf"), "--data-dir", data)
    _one_line_error(code, err)
    assert f"patient {CODE} is archived" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_a_bad_out_is_refused_before_anything_is_read(data, tmp_path, capsys):
    code, _, err = run(capsys, "program", "sheet", CODE, "--out", str(tmp_path / "stick" / "s.pdf"), "--data-dir", data)
    _one_line_error(code, err)
    assert "does not exist (is the USB stick mounted?)" in err and not (tmp_path / "stick").exists()
    code, _, err = run(capsys, "program", "sheet", CODE, "--out", str(tmp_path), "--data-dir", data)
    _one_line_error(code, err)
    assert "is a directory" in err
    if os.geteuid() != 0:  # root writes anywhere: the mode check cannot fail for it
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        code, _, err = run(capsys, "program", "sheet", CODE, "--out", str(locked / "s.pdf"), "--data-dir", data)
        _one_line_error(code, err)
        assert "not writable" in err and list(locked.iterdir()) == []
    assert run(capsys, "program", "sheet", CODE, "--data-dir", data)[0] == 2  # --out is required


def test_an_old_sheet_is_replaced_whole_and_no_temporary_file_stays(data, tmp_path, capsys):
    out = tmp_path / "s.pdf"
    out.write_bytes(b"old")
    assert run(capsys, "program", "sheet", CODE, "--out", str(out), "--data-dir", data)[0] == 0
    assert out.read_bytes().startswith(b"%PDF-") and out.read_bytes().rstrip().endswith(b"%%EOF")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "s.pdf"]
