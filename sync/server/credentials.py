"""Enrolment codes and kiosk tokens: made here, kept only as SHA-256.

Both are long random secrets, so a plain SHA-256 is enough to make a stolen database useless
for logging in (a slow password hash matters only for secrets people choose). A code is what
a technician types on the kiosk: 12 letters and digits without look-alikes (60 bits), valid
for hours and usable once; a token is what the kiosk keeps, 256 bits, valid until revoked.
"""

from __future__ import annotations

import hashlib
import secrets

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1: read aloud over the phone
TOKEN_PREFIX = "gk1_"
CLINIC_TOKEN_PREFIX = "gkc1_"  # a clinic tool's token (FHIR export): never a kiosk's


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


def code_digest(code: str) -> bytes:
    """The digest of a code as typed: case, spaces and dashes do not matter."""
    return hashlib.sha256("".join(code.split()).replace("-", "").upper().encode()).digest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_clinic_token() -> str:
    return CLINIC_TOKEN_PREFIX + secrets.token_urlsafe(32)
