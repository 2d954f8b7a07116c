"""What a technician does on the server's command line: migrate, enrolment codes, kiosks, revocation.

Plain (blocking) psycopg connections; the ASGI app has its own pool (``sync.server.app``).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sync.errors import PayloadError, ServerError
from sync.protocol import check_clinic
from sync.server import credentials, migrations

# The server's own sessions never sit in an open transaction for long: one would hold the
# changes feed's watermark back (docs/sync.md "Down").
SESSION_OPTIONS = "-c idle_in_transaction_session_timeout=60000"


def connect(dsn: str):
    """A psycopg connection, or one clear line saying why not."""
    import psycopg

    try:
        return psycopg.connect(dsn, connect_timeout=10, options=SESSION_OPTIONS)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ServerError(f"cannot connect to PostgreSQL ({first}): check --dsn and that the server runs") from None


def migrate(dsn: str) -> list[str]:
    with connect(dsn) as conn:
        return migrations.migrate(conn)


def enrol_code(dsn: str, clinic: str, hours: float = 24.0) -> tuple[str, dt.datetime]:
    """A new one-time code for ``clinic`` (created if new) and when it expires."""
    check_clinic(clinic)
    if not 0 < hours <= 24 * 14:
        raise PayloadError(f"--hours {hours}: a code is valid for more than 0 and at most 336 hours")
    code = credentials.new_code()
    with connect(dsn) as conn:
        migrations.migrate(conn)
        with conn.transaction():
            conn.execute("INSERT INTO clinics (id) VALUES (%s) ON CONFLICT DO NOTHING", [clinic])
            expires = conn.execute(
                "INSERT INTO enrol_codes (code_sha256, clinic_id, expires_at) "
                "VALUES (%s, %s, clock_timestamp() + make_interval(secs => %s)) RETURNING expires_at",
                [credentials.code_digest(code), clinic, hours * 3600]).fetchone()[0]
    return code, expires


def kiosks(dsn: str, clinic: str | None = None) -> list[dict]:
    with connect(dsn) as conn:
        migrations.migrate(conn)
        cur = conn.execute(
            "SELECT id, clinic_id, name, enrolled_at, revoked_at, version, version_at FROM kiosks "
            "WHERE %s::text IS NULL OR clinic_id = %s ORDER BY clinic_id, enrolled_at", [clinic, clinic])
        return [dict(zip(("id", "clinic", "name", "enrolled_at", "revoked_at", "version", "version_at"), row,
                         strict=True)) for row in cur.fetchall()]


def revoke(dsn: str, kiosk_id: str) -> dt.datetime:
    """Revoke a kiosk's (or a clinic tool's) token (its data stays); when it was revoked (the first time, if already)."""
    try:
        kiosk_id = str(uuid.UUID(kiosk_id))
    except ValueError:
        raise PayloadError(f"{kiosk_id!r} is not a kiosk id (`gaitkiosk server kiosks` lists them)") from None
    with connect(dsn) as conn:
        migrations.migrate(conn)
        row = conn.execute("UPDATE kiosks SET revoked_at = coalesce(revoked_at, clock_timestamp()) "
                           "WHERE id = %s RETURNING revoked_at", [kiosk_id]).fetchone()
        if row is None:  # a clinic tool's token is revoked the same way
            row = conn.execute("UPDATE clinic_tokens SET revoked_at = coalesce(revoked_at, clock_timestamp()) "
                               "WHERE id = %s RETURNING revoked_at", [kiosk_id]).fetchone()
        conn.commit()
    if row is None:
        raise PayloadError(f"no kiosk with id {kiosk_id} (`gaitkiosk server kiosks` lists them)")
    return row[0]


def put_row(dsn: str, clinic: str, entity: str, row_id: str, data: dict, source: str = "put-row") -> tuple[str, dict]:
    """A patient or program changed by a clinic tool: stored for the clinic's kiosks. ("stored"|"unchanged", row)."""
    import asyncio

    import psycopg

    from sync.server import changes

    check_clinic(clinic)
    try:
        row_id = str(uuid.UUID(row_id))
    except ValueError:
        raise PayloadError(f"{row_id!r} is not a UUID: a row's id is its UUID") from None
    migrate(dsn)

    async def work():
        try:
            conn = await psycopg.AsyncConnection.connect(dsn, connect_timeout=10, options=SESSION_OPTIONS)
        except psycopg.OperationalError as exc:
            raise ServerError(f"cannot connect to PostgreSQL ({str(exc).strip().splitlines()[0]})") from None
        async with conn:
            async with conn.transaction():
                await conn.execute("INSERT INTO clinics (id) VALUES (%s) ON CONFLICT DO NOTHING", [clinic])
                return await changes.put(conn, clinic, entity, row_id, data, source=source)

    return asyncio.run(work())


