-- trendql:foreign-keys-off
-- (the migrator turns foreign keys off around this migration, as SQLite's
-- procedure for rebuilding a table asks, and checks them before commit)
--
-- trendql schema, version 7: a smaller event log, and retention.
--
-- Documents. Version 2 stored every event's full document, so a bulk import
-- of 17,000 items wrote 17 MB of copies of the content it had just written.
-- Now an event's document may be NULL, meaning "the item as it is now": the
-- newest event of each item stores none, since the content tables hold it.
-- When the item changes again, the same transaction writes the document
-- before the change into the previous event, so every event but the newest
-- keeps its own. A DELETE event always stores the item as it was. Readers
-- (revisions, the changes feed, webhooks) see a document either way.
--
-- Retention. The log may now be pruned, by trendql's retention worker only:
-- deletes are refused unless the worker's marker row is in events_pruning
-- (within its own transaction). event_retention remembers the newest event
-- the worker ever deleted: a changes cursor older than that has missed
-- something, and is refused as expired instead of silently skipping it.

CREATE TABLE events_new (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,
    type      TEXT NOT NULL,            -- Trend, Framework, Company, FAQ, Article
    item_id   INTEGER NOT NULL,         -- row id of the item
    slug      TEXT NOT NULL,
    action    TEXT NOT NULL,            -- CREATE, UPDATE, DELETE, PUBLISH, UNPUBLISH, LINK, UNLINK, RESTORE
    version   INTEGER NOT NULL,         -- the item's version after the change
    status    TEXT NOT NULL,            -- the item's status after the change
    token_id  INTEGER,                  -- who: the token, or NULL for the command line
    actor     TEXT NOT NULL,            -- who, readable: the token's name, or "cli"
    changed   TEXT NOT NULL DEFAULT '[]', -- JSON array of the fields that changed
    document  TEXT,                     -- JSON: the item's document after the change (before it, for DELETE);
                                        -- NULL on an item's newest event: the item as it is now
    -- What anonymous callers see of it (version 5). public_form = 1: the
    -- public form was decided when the event was written, and a NULL
    -- public_changed or public_document means "the same as changed or
    -- document" (most events: no link to an unpublished item), so it costs
    -- nothing to store. public_form = 0: written before version 5; readers
    -- project the document when they read it.
    public          INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1)),
    public_form     INTEGER NOT NULL DEFAULT 0 CHECK (public_form IN (0, 1)),
    public_changed  TEXT,               -- JSON array, when it differs from changed
    public_document TEXT                -- JSON, when it differs from document
);
INSERT INTO events_new (id, at, type, item_id, slug, action, version, status, token_id, actor, changed, document,
                        public, public_form, public_changed, public_document)
SELECT id, at, type, item_id, slug, action, version, status, token_id, actor, changed, document,
       public, public_document IS NOT NULL,
       CASE WHEN public_changed IS changed THEN NULL ELSE public_changed END,
       CASE WHEN public_document IS document THEN NULL ELSE public_document END
FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_item ON events (type, item_id, id);
-- The public head of the log, and the anonymous feed's pages.
CREATE INDEX events_public ON events (id) WHERE public = 1;

CREATE TABLE events_pruning (one INTEGER PRIMARY KEY CHECK (one = 1));

CREATE TABLE event_retention (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    pruned_through INTEGER NOT NULL DEFAULT 0 -- the newest event id ever pruned
);
INSERT INTO event_retention (id, pruned_through) VALUES (1, 0);

CREATE TRIGGER events_append_only_update BEFORE UPDATE OF id, at, type, item_id, slug, action, version, status, token_id, actor, changed,
    public, public_form, public_changed, public_document ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
-- The document may only be filled in, never changed.
CREATE TRIGGER events_document_once BEFORE UPDATE OF document ON events
    WHEN old.document IS NOT NULL BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
    WHEN NOT EXISTS (SELECT 1 FROM events_pruning) BEGIN
    SELECT RAISE(ABORT, 'events are append-only (only retention prunes them)');
END;

-- Pruning skips events a webhook delivery still refers to.
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
