-- Reconciliation also asks the provider about unpaid intents that lapsed (expired, failed,
-- canceled): a transfer whose notification never reached us must still be settled. checked_at
-- spaces those questions out (once an hour per intent, for a day after it lapsed).

ALTER TABLE payment_intents ADD COLUMN checked_at timestamptz;

CREATE INDEX payment_intents_lapsed ON payment_intents (updated_at)
    WHERE status IN ('expired', 'failed', 'canceled');
