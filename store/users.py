"""Therapists and technicians. A PIN is stored only as a salted scrypt hash.

scrypt parameters n=2**14, r=8, p=1 (the interactive-login values from the
scrypt paper / RFC 7914 section 2) cost ~16 MiB and tens of milliseconds on
a Pi: slow enough to make guessing a stolen card's 6-digit PINs expensive,
fast enough for a login. The parameters are stored with each hash, so they
can be raised later without breaking existing users.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from store import rows
from store.errors import InvalidRecordError
from store.roles import ROLES

NAME_MAX = 15  # a name is a button label on the staff login screen: "Ann Berg", "Carla M.-O."
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_BOOLS = ("active",)


def hash_pin(pin: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    check_pin(pin)
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def pin_matches(pin: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             maxmem=64 * 1024 * 1024, dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


@functools.cache
def _dummy_hash() -> str:
    return hash_pin("0000")


def check_name(name: str) -> None:
    if not (isinstance(name, str) and name.strip() and name == name.strip()):
        raise InvalidRecordError("a user needs a name without spaces at either end")
    if len(name) > NAME_MAX or not name.isprintable():
        raise InvalidRecordError(f"a user's name is at most {NAME_MAX} printable characters")


def check_pin(pin: str) -> None:
    if not (isinstance(pin, str) and pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8):
        raise InvalidRecordError("a PIN is 4 to 8 digits")


@dataclass
class User:
    name: str
    role: str
    pin_hash: str
    active: bool = True
    id: str = field(default_factory=rows.new_id)
    created_at: str = field(default_factory=rows.utc_now)


class Users:
    def __init__(self, db):
        self.db = db

    def add(self, name: str, role: str, pin: str) -> User:
        """Create a user; the PIN itself is never stored."""
        if role not in ROLES:
            raise InvalidRecordError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        check_name(name)
        user = User(name=name, role=role, pin_hash=hash_pin(pin))
        rows.insert(self.db, "users", rows.to_row(user, bool_fields=_BOOLS), f"user {name}")
        return user

    def get(self, user_id: str) -> User:
        return rows.from_row(User, rows.fetch(self.db, "users", "id", user_id, "user"), bool_fields=_BOOLS)

    def by_name(self, name: str) -> User:
        return rows.from_row(User, rows.fetch(self.db, "users", "name", name, "user"), bool_fields=_BOOLS)

    def list(self) -> list[User]:
        return [rows.from_row(User, r, bool_fields=_BOOLS)
                for r in rows.fetch_all(self.db, "SELECT * FROM users ORDER BY name")]

    def verify(self, name: str, pin: str) -> User | None:
        """The active user with this name and PIN, else None (no hint which was wrong)."""
        try:
            user = self.by_name(name)
        except LookupError:
            pin_matches(pin, _dummy_hash())  # one scrypt either way: no timing hint about names
            return None
        return user if user.active and pin_matches(pin, user.pin_hash) else None

    def set_pin(self, user_id: str, pin: str) -> None:
        user = self.get(user_id)
        user.pin_hash = hash_pin(pin)
        rows.update(self.db, "users", "id", rows.to_row(user, bool_fields=_BOOLS), "user")

    def set_active(self, user_id: str, active: bool) -> None:
        user = self.get(user_id)
        user.active = active
        rows.update(self.db, "users", "id", rows.to_row(user, bool_fields=_BOOLS), "user")
