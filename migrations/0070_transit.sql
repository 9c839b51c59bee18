-- Transit: passenger categories, products with dated prices, concession applications, virtual
-- cards, passes, device bindings, issuer public keys, the deny list with sequence numbers, paper
-- tickets and taps. Numeric codes (product kind, networks, category qr_code) are part of the QR
-- format (docs/transit-qr.md) and never renumbered.

CREATE TABLE transit_categories (
    code        text        PRIMARY KEY,
    qr_code     smallint    NOT NULL UNIQUE CHECK (qr_code BETWEEN 1 AND 255),
    name_vi     text        NOT NULL,
    name_en     text        NOT NULL,
    free        boolean     NOT NULL DEFAULT false,
    min_age     smallint    CHECK (min_age >= 0),
    max_age     smallint    CHECK (max_age > 0),
    document    text        CHECK (document IN ('student_card', 'industrial_park_worker_card', 'merit_certificate',
                                                'disability_certificate', 'poor_household_certificate')),
    active      boolean     NOT NULL DEFAULT true
);

-- The categories themselves are reference data loaded by adapters/postgres/transit/seed.py.

CREATE TABLE transit_products (
    id          uuid        PRIMARY KEY,
    code        text        NOT NULL UNIQUE,
    name_vi     text        NOT NULL,
    name_en     text        NOT NULL,
    kind        smallint    NOT NULL CHECK (kind BETWEEN 1 AND 6),
    networks    smallint    NOT NULL CHECK (networks BETWEEN 1 AND 3),
    route       integer     NOT NULL DEFAULT 0 CHECK (route BETWEEN 0 AND 65535),
    active      boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 4) = (route <> 0))
);

-- Overlaps between prices of one product and category are refused by the use case while the
-- product row is locked (no btree_gist exclusion constraint: the embedded server lacks it).
CREATE TABLE transit_prices (
    id          uuid        PRIMARY KEY,
    product_id  uuid        NOT NULL REFERENCES transit_products (id),
    category    text        NOT NULL REFERENCES transit_categories (code),
    amount_vnd  bigint      NOT NULL CHECK (amount_vnd >= 0),
    valid_from  date        NOT NULL,
    valid_to    date        CHECK (valid_to > valid_from),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (product_id, category, valid_from)
);

CREATE TABLE transit_applications (
    id            uuid        PRIMARY KEY,
    user_id       uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category      text        NOT NULL REFERENCES transit_categories (code),
    document      text        NOT NULL,
    evidence_ref  text        NOT NULL,
    status        text        NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    valid_until   date,
    reason        text,
    decided_by    uuid        REFERENCES users (id),
    created_at    timestamptz NOT NULL,
    decided_at    timestamptz
);
CREATE INDEX transit_applications_user ON transit_applications (user_id, created_at);
CREATE INDEX transit_applications_pending ON transit_applications (created_at) WHERE status = 'pending';

CREATE SEQUENCE transit_card_serial;

CREATE TABLE transit_cards (
    id           uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    number       text        NOT NULL UNIQUE CHECK (number ~ '^[0-9]{12}$'),
    holder_name  text        NOT NULL,
    category     text        NOT NULL REFERENCES transit_categories (code),
    status       text        NOT NULL CHECK (status IN ('active', 'blocked')),
    created_at   timestamptz NOT NULL
);
CREATE INDEX transit_cards_user ON transit_cards (user_id, created_at);