def clinic_token(dsn: str, clinic: str, name: str) -> tuple[str, str]:
    """A new token for a clinic tool (FHIR export) of ``clinic``: (its id, the token, shown once)."""
    check_clinic(clinic)
    if not 0 < len(name) <= 200:
        raise PayloadError("--name: 1 to 200 characters saying which tool holds the token")
    token_id, token = str(uuid.uuid4()), credentials.new_clinic_token()
    with connect(dsn) as conn:
        migrations.migrate(conn)
        with conn.transaction():
            conn.execute("INSERT INTO clinics (id) VALUES (%s) ON CONFLICT DO NOTHING", [clinic])
            conn.execute("INSERT INTO clinic_tokens (id, clinic_id, name, token_sha256) VALUES (%s, %s, %s, %s)",
                         [token_id, clinic, name, credentials.token_digest(token)])
    return token_id, token


def fhir_export(dsn: str, clinic: str, patient: str | None = None) -> dict:
    """A FHIR R4 Bundle (collection) of the clinic's Observations, checked against the R4 model."""
    import asyncio

    import psycopg

    from sync.server import fhir

    check_clinic(clinic)
    migrate(dsn)

    async def work():
        async with await psycopg.AsyncConnection.connect(dsn, connect_timeout=10, options=SESSION_OPTIONS,
                                                         autocommit=True) as conn:
            return await fhir.clinic_observations(conn, clinic, patient)

    doc = fhir.bundle(asyncio.run(work()))
    try:
        fhir.validate(doc)
    except ValueError as exc:  # a bug: never write an invalid export
        raise ServerError(f"the FHIR export does not validate as R4: {str(exc).splitlines()[0]}") from None
    return doc


# -- release bundles (sync/server/releases.py serves them) -----------------------------------------

RELEASE_PART_BYTES = 1024 * 1024


def publish_release(dsn: str, path, version: str, signed_by: str) -> tuple[str, dict]:
    """Store bundle file ``path`` as release ``version`` ("published" or "already published", the row).

    The caller checked the bundle's signature and read its version (gaitkiosk/commands/server.py;
    sync/ does not import the updater). The file is read twice, part by part, never whole in memory:
    once for its SHA-256, once into the parts, in one transaction with the release row."""
    import hashlib
    import re
    from pathlib import Path

    if not re.fullmatch(r"\d{1,6}\.\d{1,6}\.\d{1,6}", version):
        raise PayloadError(f"version {version!r} is not X.Y.Z")
    path = Path(path)
    digest, length = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while piece := f.read(RELEASE_PART_BYTES):
            digest.update(piece)
            length += len(piece)
    sha = digest.digest()
    major, minor, patch = (int(x) for x in version.split("."))
    with connect(dsn) as conn:
        migrations.migrate(conn)
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ["release " + version])
            there = conn.execute("SELECT length, sha256 FROM releases WHERE version = %s", [version]).fetchone()
            if there is not None:
                if there[0] == length and bytes(there[1]) == sha:
                    return "already published", release_row(conn, version)
                raise PayloadError(f"release {version} is already published with other bytes: a version never "
                                   "changes; build the change as a new version")
            conn.execute("INSERT INTO releases (version, major, minor, patch, length, sha256, signed_by) "
                         "VALUES (%s, %s, %s, %s, %s, %s, %s)", [version, major, minor, patch, length, sha, signed_by])
            start = 0
            with open(path, "rb") as f:
                while piece := f.read(RELEASE_PART_BYTES):
                    conn.execute("INSERT INTO release_parts (version, start, data) VALUES (%s, %s, %b)",
                                 [version, start, piece])
                    start += len(piece)
            if start != length:
                raise PayloadError(f"{path} changed while it was published; nothing was stored")
        return "published", release_row(conn, version)


