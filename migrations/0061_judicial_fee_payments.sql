-- What the citizen still owes for a judicial request (e.g. postage under Resolution 77) is paid
-- through the shared payment port (0080_payments.sql): one intent per request, purpose
-- "judicial.fee", object_id = the request id. This table is the judicial side of it: whether the
-- fee is pending, paid, refunded or lapsed, written by the payments handler in the payment's own
-- transaction. No foreign key to payment_intents (that table comes later in the migration order
-- and belongs to another context); the intent id is kept for the citizen's and staff's views.

CREATE TABLE judicial_fee_payments (
    request_id       uuid        PRIMARY KEY REFERENCES judicial_requests (id) ON DELETE CASCADE,
    intent_id        uuid        NOT NULL,
    amount           integer     NOT NULL CHECK (amount > 0),
    status           text        NOT NULL CHECK (status IN ('pending', 'paid', 'refunded', 'lapsed')),
    refunded_amount  integer     NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0),
    paid_at          timestamptz,
    updated_at       timestamptz NOT NULL
);

-- Staff look for lapsed fees of their requests.
CREATE INDEX judicial_fee_payments_lapsed ON judicial_fee_payments (updated_at) WHERE status = 'lapsed';
