"""Ed25519 signatures of release bundles in minisign's file format.

Why minisign's format and not TUF (python-tuf): a unit is updated from one file
on a USB stick as often as from a server, offline, by one clinic's release key.
TUF protects a *repository* (roles, expiring metadata, key rotation, freeze and
mix-and-match attacks) and needs its metadata tree beside every download; for a
single signed file its extra roles add keys to guard and nothing a technician
can check by hand. A detached Ed25519 signature over the bundle's manifest,
with downgrades refused by version (gaitkiosk/update/apply.py), covers what
matters here, and because the files follow minisign's format (prehashed "ED"
signatures: Ed25519 over BLAKE2b-512 of the file, and a signed trusted comment)
anyone can check a bundle with the stock tool: ``minisign -Vm manifest.json -p
gaitkiosk.pub``. TUF can come later for the sync server's fleet distribution.

The crypto is ``cryptography``'s Ed25519 (OpenSSL; wheels for the Pi's aarch64).
The secret key is a PEM (PKCS#8) file kept off the units, on the release machine.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gaitkiosk.errors import KioskError


class SignatureError(KioskError, ValueError):
    """A signature or key file that does not check out; the message says which and why."""


@dataclass(frozen=True)
class PublicKey:
    key_id: bytes  # 8 bytes, minisign's key number
    key: Ed25519PublicKey

    @property
    def id_hex(self) -> str:
        return self.key_id[::-1].hex().upper()  # as minisign prints it (little-endian number)


@dataclass(frozen=True)
class Signed:
    key_id: bytes
    trusted_comment: str


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def generate(secret_path: Path, public_path: Path) -> PublicKey:
    """A new key pair: the secret key as PEM (mode 0600), the public key in minisign's format."""
    sk = Ed25519PrivateKey.generate()
    key_id = os.urandom(8)
    pem = sk.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    # The key id rides along in the PEM's preamble (PEM readers skip text before BEGIN).
    fd = os.open(secret_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(f"gaitkiosk release key id {key_id.hex()}\n".encode() + pem)
    pub = PublicKey(key_id, sk.public_key())
    public_path.write_text(public_text(pub))
    return pub


def public_text(pub: PublicKey) -> str:
    blob = base64.b64encode(b"Ed" + pub.key_id + _raw_public(pub.key)).decode()
    return f"untrusted comment: minisign public key {pub.id_hex}\n{blob}\n"


def load_secret(path: Path) -> tuple[bytes, Ed25519PrivateKey]:
    data = Path(path).read_bytes()
    first, _, _ = data.partition(b"\n")
    prefix = b"gaitkiosk release key id "
    if not first.startswith(prefix):
        raise SignatureError(f"{path}: not a gaitkiosk release secret key (made by `gaitkiosk release keygen`)")
    key_id = bytes.fromhex(first[len(prefix):].decode().strip())
    sk = serialization.load_pem_private_key(data, password=None)
    if not isinstance(sk, Ed25519PrivateKey):
        raise SignatureError(f"{path}: not an Ed25519 key")
    return key_id, sk


def load_public(path: Path) -> PublicKey:
    return parse_public(Path(path).read_text(), str(path))


def parse_public(text: str, name: str = "public key") -> PublicKey:
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        raise SignatureError(f"{name}: not a minisign public key (two lines expected)")
    try:
        raw = base64.b64decode(lines[1], validate=True)
    except ValueError:
        raise SignatureError(f"{name}: not a minisign public key (bad base64)") from None
    if len(raw) != 42 or raw[:2] != b"Ed":
        raise SignatureError(f"{name}: not a minisign Ed25519 public key")
    return PublicKey(raw[2:10], Ed25519PublicKey.from_public_bytes(raw[10:]))


def sign(data: bytes, key_id: bytes, sk: Ed25519PrivateKey, trusted_comment: str) -> str:
    """A minisign signature file (text) for ``data``."""
    if "\n" in trusted_comment:
        raise SignatureError("a trusted comment is one line")
    sig = sk.sign(hashlib.blake2b(data, digest_size=64).digest())
    global_sig = sk.sign(sig + trusted_comment.encode())
    return ("untrusted comment: signature from gaitkiosk release key\n"
            + base64.b64encode(b"ED" + key_id + sig).decode() + "\n"
            + f"trusted comment: {trusted_comment}\n"
            + base64.b64encode(global_sig).decode() + "\n")


def verify(data: bytes, signature_text: str, keys: list[PublicKey]) -> Signed:
    """Check ``signature_text`` over ``data`` with one of ``keys``; the signed trusted comment."""
    lines = signature_text.splitlines()
    if len(lines) < 4 or not lines[2].startswith("trusted comment: "):
        raise SignatureError("the signature file is not in minisign's format")
    try:
        raw = base64.b64decode(lines[1], validate=True)
        global_sig = base64.b64decode(lines[3], validate=True)
    except ValueError:
        raise SignatureError("the signature file is damaged (bad base64)") from None
    if len(raw) != 74 or raw[:2] not in (b"ED", b"Ed"):
        raise SignatureError("the signature file is not an Ed25519 minisign signature")
    key_id, sig = raw[2:10], raw[10:]
    key = next((k for k in keys if k.key_id == key_id), None)
    if key is None:
        known = ", ".join(k.id_hex for k in keys) or "none installed"
        raise SignatureError(f"signed with key {key_id[::-1].hex().upper()}, which this unit does not trust "
                             f"(trusted: {known})")
    message = hashlib.blake2b(data, digest_size=64).digest() if raw[:2] == b"ED" else data
    comment = lines[2][len("trusted comment: "):]
    try:
        key.key.verify(sig, message)
    except InvalidSignature:
        raise SignatureError(f"the signature does not match the content (key {key.id_hex}): "
                             "the bundle was changed after it was signed") from None
    try:
        key.key.verify(global_sig, sig + comment.encode())
    except InvalidSignature:
        raise SignatureError("the signature's trusted comment was changed after signing") from None
    return Signed(key_id, comment)
