"""gaitkiosk/handout.py: where a staff screen may save a PDF ([reports] in the config), and the save.

The mounts table is a file in /proc/mounts' own format (device, mount point, type, options, dump,
pass; octal escapes in paths), naming temporary directories as the sticks' mount points.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from gaitkiosk import handout
from gaitkiosk.config import default_config, load_config
from gaitkiosk.errors import ConfigError, KioskError

PDF = b"%PDF-1.3\n% a tiny stand-in\n%%EOF\n"


def esc(path: Path) -> str:
    """A path as /proc/mounts writes it (space, tab, newline, backslash as octal)."""
    return str(path).replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011").replace("\n", "\\012")


def mounts_file(tmp_path, *rows: tuple[Path, str]) -> Path:
    table = tmp_path / "mounts"
    lines = ["sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0",
             "/dev/mmcblk0p2 / ext4 rw,noatime 0 0"]
    lines += [f"/dev/sda1 {esc(point)} vfat {options} 0 0" for point, options in rows]
    table.write_text("\n".join(lines) + "\n")
    return table


def config(usb_root="", folder=""):
    c = default_config()
    c["reports"]["usb_root"] = str(usb_root)
    c["reports"]["folder"] = str(folder)
    return c


@pytest.fixture
def media(tmp_path):
    root = tmp_path / "media"
    (root / "kiosk").mkdir(parents=True)
    return root


def test_a_mounted_stick_is_offered(media, tmp_path):
    stick = media / "kiosk" / "KINGSTON"
    stick.mkdir()
    table = mounts_file(tmp_path, (stick, "rw,nosuid,nodev,relatime,uid=1000,fmask=0022"))
    found = handout.places(config(media), table)
    assert found.destinations == [handout.Destination(stick, "usb", "USB stick KINGSTON")]
    assert found.reason == ""


def test_a_stick_whose_name_has_a_space_is_read_back_from_the_octal_escape(media, tmp_path):
    stick = media / "kiosk" / "MY STICK"
    stick.mkdir()
    found = handout.places(config(media), mounts_file(tmp_path, (stick, "rw,relatime")))
    assert [d.path for d in found.destinations] == [stick]


def test_an_empty_mount_point_not_in_the_table_is_refused(media, tmp_path):
    left_behind = media / "kiosk" / "KINGSTON"  # the directory stays when the stick is pulled
    left_behind.mkdir()
    found = handout.places(config(media), mounts_file(tmp_path))
    assert found.destinations == []
    assert found.reason == (f"No USB stick is plugged in (none is mounted under {media}). "
                            "No folder is set up for reports ([reports] folder in the config).")


def test_a_mount_outside_usb_root_and_usb_root_itself_are_not_sticks(media, tmp_path):
    elsewhere = tmp_path / "mnt" / "disk"
    elsewhere.mkdir(parents=True)
    found = handout.places(config(media), mounts_file(tmp_path, (elsewhere, "rw"), (media, "rw")))
    assert found.destinations == [] and "No USB stick is plugged in" in found.reason


def test_a_read_only_stick_is_refused_with_the_reason(media, tmp_path):
    stick = media / "kiosk" / "LOCKED"
    stick.mkdir()
    found = handout.places(config(media), mounts_file(tmp_path, (stick, "ro,nosuid,nodev,relatime")))
    assert found.destinations == []
    assert f"The USB stick {stick} is read-only (its lock switch?)." in found.reason


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere: the mode check cannot fail for it")
def test_a_folder_the_kiosk_cannot_write_is_refused(tmp_path):
    locked = tmp_path / "share"
    locked.mkdir(mode=0o500)
    found = handout.places(config(folder=locked), mounts_file(tmp_path))
    assert found.destinations == [] and f"The folder {locked} is not writable by the kiosk." in found.refused


def test_a_full_place_is_refused(media, tmp_path, monkeypatch):
    stick = media / "kiosk" / "FULL"
    stick.mkdir()
    real = handout.shutil.disk_usage

    def usage(path):  # the stick's file system, as a nearly full one answers
        u = real(path)
        return type(u)(u.total, u.total - 4096, 4096) if Path(path) == stick else u

    monkeypatch.setattr(handout.shutil, "disk_usage", usage)
    found = handout.places(config(media), mounts_file(tmp_path, (stick, "rw")))
    assert found.destinations == [] and f"The USB stick {stick} is full (4 KB free)." in found.refused


def test_a_configured_folder_is_offered_beside_the_sticks(media, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    stick = media / "kiosk" / "S"
    stick.mkdir()
    found = handout.places(config(media, share), mounts_file(tmp_path, (stick, "rw")))
    assert [(d.kind, d.path) for d in found.destinations] == [("folder", share), ("usb", stick)]
    assert found.refused == []


def test_a_missing_folder_is_refused_and_never_created(tmp_path):
    share = tmp_path / "share"
    found = handout.places(config(folder=share), mounts_file(tmp_path))
    assert found.destinations == [] and f"The folder {share} does not exist" in found.reason
    assert not share.exists()


def test_a_folder_on_a_read_only_mount_is_refused(tmp_path):
    share = tmp_path / "nas" / "reports"
    share.mkdir(parents=True)
    found = handout.places(config(folder=share), mounts_file(tmp_path, (tmp_path / "nas", "ro,relatime")))
    assert found.destinations == [] and f"The folder {share} is read-only." in found.refused


def test_an_unreadable_mounts_table_is_a_reason_not_a_crash(media, tmp_path):
    found = handout.places(config(media), tmp_path / "no-such-mounts")
    assert found.destinations == [] and "cannot be read" in found.reason


def test_nothing_configured_says_so():
    found = handout.places(config(), os.devnull)
    assert found.destinations == [] and found.reason == \
        "No folder is set up for reports ([reports] folder in the config)."


# --- the file ------------------------------------------------------------------------------------

def test_file_names_from_code_date_and_kind():
    assert handout.file_name("1234", dt.date(2026, 12, 4), "session") == "P1234-2026-12-04-session.pdf"
    assert handout.file_name("../12 34", dt.date(2026, 1, 2), "exercises") == "P12-34-2026-01-02-exercises.pdf"


def test_save_writes_whole_and_never_overwrites(media, tmp_path):
    stick = media / "kiosk" / "S"
    stick.mkdir()
    (stick / "P1234-2026-12-04-session.pdf").write_bytes(b"yesterday's")
    place = handout.places(config(media), mounts_file(tmp_path, (stick, "rw"))).destinations[0]
    first = handout.save(PDF, "P1234-2026-12-04-session.pdf", place)
    second = handout.save(PDF, "P1234-2026-12-04-session.pdf", place)
    assert (first.name, second.name) == ("P1234-2026-12-04-session-2.pdf", "P1234-2026-12-04-session-3.pdf")
    assert (stick / "P1234-2026-12-04-session.pdf").read_bytes() == b"yesterday's"
    assert first.read_bytes() == PDF and second.read_bytes() == PDF
    assert sorted(p.name for p in stick.iterdir()) == [
        "P1234-2026-12-04-session-2.pdf", "P1234-2026-12-04-session-3.pdf", "P1234-2026-12-04-session.pdf"]


def test_save_never_creates_the_mount_point(media):
    gone = media / "kiosk" / "PULLED"
    with pytest.raises(KioskError, match="does not exist"):
        handout.save(PDF, "P1-2026-12-04-session.pdf", gone)
    assert not gone.exists()


def test_save_keeps_the_file_name_inside_the_folder(tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    path = handout.save(PDF, "../escape.pdf", share)
    assert path == share / "escape.pdf" and not (tmp_path / "escape.pdf").exists()


def test_a_failed_save_leaves_no_temporary_file(tmp_path, monkeypatch):
    share = tmp_path / "share"
    share.mkdir()

    def full(*_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(handout.os, "link", full)  # the disk fills as the finished file is put in place
    with pytest.raises(KioskError, match="No space left on device"):
        handout.save(PDF, "P1-2026-12-04-session.pdf", share)
    assert list(share.iterdir()) == []


def test_on_a_stick_without_hard_links_an_existing_file_is_still_kept(tmp_path, monkeypatch):
    stick = tmp_path / "vfat"
    stick.mkdir()
    (stick / "P1-2026-12-04-session.pdf").write_bytes(b"kept")

    def no_links(*_):
        raise PermissionError(1, "Operation not permitted")  # what vfat answers to link()

    monkeypatch.setattr(handout.os, "link", no_links)
    path = handout.save(PDF, "P1-2026-12-04-session.pdf", stick)
    assert path.name == "P1-2026-12-04-session-2.pdf" and path.read_bytes() == PDF
    assert (stick / "P1-2026-12-04-session.pdf").read_bytes() == b"kept"
    assert sorted(p.name for p in stick.iterdir()) == ["P1-2026-12-04-session-2.pdf", "P1-2026-12-04-session.pdf"]


def test_the_save_is_audited_with_the_staff_user(tmp_path):
    from store import open_store

    with open_store(tmp_path / "data") as st:
        handout.audit_saved(st.audit, user_id="u-1", kind="session", path=Path("/media/S/P1.pdf"), patient="1234",
                            subject="s-1")
        entry = st.audit.recent(1)[0]
    assert (entry.action, entry.user_id, entry.subject) == ("report.saved", "u-1", "s-1")
    assert entry.details == {"kind": "session", "patient": "1234", "file": "/media/S/P1.pdf"}


# --- the config keys -----------------------------------------------------------------------------

def test_reports_keys_default_and_check(tmp_path):
    assert default_config()["reports"] == {"folder": "", "usb_root": "/media"}
    good = tmp_path / "good.toml"
    good.write_text('[reports]\nfolder = "/srv/reports"\nusb_root = ""\n')
    assert load_config(good)["reports"] == {"folder": "/srv/reports", "usb_root": ""}
    bad = tmp_path / "bad.toml"
    bad.write_text('[reports]\nfolder = "reports"\n')
    with pytest.raises(ConfigError, match="reports.folder.*an absolute directory"):
        load_config(bad)
