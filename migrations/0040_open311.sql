-- Open311 GeoReport v2: partner-submitted service requests.
--
-- Partners have no citizen account, but feedback_reports.reporter_id must name a user: each
-- partner key gets one *partner reporter account* (a users row with issuer 'urn:thudo:open311',
-- which no e-ID login can ever match). The people behind a partner's request are stored here,
-- encrypted, never in users and never shown to the public.

CREATE TABLE open311_partner_reporters (
    key_id      uuid        PRIMARY KEY REFERENCES open311_keys (id),
    user_id     uuid        NOT NULL UNIQUE REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE open311_requests (
    report_id   uuid        PRIMARY KEY REFERENCES feedback_reports (id) ON DELETE CASCADE,
    key_id      uuid        NOT NULL REFERENCES open311_keys (id),
    -- GET tokens/{token}: random, single purpose (it only resolves to the public request id).
    token       text        NOT NULL UNIQUE,
    -- The partner's own reference for its user, echoed back as account_id.
    account_id  text,
    -- email, names, phone, device id as AES-GCM ciphertext (PII protector), NULL when none given.
    contact_enc bytea,
    -- Stored as text only: the server never fetches client-supplied URLs (SSRF).
    media_url   text,
    created_at  timestamptz NOT NULL
);
-- "The calling partner's own requests" in listings.
CREATE INDEX open311_requests_key ON open311_requests (key_id, report_id);