def release_row(conn, version: str) -> dict:
    row = conn.execute("SELECT version, length, encode(sha256, 'hex'), signed_by, published_at, withdrawn_at "
                       "FROM releases WHERE version = %s", [version]).fetchone()
    return dict(zip(("version", "bytes", "sha256", "signed_by", "published_at", "withdrawn_at"), row, strict=True))


def releases(dsn: str) -> dict:
    """Published releases (newest first), the clinics' pins, and how many kiosks report each version."""
    with connect(dsn) as conn:
        migrations.migrate(conn)
        found = [release_row(conn, v) for (v,) in conn.execute(
            "SELECT version FROM releases ORDER BY major DESC, minor DESC, patch DESC").fetchall()]
        running = dict(conn.execute("SELECT coalesce(version, 'unknown'), count(*) FROM kiosks "
                                    "WHERE revoked_at IS NULL GROUP BY 1").fetchall())
        for r in found:
            r["kiosks"] = running.pop(r["version"], 0)
        pins = dict(conn.execute("SELECT clinic_id, version FROM clinic_release_pins ORDER BY clinic_id").fetchall())
    return {"releases": found, "pins": pins, "kiosks_on_other_versions": running}


def pin_release(dsn: str, clinic: str, version: str | None) -> str | None:
    """Keep ``clinic``'s kiosks on ``version`` (None: unpin, they get the newest); the pin before."""
    check_clinic(clinic)
    with connect(dsn) as conn:
        migrations.migrate(conn)
        with conn.transaction():
            before = conn.execute("SELECT version FROM clinic_release_pins WHERE clinic_id = %s", [clinic]).fetchone()
            if version is None:
                conn.execute("DELETE FROM clinic_release_pins WHERE clinic_id = %s", [clinic])
            else:
                if conn.execute("SELECT 1 FROM releases WHERE version = %s", [version]).fetchone() is None:
                    raise PayloadError(f"no release {version} on this server (`gaitkiosk server release list`)")
                conn.execute("INSERT INTO clinics (id) VALUES (%s) ON CONFLICT DO NOTHING", [clinic])
                conn.execute("INSERT INTO clinic_release_pins (clinic_id, version) VALUES (%s, %s) "
                             "ON CONFLICT (clinic_id) DO UPDATE SET version = excluded.version, "
                             "pinned_at = clock_timestamp()", [clinic, version])
    return before[0] if before else None


def withdraw_release(dsn: str, version: str) -> dt.datetime:
    """Stop offering ``version`` (kiosks that run it keep it; its bytes stay for a download under way)."""
    with connect(dsn) as conn:
        migrations.migrate(conn)
        with conn.transaction():
            pinned = [c for (c,) in conn.execute("SELECT clinic_id FROM clinic_release_pins WHERE version = %s",
                                                 [version]).fetchall()]
            if pinned:
                raise PayloadError(f"release {version} is pinned for clinic(s) {', '.join(pinned)}: "
                                   "pin them to another version first")
            row = conn.execute("UPDATE releases SET withdrawn_at = coalesce(withdrawn_at, clock_timestamp()) "
                               "WHERE version = %s RETURNING withdrawn_at", [version]).fetchone()
    if row is None:
        raise PayloadError(f"no release {version} on this server (`gaitkiosk server release list`)")
    return row[0]
