-- trendql schema, version 3: webhooks, delivered from the event log.
--
-- The dispatcher reads the events after webhook_dispatch.last_event_id and,
-- in one transaction, inserts a delivery per matching active webhook and
-- advances that cursor: a crash between the two cannot lose or duplicate a
-- delivery. Workers then send due deliveries, recording every attempt.

CREATE TABLE webhooks (
    id             INTEGER PRIMARY KEY,
    url            TEXT NOT NULL,
    secret         TEXT NOT NULL,               -- HMAC-SHA256 key; needed in clear to sign
    types          TEXT NOT NULL DEFAULT '[]',  -- JSON array of type names; [] = every change
    actions        TEXT NOT NULL DEFAULT '[]',  -- JSON array of actions; [] = every action
    include_drafts INTEGER NOT NULL DEFAULT 1 CHECK (include_drafts IN (0, 1)),
    active         INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    after_event_id INTEGER NOT NULL DEFAULT 0,  -- events up to this one predate the webhook
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY,
    webhook_id       INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id         INTEGER REFERENCES events (id), -- NULL for a ping
    status           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'succeeded', 'failed', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,     -- attempts started
    next_attempt_at  TEXT,                           -- NULL once succeeded or dead
    lease_until      TEXT,                           -- set while an attempt is in flight
    last_status_code INTEGER,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status IN ('pending', 'failed');
CREATE INDEX webhook_deliveries_status ON webhook_deliveries (webhook_id, status, id);

-- One row per attempt, written when it starts (so an attempt cut short by a
-- crash still shows, with no outcome) and completed when it ends.
CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status_code INTEGER,
    error       TEXT,
    duration_ms INTEGER,
    UNIQUE (delivery_id, number)
);

-- The dispatcher's cursor: the last event turned into deliveries. It starts
-- at the end of the log: webhooks hear about changes made after them.
CREATE TABLE webhook_dispatch (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    last_event_id INTEGER NOT NULL
);
INSERT INTO webhook_dispatch (id, last_event_id) SELECT 1, coalesce(max(id), 0) FROM events;
