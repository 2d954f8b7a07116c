-- What goes DOWN to kiosks (docs/sync.md "Down: the changes feed"): the clinic's current version
-- of every patient and program. Kiosk uploads of patients and programs land here too (so a
-- patient added on kiosk 1 can check in on kiosk 2); clinic tools write here directly or through
-- `gaitkiosk server put-row`. One row per (entity, id): a change updates it, and the trigger
-- below stamps the writing transaction's id, which the feed's watermark reads.

CREATE TABLE clinic_rows (
    entity       text NOT NULL CHECK (entity IN ('patient', 'program')),
    id           uuid NOT NULL,
    clinic_id    text NOT NULL REFERENCES clinics(id),
    body         jsonb NOT NULL CHECK (jsonb_typeof(body) = 'object'),
    source       text NOT NULL DEFAULT 'tool',   -- 'kiosk', 'put-row', or the writing tool's name
    kiosk_id     uuid REFERENCES kiosks(id),     -- the kiosk that uploaded it, if one did
    n            bigint GENERATED ALWAYS AS IDENTITY UNIQUE,  -- orders rows of one transaction
    xid          xid8 NOT NULL DEFAULT pg_current_xact_id(),
    changed_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (entity, id)
);

-- Whoever writes (this server, psql, another tool), the row carries the id of the transaction
-- that last changed it, and a row never moves to another clinic or id.
CREATE FUNCTION clinic_rows_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.clinic_id <> OLD.clinic_id OR NEW.id <> OLD.id OR NEW.entity <> OLD.entity) THEN
        RAISE EXCEPTION 'clinic_rows: % % belongs to clinic %; it cannot move', OLD.entity, OLD.id, OLD.clinic_id;
    END IF;
    NEW.xid := pg_current_xact_id();
    NEW.changed_at := clock_timestamp();
    RETURN NEW;
END $$;

CREATE TRIGGER clinic_rows_stamp BEFORE INSERT OR UPDATE ON clinic_rows
    FOR EACH ROW EXECUTE FUNCTION clinic_rows_stamp();

CREATE INDEX clinic_rows_feed ON clinic_rows (clinic_id, xid, n);
CREATE INDEX clinic_rows_programs ON clinic_rows (clinic_id, (body->>'patient_id')) WHERE entity = 'program';

-- Clinic tools (FHIR export, `put` of rows over HTTP): a token per tool, SHA-256 kept, revocable.
CREATE TABLE clinic_tokens (
    id           uuid PRIMARY KEY,
    clinic_id    text NOT NULL REFERENCES clinics(id),
    name         text NOT NULL,
    token_sha256 bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    revoked_at   timestamptz
);
