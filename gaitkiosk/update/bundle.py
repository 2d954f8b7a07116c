"""A release bundle: one tar file a technician copies to a USB stick or the sync server serves.

    gaitkiosk-X.Y.Z.tar
      manifest.json          format, version, and every other member's size and SHA-256
      manifest.json.minisig  Ed25519 signature of manifest.json (gaitkiosk/update/signing.py)
      wheels/*.whl           the gaitkiosk wheel and the wheels it needs (pip installs offline)
      deploy/...             install.sh, the systemd units, the udev rule, the journald limits

Reading checks everything before anything is unpacked: the tar is whole, the
manifest is signed by a trusted key, every member is listed with the right size
and hash, nothing unlisted, no path leaving the bundle. Any failure is one
:class:`BundleError` line saying what is wrong.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gaitkiosk.errors import KioskError
from gaitkiosk.update import signing

FORMAT = "gaitkiosk-bundle/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.minisig"
VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


class BundleError(KioskError, ValueError):
    """A bundle that is refused; the message says why in one line."""


def version_key(version: str) -> tuple[int, int, int]:
    m = VERSION_RE.match(version or "")
    if not m:
        raise BundleError(f"version {version!r} is not X.Y.Z")
    return tuple(int(g) for g in m.groups())


@dataclass
class Bundle:
    path: Path
    version: str
    manifest: dict
    signed_by: str  # key id

    def extract(self, into: Path) -> Path:
        """Unpack the checked members into ``into`` (re-checking each hash as it is written)."""
        into.mkdir(parents=True, exist_ok=True)
        wanted = {f["path"]: f for f in self.manifest["files"]}
        with _open_tar(self.path) as tar:
            for member in tar.getmembers():
                if member.name not in wanted:
                    continue
                data = _read_member(tar, member)
                if hashlib.sha256(data).hexdigest() != wanted[member.name]["sha256"]:
                    raise BundleError(f"{self.path.name}: {member.name} changed while it was unpacked")
                target = into / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                if member.mode & 0o111:
                    target.chmod(0o755)
        return into

    def wheels(self) -> list[str]:
        return [f["path"] for f in self.manifest["files"] if f["path"].startswith("wheels/")]


def build(out: Path, version: str, files: dict[str, Path], secret_key: Path) -> Path:
    """Write bundle ``out`` holding ``files`` (name in the bundle -> file here), signed with ``secret_key``."""
    version_key(version)
    key_id, sk = signing.load_secret(secret_key)
    entries = []
    for name in sorted(files):
        _check_name(name)
        data = Path(files[name]).read_bytes()
        entries.append({"path": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    manifest = {"format": FORMAT, "version": version,
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "files": entries}
    manifest_bytes = (json.dumps(manifest, indent=1) + "\n").encode()
    sig = signing.sign(manifest_bytes, key_id, sk, f"{FORMAT} version {version}")
    tmp = out.with_name(out.name + ".partial")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        _add_bytes(tar, MANIFEST, manifest_bytes, 0o644)
        _add_bytes(tar, SIGNATURE, sig.encode(), 0o644)
        for name in sorted(files):
            mode = 0o755 if os.access(files[name], os.X_OK) else 0o644
            _add_bytes(tar, name, Path(files[name]).read_bytes(), mode)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    tmp.replace(out)
    return out


def read(path: Path, keys: list[signing.PublicKey]) -> Bundle:
    """Open and check bundle ``path`` against the trusted ``keys``; refuse it with one line if anything is off."""
    path = Path(path)
    if not path.is_file():
        raise BundleError(f"{path}: no such bundle file")
    name = path.name
    try:
        with _open_tar(path) as tar:
            members = {}
            for member in tar.getmembers():
                if not member.isfile():
                    raise BundleError(f"{name}: {member.name} is not a plain file (refused)")
                _check_name(member.name)
                if member.name in members:
                    raise BundleError(f"{name}: {member.name} is in the bundle twice (refused)")
                members[member.name] = member
            if MANIFEST not in members:
                raise BundleError(f"{name}: no manifest.json: not a gaitkiosk release bundle")
            if SIGNATURE not in members:
                raise BundleError(f"{name}: unsigned (no manifest.json.minisig): refused")
            manifest_bytes = _read_member(tar, members[MANIFEST])
            sig_text = _read_member(tar, members[SIGNATURE]).decode("utf-8", "replace")
            try:
                signed = signing.verify(manifest_bytes, sig_text, keys)
            except signing.SignatureError as exc:
                raise BundleError(f"{name}: bad signature: {exc}") from None
            manifest = json.loads(manifest_bytes)
            if manifest.get("format") != FORMAT:
                raise BundleError(f"{name}: format {manifest.get('format')!r}, this updater reads {FORMAT}")
            version = manifest.get("version", "")
            version_key(version)
            if signed.trusted_comment != f"{FORMAT} version {version}":
                raise BundleError(f"{name}: the signed version ({signed.trusted_comment!r}) is not the manifest's")
            listed = {f["path"]: f for f in manifest["files"]}
            extra = sorted(set(members) - set(listed) - {MANIFEST, SIGNATURE})
            if extra:
                raise BundleError(f"{name}: {extra[0]} is not in the signed manifest (tampered bundle)")
            for fname, entry in listed.items():
                if fname not in members:
                    raise BundleError(f"{name}: {fname} is listed in the manifest but missing (incomplete bundle)")
                data = _read_member(tar, members[fname])
                if len(data) != entry["bytes"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
                    raise BundleError(f"{name}: {fname} does not match its signed hash (tampered or damaged bundle)")
    except (tarfile.TarError, EOFError) as exc:
        raise BundleError(f"{name}: not a whole bundle ({exc}): copy it again (a truncated copy?)") from None
    except json.JSONDecodeError as exc:
        raise BundleError(f"{name}: manifest.json is not JSON ({exc})") from None
    return Bundle(path, version, manifest, signed.key_id[::-1].hex().upper())


def _open_tar(path: Path) -> tarfile.TarFile:
    # "r:" (no compression) and stream checks: a short file fails here, not later.
    return tarfile.open(path, "r:")


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    f = tar.extractfile(member)
    data = f.read() if f is not None else b""
    if len(data) != member.size:
        raise BundleError(f"{member.name}: only {len(data)} of {member.size} bytes (truncated bundle)")
    return data


def _check_name(name: str) -> None:
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or not name or name != str(p):
        raise BundleError(f"{name!r}: a path outside the bundle (refused)")


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = 0  # the same inputs give the same bundle bytes (but for the manifest's date)
    tar.addfile(info, io.BytesIO(data))
