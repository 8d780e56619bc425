-- trendql schema, version 5: what anonymous callers see of each event.
--
-- An event is public when it changes what anonymous readers can see: an
-- item that is published after it (or was, for a deletion or an
-- unpublish) and whose public form changed. Linking a published trend to a
-- draft company changes nothing public, so that event is not public. The
-- public form of the document (links to unpublished items left out) and
-- the fields it changed are computed in the writing transaction, from the
-- statuses of that moment, so the changes feed, anonymous subscriptions and
-- webhooks without drafts all send the same bytes for an event, and the
-- public cursor moves only on public events.
--
-- Events written before this version keep the old rule (published after
-- it, or an unpublish) and no stored public form: readers project their
-- documents when they read them.
ALTER TABLE events ADD COLUMN public INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1));
ALTER TABLE events ADD COLUMN public_changed TEXT;  -- JSON array; NULL when not public or written before version 5
ALTER TABLE events ADD COLUMN public_document TEXT; -- JSON; NULL when not public or written before version 5

DROP TRIGGER events_append_only_update;
UPDATE events SET public = 1 WHERE status = 'PUBLISHED' OR action = 'UNPUBLISH';
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

-- The public head of the log, and the anonymous feed's pages.
CREATE INDEX events_public ON events (id) WHERE public = 1;
