-- Recordings uploaded resumably (docs/sync.md "Up: recordings"). Applied once, in one transaction.

-- One upload per recording UUID: its identity is (length, sha256), given by the first PUT.
-- upload_offset is the number of bytes held, committed; it equals length only once the whole
-- passed its SHA-256 check (completed_at is then set). A mismatch deletes the parts, sets the
-- offset back to 0 and counts one more in discarded.
CREATE TABLE sync_recordings (
    id            uuid PRIMARY KEY,
    clinic_id     text NOT NULL REFERENCES clinics(id),
    kiosk_id      uuid NOT NULL REFERENCES kiosks(id),
    length        bigint NOT NULL CHECK (length > 0),
    sha256        bytea NOT NULL,
    upload_offset bigint NOT NULL DEFAULT 0 CHECK (upload_offset BETWEEN 0 AND length),
    discarded     integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    completed_at  timestamptz
);
CREATE INDEX sync_recordings_by_clinic ON sync_recordings (clinic_id, created_at);

-- The bytes, one row per PATCH received: "start" is the offset of its first byte. Committed in
-- the same transaction as the offset that counts them, so the two always agree.
CREATE TABLE sync_recording_parts (
    recording_id uuid NOT NULL REFERENCES sync_recordings(id),
    start        bigint NOT NULL CHECK (start >= 0),
    data         bytea NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (recording_id, start)
);
-- The chunks are zstd already: PostgreSQL's own compression would only burn CPU (out of line, as is).
ALTER TABLE sync_recording_parts ALTER COLUMN data SET STORAGE EXTERNAL;

-- For other tools: each complete recording's stream, whole (sync.recording_stream.parse
-- splits it into store.codec blobs).
CREATE VIEW sync_recording_bytes AS
    SELECT r.id, r.clinic_id, r.kiosk_id, r.length, r.sha256, r.completed_at,
           (SELECT string_agg(p.data, ''::bytea ORDER BY p.start)
              FROM sync_recording_parts p WHERE p.recording_id = r.id) AS data
      FROM sync_recordings r
     WHERE r.completed_at IS NOT NULL;
