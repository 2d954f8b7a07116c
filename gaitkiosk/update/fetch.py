"""Updates from the clinic's sync server: ask which release is offered, download it (resumably),
check it like any bundle, and stage it for ``gaitkiosk update apply --server`` (docs/install.md,
"Update from the sync server").

The kiosk asks with its own token (sync.json, ``gaitkiosk sync enrol``) over the enrolment's TLS
(CA-verified or pinned: sync/transport.py). The server is **not** trusted: a download is staged
only after the bundle check a USB bundle gets (gaitkiosk/update/bundle.py: the signature with
this unit's keys in /etc/gaitkiosk/keys, every member's hash) and the downgrade check, and
``apply`` checks it once more. The SHA-256 the server names only tells a cut or damaged download
(discarded, fetched again) from a whole one.

Where (below the kiosk's data directory, which the kiosk's user owns, so its sync worker can
stage in the background)::

    releases/gaitkiosk-X.Y.Z.tar.<sha256 prefix>.part   a download under way: continued from its size
    releases/gaitkiosk-X.Y.Z.tar                         checked and staged (one at a time)

A cut download (network, power, kill -9) continues from the bytes on disk with ``Range: bytes=N-``
(and ``If-Range`` the bundle's SHA-256, so a part of other bytes is never continued).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gaitkiosk.update import bundle as bundlemod
from gaitkiosk.update.layout import fsync_dir
from gaitkiosk.update.transaction import UpdateError

STAGE_DIR = "releases"
PIECE_BYTES = 64 * 1024  # written, and asked of the bandwidth cap, piece by piece


class ServerUnreachable(UpdateError):
    """The sync server did not answer; the unit keeps running its version."""


@dataclass(frozen=True)
class Offer:
    version: str
    bytes: int
    sha256: str
    pinned: bool
    path: str


def stage_dir(data_dir: Path) -> Path:
    return Path(data_dir) / STAGE_DIR


def staged(data_dir: Path) -> Path | None:
    """The staged bundle (checked when it was staged; ``apply`` checks it again), or None."""
    found = []
    d = stage_dir(data_dir)
    for f in d.glob("gaitkiosk-*.tar") if d.is_dir() else ():
        m = bundlemod.VERSION_RE.match(f.name[len("gaitkiosk-"):-len(".tar")])
        if m:
            found.append((tuple(int(g) for g in m.groups()), f))
    return max(found)[1] if found else None


def client(data_dir: Path, version: str, timeout: float = 30.0):
    """An HTTP client to the enrolled server with this kiosk's token, saying it runs ``version``."""
    from sync import enrolment, transport
    from sync.errors import SyncError

    try:
        enrolled = enrolment.load(Path(data_dir))
    except SyncError as exc:
        raise UpdateError(str(exc)) from None
    if enrolled is None:
        raise UpdateError(f"this unit is not enrolled with a sync server (no {enrolment.path_in(data_dir)}): "
                          "gaitkiosk sync enrol URL CODE, or update from a FILE or --usb")
    return transport.client(enrolled.url, token=enrolled.token, ca_pem=enrolled.ca_pem, pin=enrolled.pin_sha256,
                            timeout=timeout, version=version or "")


def ask(http, running: str | None) -> Offer | None:
    """What the server offers this kiosk's clinic (None: nothing published)."""
    import httpx

    try:
        answer = http.get("/v1/releases/latest")
    except (httpx.TransportError, OSError) as exc:
        raise _unreachable(http, exc, running) from None
    if answer.status_code == 404 and _error(answer) == "no_release":
        return None
    _refused_unless(answer, 200)
    try:
        doc = answer.json()
        offer = Offer(doc["version"], int(doc["bytes"]), str(doc["sha256"]), bool(doc["pinned"]), doc["path"])
        bundlemod.version_key(offer.version)
    except (ValueError, KeyError, TypeError, bundlemod.BundleError):
        raise UpdateError("the sync server's answer about releases is not readable; nothing was changed") from None
    if not offer.path.startswith("/v1/releases/") or len(offer.sha256) != 64 or offer.bytes <= 0:
        raise UpdateError("the sync server's answer about releases is not readable; nothing was changed")
    return offer


