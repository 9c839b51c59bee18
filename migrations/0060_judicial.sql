-- Judicial record certificates: requests (Mẫu 03/04) with their step history, issued
-- e-certificates, Bitstring Status Lists, share codes and the verification log.
--
-- The applicant's form, residence history, proxy, fee breakdown and cross-check result are value
-- objects always read and written with their request: they are jsonb columns of the request row
-- (one round trip per change). The ID document number is never stored in clear: it is blanked
-- in ``applicant`` and kept as AES-GCM ciphertext (the PII protector) in ``id_number_enc``.

CREATE SEQUENCE judicial_request_seq;

CREATE TABLE judicial_requests (
    id                uuid        PRIMARY KEY,
    ref               text        NOT NULL UNIQUE,
    requester_id      uuid        NOT NULL REFERENCES users (id),
    certificate_type  text        NOT NULL CHECK (certificate_type IN ('1', '2')),
    status            text        NOT NULL CHECK (status IN ('draft', 'submitted', 'received', 'verifying',
                                      'supplement_requested', 'supplemented', 'approved', 'issued', 'rejected',
                                      'withdrawn')),
    purpose           text        NOT NULL DEFAULT '',
    copies            integer     NOT NULL CHECK (copies BETWEEN 1 AND 20),
    delivery          text        NOT NULL CHECK (delivery IN ('electronic', 'post', 'counter')),
    postal_address    jsonb,
    fee_category      text        NOT NULL,
    fee_documents     jsonb       NOT NULL DEFAULT '[]',
    applicant         jsonb       NOT NULL,
    id_number_enc     bytea,
    prefilled         text[]      NOT NULL DEFAULT '{}',
    residence_history jsonb       NOT NULL DEFAULT '[]',
    proxy             jsonb,
    online            boolean     NOT NULL DEFAULT true,
    requester_level   smallint    NOT NULL,
    authority_unit_id uuid        REFERENCES units (id),
    authority_code    text        NOT NULL DEFAULT '',
    -- The fee breakdown priced at submission (rules in force that Hanoi day), kept as shown.
    fee               jsonb,
    amount_due        integer     CHECK (amount_due >= 0),
    deadline_kind     text        NOT NULL CHECK (deadline_kind IN ('normal', 'extended', 'urgent')),
    deadline_reasons  text[]      NOT NULL DEFAULT '{}',
    due_at            timestamptz,
    paused_at         timestamptz,
    cross_check       jsonb,
    rejection_reason  text        NOT NULL DEFAULT '',
    supplement_note   text        NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    submitted_at      timestamptz,
    closed_at         timestamptz,
    version           integer     NOT NULL DEFAULT 0,
    CHECK (status = 'draft' OR (authority_unit_id IS NOT NULL AND fee IS NOT NULL AND submitted_at IS NOT NULL)),
    -- Law on Judicial Records: certificate No. 2 is never requested through a proxy.
    CHECK (certificate_type = '1' OR proxy IS NULL)
);
-- My requests, newest first (UUIDv7 ids are time-ordered).
CREATE INDEX judicial_requests_requester ON judicial_requests (requester_id, id DESC);
-- The authority's queue: requests in process, earliest deadline first.
CREATE INDEX judicial_requests_queue ON judicial_requests (authority_unit_id, due_at, id)
    WHERE status IN ('submitted', 'received', 'verifying', 'supplement_requested', 'supplemented', 'approved');

CREATE TABLE judicial_steps (
    id           uuid        PRIMARY KEY,
    request_id   uuid        NOT NULL REFERENCES judicial_requests (id) ON DELETE CASCADE,
    from_status  text,
    to_status    text        NOT NULL,
    actor_kind   text        NOT NULL CHECK (actor_kind IN ('citizen', 'staff', 'system')),
    actor_id     uuid        REFERENCES users (id),
    at           timestamptz NOT NULL,
    note         text        NOT NULL DEFAULT '',
    data         jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX judicial_steps_request ON judicial_steps (request_id, at, id);

-- Bitstring Status Lists: one open list per (authority, purpose); positions drawn at random.
CREATE TABLE judicial_status_lists (
    id              uuid        PRIMARY KEY,
    authority_code  text        NOT NULL,
    purpose         text        NOT NULL CHECK (purpose IN ('revocation', 'suspension')),
    size            integer     NOT NULL CHECK (size >= 131072 AND size % 8 = 0),
    allocated       integer     NOT NULL DEFAULT 0,
    is_full         boolean     NOT NULL DEFAULT false,
    -- Bumped on every bit flip: the key of the cached signed list credential.
    version         bigint      NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX judicial_status_lists_open ON judicial_status_lists (authority_code, purpose) WHERE NOT is_full;

CREATE TABLE judicial_status_entries (
    list_id  uuid    NOT NULL REFERENCES judicial_status_lists (id),
    idx      integer NOT NULL CHECK (idx >= 0),
    value    boolean NOT NULL DEFAULT false,
    PRIMARY KEY (list_id, idx)
);
-- Rendering a list reads only its set bits.
CREATE INDEX judicial_status_entries_set ON judicial_status_entries (list_id, idx) WHERE value;

CREATE TABLE judicial_certificates (
    id                 uuid        PRIMARY KEY,
    request_id         uuid        NOT NULL UNIQUE REFERENCES judicial_requests (id),
    holder_id          uuid        NOT NULL REFERENCES users (id),
    number             text        NOT NULL UNIQUE,
    certificate_type   text        NOT NULL CHECK (certificate_type IN ('1', '2')),
    authority_unit_id  uuid        NOT NULL REFERENCES units (id),
    authority_code     text        NOT NULL,
    date_of_birth      date        NOT NULL,
    issued_at          timestamptz NOT NULL,
    valid_until        timestamptz NOT NULL,
    vc_jwt             text        NOT NULL,
    pdf_key            text        NOT NULL,
    verify_token       text        NOT NULL UNIQUE,
    status_refs        jsonb       NOT NULL,
    revoked_at         timestamptz,
    suspended_at       timestamptz,
    status_reason      text        NOT NULL DEFAULT ''
);
CREATE INDEX judicial_certificates_holder ON judicial_certificates (holder_id, issued_at DESC);

CREATE TABLE judicial_share_codes (
    id               uuid        PRIMARY KEY,
    certificate_id   uuid        NOT NULL REFERENCES judicial_certificates (id),
    holder_id        uuid        NOT NULL REFERENCES users (id),
    code_hash        bytea       NOT NULL UNIQUE,
    hint             text        NOT NULL,
    purpose          text        NOT NULL,
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    revoked_at       timestamptz,
    failed_attempts  integer     NOT NULL DEFAULT 0,
    locked_until     timestamptz,
    CHECK (expires_at <= created_at + interval '90 days')
);
CREATE INDEX judicial_share_codes_holder ON judicial_share_codes (holder_id, created_at DESC);

CREATE TABLE judicial_verifications (
    id                  uuid        PRIMARY KEY,
    share_code_id       uuid        NOT NULL REFERENCES judicial_share_codes (id),
    certificate_id      uuid        NOT NULL REFERENCES judicial_certificates (id),
    holder_id           uuid        NOT NULL REFERENCES users (id),
    outcome             text        NOT NULL,
    certificate_status  text,
    purpose             text        NOT NULL,
    verifier            text        NOT NULL DEFAULT '',
    -- A keyed hash of the client address, never the address itself.
    client              text        NOT NULL,
    at                  timestamptz NOT NULL
);
CREATE INDEX judicial_verifications_holder ON judicial_verifications (holder_id, at DESC);
