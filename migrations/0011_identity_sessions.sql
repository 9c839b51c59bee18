-- Identity: login transactions, sessions with rotating refresh tokens, consents, grants made
-- before a person's first login, machine clients and Open311 partner keys.

-- One OIDC login in progress: state, nonce and PKCE verifier, single use, short TTL.
CREATE TABLE login_transactions (
    id              uuid        PRIMARY KEY,
    state           text        NOT NULL,
    nonce           text        NOT NULL,
    code_verifier   text        NOT NULL,
    redirect_uri    text        NOT NULL,
    level           smallint    NOT NULL,
    expires_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_transactions_expires ON login_transactions (expires_at);

-- A session is one refresh-token family: its id is the access token's `sid`.
CREATE TABLE sessions (
    id              uuid        PRIMARY KEY,
    user_id         uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    level           smallint    NOT NULL CHECK (level IN (1, 2)),
    user_agent      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    revoked_at      timestamptz,
    revoked_reason  text
);
CREATE INDEX sessions_user_active ON sessions (user_id, created_at) WHERE revoked_at IS NULL;

-- Only SHA-256 hashes of refresh tokens are stored. A used token stays (used_at set) so that
-- presenting it again is recognised as reuse and kills the whole session.
CREATE TABLE refresh_tokens (
    token_hash      bytea       PRIMARY KEY,
    session_id      uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    used_at         timestamptz
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Consent records are append-only: the latest row per purpose is the current choice.
CREATE TABLE consents (
    id          uuid        PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     text        NOT NULL,
    granted     boolean     NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consents_user ON consents (user_id, purpose, created_at DESC);

-- Grants keyed by the personal id's keyed hash, applied when that person logs in
-- (bootstrap admins via `thudo grant-admin`, demo staff from the seed).
CREATE TABLE pending_grants (
    personal_id_hash    bytea   NOT NULL,
    role                text    NOT NULL CHECK (role IN ('city_admin', 'handler', 'supervisor', 'unit_admin')),
    unit_code           text    NOT NULL DEFAULT '',
    PRIMARY KEY (personal_id_hash, role, unit_code)
);

-- Machine clients (medical facilities, transit validators) authenticating with private_key_jwt.
CREATE TABLE api_clients (
    id          uuid        PRIMARY KEY,
    client_id   text        NOT NULL UNIQUE,
    kind        text        NOT NULL CHECK (kind IN ('facility', 'validator')),
    name        text        NOT NULL,
    public_jwk  jsonb       NOT NULL,
    created_by  uuid        REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- Client assertion `jti`s seen, kept until the assertion would have expired (replay protection).
CREATE TABLE client_assertion_jtis (
    client_id   text        NOT NULL,
    jti         text        NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX client_assertion_jtis_expires ON client_assertion_jtis (expires_at);

-- Open311 partner API keys: only the SHA-256 of the key is stored.
CREATE TABLE open311_keys (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL,
    key_hash    bytea       NOT NULL UNIQUE,
    created_by  uuid        REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
