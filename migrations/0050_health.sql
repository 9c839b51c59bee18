-- E-health record: facilities, patients, encounters as ingested, one row per FHIR resource,
-- shares (consent) with their grantees, and the access log the citizen reads.
--
-- health_resources keeps each resource twice over: the FHIR JSON as served (our ids, meta) and the
-- app's item JSON, plus the columns the FHIR searches and the app lists filter and order on, so
-- that no read ever re-parses a bundle.

CREATE TABLE health_facilities (
    id           uuid        PRIMARY KEY,
    code         text        NOT NULL UNIQUE,
    name         text        NOT NULL,
    level        text        NOT NULL CHECK (level IN ('central', 'city', 'district', 'commune', 'private')),
    district_id  uuid        REFERENCES units (id),
    -- The API client (private_key_jwt) this facility sends as; one client is one facility.
    client_id    uuid        UNIQUE REFERENCES api_clients (id) ON DELETE SET NULL,
    active       boolean     NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX health_facilities_district ON health_facilities (district_id, code);

-- A patient of the record, keyed like users by the keyed hash of the personal ID (never in clear),
-- so a record exists before (and without) the citizen's first login. resource: the latest Patient
-- demographics sent by a facility, without the personal ID.
CREATE TABLE health_patients (
    id                uuid        PRIMARY KEY,
    personal_id_hash  bytea       NOT NULL UNIQUE,
    version_id        integer     NOT NULL DEFAULT 0,
    last_updated      timestamptz,
    resource          jsonb,
    resource_hash     text,
    created_at        timestamptz NOT NULL DEFAULT now()
);

-- The ingestion unit: one visit, keyed by facility + the Encounter's identifier (system|value).
-- It is also the social-insurance outbox: a visit whose version is ahead of insurance_version is
-- due for sync (committed with the data it describes; the worker claims it with SKIP LOCKED).
CREATE TABLE health_encounters (
    id                  uuid        PRIMARY KEY,
    facility_id         uuid        NOT NULL REFERENCES health_facilities (id),
    patient_id          uuid        NOT NULL REFERENCES health_patients (id) ON DELETE CASCADE,
    identifier          text        NOT NULL,
    bundle_hash         text        NOT NULL,
    version             integer     NOT NULL,
    received_at         timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    -- The health-insurance card number the facility sent with this visit (for the BHXH message).
    insurance_card      text,
    insurance_version   integer     NOT NULL DEFAULT 0,
    insurance_due_at    timestamptz NOT NULL DEFAULT now(),
    insurance_attempts  integer     NOT NULL DEFAULT 0,
    insurance_error     text,
    UNIQUE (facility_id, identifier)
);
CREATE INDEX health_encounters_patient ON health_encounters (patient_id, facility_id);
CREATE INDEX health_encounters_insurance_due ON health_encounters (insurance_due_at)
    WHERE insurance_version < version;

CREATE TABLE health_resources (
    id               uuid        PRIMARY KEY,
    encounter_id     uuid        NOT NULL REFERENCES health_encounters (id) ON DELETE CASCADE,
    patient_id       uuid        NOT NULL,
    facility_id      uuid        NOT NULL,
    resource_type    text        NOT NULL,
    source_key       text        NOT NULL,
    category         text        NOT NULL,
    fhir_categories  text[]      NOT NULL,
    codes            text[]      NOT NULL,
    date             timestamptz NOT NULL,
    status           text,
    clinical_status  text,
    intent           text,
    version_id       integer     NOT NULL,
    last_updated     timestamptz NOT NULL,
    content_hash     text        NOT NULL,
    resource         jsonb       NOT NULL,
    item             jsonb       NOT NULL,
    UNIQUE (encounter_id, resource_type, source_key)
);
-- FHIR searches (patient + type, newest first) and the app's lists and timeline (patient + category).
CREATE INDEX health_resources_patient_type ON health_resources (patient_id, resource_type, date DESC, id DESC);
CREATE INDEX health_resources_patient_category ON health_resources (patient_id, category, date DESC, id DESC);

CREATE TABLE health_shares (
    id          uuid        PRIMARY KEY,
    patient_id  uuid        NOT NULL REFERENCES health_patients (id) ON DELETE CASCADE,
    owner_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash   bytea       NOT NULL UNIQUE,
    categories  text[]      NOT NULL,
    recipient   text        NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX health_shares_patient ON health_shares (patient_id, created_at DESC);

-- Who redeemed a share code: a doctor (reader_kind 'user') or a facility ('facility').
CREATE TABLE health_share_grants (
    share_id     uuid        NOT NULL REFERENCES health_shares (id) ON DELETE CASCADE,
    reader_kind  text        NOT NULL CHECK (reader_kind IN ('user', 'facility')),
    reader_id    uuid        NOT NULL,
    granted_at   timestamptz NOT NULL,
    PRIMARY KEY (share_id, reader_kind, reader_id)
);
CREATE INDEX health_share_grants_reader ON health_share_grants (reader_kind, reader_id);

-- Every read by someone other than the patient. Kept with the record (deleted with it).
CREATE TABLE health_access_log (
    id           uuid        PRIMARY KEY,
    patient_id   uuid        NOT NULL REFERENCES health_patients (id) ON DELETE CASCADE,
    at           timestamptz NOT NULL,
    reader_kind  text        NOT NULL CHECK (reader_kind IN ('facility', 'shared', 'staff')),
    reader_id    uuid        NOT NULL,
    reader_name  text        NOT NULL,
    action       text        NOT NULL,
    what         text        NOT NULL,
    why          text        NOT NULL,
    share_id     uuid        REFERENCES health_shares (id) ON DELETE SET NULL
);
CREATE INDEX health_access_log_patient ON health_access_log (patient_id, id DESC);
CREATE INDEX health_access_log_reader ON health_access_log (patient_id, reader_kind, reader_id);
