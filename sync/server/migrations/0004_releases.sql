-- Signed release bundles the server offers its kiosks (docs/sync.md "Releases"), and which
-- version each kiosk says it runs. Applied once, in one transaction.

-- One row per published version. A version is immutable: publishing other bytes under the same
-- number is refused (a changed release gets a new number). The server checked the bundle's
-- signature against its release keys when it was published, but kiosks never rely on that: each
-- checks the signature itself with the keys it trusts.
CREATE TABLE releases (
    version      text PRIMARY KEY CHECK (version ~ '^[0-9]+\.[0-9]+\.[0-9]+$'),
    major        integer NOT NULL,
    minor        integer NOT NULL,
    patch        integer NOT NULL,
    length       bigint NOT NULL CHECK (length > 0),
    sha256       bytea NOT NULL,
    signed_by    text NOT NULL,          -- the release key's id, as minisign prints it
    published_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    withdrawn_at timestamptz             -- no longer offered (kept: a kiosk may be downloading it)
);
CREATE INDEX releases_order ON releases (major DESC, minor DESC, patch DESC);

-- The bundle's bytes in parts of 1 MiB (start = offset of the first byte), written in the same
-- transaction as the release row: a release is there whole or not at all. A download resumed
-- at byte N reads from the part holding N on. The tar's members are compressed wheels already.
CREATE TABLE release_parts (
    version text NOT NULL REFERENCES releases(version),
    start   bigint NOT NULL CHECK (start >= 0),
    data    bytea NOT NULL,
    PRIMARY KEY (version, start)
);
ALTER TABLE release_parts ALTER COLUMN data SET STORAGE EXTERNAL;

-- A clinic that must stay on one version (a validation, a study): offered that one, whatever
-- is newer. No row: the newest published, not withdrawn version.
CREATE TABLE clinic_release_pins (
    clinic_id text PRIMARY KEY REFERENCES clinics(id),
    version   text NOT NULL REFERENCES releases(version),
    pinned_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- What each kiosk says it runs (its Gaitkiosk-Version header), and since when.
ALTER TABLE kiosks ADD COLUMN version text;
ALTER TABLE kiosks ADD COLUMN version_at timestamptz;
