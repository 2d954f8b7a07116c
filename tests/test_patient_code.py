"""Patient codes are what the keypad can type: 4 to 8 digits, one rule for the CLI, the keypad and the docs.

(issue 9, defect 11)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gaitkiosk import patient_code
from gaitkiosk.cli import main
from store import open_store
from store.patients import Patient
from store.sessions import Session

ROOT = Path(__file__).resolve().parent.parent


def cli(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("code", ["P001", "123456789012", "1", "123", "12 34", "１２３４", "-123", "+1234"])
def test_codes_the_keypad_cannot_type_or_that_are_too_short_are_refused(capsys, tmp_path, code):
    rc, _, err = cli(capsys, "patients", "add", code, "--data-dir", str(tmp_path))
    assert rc == 1 and len(err.strip().splitlines()) == 1
    assert "must be 4 to 8 digits" in err and "Traceback" not in err
    with open_store(tmp_path) as st:
        assert st.patients.list() == []


@pytest.mark.parametrize("code", ["4711", "40712", "12345678", "0042"])
def test_four_to_eight_digits_are_accepted(capsys, tmp_path, code):
    rc, _, err = cli(capsys, "patients", "add", code, "--data-dir", str(tmp_path))
    assert rc == 0, err
    with open_store(tmp_path) as st:
        assert st.patients.by_code(code).code == code


def test_the_keypad_can_type_every_code_the_rule_allows():
    from ui.widgets import Keypad

    digits = {k for k in Keypad.KEYS if k.isdigit()}
    assert digits == set("0123456789")
    assert patient_code.CODE.ok("0" * patient_code.MAX_DIGITS) and not patient_code.CODE.ok("0" * (patient_code.MAX_DIGITS + 1))


def test_old_codes_are_listed_with_what_is_wrong_and_can_be_recoded_keeping_the_history(capsys, tmp_path):
    with open_store(tmp_path) as st:  # a database from before the rule
        old = st.patients.add(Patient(code="P001"))
        st.patients.add(Patient(code="77"))
        st.patients.add(Patient(code="4711"))
        session = st.sessions.add(Session(patient_id=old.id))
    rc, out, _ = cli(capsys, "patients", "list", "--data-dir", str(tmp_path), "--json")
    problems = {p["code"]: p["code_problem"] for p in json.loads(out)["patients"]}
    assert problems["4711"] is None
    assert "cannot be typed at the kiosk" in problems["P001"]
    assert "short and easy to guess" in problems["77"]
    rc, out, _ = cli(capsys, "patients", "list", "--data-dir", str(tmp_path))
    assert "gaitkiosk patients recode P001 NEW" in out

    assert cli(capsys, "patients", "recode", "P001", "4711", "--data-dir", str(tmp_path))[0] == 1  # taken
    rc, _, err = cli(capsys, "patients", "recode", "P001", "P002", "--data-dir", str(tmp_path))
    assert rc == 1 and "NEW must be 4 to 8 digits" in err
    rc, out, err = cli(capsys, "patients", "recode", "P001", "40712", "--data-dir", str(tmp_path))
    assert rc == 0, err
    with open_store(tmp_path) as st:
        patient = st.patients.by_code("40712")
        assert patient.id == old.id
        assert [s.session.id for s in st.sessions.list(patient_id=patient.id)] == [session.id]
        (entry,) = [e for e in st.audit.recent(10) if e.action == "patient.recode"]
        assert entry.subject == old.id and entry.details["old"] == "P001" and entry.details["new"] == "40712"


def test_the_docs_only_show_codes_the_keypad_can_type():
    texts = [(p.name, p.read_text()) for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]]
    found = 0
    for name, text in texts:
        for cmd, code in re.findall(r"gaitkiosk (patients add|program set|program show|patients show) (\S+)", text):
            if code in ("CODE", "OLD") or code.startswith(("CODE", "[", "`")):
                continue
            found += 1
            assert patient_code.CODE.ok(code), f"{name}: `gaitkiosk {cmd} {code}` shows a code the keypad cannot type"
    assert found, "the docs show no example code"
