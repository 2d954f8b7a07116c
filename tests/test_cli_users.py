"""`gaitkiosk users` on a real SQLite file: PINs read twice (stdin lines, or without echo on a real
pseudo-terminal), list, deactivate/activate, new PIN, and the audit entries each change writes."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import sys
import time

import pytest

from gaitkiosk.cli import main
from store import open_store


def cli(capsys, monkeypatch, *args, stdin: str = ""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def data(tmp_path):
    return str(tmp_path / "data")


def test_add_list_deactivate_activate_and_audit(capsys, monkeypatch, data):
    code, out, err = cli(capsys, monkeypatch, "users", "add", "Ann Berg", "--role", "therapist", "--data-dir", data,
                         stdin="482913\n482913\n")
    assert code == 0, err
    assert "482913" not in out and "added therapist Ann Berg" in out
    assert cli(capsys, monkeypatch, "users", "add", "bob", "--role", "technician", "--data-dir", data,
               stdin="1234\n1234\n")[0] == 0
    code, out, _ = cli(capsys, monkeypatch, "users", "list", "--data-dir", data, "--json")
    listed = json.loads(out)["users"]
    assert [(u["name"], u["role"], u["active"]) for u in listed] == [("Ann Berg", "therapist", True),
                                                                      ("bob", "technician", True)]
    assert all("pin" not in key for u in listed for key in u)
    assert cli(capsys, monkeypatch, "users", "deactivate", "bob", "--data-dir", data)[0] == 0
    code, out, _ = cli(capsys, monkeypatch, "users", "list", "--data-dir", data)
    assert code == 0 and "bob" in out and "deactivated" in out
    with open_store(data) as st:
        assert st.users.verify("Ann Berg", "482913").name == "Ann Berg"
        assert st.users.verify("bob", "1234") is None  # deactivated: no login
        bob = st.users.by_name("bob")
        entries = st.audit.recent()
    assert [e.action for e in entries][:3] == ["user.deactivate", "user.add", "user.add"]
    assert entries[0].subject == bob.id and entries[0].details["name"] == "bob"
    assert entries[0].details["os_user"] and entries[0].details["by"] == "gaitkiosk users deactivate"
    code, out, _ = cli(capsys, monkeypatch, "users", "deactivate", "bob", "--data-dir", data)
    assert code == 0 and "already deactivated" in out
    assert cli(capsys, monkeypatch, "users", "activate", "bob", "--data-dir", data)[0] == 0
    with open_store(data) as st:
        assert st.users.verify("bob", "1234").name == "bob"
        assert [e.action for e in st.audit.recent()][:2] == ["user.activate", "user.deactivate"]


def test_new_pin_replaces_the_old_one(capsys, monkeypatch, data):
    cli(capsys, monkeypatch, "users", "add", "ann", "--role", "therapist", "--data-dir", data, stdin="1111\n1111\n")
    code, out, err = cli(capsys, monkeypatch, "users", "pin", "ann", "--data-dir", data, stdin="2222\n2222\n")
    assert code == 0, err
    with open_store(data) as st:
        assert st.users.verify("ann", "1111") is None
        assert st.users.verify("ann", "2222").name == "ann"
        assert st.audit.recent()[0].action == "user.pin"


@pytest.mark.parametrize("args, stdin, words", [
    (("add", "ann", "--role", "therapist"), "1234\n4321\n", "the two PINs differ"),
    (("add", "ann", "--role", "therapist"), "12ab\n12ab\n", "a PIN is 4 to 8 digits"),
    (("add", "ann", "--role", "therapist"), "123\n123\n", "a PIN is 4 to 8 digits"),
    (("add", "ann", "--role", "therapist"), "1234\n", "give the PIN twice"),
    (("add", " ann", "--role", "therapist"), "1234\n1234\n", "without spaces"),
    (("add", "x" * 16, "--role", "therapist"), "1234\n1234\n", "at most 15"),
    (("deactivate", "nobody"), "", "no staff user named 'nobody'"),
    (("pin", "nobody"), "1234\n1234\n", "no staff user named 'nobody'"),
])
def test_bad_input_is_one_line_and_stores_nothing(capsys, monkeypatch, data, args, stdin, words):
    open_store(data).close()  # an empty database, so every refusal is the command's own
    code, out, err = cli(capsys, monkeypatch, "users", *args, "--data-dir", data, stdin=stdin)
    assert code == 1 and words in err and err.count("\n") == 1 and "Traceback" not in err
    assert "1234" not in err + out
    code, out, _ = cli(capsys, monkeypatch, "users", "list", "--data-dir", data, "--json")
    assert json.loads(out)["users"] == []


def test_unknown_role_and_existing_name_are_refused(capsys, monkeypatch, data):
    code, _, err = cli(capsys, monkeypatch, "users", "add", "ann", "--role", "admin", "--data-dir", data)
    assert code == 2 and "therapist" in err
    cli(capsys, monkeypatch, "users", "add", "ann", "--role", "therapist", "--data-dir", data, stdin="1234\n1234\n")
    code, _, err = cli(capsys, monkeypatch, "users", "add", "ann", "--role", "technician", "--data-dir", data,
                       stdin="9999\n9999\n")
    assert code == 1 and "already exists" in err and "users pin ann" in err
    with open_store(data) as st:
        assert st.users.verify("ann", "1234").role == "therapist"


def _read_until(fd, want: bytes, timeout: float = 30.0) -> bytes:
    """What the terminal showed until ``want`` appeared (or the child closed it)."""
    seen, end = b"", time.monotonic() + timeout
    while want not in seen and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child exited and closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    return seen


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs pseudo-terminals (POSIX)")
def test_pin_on_a_terminal_is_asked_twice_and_never_echoed(data):
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command with a real terminal as its stdin and controlling tty
        os.execv(sys.executable, [sys.executable, "-m", "gaitkiosk", "users", "add", "ann", "--role", "therapist",
                                  "--data-dir", data])
    try:
        shown = _read_until(fd, b"PIN (4 to 8 digits): ")
        assert b"PIN (4 to 8 digits): " in shown, shown
        os.write(fd, b"583920\n")
        shown += _read_until(fd, b"PIN again: ")
        assert b"PIN again: " in shown, shown
        os.write(fd, b"583920\n")
        shown += _read_until(fd, b"added therapist ann")
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, shown
    assert b"583920" not in shown  # the terminal never echoed the PIN
    with open_store(data) as st:
        assert st.users.verify("ann", "583920").name == "ann"
