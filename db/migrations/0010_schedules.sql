-- trendql schema, version 10: scheduled publishing.
--
-- schedules holds the pending ones: at most one publish and one unpublish
-- per item. due_at is an RFC 3339 UTC time with milliseconds (as every time
-- trendql stores), so it sorts as it compares. Setting or clearing a
-- schedule is not a change of content: it bumps no version and writes no
-- event. The server claims a due row by deleting it in the transaction that
-- applies it, so each schedule is applied once, whatever the number of
-- processes sharing the file.
CREATE TABLE schedules (
    type         TEXT NOT NULL CHECK (type IN ('Trend', 'Framework', 'Company', 'FAQ')),
    item_id      INTEGER NOT NULL,
    action       TEXT NOT NULL CHECK (action IN ('PUBLISH', 'UNPUBLISH')),
    due_at       TEXT NOT NULL,
    token_id     INTEGER,           -- who set it: the token, or NULL for the command line
    actor        TEXT NOT NULL,     -- who, readable: the token's name, or "cli"
    scheduled_at TEXT NOT NULL,     -- when it was set
    PRIMARY KEY (type, item_id, action)
) WITHOUT ROWID;
CREATE INDEX schedules_due ON schedules (due_at);

-- schedule_log is what happened to schedules, for editors and admins: who
-- set or cleared one, and whether it was applied (with the revision it
-- made) or failed (and why). Append-only, like the event log, and pruned
-- with it: only the retention worker deletes (its marker row is in
-- events_pruning within its transaction).
CREATE TABLE schedule_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,          -- when it happened
    type     TEXT NOT NULL,
    item_id  INTEGER NOT NULL,
    slug     TEXT NOT NULL,
    action   TEXT NOT NULL CHECK (action IN ('PUBLISH', 'UNPUBLISH')),
    outcome  TEXT NOT NULL CHECK (outcome IN ('SCHEDULED', 'CLEARED', 'APPLIED', 'FAILED', 'CANCELLED')),
    due_at   TEXT NOT NULL,          -- the schedule's time
    token_id INTEGER,                -- who: the token that set, cleared or (for APPLIED and FAILED) had set it
    actor    TEXT NOT NULL,
    event_id INTEGER,                -- APPLIED: the revision it made (NULL when it changed nothing)
    message  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX schedule_log_item ON schedule_log (type, item_id, id);
CREATE INDEX schedule_log_at ON schedule_log (at);

CREATE TRIGGER schedule_log_append_only_update BEFORE UPDATE ON schedule_log
BEGIN
    SELECT RAISE(ABORT, 'the schedule log is append-only');
END;
CREATE TRIGGER schedule_log_append_only_delete BEFORE DELETE ON schedule_log
    WHEN NOT EXISTS (SELECT 1 FROM events_pruning) BEGIN
    SELECT RAISE(ABORT, 'the schedule log is append-only');
END;

-- Deleting an item drops its schedules, whichever path deletes it, and says
-- so in the log (the event log says who deleted it).
CREATE TRIGGER trends_drop_schedules AFTER DELETE ON trends BEGIN
    INSERT INTO schedule_log (at, type, item_id, slug, action, outcome, due_at, token_id, actor, message)
    SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), type, item_id, old.slug, action, 'CANCELLED', due_at, token_id, actor, 'the item was deleted'
    FROM schedules WHERE type = 'Trend' AND item_id = old.id;
    DELETE FROM schedules WHERE type = 'Trend' AND item_id = old.id;
END;
CREATE TRIGGER frameworks_drop_schedules AFTER DELETE ON frameworks BEGIN
    INSERT INTO schedule_log (at, type, item_id, slug, action, outcome, due_at, token_id, actor, message)
    SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), type, item_id, old.slug, action, 'CANCELLED', due_at, token_id, actor, 'the item was deleted'
    FROM schedules WHERE type = 'Framework' AND item_id = old.id;
    DELETE FROM schedules WHERE type = 'Framework' AND item_id = old.id;
END;
CREATE TRIGGER companies_drop_schedules AFTER DELETE ON companies BEGIN
    INSERT INTO schedule_log (at, type, item_id, slug, action, outcome, due_at, token_id, actor, message)
    SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), type, item_id, old.slug, action, 'CANCELLED', due_at, token_id, actor, 'the item was deleted'
    FROM schedules WHERE type = 'Company' AND item_id = old.id;
    DELETE FROM schedules WHERE type = 'Company' AND item_id = old.id;
END;
CREATE TRIGGER faqs_drop_schedules AFTER DELETE ON faqs BEGIN
    INSERT INTO schedule_log (at, type, item_id, slug, action, outcome, due_at, token_id, actor, message)
    SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), type, item_id, old.slug, action, 'CANCELLED', due_at, token_id, actor, 'the item was deleted'
    FROM schedules WHERE type = 'FAQ' AND item_id = old.id;
    DELETE FROM schedules WHERE type = 'FAQ' AND item_id = old.id;
END;
