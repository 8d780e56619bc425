-- trendql schema, version 8: the transaction each event belongs to.
--
-- A GraphQL request with several mutations commits them in one transaction
-- (all or nothing), and so does an import. tx_id groups the events of one
-- transaction: it is the id of the transaction's first event, so it is
-- unique, grows with the log, and names a real event. Subscribers, the
-- changes feed and webhooks receive a transaction's events together, in
-- order, and can tell where one transaction ends.
--
-- Events written before this version have no tx_id; readers take the
-- event's own id (each was, as far as anyone can tell now, its own
-- transaction).
ALTER TABLE events ADD COLUMN tx_id INTEGER;

-- The transaction an event belongs to never changes either.
DROP TRIGGER events_append_only_update;
CREATE TRIGGER events_append_only_update BEFORE UPDATE OF id, at, type, item_id, slug, action, version, status, token_id, actor, changed,
    public, public_form, public_changed, public_document, tx_id ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
