"""What every printed page shares (the session report, the home-exercise sheet): the A4 page with
the clinic's letterhead in fpdf2's core font, the configured logo checked, and the file written
whole. Page content lives in ``session_pdf`` and ``home_sheet``; the commands in ``commands/``.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

MARGIN_MM = 15


def latin(text: str) -> str:
    """The PDF's core font holds Latin-1 only (mm², %, ä, ½); anything else becomes its nearest words."""
    return text.replace("—", "-").replace("–", "-").replace("≤", "<=").replace("≥", ">=") \
        .replace("’", "'").encode("latin-1", "replace").decode("latin-1")


def new_pdf(*, page_breaks: bool = False):
    """An A4 document (mm) with the house margins and its first page added."""
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(page_breaks, margin=MARGIN_MM + 5)
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.add_page()
    return pdf


def text_width(pdf) -> float:
    return pdf.w - 2 * MARGIN_MM


def line(pdf, text: str, size: float = 9, style: str = "", h: float = 4.6, width: float | None = None) -> None:
    """A paragraph across the page (or ``width`` mm from the left margin), wrapped."""
    pdf.set_font("Helvetica", style, size)
    pdf.multi_cell(width or text_width(pdf), h, latin(text), new_x="LMARGIN", new_y="NEXT")


def letterhead(pdf, clinic: str, logo: str, title: str, subline: str) -> None:
    """The clinic's name and logo (top right), the page's title and one line saying whose and when."""
    if logo:
        pdf.image(logo, x=pdf.w - MARGIN_MM - 30, y=12, h=16)
    room = text_width(pdf) - (34 if logo else 0)  # the name never runs under the logo
    if clinic:
        line(pdf, clinic, 14, "B", 7, room)
    line(pdf, title, 12, "B", 6, room)
    line(pdf, subline, 9, width=room)


def clinic_of(config: dict) -> dict:
    """``[clinic]`` with its logo checked (``checked_logo``)."""
    clinic = dict(config.get("clinic") or {})
    clinic["logo"] = checked_logo(clinic.get("logo") or "")
    return clinic


def checked_logo(path: str) -> str:
    """The configured logo, checked: a clinic that set one expects it on the page, not a blank."""
    from gaitkiosk.errors import ConfigError

    if not path:
        return ""
    p = Path(path).expanduser()
    if not p.is_file():
        raise ConfigError(f"config key 'clinic.logo': the logo {p} does not exist (fix the path or set it to \"\")")
    if p.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise ConfigError(f"config key 'clinic.logo': {p} is not a .png or .jpg file")
    return str(p)


def target(text: str) -> Path:
    """``--out`` checked before anything is read: its directory must exist and take a new file.

    Nothing is created on the way: a report meant for a USB stick that is not mounted would
    otherwise land on the kiosk's SD card under the empty mount point's name.
    """
    from gaitkiosk.errors import UsageError

    if not text.strip():
        raise UsageError("--out is empty: give the .pdf file to write")
    out = Path(text).expanduser()
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory: give the .pdf file to write")
    folder = out.parent
    if not folder.is_dir():
        raise UsageError(f"--out {out}: the directory {folder} does not exist (is the USB stick mounted?)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: the directory {folder} is not writable (a read-only stick, or its owner?)")
    return out


def write_whole(out: Path, data: bytes, *, replace: bool = True) -> Path:
    """A temporary file beside the target, then a rename: the target is either the old file or the
    whole new PDF, never half of one (a full stick, a pulled cable).

    ``replace=False``: an existing ``out`` is kept and FileExistsError raised, also when another
    writer makes it meanwhile (a hard link cannot land on an existing name; on file systems
    without hard links, FAT sticks, the name is checked just before the rename).
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        if replace:
            os.replace(tmp, out)
        else:
            _rename_new(tmp, out)
        _sync_dir(out.parent)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return out


# What link() says on a file system without hard links (vfat and exfat sticks: EPERM).
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS}


def _rename_new(tmp: str, out: Path) -> None:
    try:
        os.link(tmp, out)  # FileExistsError when the name is taken
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        if os.path.lexists(out):  # no hard links here: check, then rename
            raise FileExistsError(17, "File exists", str(out)) from None
        os.rename(tmp, out)
        return
    os.unlink(tmp)


def _sync_dir(folder: Path) -> None:
    """The rename itself on the medium before the screen says "saved" (a stick pulled at once)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the data itself was synced
    finally:
        os.close(fd)
