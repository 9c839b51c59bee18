-- Citizen feedback: categories (reference data managed by city admins), reports, their timeline,
-- followers ("me too"), attachments (photos, evidence), ratings and escalations.

CREATE TABLE feedback_categories (
    id                   uuid        PRIMARY KEY,
    code                 text        NOT NULL UNIQUE,
    name_vi              text        NOT NULL,
    name_en              text        NOT NULL,
    description_vi       text        NOT NULL DEFAULT '',
    description_en       text        NOT NULL DEFAULT '',
    grp                  text        NOT NULL DEFAULT '',
    keywords             text[]      NOT NULL DEFAULT '{}',
    default_level        text        NOT NULL CHECK (default_level IN ('normal', 'urgent', 'complex')),
    sla_normal_hours     integer     NOT NULL CHECK (sla_normal_hours > 0),
    sla_complex_hours    integer     NOT NULL CHECK (sla_complex_hours > 0),
    sla_urgent_hours     integer     NOT NULL DEFAULT 4 CHECK (sla_urgent_hours > 0),
    department_id        uuid        REFERENCES units (id),
    route_to_department  boolean     NOT NULL DEFAULT false,
    questions            jsonb       NOT NULL DEFAULT '[]',
    active               boolean     NOT NULL DEFAULT true,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE feedback_report_seq;

CREATE TABLE feedback_reports (
    id               uuid        PRIMARY KEY,
    ref              text        NOT NULL UNIQUE,
    reporter_id      uuid        NOT NULL REFERENCES users (id),
    category_id      uuid        NOT NULL REFERENCES feedback_categories (id),
    level            text        NOT NULL CHECK (level IN ('normal', 'urgent', 'complex')),
    status           text        NOT NULL CHECK (status IN ('pending', 'transferred', 'in_progress',
                                                            'handled', 'rejected', 'duplicate')),
    description      text        NOT NULL,
    lat              double precision NOT NULL,
    lon              double precision NOT NULL,
    address          text        NOT NULL DEFAULT '',
    ward_id          uuid        REFERENCES units (id),
    unit_id          uuid        NOT NULL REFERENCES units (id),
    assignee_id      uuid        REFERENCES users (id),
    answers          jsonb       NOT NULL DEFAULT '{}',
    publishable      boolean     NOT NULL DEFAULT true,
    hidden           boolean     NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    ack_due_at       timestamptz NOT NULL,
    due_at           timestamptz NOT NULL,
    acknowledged_at  timestamptz,
    handled_at       timestamptz,
    closed_at        timestamptz,
    duplicate_of     uuid        REFERENCES feedback_reports (id),
    reply            text,
    reopen_count     integer     NOT NULL DEFAULT 0,
    version          integer     NOT NULL DEFAULT 0,
    -- The deadline that matters now (acknowledge first, then handle); NULL once closed.
    next_deadline_at timestamptz GENERATED ALWAYS AS (
        CASE WHEN status IN ('pending', 'transferred') THEN LEAST(ack_due_at, due_at)
             WHEN status = 'in_progress' THEN due_at END) STORED
);
-- My reports (UUIDv7 ids are time-ordered: newest first by id).
CREATE INDEX feedback_reports_reporter ON feedback_reports (reporter_id, id DESC);
-- Unit queue: open reports (default view) and by explicit status.
CREATE INDEX feedback_reports_unit_open ON feedback_reports (unit_id, id DESC)
    WHERE status IN ('pending', 'transferred', 'in_progress');
CREATE INDEX feedback_reports_unit_status ON feedback_reports (unit_id, status, id DESC);
-- Duplicate suggestions: same category, recent; the lat/lon bounding box filters the few rows left.
CREATE INDEX feedback_reports_category_recent ON feedback_reports (category_id, created_at) INCLUDE (lat, lon);
-- Public feed near a point / in a ward.
CREATE INDEX feedback_reports_public_geo ON feedback_reports (lat, lon)
    WHERE status = 'handled' AND publishable AND NOT hidden;
CREATE INDEX feedback_reports_public_ward ON feedback_reports (ward_id, id DESC)
    WHERE status = 'handled' AND publishable AND NOT hidden;
-- Escalation job and statistics.
CREATE INDEX feedback_reports_deadline ON feedback_reports (next_deadline_at) WHERE next_deadline_at IS NOT NULL;
CREATE INDEX feedback_reports_created ON feedback_reports (created_at);
CREATE INDEX feedback_reports_closed ON feedback_reports (closed_at) WHERE closed_at IS NOT NULL;

CREATE TABLE feedback_events (
    id          uuid        PRIMARY KEY,
    report_id   uuid        NOT NULL REFERENCES feedback_reports (id) ON DELETE CASCADE,
    kind        text        NOT NULL,
    status      text        NOT NULL,
    actor_kind  text        NOT NULL CHECK (actor_kind IN ('citizen', 'staff', 'system')),
    actor_id    uuid,
    public      boolean     NOT NULL,
    text        text        NOT NULL DEFAULT '',
    data        jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL
);
CREATE INDEX feedback_events_report ON feedback_events (report_id, id);
-- Open311 servicerequestupdates reads public events in time order.
CREATE INDEX feedback_events_public ON feedback_events (created_at, id) WHERE public;

CREATE TABLE feedback_followers (
    report_id   uuid        NOT NULL REFERENCES feedback_reports (id) ON DELETE CASCADE,
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (report_id, user_id)
);
CREATE INDEX feedback_followers_user ON feedback_followers (user_id, report_id DESC);

CREATE TABLE feedback_attachments (
    id            uuid        PRIMARY KEY,
    report_id     uuid        NOT NULL REFERENCES feedback_reports (id) ON DELETE CASCADE,
    kind          text        NOT NULL CHECK (kind IN ('photo', 'evidence')),
    content_type  text        NOT NULL,
    size          integer     NOT NULL,
    blob_key      text        NOT NULL,
    thumb_key     text,
    uploaded_by   uuid        NOT NULL REFERENCES users (id),
    used          boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL
);
CREATE INDEX feedback_attachments_report ON feedback_attachments (report_id, id);

CREATE TABLE feedback_ratings (
    report_id   uuid        PRIMARY KEY REFERENCES feedback_reports (id) ON DELETE CASCADE,
    score       smallint    NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment     text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL
);
CREATE INDEX feedback_ratings_created ON feedback_ratings (created_at);

-- One escalation per report and deadline (a reopened/transferred report gets new deadlines).
CREATE TABLE feedback_escalations (
    report_id     uuid        NOT NULL REFERENCES feedback_reports (id) ON DELETE CASCADE,
    deadline      text        NOT NULL CHECK (deadline IN ('acknowledge', 'handle')),
    due_at        timestamptz NOT NULL,
    escalated_at  timestamptz NOT NULL,
    PRIMARY KEY (report_id, deadline, due_at)
);
