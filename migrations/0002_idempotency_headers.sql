-- A replayed response must equal the first one, including headers such as Location on a 201.
ALTER TABLE idempotency_keys ADD COLUMN headers jsonb NOT NULL DEFAULT '{}';
