-- The clinic server's first schema (docs/sync.md). Applied once, in one transaction.

CREATE TABLE clinics (
    id         text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- One-time enrolment codes: only their SHA-256 is kept; a code is used at most once.
CREATE TABLE enrol_codes (
    code_sha256 bytea PRIMARY KEY,
    clinic_id   text NOT NULL REFERENCES clinics(id),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    kiosk_id    uuid
);

-- A kiosk and its bearer token (only the token's SHA-256 is kept). Tokens do not expire
-- (kiosks are offline for months); a technician revokes them.
CREATE TABLE kiosks (
    id           uuid PRIMARY KEY,
    clinic_id    text NOT NULL REFERENCES clinics(id),
    name         text NOT NULL,
    token_sha256 bytea NOT NULL UNIQUE,
    enrolled_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    revoked_at   timestamptz
);

-- Every row a kiosk uploaded, once, as it sent it (body is the canonical JSON, bit-exact).
-- Order within a kiosk: seq (the kiosk's own counter); across kiosks: received_at (this
-- server's clock). The kiosk's wall clock is only inside body.
CREATE TABLE sync_rows (
    entity      text NOT NULL,
    id          uuid NOT NULL,
    clinic_id   text NOT NULL REFERENCES clinics(id),
    kiosk_id    uuid NOT NULL REFERENCES kiosks(id),
    seq         bigint NOT NULL,
    body        text NOT NULL,
    body_sha256 bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (entity, id)
);
CREATE INDEX sync_rows_by_clinic ON sync_rows (clinic_id, received_at);

-- A second, different body for a row already stored: kept for a person to look at, never applied.
CREATE TABLE sync_conflicts (
    entity      text NOT NULL,
    id          uuid NOT NULL,
    clinic_id   text NOT NULL REFERENCES clinics(id),
    kiosk_id    uuid NOT NULL REFERENCES kiosks(id),
    seq         bigint NOT NULL,
    body        text NOT NULL,
    body_sha256 bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (entity, id, body_sha256)
);
