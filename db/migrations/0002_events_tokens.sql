-- trendql schema, version 2: API tokens and the event log.

-- API tokens. The secret is never stored: only its SHA-256. A token reads
-- "tql_<id>_<secret>", so it is looked up by id and its secret compared in
-- constant time.
CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    secret_hash BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT,
    revoked_at  TEXT
);

-- The event log: one row per change to content, written in the same
-- transaction as the change. Append-only; the spine of revisions, audit,
-- webhooks, subscriptions, the changes feed and cache invalidation.
CREATE TABLE events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,
    type      TEXT NOT NULL,            -- Trend, Framework, Company, FAQ, Article
    item_id   INTEGER NOT NULL,         -- row id of the item
    slug      TEXT NOT NULL,
    action    TEXT NOT NULL,            -- CREATE, UPDATE, DELETE, PUBLISH, UNPUBLISH, LINK, UNLINK, RESTORE, IMPORT
    version   INTEGER NOT NULL,         -- the item's version after the change
    status    TEXT NOT NULL,            -- the item's status after the change
    token_id  INTEGER,                  -- who: the token, or NULL for the command line
    actor     TEXT NOT NULL,            -- who, readable: the token's name, or "cli"
    changed   TEXT NOT NULL DEFAULT '[]', -- JSON array of the fields that changed
    document  TEXT NOT NULL             -- JSON: the item's document after the change (before it, for DELETE)
);
CREATE INDEX events_item ON events (type, item_id, id);

CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