def newer(offer: Offer, running: str | None) -> bool:
    return running is None or bundlemod.version_key(offer.version) > bundlemod.version_key(running)


def fetch(updater, data_dir: Path, http, *, throttle: Callable[[int], None] | None = None) -> dict:
    """Ask, download what is offered if it is newer, check it with this unit's keys, stage it.

    The result's ``result``: "staged", "already staged", "up to date". An offer older than the
    running version is refused (UpdateError), as a bundle from a stick would be."""
    started = time.monotonic()
    running = updater.current()
    offer = ask(http, running)
    if offer is None:
        return {"result": "up to date", "running": running, "offered": None,
                "reason": "no release is published on the server"}
    if offer.version == running:
        return {"result": "up to date", "running": running, "offered": offer.version}
    if not newer(offer, running):
        raise UpdateError(f"the sync server offers {offer.version}, older than the running {running}: refused "
                          "(downgrades are never installed; to go back, use `gaitkiosk update rollback`)")
    updater.keys()  # no trusted key: say so before downloading anything
    d = stage_dir(data_dir)
    _make_dir(d, data_dir)
    with _one_download(d):
        return _fetch(updater, http, offer, d, running, throttle, started)


def _fetch(updater, http, offer: Offer, d: Path, running: str | None, throttle, started: float) -> dict:
    final = d / f"gaitkiosk-{offer.version}.tar"
    if final.is_file() and _sha256(final) == offer.sha256:
        b = _check(updater, final, offer)
        return {"result": "already staged", "running": running, "offered": offer.version, "file": str(final),
                "signed_by": b.signed_by, "bytes": offer.bytes, "resumed_from": offer.bytes, "received": 0,
                "seconds": time.monotonic() - started}
    part, resumed_from, received = download(http, offer, d, throttle=throttle)
    b = _check(updater, part, offer)
    os.replace(part, final)
    fsync_dir(d)
    for old in d.iterdir():  # one staged bundle: the older ones and other downloads go
        if old != final and old.name.startswith("gaitkiosk-"):
            old.unlink(missing_ok=True)
    return {"result": "staged", "running": running, "offered": offer.version, "file": str(final),
            "signed_by": b.signed_by, "bytes": offer.bytes, "resumed_from": resumed_from, "received": received,
            "seconds": time.monotonic() - started}


@contextlib.contextmanager
def _one_download(d: Path):
    """One download at a time into ``d`` (the kiosk's own fetcher and a technician's fetch): an flock
    on ``d/lock``, which a killed process releases by itself. Taken on a read-only descriptor, so a
    lock file root made does not lock the kiosk's user out."""
    path = d / "lock"
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UpdateError("another download of a release is under way (the kiosk's own, or another "
                              "`gaitkiosk update fetch`): try again when it is done (`gaitkiosk update check`)") from None
        yield
    finally:
        os.close(fd)


