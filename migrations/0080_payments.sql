-- Payments: intents (one per order), refunds, verified provider notifications (replay and
-- idempotency), mismatches found on the way, and the daily report for finance.
-- Money is bigint VND. Nothing about a card or account beyond display data (bank name, last
-- digits) is stored.

CREATE TABLE payment_intents (
    id               uuid        PRIMARY KEY,
    ref              text        NOT NULL UNIQUE,          -- VietQR memo / gateway order id
    owner_id         uuid        NOT NULL REFERENCES users (id),
    purpose          text        NOT NULL,                 -- 'judicial.fee', 'transit.pass'
    object_id        text        NOT NULL,                 -- the owning context's order
    amount           bigint      NOT NULL CHECK (amount > 0),
    currency         text        NOT NULL DEFAULT 'VND' CHECK (currency = 'VND'),
    description      text        NOT NULL,
    provider         text        NOT NULL,
    status           text        NOT NULL CHECK (status IN ('requires_payment', 'processing', 'succeeded', 'failed',
                                                            'expired', 'canceled', 'partially_refunded', 'refunded')),
    attempt          integer     NOT NULL DEFAULT 1,
    provider_ref     text,
    paid_at          timestamptz,
    refunded_amount  bigint      NOT NULL DEFAULT 0,
    instrument_bank  text,
    instrument_last_digits text  CHECK (instrument_last_digits ~ '^[0-9]{1,4}$'),
    failure_code     text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    version          integer     NOT NULL DEFAULT 1,
    UNIQUE (purpose, object_id),                           -- one intent per order
    CHECK (refunded_amount BETWEEN 0 AND amount),
    CHECK ((status IN ('succeeded', 'partially_refunded', 'refunded')) = (paid_at IS NOT NULL))
);
CREATE INDEX payment_intents_owner ON payment_intents (owner_id, created_at DESC);
CREATE INDEX payment_intents_to_expire ON payment_intents (expires_at) WHERE status = 'requires_payment';
CREATE INDEX payment_intents_processing ON payment_intents (updated_at) WHERE status = 'processing';
CREATE INDEX payment_intents_paid_at ON payment_intents (paid_at) WHERE paid_at IS NOT NULL;

CREATE TABLE payment_refunds (
    id            uuid        PRIMARY KEY,                 -- derived from (intent, key): stable across retries
    intent_id     uuid        NOT NULL REFERENCES payment_intents (id),
    key           text        NOT NULL,
    amount        bigint      NOT NULL CHECK (amount > 0),
    reason        text        NOT NULL,
    status        text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    requested_by  uuid,
    provider_ref  text,
    failure_code  text,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    UNIQUE (intent_id, key)
);
CREATE INDEX payment_refunds_pending ON payment_refunds (created_at) WHERE status = 'pending';
CREATE INDEX payment_refunds_succeeded ON payment_refunds (updated_at) WHERE status = 'succeeded';

-- Every verified notification, by the provider's nonce: a second delivery (retry or replay)
-- finds its row and changes nothing. Signatures and raw bodies are not kept.
CREATE TABLE payment_notifications (
    provider     text        NOT NULL,
    event_id     text        NOT NULL,
    intent_id    uuid        NOT NULL REFERENCES payment_intents (id),
    type         text        NOT NULL,
    amount       bigint      NOT NULL,
    currency     text        NOT NULL,
    sent_at      timestamptz NOT NULL,
    received_at  timestamptz NOT NULL,
    outcome      text        NOT NULL DEFAULT '',
    PRIMARY KEY (provider, event_id)
);
CREATE INDEX payment_notifications_intent ON payment_notifications (intent_id);

CREATE TABLE payment_mismatches (
    id               uuid        PRIMARY KEY,
    kind             text        NOT NULL,
    intent_id        uuid        NOT NULL REFERENCES payment_intents (id),
    provider         text        NOT NULL,
    expected_amount  bigint,
    reported_amount  bigint,
    detail           text        NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL
);
CREATE INDEX payment_mismatches_created ON payment_mismatches (created_at);

CREATE TABLE payment_daily_reports (
    day         date        PRIMARY KEY,                   -- business day in Asia/Ho_Chi_Minh
    report      jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
