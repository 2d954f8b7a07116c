"""Where a staff screen may save a PDF for the patient or the file, and saving it there.

Two kinds of place (``[reports]`` in the config, docs/configuration.md): a configured folder
(a network share, say) and USB sticks mounted below ``usb_root``. A stick counts only when its
directory is a mount point in the mounts table (``/proc/mounts``): an empty mount point left
behind when a stick was pulled is a directory on the kiosk's own card, and a PDF "saved" there
would never reach the patient. A place that is read-only, not writable or full is refused with
the reason in words, for the screen to show.

:func:`places` answers where; :func:`save` writes a PDF whole (``pdf_page.write_whole``) under
a name from :func:`file_name`, never over an existing file; :func:`audit_saved` is the audit
entry the screen logs with the staff user.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

MOUNTS = "/proc/mounts"
# A sheet with its pictures is well under 100 KB; a place with less than this left is full.
MIN_FREE_BYTES = 1 << 20
MAX_SUFFIX = 99  # P1234-2026-12-04-session-99.pdf: past that, something is wrong with the folder


@dataclass(frozen=True)
class Destination:
    path: Path
    kind: str  # "folder" or "usb"
    label: str  # for a button: "USB stick KINGSTON", "folder /srv/reports"


@dataclass
class Places:
    """Where a PDF may go now, and why each other place cannot take one."""

    destinations: list[Destination] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # one sentence each

    @property
    def reason(self) -> str:
        """Why nothing can be saved (empty when something can)."""
        return "" if self.destinations else " ".join(self.refused)


@dataclass(frozen=True)
class Mount:
    point: str
    options: tuple[str, ...]

    @property
    def read_only(self) -> bool:
        return "ro" in self.options


_ESCAPE = re.compile(r"\\([0-7]{3})")


def parse_mounts(text: str) -> list[Mount]:
    """The mounts table (``/proc/mounts``: device, mount point, type, options, dump, pass per line;
    a space, tab, newline or backslash in a path written as octal ``\\040``...). A point mounted
    twice is the later mount (the one on top)."""
    found: dict[str, Mount] = {}
    for row in text.splitlines():
        parts = row.split()
        if len(parts) < 4:
            continue
        point = _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), parts[1])
        found.pop(point, None)
        found[point] = Mount(os.path.normpath(point), tuple(parts[3].split(",")))
    return list(found.values())


def places(config: dict, mounts: str | os.PathLike | None = None) -> Places:
    """Where a PDF may be saved now under ``config`` (``[reports]``), reading the mounts table from
    ``mounts`` (default :data:`MOUNTS`, looked up at each call)."""
    out = Places()
    mounts = MOUNTS if mounts is None else mounts
    reports = config.get("reports") or {}
    try:
        table = parse_mounts(Path(mounts).read_text(encoding="utf-8", errors="replace"))
    except OSError as exc:
        table = []
        out.refused.append(f"The list of mounted drives ({mounts}) cannot be read: {exc.strerror}.")
    folder = reports.get("folder") or ""
    if folder:
        _offer(out, Destination(Path(folder), "folder", f"folder {folder}"), _mount_of(folder, table))
    root = reports.get("usb_root") or ""
    if root:
        sticks = [m for m in table if _below(m.point, root)]
        for m in sorted(sticks, key=lambda m: m.point):
            _offer(out, Destination(Path(m.point), "usb", f"USB stick {Path(m.point).name}"), m)
        if not sticks:
            out.refused.append(f"No USB stick is plugged in (none is mounted under {root}).")
    if not folder:
        out.refused.append("No folder is set up for reports ([reports] folder in the config).")
    return out


def _below(point: str, root: str) -> bool:
    root = os.path.normpath(root)
    return point != root and point.startswith(root.rstrip("/") + "/")


def _mount_of(path: str, table: list[Mount]) -> Mount | None:
    """The mount holding ``path``: the longest mount point it is below."""
    path = os.path.normpath(path)
    best = None
    for m in table:
        if (path == m.point or _below(path, m.point)) and (best is None or len(m.point) > len(best.point)):
            best = m
    return best


def _offer(out: Places, place: Destination, mount: Mount | None) -> None:
    why = _refusal(place, mount)
    if why:
        out.refused.append(why)
    else:
        out.destinations.append(place)


def _refusal(place: Destination, mount: Mount | None) -> str:
    what = "The USB stick" if place.kind == "usb" else "The folder"
    where = f"{what} {place.path}"
    if not place.path.is_dir():
        return f"{where} does not exist (is the network share mounted?)." if place.kind == "folder" \
            else f"{where} is gone (was the stick pulled out?)."
    try:
        flags = os.statvfs(place.path).f_flag
        free = shutil.disk_usage(place.path).free
    except OSError as exc:
        return f"{where} cannot be read: {exc.strerror}."
    if (mount is not None and mount.read_only) or flags & os.ST_RDONLY:
        return f"{where} is read-only" + (" (its lock switch?)." if place.kind == "usb" else ".")
    if not os.access(place.path, os.W_OK | os.X_OK):
        return f"{where} is not writable by the kiosk."
    if free < MIN_FREE_BYTES:
        return f"{where} is full ({free // 1024} KB free)."
    return ""


def file_name(patient_code: str, on_date, kind: str) -> str:
    """``P1234-2026-12-04-session.pdf``: the patient's code, the date and what the PDF is.

    Anything but letters, digits and ``-`` in the code or kind becomes ``-`` (a name every stick's
    file system takes)."""
    def safe(text: str) -> str:
        return re.sub(r"[^A-Za-z0-9-]+", "-", str(text)).strip("-") or "x"

    return f"P{safe(patient_code)}-{on_date.isoformat()}-{safe(kind)}.pdf"


def save(pdf_bytes: bytes, filename: str, destination: Destination | str | os.PathLike) -> Path:
    """Write ``pdf_bytes`` whole into ``destination`` as ``filename`` and return the file's path.

    An existing file is never replaced: the name gets ``-2``, ``-3``... The destination is never
    created (a missing stick or share is an error, not a new directory on the kiosk's card).
    """
    from gaitkiosk import pdf_page
    from gaitkiosk.errors import KioskError

    folder = Path(destination.path if isinstance(destination, Destination) else destination)
    if not folder.is_dir():
        raise KioskError(f"cannot save {filename}: {folder} does not exist (is the USB stick still plugged in?)")
    name = Path(filename).name  # a file name, never a path out of the folder
    stem, suffix = os.path.splitext(name)
    for n in range(1, MAX_SUFFIX + 1):
        target = folder / (name if n == 1 else f"{stem}-{n}{suffix}")
        if os.path.lexists(target):
            continue
        try:
            return pdf_page.write_whole(target, pdf_bytes, replace=False)
        except FileExistsError:
            continue  # made by someone else meanwhile: the next number
        except OSError as exc:
            raise KioskError(f"cannot save {name} to {folder}: {exc.strerror or exc}") from None
    raise KioskError(f"cannot save {name} to {folder}: {stem}-2 to {stem}-{MAX_SUFFIX} are all taken")


def audit_saved(audit, *, user_id: str | None, kind: str, path: Path, patient: str, subject: str = "") -> None:
    """The audit entry for a saved PDF (``audit``: the store's ``st.audit``), with the staff user."""
    audit.log("report.saved", user_id=user_id, subject=subject,
              details={"kind": kind, "patient": patient, "file": str(path)})