def download(http, offer: Offer, into: Path, *, throttle: Callable[[int], None] | None = None) -> tuple[Path, int, int]:
    """The offered bundle as ``into/…part``, whole and matching its SHA-256: (file, resumed from, bytes received)."""
    import httpx

    part = into / f"gaitkiosk-{offer.version}.tar.{offer.sha256[:16]}.part"
    have = part.stat().st_size if part.is_file() else 0
    if have > offer.bytes:
        part.unlink()
        have = 0
    resumed_from, received = have, 0
    if have < offer.bytes:
        headers = {"Range": f"bytes={have}-", "If-Range": f'"{offer.sha256}"'} if have else {}
        try:
            with http.stream("GET", offer.path, headers=headers) as answer:
                if answer.status_code == 200:
                    have = resumed_from = 0  # the server sends it whole: start again
                elif answer.status_code == 206:
                    first = answer.headers.get("content-range", "").removeprefix("bytes ").split("-")[0]
                    if first != str(have):
                        raise UpdateError(f"the sync server sent bytes from {first!r}, not from {have}: try again")
                else:
                    answer.read()
                    _refused_unless(answer, 200, 206)
                with open(part, "ab" if have else "wb") as f:
                    owner = into.stat()
                    if os.geteuid() == 0:  # a technician's sudo: the kiosk's own fetcher may continue it
                        os.fchown(f.fileno(), owner.st_uid, owner.st_gid)
                    for piece in answer.iter_bytes(PIECE_BYTES):
                        if throttle is not None:
                            throttle(len(piece))
                        f.write(piece)
                        received += len(piece)
                        have += len(piece)
                    f.flush()
                    os.fsync(f.fileno())
        except (httpx.TransportError, OSError) as exc:
            raise _unreachable(http, exc, None, cut=(have, offer.bytes)) from None
    if have != offer.bytes:
        raise UpdateError(f"the download of {offer.version} stopped at {have} of {offer.bytes} bytes; "
                          "`gaitkiosk update fetch` continues from there")
    if _sha256(part) != offer.sha256:
        part.unlink()
        raise UpdateError(f"the download of {offer.version} does not match the SHA-256 the server named; "
                          "it was discarded: fetch it again")
    return part, resumed_from, received


def _check(updater, path: Path, offer: Offer):
    """The bundle check of a USB bundle (signature with this unit's keys, every hash, not older)."""
    try:
        b = updater.check(path)
    except (UpdateError, bundlemod.BundleError) as exc:
        path.unlink(missing_ok=True)
        raise UpdateError(f"the bundle the sync server sent for {offer.version} is refused, nothing was "
                          f"staged: {exc}") from None
    if b.version != offer.version:
        path.unlink(missing_ok=True)
        raise UpdateError(f"the sync server offered {offer.version} but sent a bundle signed as {b.version}: "
                          "refused, nothing was staged")
    return b


def _make_dir(d: Path, data_dir: Path) -> None:
    """The stage directory, owned like the data directory (a technician's sudo fetch must not lock
    out the kiosk's own worker)."""
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    owner = Path(data_dir).stat()
    st = d.stat()
    if os.geteuid() == 0 and (st.st_uid, st.st_gid) != (owner.st_uid, owner.st_gid):
        os.chown(d, owner.st_uid, owner.st_gid)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while piece := f.read(1024 * 1024):
            digest.update(piece)
    return digest.hexdigest()


def _error(answer) -> str:
    try:
        return str(answer.json().get("error", ""))
    except ValueError:
        return ""


def _refused_unless(answer, *ok: int) -> None:
    if answer.status_code in ok:
        return
    try:
        doc = answer.json()
        reason = f"{doc.get('error', '')}: {doc.get('reason', '')}"
    except ValueError:
        reason = answer.text[:200].strip() or answer.reason_phrase
    if answer.status_code == 401:
        raise UpdateError(f"the sync server refused this kiosk's token ({reason}): enrol the kiosk again "
                          "(gaitkiosk sync enrol URL CODE)")
    raise UpdateError(f"the sync server answered HTTP {answer.status_code} ({reason}); nothing was changed")


def _unreachable(http, exc: BaseException, running: str | None, cut: tuple[int, int] | None = None) -> ServerUnreachable:
    from sync import transport

    where = str(http.base_url).rstrip("/")
    if cut is not None:
        return ServerUnreachable(f"the download was cut at {cut[0]} of {cut[1]} bytes ({transport.describe(exc)}); "
                                 "`gaitkiosk update fetch` continues from there")
    keeps = f"{running} keeps running" if running else "nothing was changed"
    return ServerUnreachable(f"no answer from the sync server {where} ({transport.describe(exc)}); {keeps} (a bundle FILE or "
                             "`gaitkiosk update apply --usb` works offline)")
