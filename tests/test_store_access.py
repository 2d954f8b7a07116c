"""What is wrong with a database that cannot be used: damage, a read-only disk, permissions, no folder.

Each case has its own words, because each has its own remedy. Telling a
technician "damaged, restore a backup" about a healthy database on a card
the kernel remounted read-only would make them throw away every session
since that backup. A damaged file is refused before anything is written to
it, with the restore command, and is left byte-for-byte unchanged.

Real parts: a real SQLite file with a corrupted table page, a real tmpfs
remounted read-only (where this machine allows ``mount``), a real process
without write permission (a forked child that drops root).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import tmpfs

from gaitkiosk import cli
from store import open_store
from store.errors import (
    CorruptDatabaseError,
    DatabaseMissingError,
    ReadOnlyStoreError,
    StorePermissionError,
)
from store.patients import Patient

NOBODY = 65534


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fold_wal(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _damage_table(path: Path, table: str) -> None:
    """Overwrite the root page of ``table`` (the schema page stays intact)."""
    conn = sqlite3.connect(path)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", [table]).fetchone()[0]
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    start = (root - 1) * page
    data[start + 8:start + page] = b"\xde\xad\xbe\xef" * ((page - 8) // 4)
    path.write_bytes(bytes(data))


@pytest.fixture
def clinic(tmp_path) -> Path:
    data = tmp_path / "data"
    with open_store(data) as st:
        st.patients.add(Patient(code="4821"))
    _fold_wal(data / "gaitkiosk.db")
    return data


def test_a_database_whose_patients_table_is_damaged_is_refused_by_the_kiosk(clinic, capsys):
    db = clinic / "gaitkiosk.db"
    _damage_table(db, "patients")
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] != "ok"
    before = _digest(db)
    with pytest.raises(CorruptDatabaseError) as info:
        open_store(clinic, kiosk=True)
    message = str(info.value)
    assert str(db) in message and "damaged" in message and "gaitkiosk db restore" in message
    assert _digest(db) == before
    # the kiosk itself: one line naming the file and the restore command, no traceback
    assert cli.main(["run", "--simulate", "--headless", "--data-dir", str(clinic), "--no-seed"]) == 1
    err = capsys.readouterr().err
    assert "damaged" in err and "gaitkiosk db restore" in err and "Traceback" not in err
    assert err.count("\n") == 1, err
    assert _digest(db) == before


def test_db_check_names_the_damage(clinic, capsys):
    db = clinic / "gaitkiosk.db"
    _damage_table(db, "patients")
    before = _digest(db)
    code = cli.main(["db", "check", "--data-dir", str(clinic)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "FAILED" in out or "damaged" in err, (out, err)
    assert "Traceback" not in err and _digest(db) == before


def test_a_reader_that_meets_damage_says_so_in_one_line(clinic, capsys):
    _damage_table(clinic / "gaitkiosk.db", "patients")
    assert cli.main(["patients", "list", "--data-dir", str(clinic)]) == 1
    err = capsys.readouterr().err
    assert "damaged" in err and "db restore" in err and "internal error" not in err, err


def test_a_missing_data_directory_is_named(tmp_path, capsys):
    with pytest.raises(DatabaseMissingError, match="does not exist"):
        open_store(tmp_path / "not-mounted" / "kiosk", create=False)
    assert cli.main(["sessions", "list", "--data-dir", str(tmp_path / "not-mounted")]) == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and "damaged" not in err


def test_the_database_and_its_folder_are_private(tmp_path):
    data = tmp_path / "new" / "kiosk"
    with open_store(data) as st:
        st.patients.add(Patient(code="4821"))
        session = st.sessions.start(st.patients.by_code("4821").id)
        db = data / "gaitkiosk.db"
        for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), data / "gaitkiosk.db.locks" / f"{session.id}.lock"):
            assert p.stat().st_mode & 0o777 == 0o600, p
        for d in (data, data / "gaitkiosk.db.locks"):
            assert d.stat().st_mode & 0o777 == 0o700, d
        st.sessions.finish(session.id)


def test_an_old_world_readable_database_is_made_private(clinic):
    db = clinic / "gaitkiosk.db"
    db.chmod(0o644)
    with open_store(clinic):
        assert db.stat().st_mode & 0o777 == 0o600


def _in_child_as_nobody(fn) -> str:
    """Run ``fn()`` in a forked child without root; return what it raised ('' if nothing)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(r)
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            fn()
            text = ""
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            text = f"{type(exc).__name__}: {exc}"
        os.write(w, text.encode())
        os._exit(0)
    os.close(w)
    chunks = []
    while chunk := os.read(r, 65536):
        chunks.append(chunk)
    os.close(r)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode()


@pytest.fixture
def shared_tmp():
    """A folder other users can reach (pytest's own tmp_path is 0700, root's alone)."""
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="gaitkiosk-perm-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_no_permission_is_not_damage(shared_tmp):
    data = shared_tmp / "data"
    with open_store(data) as st:
        st.patients.add(Patient(code="4821"))
    _fold_wal(data / "gaitkiosk.db")
    if os.geteuid() != 0:  # as a normal user: a folder this user may not write
        data.chmod(0o500)
        try:
            with pytest.raises(StorePermissionError) as info:
                open_store(data)
            said = [f"StorePermissionError: {info.value}"]
        finally:
            data.chmod(0o700)
    else:  # root ignores modes: a child that is not root meets them
        said = []
        data.chmod(0o700)  # the kiosk's own folder: another user may not even enter it
        said.append(_in_child_as_nobody(lambda: open_store(data).close()))
        assert "no permission to enter" in said[-1], said[-1]
        data.chmod(0o755)  # may enter and read, not write
        (data / "gaitkiosk.db").chmod(0o644)
        said.append(_in_child_as_nobody(lambda: open_store(data).close()))
        assert "no permission to write" in said[-1], said[-1]
    for text in said:
        assert text.startswith("StorePermissionError"), text
        assert "not damaged" in text and "restore" not in text and "sudo -u gaitkiosk" in text


@pytest.fixture
def small_tmpfs(tmp_path):
    with tmpfs(tmp_path / "card", "16m") as mnt:
        yield mnt


def _remount(mnt: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(mnt)], check=True)


def test_a_healthy_database_on_a_read_only_card_is_not_called_damaged(small_tmpfs, tmp_path, capsys):
    data = small_tmpfs / "kiosk"
    with open_store(data) as st:
        st.patients.add(Patient(code="4821"))
    _remount(small_tmpfs, "ro")
    before = _digest(data / "gaitkiosk.db")
    with pytest.raises(ReadOnlyStoreError) as info:
        open_store(data, kiosk=True)
    message = str(info.value)
    assert "read-only file system" in message and "not damaged" in message and "restore" not in message
    assert cli.main(["sessions", "list", "--data-dir", str(data)]) == 1
    err = capsys.readouterr().err
    assert "read-only file system" in err and "not damaged" in err and "restore" not in err, err
    # the way out: a backup straight off the read-only card
    stick = tmp_path / "stick"
    stick.mkdir()
    assert cli.main(["db", "backup", "--out", str(stick / "rescue.db"), "--data-dir", str(data)]) == 0, \
        capsys.readouterr().err
    assert "not recorded in the audit log" in capsys.readouterr().out
    conn = sqlite3.connect(stick / "rescue.db")
    assert conn.execute("SELECT code FROM patients").fetchall() == [("4821",)]
    conn.close()
    assert _digest(data / "gaitkiosk.db") == before
