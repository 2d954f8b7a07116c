"""The kiosk's enrolment: what `gaitkiosk sync enrol` keeps, and where.

The token lives in ``sync.json`` beside the database, mode 0600, not in the database: a
`gaitkiosk db backup` (which a technician may carry away on a USB stick) then holds no
credential that could speak for the kiosk, and a backup restored onto another kiosk does not
make two kiosks share one identity. Re-enrolling (after a revocation) rewrites only this file.
The file is written whole to a temporary name and renamed, so a power cut leaves the old or the
new file, never half of one.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from sync.errors import SyncError

FILENAME = "sync.json"


@dataclass
class Enrolment:
    url: str  # the server, e.g. https://server.clinic:8443
    kiosk_id: str
    clinic: str
    token: str
    ca_pem: str = ""  # the CA that signs the server's certificate (--ca-file), kept whole
    pin_sha256: str = ""  # or: SHA-256 (hex) of the server certificate's DER (--pin)
    enrolled_at: str = ""


def path_in(data_dir: Path) -> Path:
    return Path(data_dir) / FILENAME


def load(data_dir: Path) -> Enrolment | None:
    """The kiosk's enrolment, or None when it was never enrolled."""
    path = path_in(data_dir)
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise SyncError(f"{path} cannot be read ({exc}): enrol the kiosk again (gaitkiosk sync enrol URL CODE)") from None
    try:
        return Enrolment(**doc)
    except TypeError:
        raise SyncError(f"{path} is not a kiosk enrolment: enrol the kiosk again (gaitkiosk sync enrol URL CODE)") from None


def save(data_dir: Path, enrolment: Enrolment) -> Path:
    """Write the enrolment 0600, atomically."""
    path = path_in(data_dir)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{FILENAME}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(asdict(enrolment), f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)
    return path


def enrol(data_dir: Path, url: str, code: str, *, ca_file: str | None = None, pin: str | None = None,
          name: str | None = None, timeout: float = 30.0) -> Enrolment:
    """Trade a one-time code for this kiosk's token (``POST /v1/enrol``) and keep it (0600)."""
    import datetime as dt
    import socket

    import httpx

    from sync import transport

    url = transport.check_url(url)
    ca_pem = ""
    if ca_file:
        try:
            ca_pem = Path(ca_file).read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise SyncError(f"cannot read the CA certificate {ca_file}: {exc}") from None
    pin = transport.normal_pin(pin) if pin else ""
    if url.startswith("http://") and (ca_pem or pin):
        raise SyncError("--ca-file and --pin are for an https:// server")
    try:
        with transport.client(url, ca_pem=ca_pem, pin=pin, timeout=timeout) as http:
            answer = http.post("/v1/enrol", json={"code": code, "name": name or socket.gethostname()})
    except (httpx.TransportError, OSError) as exc:
        raise SyncError(f"enrolment failed: {transport.describe(exc)}") from None
    if answer.status_code != 201:
        try:
            reason = answer.json().get("reason", "")
        except ValueError:
            reason = answer.text[:200]
        raise SyncError(f"the server refused the enrolment (HTTP {answer.status_code}): {reason}")
    doc = answer.json()
    enrolment = Enrolment(url=url, kiosk_id=doc["kiosk_id"], clinic=doc["clinic"], token=doc["token"],
                          ca_pem=ca_pem, pin_sha256=pin,
                          enrolled_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    save(data_dir, enrolment)
    return enrolment