CREATE TABLE transit_passes (
    id             uuid        PRIMARY KEY,
    user_id        uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    card_id        uuid        NOT NULL REFERENCES transit_cards (id),
    product_id     uuid        NOT NULL REFERENCES transit_products (id),
    kind           smallint    NOT NULL CHECK (kind BETWEEN 1 AND 6),
    networks       smallint    NOT NULL CHECK (networks BETWEEN 1 AND 3),
    route          integer     NOT NULL CHECK (route BETWEEN 0 AND 65535),
    category       text        NOT NULL REFERENCES transit_categories (code),
    category_qr    smallint    NOT NULL,
    valid_from     timestamptz NOT NULL,
    valid_until    timestamptz CHECK (valid_until > valid_from),
    price_vnd      bigint      NOT NULL CHECK (price_vnd >= 0),
    -- One payment pays for one pass: a replayed payment notification cannot issue a second one.
    payment_ref    text        UNIQUE,
    status         text        NOT NULL CHECK (status IN ('active', 'revoked')),
    renewed_from   uuid        REFERENCES transit_passes (id),
    created_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    revoke_reason  text
);
CREATE INDEX transit_passes_user ON transit_passes (user_id, created_at DESC);
CREATE INDEX transit_passes_card_product ON transit_passes (card_id, product_id) WHERE status = 'active';
CREATE INDEX transit_passes_expiring ON transit_passes (valid_until) WHERE status = 'active';
CREATE INDEX transit_passes_renewed_from ON transit_passes (renewed_from) WHERE renewed_from IS NOT NULL;

CREATE TABLE transit_device_bindings (
    id          uuid        PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    public_key  bytea       NOT NULL CHECK (length(public_key) = 33),
    platform    text        NOT NULL CHECK (platform IN ('android', 'ios')),
    bound_at    timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE UNIQUE INDEX transit_device_bindings_active ON transit_device_bindings (user_id) WHERE revoked_at IS NULL;

-- Public halves only: the private keys live in key files or an HSM, never in the database.
CREATE TABLE transit_issuer_keys (
    kid          bigint      PRIMARY KEY CHECK (kid BETWEEN 0 AND 4294967295),
    public_key   bytea       NOT NULL UNIQUE CHECK (length(public_key) = 33),
    valid_from   timestamptz NOT NULL,
    valid_until  timestamptz NOT NULL CHECK (valid_until > valid_from),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- The deny list. Each addition (or extension) takes the next number from transit_deny_seq, so a
-- gate at sequence N is brought up to date by every row with seq > N.
CREATE SEQUENCE transit_deny_seq;

CREATE TABLE transit_deny (
    kind        smallint    NOT NULL CHECK (kind IN (1, 2, 3)),
    subject     bytea       NOT NULL CHECK (length(subject) = 16),
    seq         bigint      NOT NULL UNIQUE,
    drop_after  bigint      NOT NULL,          -- epoch seconds, as in the signed document
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, subject)
);
CREATE INDEX transit_deny_drop_after ON transit_deny (drop_after);

CREATE TABLE transit_paper_tickets (
    id           uuid        PRIMARY KEY,
    product_id   uuid        NOT NULL REFERENCES transit_products (id),
    category     text        NOT NULL REFERENCES transit_categories (code),
    price_vnd    bigint      NOT NULL CHECK (price_vnd >= 0),
    sold_by      uuid        NOT NULL REFERENCES users (id),
    valid_from   timestamptz NOT NULL,
    valid_until  timestamptz NOT NULL,
    created_at   timestamptz NOT NULL
);

-- Taps as validators upload them. The id is the validator's, so a retried batch inserts nothing
-- twice; occurred_at is the validator's clock (uploads arrive late and out of order).
CREATE TABLE transit_taps (
    id              uuid        PRIMARY KEY,
    validator_id    uuid        NOT NULL,
    medium          text        NOT NULL CHECK (medium IN ('pass', 'paper')),
    subject_id      uuid        NOT NULL,
    direction       text        NOT NULL CHECK (direction IN ('in', 'out')),
    network         smallint    NOT NULL CHECK (network BETWEEN 1 AND 3),
    route           integer     NOT NULL CHECK (route BETWEEN 0 AND 65535),
    stop            text        NOT NULL,
    occurred_at     timestamptz NOT NULL,
    code_timestamp  bigint,
    counter         integer,
    accepted        boolean     NOT NULL,
    reason          text,
    uploaded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transit_taps_subject ON transit_taps (subject_id, occurred_at DESC);
CREATE INDEX transit_taps_code ON transit_taps (subject_id, code_timestamp, counter) WHERE accepted;
