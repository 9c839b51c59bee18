-- Notifications: in-app inbox, push outbox (transactional), per-user preferences, announcements.

-- Every notification lands here, so nothing is lost when a phone is offline or pushes are off.
-- Texts are rendered for both locales when queued: history never changes when templates do,
-- and a user who switches language still reads every entry.
CREATE TABLE notification_inbox (
    id                uuid        PRIMARY KEY,            -- UUIDv7: id order = creation order
    user_id           uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category          text        NOT NULL,
    template          text        NOT NULL,
    object_type       text        NOT NULL,
    object_id         text        NOT NULL,
    deep_link         text        NOT NULL,
    content           jsonb       NOT NULL,               -- {"vi": {"title","body"}, "en": {...}}
    legally_required  boolean     NOT NULL DEFAULT false,
    idempotency_key   text        NOT NULL UNIQUE,
    read_at           timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_inbox_user ON notification_inbox (user_id, id DESC);
CREATE INDEX notification_inbox_unread ON notification_inbox (user_id) WHERE read_at IS NULL;

-- Push outbox: one row per FCM operation. A notification fans out to one row per device at
-- queue time (each device succeeds, retries or loses its token on its own); announcements are
-- one 'topic' row; topic (un)subscriptions are one row per token, grouped by the worker into
-- batches of at most 1,000 tokens.
-- Claiming sets available_at to the end of a lease and claim_id to the claimer's batch id:
-- a crashed worker's rows reappear when the lease ends, and a late result from a worker whose
-- lease ran out is ignored (its claim_id no longer matches).
CREATE TABLE push_outbox (
    id                uuid        PRIMARY KEY,
    kind              text        NOT NULL CHECK (kind IN ('token', 'topic', 'subscribe', 'unsubscribe')),
    idempotency_key   text        NOT NULL UNIQUE,
    inbox_id          uuid        REFERENCES notification_inbox (id) ON DELETE CASCADE,
    device_id         uuid        REFERENCES devices (id) ON DELETE CASCADE,
    token             text,                               -- for (un)subscribe rows
    topic             text,
    payload           jsonb       NOT NULL DEFAULT '{}',  -- rendered title/body/data
    legally_required  boolean     NOT NULL DEFAULT false,
    status            text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    attempts          integer     NOT NULL DEFAULT 0,
    available_at      timestamptz NOT NULL DEFAULT now(),
    claim_id          uuid,
    last_error        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    CHECK (kind <> 'token' OR device_id IS NOT NULL),
    CHECK (kind = 'token' OR topic IS NOT NULL),
    CHECK (kind NOT IN ('subscribe', 'unsubscribe') OR token IS NOT NULL)
);
CREATE INDEX push_outbox_pending ON push_outbox (available_at) WHERE status = 'pending';
CREATE INDEX push_outbox_finished ON push_outbox (finished_at) WHERE status <> 'pending';
CREATE INDEX push_outbox_device ON push_outbox (device_id) WHERE device_id IS NOT NULL;

-- Per-user preferences. No row = defaults (everything on, no quiet hours).
CREATE TABLE notification_preferences (
    user_id      uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    opted_out    text[]      NOT NULL DEFAULT '{}',       -- categories whose pushes are suppressed
    quiet_start  time,                                    -- local time in Asia/Ho_Chi_Minh
    quiet_end    time,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);

-- City announcements sent by city admins to a district topic or the whole city.
CREATE TABLE announcements (
    id           uuid        PRIMARY KEY,
    district_id  uuid        REFERENCES units (id),
    topic        text        NOT NULL,
    content      jsonb       NOT NULL,
    created_by   uuid        NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX announcements_created ON announcements (created_at DESC);
