-- Foundation: idempotency keys and the city's administrative/handling units.

CREATE TABLE idempotency_keys (
    principal   text        NOT NULL,
    key         text        NOT NULL,
    fingerprint text        NOT NULL,
    status      integer     NOT NULL DEFAULT 0,
    body        bytea,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- Handling units: the city, its districts (quận/huyện/thị xã), their wards (phường/xã/thị trấn)
-- and the city departments (sở, ban, ngành). Wards and districts double as places for routing.
CREATE TABLE units (
    id          uuid        PRIMARY KEY,
    code        text        NOT NULL UNIQUE,
    kind        text        NOT NULL CHECK (kind IN ('city', 'district', 'ward', 'department')),
    name_vi     text        NOT NULL,
    name_en     text        NOT NULL,
    parent_id   uuid        REFERENCES units (id),
    lat         double precision,
    lon         double precision,
    active      boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (kind <> 'ward' OR parent_id IS NOT NULL)
);
CREATE INDEX units_parent ON units (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX units_kind ON units (kind);
