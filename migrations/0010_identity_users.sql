-- Identity core: users (citizens, staff and admins all log in with VNeID), staff grants, devices.
-- Personal ID numbers are never stored in clear: a keyed hash for lookup, ciphertext for display.

CREATE TABLE users (
    id                      uuid        PRIMARY KEY,
    eid_issuer              text        NOT NULL,
    eid_subject             text        NOT NULL,
    personal_id_hash        bytea       NOT NULL UNIQUE,
    personal_id_enc         bytea       NOT NULL,
    full_name               text        NOT NULL,
    date_of_birth           date,
    level                   smallint    NOT NULL CHECK (level IN (1, 2)),
    locale                  text        NOT NULL DEFAULT 'vi' CHECK (locale IN ('vi', 'en')),
    district_id             uuid        REFERENCES units (id),
    city_admin              boolean     NOT NULL DEFAULT false,
    deletion_requested_at   timestamptz,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    UNIQUE (eid_issuer, eid_subject)
);

CREATE TABLE staff_grants (
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    unit_id     uuid        NOT NULL REFERENCES units (id),
    role        text        NOT NULL CHECK (role IN ('handler', 'supervisor', 'unit_admin')),
    granted_by  uuid        REFERENCES users (id),
    granted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, unit_id, role)
);
CREATE INDEX staff_grants_unit ON staff_grants (unit_id, role);

-- Push installations. A token belongs to one installation; re-registering moves it.
CREATE TABLE devices (
    id          uuid        PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id  uuid,
    fcm_token   text        NOT NULL UNIQUE,
    platform    text        NOT NULL CHECK (platform IN ('android', 'ios', 'web')),
    app_version text        NOT NULL,
    locale      text        NOT NULL DEFAULT 'vi' CHECK (locale IN ('vi', 'en')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_user ON devices (user_id);
