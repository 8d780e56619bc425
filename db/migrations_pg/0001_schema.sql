-- trendql schema for PostgreSQL (15+): the SQLite schema at version 10,
-- ported so that the same SQL, after the engine's mechanical translation
-- (? -> $n, ifnull -> coalesce, COLLATE NOCASE order -> lower(x), ...),
-- gives the same answers on both engines.
--
-- Conventions, relied on by the Go code:
-- * Every text column is text COLLATE "C": byte order, like SQLite's BINARY.
--   lower() under "C" folds ASCII letters only, like SQLite's NOCASE, so the
--   name indexes are on (lower(name), id).
-- * INTEGER becomes bigint and flags stay 0/1 integers (public = 1 works).
-- * An INTEGER PRIMARY KEY left NULL gets max(id) + 1, as SQLite's rowid
--   does, from a BEFORE INSERT trigger; an explicit id (restoring a deleted
--   item) is kept. Writers are serialised by an advisory lock, so max + 1 is
--   safe. events and schedule_log were AUTOINCREMENT (ids never reused):
--   they are identity columns over events_id_seq and schedule_log_id_seq.
-- * UNIQUE constraints are not deferrable: SQLite checks them per statement
--   and the Go code parks values to swap ranks.
-- * Triggers raise the same messages as SQLite's RAISE(ABORT, ...).
-- * Full-text search: SQLite's two FTS5 external-content indexes become two
--   tables, search (every item, pending drafts at rid + 2^40) and
--   search_public (published live items), holding the text and a weighted
--   tsvector (name A, keywords B, summary C, body D; English stemming,
--   accents ignored by the text search configuration trendql). Triggers keep
--   them current for exactly the rids the FTS5 triggers touch, unless a row
--   in search_suspended says a bulk import is running; search_rebuild()
--   then refills both from the search_docs and search_public_docs views.
--
-- The file runs once, on an empty database, inside one transaction.

CREATE EXTENSION IF NOT EXISTS unaccent;

-- English stemming with accents removed first, for documents and queries.
CREATE TEXT SEARCH CONFIGURATION trendql (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION trendql
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;

-- The weighted document of one search row. The body is parsed here, once
-- (BEGIN ATOMIC), so it names the configuration by its oid and works under
-- any search_path, e.g. pg_dump's empty one while it restores the stored tsv.
CREATE FUNCTION trendql_tsvector(name text, keywords text, summary text, body text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT setweight(to_tsvector('trendql'::regconfig, coalesce(name, '')), 'A')
        || setweight(to_tsvector('trendql'::regconfig, coalesce(keywords, '')), 'B')
        || setweight(to_tsvector('trendql'::regconfig, coalesce(summary, '')), 'C')
        || setweight(to_tsvector('trendql'::regconfig, coalesce(body, '')), 'D');
END;

-- A JSON list column as the search views index it, as SQLite's
--   CASE WHEN json_valid(x) THEN group_concat(json_extract(x, '$[n]'), ' · ') ELSE x END
-- computes it: the items joined by ' · ' (strings unquoted, true/false as
-- 1/0 like json_extract, JSON nulls skipped), NULL for an empty list or a
-- valid JSON value that is not a list, and the text itself when it is not
-- valid JSON.
CREATE FUNCTION search_json_list(doc text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    j json;
BEGIN
    BEGIN
        j := doc::json;
    EXCEPTION WHEN others THEN
        RETURN doc;
    END;
    IF json_typeof(j) IS DISTINCT FROM 'array' THEN
        RETURN NULL;
    END IF;
    RETURN (SELECT string_agg(CASE json_typeof(e)
                                  WHEN 'string' THEN e #>> '{}'
                                  WHEN 'boolean' THEN CASE WHEN e::text = 'true' THEN '1' ELSE '0' END
                                  WHEN 'null' THEN NULL
                                  ELSE e::text
                              END, ' · ' ORDER BY n)
              FROM json_array_elements(j) WITH ORDINALITY AS x (e, n));
END
$$;

CREATE TABLE trendql_meta (
    key   text COLLATE "C" PRIMARY KEY,
    value text COLLATE "C" NOT NULL
);

-- Content.
CREATE TABLE article (
    id           bigint PRIMARY KEY CHECK (id = 1),
    title        text COLLATE "C" NOT NULL,
    last_updated text COLLATE "C" NOT NULL,
    intro        text COLLATE "C" NOT NULL DEFAULT '',
    conclusion   text COLLATE "C" NOT NULL DEFAULT '',
    version      bigint NOT NULL DEFAULT 1,
    created_at   text COLLATE "C" NOT NULL,
    updated_at   text COLLATE "C" NOT NULL
);
CREATE TABLE article_sections (
    position bigint PRIMARY KEY,
    heading  text COLLATE "C" NOT NULL,
    body     text COLLATE "C" NOT NULL DEFAULT ''
);
CREATE TABLE companies (
    id           bigint PRIMARY KEY,
    slug         text COLLATE "C" NOT NULL UNIQUE,
    name         text COLLATE "C" NOT NULL,
    status       text COLLATE "C" NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'PUBLISHED')),
    version      bigint NOT NULL DEFAULT 1,
    created_at   text COLLATE "C" NOT NULL,
    updated_at   text COLLATE "C" NOT NULL,
    published_at text COLLATE "C"
);
CREATE INDEX companies_name ON companies (lower(name), id);
CREATE TABLE frameworks (
    id             bigint PRIMARY KEY,
    slug           text COLLATE "C" NOT NULL UNIQUE,
    name           text COLLATE "C" NOT NULL,
    kind           text COLLATE "C" NOT NULL CHECK (kind IN ('FRAMEWORK', 'LANGUAGE')),
    language       text COLLATE "C" NOT NULL DEFAULT '',
    creator        text COLLATE "C" NOT NULL DEFAULT '',
    first_released bigint,
    architecture   text COLLATE "C" NOT NULL DEFAULT '',
    summary        text COLLATE "C" NOT NULL DEFAULT '',
    features       text COLLATE "C" NOT NULL DEFAULT '[]',
    status         text COLLATE "C" NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'PUBLISHED')),
    version        bigint NOT NULL DEFAULT 1,
    created_at     text COLLATE "C" NOT NULL,
    updated_at     text COLLATE "C" NOT NULL,
    published_at   text COLLATE "C"
);
CREATE INDEX frameworks_name ON frameworks (lower(name), id);
CREATE TABLE trends (
    id           bigint PRIMARY KEY,
    slug         text COLLATE "C" NOT NULL UNIQUE,
    rank         bigint NOT NULL UNIQUE,
    name         text COLLATE "C" NOT NULL,
    category     text COLLATE "C" NOT NULL,
    summary      text COLLATE "C" NOT NULL DEFAULT '',
    body         text COLLATE "C" NOT NULL DEFAULT '',
    highlights   text COLLATE "C" NOT NULL DEFAULT '[]',
    examples     text COLLATE "C" NOT NULL DEFAULT '[]',
    status       text COLLATE "C" NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'PUBLISHED')),
    version      bigint NOT NULL DEFAULT 1,
    created_at   text COLLATE "C" NOT NULL,
    updated_at   text COLLATE "C" NOT NULL,
    published_at text COLLATE "C"
);
CREATE INDEX trends_name ON trends (lower(name), id);
CREATE TABLE faqs (
    id           bigint PRIMARY KEY,
    slug         text COLLATE "C" NOT NULL UNIQUE,
    position     bigint NOT NULL UNIQUE,
    question     text COLLATE "C" NOT NULL,
    answer       text COLLATE "C" NOT NULL DEFAULT '',
    items        text COLLATE "C" NOT NULL DEFAULT '[]',
    status       text COLLATE "C" NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'PUBLISHED')),
    version      bigint NOT NULL DEFAULT 1,
    created_at   text COLLATE "C" NOT NULL,
    updated_at   text COLLATE "C" NOT NULL,
    published_at text COLLATE "C"
);
CREATE TABLE framework_companies (
    framework_id bigint NOT NULL REFERENCES frameworks (id) ON DELETE CASCADE,
    company_id bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    position bigint NOT NULL,
    PRIMARY KEY (framework_id, company_id)
);
CREATE INDEX framework_companies_company ON framework_companies (company_id, framework_id);
CREATE INDEX framework_companies_order ON framework_companies (framework_id, position);
CREATE TABLE trend_companies (
    trend_id bigint NOT NULL REFERENCES trends (id) ON DELETE CASCADE,
    company_id bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    position bigint NOT NULL,
    PRIMARY KEY (trend_id, company_id)
);
CREATE INDEX trend_companies_company ON trend_companies (company_id, trend_id);
CREATE INDEX trend_companies_order ON trend_companies (trend_id, position);
CREATE TABLE trend_frameworks (
    trend_id bigint NOT NULL REFERENCES trends (id) ON DELETE CASCADE,
    framework_id bigint NOT NULL REFERENCES frameworks (id) ON DELETE CASCADE,
    position bigint NOT NULL,
    PRIMARY KEY (trend_id, framework_id)
);
CREATE INDEX trend_frameworks_framework ON trend_frameworks (framework_id, trend_id);
CREATE INDEX trend_frameworks_order ON trend_frameworks (trend_id, position);
CREATE TABLE faq_frameworks (
    faq_id bigint NOT NULL REFERENCES faqs (id) ON DELETE CASCADE,
    framework_id bigint NOT NULL REFERENCES frameworks (id) ON DELETE CASCADE,
    position bigint NOT NULL,
    PRIMARY KEY (faq_id, framework_id)
);
CREATE INDEX faq_frameworks_framework ON faq_frameworks (framework_id, faq_id);
CREATE INDEX faq_frameworks_order ON faq_frameworks (faq_id, position);
CREATE TABLE faq_trends (
    faq_id bigint NOT NULL REFERENCES faqs (id) ON DELETE CASCADE,
    trend_id bigint NOT NULL REFERENCES trends (id) ON DELETE CASCADE,
    position bigint NOT NULL,
    PRIMARY KEY (faq_id, trend_id)
);
CREATE INDEX faq_trends_trend ON faq_trends (trend_id, faq_id);
CREATE INDEX faq_trends_order ON faq_trends (faq_id, position);

-- Access, webhooks, the event log.
CREATE TABLE tokens (
    id          bigint PRIMARY KEY,
    name        text COLLATE "C" NOT NULL,
    role        text COLLATE "C" NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    secret_hash bytea NOT NULL,
    created_at  text COLLATE "C" NOT NULL,
    expires_at  text COLLATE "C",
    revoked_at  text COLLATE "C"
);
CREATE TABLE search_suspended (one bigint PRIMARY KEY CHECK (one = 1));
-- events.id comes from events_id_seq. The id the next event will get (what
-- SQLite reads from sqlite_sequence) is
--   SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM events_id_seq
-- while the writer lock is held. Unlike sqlite_sequence, a sequence does not
-- roll back: a rolled-back append leaves a gap in the ids, never a reuse.
CREATE TABLE events (
    id        bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at        text COLLATE "C" NOT NULL,
    type      text COLLATE "C" NOT NULL,            -- Trend, Framework, Company, FAQ, Article
    item_id   bigint NOT NULL,         -- row id of the item
    slug      text COLLATE "C" NOT NULL,
    action    text COLLATE "C" NOT NULL,            -- CREATE, UPDATE, DELETE, PUBLISH, UNPUBLISH, LINK, UNLINK, RESTORE
    version   bigint NOT NULL,         -- the item's version after the change
    status    text COLLATE "C" NOT NULL,            -- the item's status after the change
    token_id  bigint,                  -- who: the token, or NULL for the command line
    actor     text COLLATE "C" NOT NULL,            -- who, readable: the token's name, or "cli"
    changed   text COLLATE "C" NOT NULL DEFAULT '[]', -- JSON array of the fields that changed
    document  text COLLATE "C",                     -- JSON after the change (before it, for DELETE); NULL on an item's newest event
    public          bigint NOT NULL DEFAULT 0 CHECK (public IN (0, 1)),
    public_form     bigint NOT NULL DEFAULT 0 CHECK (public_form IN (0, 1)),
    public_changed  text COLLATE "C",               -- JSON array, when it differs from changed
    public_document text COLLATE "C",               -- JSON, when it differs from document
    tx_id     bigint
);
CREATE INDEX events_item ON events (type, item_id, id);
CREATE INDEX events_public ON events (id) WHERE public = 1;
CREATE TABLE events_pruning (one bigint PRIMARY KEY CHECK (one = 1));
CREATE TABLE event_retention (
    id             bigint PRIMARY KEY CHECK (id = 1),
    pruned_through bigint NOT NULL DEFAULT 0 -- the newest event id ever pruned
);
INSERT INTO event_retention (id, pruned_through) VALUES (1, 0);
CREATE TABLE webhooks (
    id             bigint PRIMARY KEY,
    url            text COLLATE "C" NOT NULL,
    secret         text COLLATE "C" NOT NULL,               -- HMAC-SHA256 key; needed in clear to sign
    types          text COLLATE "C" NOT NULL DEFAULT '[]',  -- JSON array of type names; [] = every change
    actions        text COLLATE "C" NOT NULL DEFAULT '[]',  -- JSON array of actions; [] = every action
    include_drafts bigint NOT NULL DEFAULT 1 CHECK (include_drafts IN (0, 1)),
    active         bigint NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    after_event_id bigint NOT NULL DEFAULT 0,  -- events up to this one predate the webhook
    created_at     text COLLATE "C" NOT NULL,
    updated_at     text COLLATE "C" NOT NULL
);
CREATE TABLE webhook_deliveries (
    id               bigint PRIMARY KEY,
    webhook_id       bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id         bigint REFERENCES events (id), -- NULL for a ping
    status           text COLLATE "C" NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'succeeded', 'failed', 'dead')),
    attempts         bigint NOT NULL DEFAULT 0,     -- attempts started
    next_attempt_at  text COLLATE "C",                           -- NULL once succeeded or dead
    lease_until      text COLLATE "C",                           -- set while an attempt is in flight
    last_status_code bigint,
    last_error       text COLLATE "C",
    created_at       text COLLATE "C" NOT NULL,
    updated_at       text COLLATE "C" NOT NULL,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status IN ('pending', 'failed');
CREATE INDEX webhook_deliveries_status ON webhook_deliveries (webhook_id, status, id);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
CREATE TABLE webhook_attempts (
    id          bigint PRIMARY KEY,
    delivery_id bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    number      bigint NOT NULL,
    started_at  text COLLATE "C" NOT NULL,
    finished_at text COLLATE "C",
    status_code bigint,
    error       text COLLATE "C",
    duration_ms bigint,
    UNIQUE (delivery_id, number)
);
CREATE TABLE webhook_dispatch (
    id            bigint PRIMARY KEY CHECK (id = 1),
    last_event_id bigint NOT NULL
);
INSERT INTO webhook_dispatch (id, last_event_id) VALUES (1, 0);

-- Pending drafts of published items (version 9).
CREATE TABLE trend_drafts (
    id         bigint PRIMARY KEY REFERENCES trends (id) ON DELETE CASCADE,
    slug       text COLLATE "C" NOT NULL,
    rank       bigint NOT NULL,
    name       text COLLATE "C" NOT NULL,
    category   text COLLATE "C" NOT NULL,
    summary    text COLLATE "C" NOT NULL DEFAULT '',
    body       text COLLATE "C" NOT NULL DEFAULT '',
    highlights text COLLATE "C" NOT NULL DEFAULT '[]',
    examples   text COLLATE "C" NOT NULL DEFAULT '[]',
    version    bigint NOT NULL,
    updated_at text COLLATE "C" NOT NULL
);
CREATE TABLE framework_drafts (
    id             bigint PRIMARY KEY REFERENCES frameworks (id) ON DELETE CASCADE,
    slug           text COLLATE "C" NOT NULL,
    name           text COLLATE "C" NOT NULL,
    kind           text COLLATE "C" NOT NULL,
    language       text COLLATE "C" NOT NULL DEFAULT '',
    creator        text COLLATE "C" NOT NULL DEFAULT '',
    first_released bigint,
    architecture   text COLLATE "C" NOT NULL DEFAULT '',
    summary        text COLLATE "C" NOT NULL DEFAULT '',
    features       text COLLATE "C" NOT NULL DEFAULT '[]',
    version        bigint NOT NULL,
    updated_at     text COLLATE "C" NOT NULL
);
CREATE TABLE company_drafts (
    id         bigint PRIMARY KEY REFERENCES companies (id) ON DELETE CASCADE,
    slug       text COLLATE "C" NOT NULL,
    name       text COLLATE "C" NOT NULL,
    version    bigint NOT NULL,
    updated_at text COLLATE "C" NOT NULL
);
CREATE TABLE faq_drafts (
    id         bigint PRIMARY KEY REFERENCES faqs (id) ON DELETE CASCADE,
    slug       text COLLATE "C" NOT NULL,
    position   bigint NOT NULL,
    question   text COLLATE "C" NOT NULL,
    answer     text COLLATE "C" NOT NULL DEFAULT '',
    items      text COLLATE "C" NOT NULL DEFAULT '[]',
    version    bigint NOT NULL,
    updated_at text COLLATE "C" NOT NULL
);
CREATE INDEX trend_drafts_slug ON trend_drafts (slug);
CREATE INDEX framework_drafts_slug ON framework_drafts (slug);
CREATE INDEX company_drafts_slug ON company_drafts (slug);
CREATE INDEX faq_drafts_slug ON faq_drafts (slug);
CREATE TABLE framework_companies_drafts (
    framework_id bigint NOT NULL REFERENCES framework_drafts (id) ON DELETE CASCADE,
    company_id bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    position bigint NOT NULL,
    PRIMARY KEY (framework_id, company_id)
);
CREATE INDEX framework_companies_drafts_company ON framework_companies_drafts (company_id, framework_id);
CREATE TABLE trend_companies_drafts (
    trend_id bigint NOT NULL REFERENCES trend_drafts (id) ON DELETE CASCADE,
    company_id bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    position bigint NOT NULL,
    PRIMARY KEY (trend_id, company_id)
);
CREATE INDEX trend_companies_drafts_company ON trend_companies_drafts (company_id, trend_id);
CREATE TABLE trend_frameworks_drafts (
    trend_id bigint NOT NULL REFERENCES trend_drafts (id) ON DELETE CASCADE,
    framework_id bigint NOT NULL REFERENCES frameworks (id) ON DELETE CASCADE,
    position bigint NOT NULL,
    PRIMARY KEY (trend_id, framework_id)
);
CREATE INDEX trend_frameworks_drafts_framework ON trend_frameworks_drafts (framework_id, trend_id);
CREATE TABLE faq_frameworks_drafts (
    faq_id bigint NOT NULL REFERENCES faq_drafts (id) ON DELETE CASCADE,
    framework_id bigint NOT NULL REFERENCES frameworks (id) ON DELETE CASCADE,
    position bigint NOT NULL,
    PRIMARY KEY (faq_id, framework_id)
);
CREATE INDEX faq_frameworks_drafts_framework ON faq_frameworks_drafts (framework_id, faq_id);
CREATE TABLE faq_trends_drafts (
    faq_id bigint NOT NULL REFERENCES faq_drafts (id) ON DELETE CASCADE,
    trend_id bigint NOT NULL REFERENCES trends (id) ON DELETE CASCADE,
    position bigint NOT NULL,
    PRIMARY KEY (faq_id, trend_id)
);
CREATE INDEX faq_trends_drafts_trend ON faq_trends_drafts (trend_id, faq_id);

-- Scheduled publishing (version 10).
CREATE TABLE schedules (
    type         text COLLATE "C" NOT NULL CHECK (type IN ('Trend', 'Framework', 'Company', 'FAQ')),
    item_id      bigint NOT NULL,
    action       text COLLATE "C" NOT NULL CHECK (action IN ('PUBLISH', 'UNPUBLISH')),
    due_at       text COLLATE "C" NOT NULL,
    token_id     bigint,           -- who set it: the token, or NULL for the command line
    actor        text COLLATE "C" NOT NULL,     -- who, readable: the token's name, or "cli"
    scheduled_at text COLLATE "C" NOT NULL,     -- when it was set
    PRIMARY KEY (type, item_id, action)
);
CREATE INDEX schedules_due ON schedules (due_at);
CREATE TABLE schedule_log (
    id       bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at       text COLLATE "C" NOT NULL,          -- when it happened
    type     text COLLATE "C" NOT NULL,
    item_id  bigint NOT NULL,
    slug     text COLLATE "C" NOT NULL,
    action   text COLLATE "C" NOT NULL CHECK (action IN ('PUBLISH', 'UNPUBLISH')),
    outcome  text COLLATE "C" NOT NULL CHECK (outcome IN ('SCHEDULED', 'CLEARED', 'APPLIED', 'FAILED', 'CANCELLED')),
    due_at   text COLLATE "C" NOT NULL,          -- the schedule's time
    token_id bigint,                -- who: the token that set, cleared or (for APPLIED and FAILED) had set it
    actor    text COLLATE "C" NOT NULL,
    event_id bigint,                -- APPLIED: the revision it made (NULL when it changed nothing)
    message  text COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX schedule_log_item ON schedule_log (type, item_id, id);
CREATE INDEX schedule_log_at ON schedule_log (at);

-- SQLite's rowid rule for an INTEGER PRIMARY KEY left NULL: max + 1.
CREATE FUNCTION article_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT coalesce(max(id), 0) + 1 INTO NEW.id FROM article;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER article_next_id BEFORE INSERT ON article FOR EACH ROW EXECUTE FUNCTION article_next_id();
CREATE FUNCTION article_sections_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.position IS NULL THEN
        SELECT coalesce(max(position), 0) + 1 INTO NEW.position FROM article_sections;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER article_sections_next_id BEFORE INSERT ON article_sections FOR EACH ROW EXECUTE FUNCTION article_sections_next_id();
CREATE FUNCTION companies_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT coalesce(max(id), 0) + 1 INTO NEW.id FROM companies;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER companies_next_id BEFORE INSERT ON companies FOR EACH ROW EXECUTE FUNCTION companies_next_id();
CREATE FUNCTION frameworks_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT coalesce(max(id), 0) + 1 INTO NEW.id FROM frameworks;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER frameworks_next_id BEFORE INSERT ON frameworks FOR EACH ROW EXECUTE FUNCTION frameworks_next_id();
CREATE FUNCTION trends_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT coalesce(max(id), 0) + 1 INTO NEW.id FROM trends;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER trends_next_id BEFORE INSERT ON trends FOR EACH ROW EXECUTE FUNCTION trends_next_id();
CREATE FUNCTION faqs_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT coalesce(max(id), 0) + 1 INTO NEW.id FROM faqs;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER faqs_next_id BEFORE INSERT ON faqs FOR EACH ROW EXECUTE FUNCTION faqs_next_id();
CREATE FUNCTION tokens_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT coalesce(max(id), 0) + 1 INTO NEW.id FROM tokens;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER tokens_next_id BEFORE INSERT ON tokens FOR EACH ROW EXECUTE FUNCTION tokens_next_id();
CREATE FUNCTION search_suspended_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.one IS NULL THEN
        SELECT coalesce(max(one), 0) + 1 INTO NEW.one FROM search_suspended;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER search_suspended_next_id BEFORE INSERT ON search_suspended FOR EACH ROW EXECUTE FUNCTION search_suspended_next_id();
CREATE FUNCTION events_pruning_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.one IS NULL THEN
        SELECT coalesce(max(one), 0) + 1 INTO NEW.one FROM events_pruning;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER events_pruning_next_id BEFORE INSERT ON events_pruning FOR EACH ROW EXECUTE FUNCTION events_pruning_next_id();
CREATE FUNCTION event_retention_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT coalesce(max(id), 0) + 1 INTO NEW.id FROM event_retention;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER event_retention_next_id BEFORE INSERT ON event_retention FOR EACH ROW EXECUTE FUNCTION event_retention_next_id();
CREATE FUNCTION webhooks_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT coalesce(max(id), 0) + 1 INTO NEW.id FROM webhooks;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER webhooks_next_id BEFORE INSERT ON webhooks FOR EACH ROW EXECUTE FUNCTION webhooks_next_id();
CREATE FUNCTION webhook_deliveries_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT coalesce(max(id), 0) + 1 INTO NEW.id FROM webhook_deliveries;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER webhook_deliveries_next_id BEFORE INSERT ON webhook_deliveries FOR EACH ROW EXECUTE FUNCTION webhook_deliveries_next_id();
CREATE FUNCTION webhook_attempts_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT coalesce(max(id), 0) + 1 INTO NEW.id FROM webhook_attempts;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER webhook_attempts_next_id BEFORE INSERT ON webhook_attempts FOR EACH ROW EXECUTE FUNCTION webhook_attempts_next_id();
CREATE FUNCTION webhook_dispatch_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT coalesce(max(id), 0) + 1 INTO NEW.id FROM webhook_dispatch;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER webhook_dispatch_next_id BEFORE INSERT ON webhook_dispatch FOR EACH ROW EXECUTE FUNCTION webhook_dispatch_next_id();
CREATE FUNCTION trend_drafts_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT coalesce(max(id), 0) + 1 INTO NEW.id FROM trend_drafts;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER trend_drafts_next_id BEFORE INSERT ON trend_drafts FOR EACH ROW EXECUTE FUNCTION trend_drafts_next_id();
CREATE FUNCTION framework_drafts_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT coalesce(max(id), 0) + 1 INTO NEW.id FROM framework_drafts;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER framework_drafts_next_id BEFORE INSERT ON framework_drafts FOR EACH ROW EXECUTE FUNCTION framework_drafts_next_id();
CREATE FUNCTION company_drafts_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT coalesce(max(id), 0) + 1 INTO NEW.id FROM company_drafts;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER company_drafts_next_id BEFORE INSERT ON company_drafts FOR EACH ROW EXECUTE FUNCTION company_drafts_next_id();
CREATE FUNCTION faq_drafts_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT coalesce(max(id), 0) + 1 INTO NEW.id FROM faq_drafts;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER faq_drafts_next_id BEFORE INSERT ON faq_drafts FOR EACH ROW EXECUTE FUNCTION faq_drafts_next_id();

-- What token holders see: a pending draft in place of its live row
-- (*_preview, *_overlay by a LEFT JOIN on the key, *_drafted: drafted rows
-- only), and the preview's links: a drafted owner's links from its draft.
CREATE VIEW trends_preview (id, slug, rank, name, category, summary, body, highlights, examples, status, version, created_at, updated_at, published_at) AS
SELECT m.id, d.slug, d.rank, d.name, d.category, d.summary, d.body, d.highlights, d.examples, m.status, d.version, m.created_at, d.updated_at, m.published_at
FROM trend_drafts d JOIN trends m ON m.id = d.id
UNION ALL
SELECT m.id, m.slug, m.rank, m.name, m.category, m.summary, m.body, m.highlights, m.examples, m.status, m.version, m.created_at, m.updated_at, m.published_at
FROM trends m WHERE NOT EXISTS (SELECT 1 FROM trend_drafts d WHERE d.id = m.id);
CREATE VIEW trends_overlay (id, slug, rank, name, category, summary, body, highlights, examples, status, version, created_at, updated_at, published_at) AS
SELECT m.id, CASE WHEN d.id IS NULL THEN m.slug ELSE d.slug END, CASE WHEN d.id IS NULL THEN m.rank ELSE d.rank END, CASE WHEN d.id IS NULL THEN m.name ELSE d.name END, CASE WHEN d.id IS NULL THEN m.category ELSE d.category END, CASE WHEN d.id IS NULL THEN m.summary ELSE d.summary END, CASE WHEN d.id IS NULL THEN m.body ELSE d.body END, CASE WHEN d.id IS NULL THEN m.highlights ELSE d.highlights END, CASE WHEN d.id IS NULL THEN m.examples ELSE d.examples END, m.status, CASE WHEN d.id IS NULL THEN m.version ELSE d.version END, m.created_at, CASE WHEN d.id IS NULL THEN m.updated_at ELSE d.updated_at END, m.published_at
FROM trends m LEFT JOIN trend_drafts d ON d.id = m.id;
CREATE VIEW trends_drafted (id, slug, rank, name, category, summary, body, highlights, examples, status, version, created_at, updated_at, published_at) AS
SELECT m.id, d.slug, d.rank, d.name, d.category, d.summary, d.body, d.highlights, d.examples, m.status, d.version, m.created_at, d.updated_at, m.published_at
FROM trend_drafts d JOIN trends m ON m.id = d.id;
CREATE VIEW frameworks_preview (id, slug, name, kind, language, creator, first_released, architecture, summary, features, status, version, created_at, updated_at, published_at) AS
SELECT m.id, d.slug, d.name, d.kind, d.language, d.creator, d.first_released, d.architecture, d.summary, d.features, m.status, d.version, m.created_at, d.updated_at, m.published_at
FROM framework_drafts d JOIN frameworks m ON m.id = d.id
UNION ALL
SELECT m.id, m.slug, m.name, m.kind, m.language, m.creator, m.first_released, m.architecture, m.summary, m.features, m.status, m.version, m.created_at, m.updated_at, m.published_at
FROM frameworks m WHERE NOT EXISTS (SELECT 1 FROM framework_drafts d WHERE d.id = m.id);
CREATE VIEW frameworks_overlay (id, slug, name, kind, language, creator, first_released, architecture, summary, features, status, version, created_at, updated_at, published_at) AS
SELECT m.id, CASE WHEN d.id IS NULL THEN m.slug ELSE d.slug END, CASE WHEN d.id IS NULL THEN m.name ELSE d.name END, CASE WHEN d.id IS NULL THEN m.kind ELSE d.kind END, CASE WHEN d.id IS NULL THEN m.language ELSE d.language END, CASE WHEN d.id IS NULL THEN m.creator ELSE d.creator END, CASE WHEN d.id IS NULL THEN m.first_released ELSE d.first_released END, CASE WHEN d.id IS NULL THEN m.architecture ELSE d.architecture END, CASE WHEN d.id IS NULL THEN m.summary ELSE d.summary END, CASE WHEN d.id IS NULL THEN m.features ELSE d.features END, m.status, CASE WHEN d.id IS NULL THEN m.version ELSE d.version END, m.created_at, CASE WHEN d.id IS NULL THEN m.updated_at ELSE d.updated_at END, m.published_at
FROM frameworks m LEFT JOIN framework_drafts d ON d.id = m.id;
CREATE VIEW frameworks_drafted (id, slug, name, kind, language, creator, first_released, architecture, summary, features, status, version, created_at, updated_at, published_at) AS
SELECT m.id, d.slug, d.name, d.kind, d.language, d.creator, d.first_released, d.architecture, d.summary, d.features, m.status, d.version, m.created_at, d.updated_at, m.published_at
FROM framework_drafts d JOIN frameworks m ON m.id = d.id;
CREATE VIEW companies_preview (id, slug, name, status, version, created_at, updated_at, published_at) AS
SELECT m.id, d.slug, d.name, m.status, d.version, m.created_at, d.updated_at, m.published_at
FROM company_drafts d JOIN companies m ON m.id = d.id
UNION ALL
SELECT m.id, m.slug, m.name, m.status, m.version, m.created_at, m.updated_at, m.published_at
FROM companies m WHERE NOT EXISTS (SELECT 1 FROM company_drafts d WHERE d.id = m.id);
CREATE VIEW companies_overlay (id, slug, name, status, version, created_at, updated_at, published_at) AS
SELECT m.id, CASE WHEN d.id IS NULL THEN m.slug ELSE d.slug END, CASE WHEN d.id IS NULL THEN m.name ELSE d.name END, m.status, CASE WHEN d.id IS NULL THEN m.version ELSE d.version END, m.created_at, CASE WHEN d.id IS NULL THEN m.updated_at ELSE d.updated_at END, m.published_at
FROM companies m LEFT JOIN company_drafts d ON d.id = m.id;
CREATE VIEW companies_drafted (id, slug, name, status, version, created_at, updated_at, published_at) AS
SELECT m.id, d.slug, d.name, m.status, d.version, m.created_at, d.updated_at, m.published_at
FROM company_drafts d JOIN companies m ON m.id = d.id;
CREATE VIEW faqs_preview (id, slug, position, question, answer, items, status, version, created_at, updated_at, published_at) AS
SELECT m.id, d.slug, d.position, d.question, d.answer, d.items, m.status, d.version, m.created_at, d.updated_at, m.published_at
FROM faq_drafts d JOIN faqs m ON m.id = d.id
UNION ALL
SELECT m.id, m.slug, m.position, m.question, m.answer, m.items, m.status, m.version, m.created_at, m.updated_at, m.published_at
FROM faqs m WHERE NOT EXISTS (SELECT 1 FROM faq_drafts d WHERE d.id = m.id);
CREATE VIEW faqs_overlay (id, slug, position, question, answer, items, status, version, created_at, updated_at, published_at) AS
SELECT m.id, CASE WHEN d.id IS NULL THEN m.slug ELSE d.slug END, CASE WHEN d.id IS NULL THEN m.position ELSE d.position END, CASE WHEN d.id IS NULL THEN m.question ELSE d.question END, CASE WHEN d.id IS NULL THEN m.answer ELSE d.answer END, CASE WHEN d.id IS NULL THEN m.items ELSE d.items END, m.status, CASE WHEN d.id IS NULL THEN m.version ELSE d.version END, m.created_at, CASE WHEN d.id IS NULL THEN m.updated_at ELSE d.updated_at END, m.published_at
FROM faqs m LEFT JOIN faq_drafts d ON d.id = m.id;
CREATE VIEW faqs_drafted (id, slug, position, question, answer, items, status, version, created_at, updated_at, published_at) AS
SELECT m.id, d.slug, d.position, d.question, d.answer, d.items, m.status, d.version, m.created_at, d.updated_at, m.published_at
FROM faq_drafts d JOIN faqs m ON m.id = d.id;
CREATE VIEW framework_companies_preview (framework_id, company_id, position) AS
SELECT framework_id, company_id, position FROM framework_companies_drafts
UNION ALL
SELECT l.framework_id, l.company_id, l.position FROM framework_companies l WHERE NOT EXISTS (SELECT 1 FROM framework_drafts d WHERE d.id = l.framework_id);
CREATE VIEW trend_companies_preview (trend_id, company_id, position) AS
SELECT trend_id, company_id, position FROM trend_companies_drafts
UNION ALL
SELECT l.trend_id, l.company_id, l.position FROM trend_companies l WHERE NOT EXISTS (SELECT 1 FROM trend_drafts d WHERE d.id = l.trend_id);
CREATE VIEW trend_frameworks_preview (trend_id, framework_id, position) AS
SELECT trend_id, framework_id, position FROM trend_frameworks_drafts
UNION ALL
SELECT l.trend_id, l.framework_id, l.position FROM trend_frameworks l WHERE NOT EXISTS (SELECT 1 FROM trend_drafts d WHERE d.id = l.trend_id);
CREATE VIEW faq_frameworks_preview (faq_id, framework_id, position) AS
SELECT faq_id, framework_id, position FROM faq_frameworks_drafts
UNION ALL
SELECT l.faq_id, l.framework_id, l.position FROM faq_frameworks l WHERE NOT EXISTS (SELECT 1 FROM faq_drafts d WHERE d.id = l.faq_id);
CREATE VIEW faq_trends_preview (faq_id, trend_id, position) AS
SELECT faq_id, trend_id, position FROM faq_trends_drafts
UNION ALL
SELECT l.faq_id, l.trend_id, l.position FROM faq_trends l WHERE NOT EXISTS (SELECT 1 FROM faq_drafts d WHERE d.id = l.faq_id);

-- What each type puts in the search index (columns from the most to the
-- least weighty: name, keywords, summary, body), as SQLite's views give it.
CREATE VIEW search_trend_docs (id, name, keywords, summary, body, status) AS
SELECT t.id, t.name,
       substr(coalesce(' · ' || search_json_list(t.highlights), '') || coalesce(' · ' || search_json_list(t.examples), ''), 4),
       t.summary, t.body, t.status
FROM trends t;
CREATE VIEW search_framework_docs (id, name, keywords, summary, body, status) AS
SELECT f.id, f.name,
       substr(coalesce(' · ' || search_json_list(f.features), '')
           || coalesce(' · ' || nullif(f.language, ''), '')
           || coalesce(' · ' || nullif(f.creator, ''), '')
           || coalesce(' · ' || nullif(f.architecture, ''), '')
           || coalesce(' · ' || (SELECT string_agg(c.name, ' · ' ORDER BY l.position, l.company_id)
                  FROM framework_companies l JOIN companies c ON c.id = l.company_id
                  WHERE l.framework_id = f.id AND c.status = 'PUBLISHED'), ''), 4),
       f.summary, ''::text COLLATE "C", f.status
FROM frameworks f;
CREATE VIEW search_company_docs (id, name, keywords, summary, body, status) AS
SELECT c.id, c.name, ''::text COLLATE "C", ''::text COLLATE "C", ''::text COLLATE "C", c.status
FROM companies c;
CREATE VIEW search_faq_docs (id, name, keywords, summary, body, status) AS
SELECT q.id, q.question,
       coalesce(search_json_list(q.items), ''),
       ''::text COLLATE "C", q.answer, q.status
FROM faqs q;
CREATE VIEW search_public_docs (rid, name, keywords, summary, body) AS
SELECT id * 4 + 0, name, keywords, summary, body FROM search_trend_docs WHERE status = 'PUBLISHED'
UNION ALL SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE status = 'PUBLISHED'
UNION ALL SELECT id * 4 + 2, name, keywords, summary, body FROM search_company_docs WHERE status = 'PUBLISHED'
UNION ALL SELECT id * 4 + 3, name, keywords, summary, body FROM search_faq_docs WHERE status = 'PUBLISHED';
CREATE INDEX trends_search_rid ON trends ((id * 4 + 0));
CREATE INDEX frameworks_search_rid ON frameworks ((id * 4 + 1));
CREATE INDEX companies_search_rid ON companies ((id * 4 + 2));
CREATE INDEX faqs_search_rid ON faqs ((id * 4 + 3));
CREATE VIEW search_trend_draft_docs (id, name, keywords, summary, body) AS
SELECT t.id, t.name,
       substr(coalesce(' · ' || search_json_list(t.highlights), '') || coalesce(' · ' || search_json_list(t.examples), ''), 4),
       t.summary, t.body
FROM trend_drafts t;
CREATE VIEW search_framework_draft_docs (id, name, keywords, summary, body) AS
SELECT f.id, f.name,
       substr(coalesce(' · ' || search_json_list(f.features), '')
           || coalesce(' · ' || nullif(f.language, ''), '')
           || coalesce(' · ' || nullif(f.creator, ''), '')
           || coalesce(' · ' || nullif(f.architecture, ''), '')
           || coalesce(' · ' || (SELECT string_agg(c.name, ' · ' ORDER BY l.position, l.company_id)
                  FROM framework_companies_drafts l JOIN companies c ON c.id = l.company_id
                  WHERE l.framework_id = f.id AND c.status = 'PUBLISHED'), ''), 4),
       f.summary, ''::text COLLATE "C"
FROM framework_drafts f;
CREATE VIEW search_company_draft_docs (id, name, keywords, summary, body) AS
SELECT c.id, c.name, ''::text COLLATE "C", ''::text COLLATE "C", ''::text COLLATE "C"
FROM company_drafts c;
CREATE VIEW search_faq_draft_docs (id, name, keywords, summary, body) AS
SELECT q.id, q.question,
       coalesce(search_json_list(q.items), ''),
       ''::text COLLATE "C", q.answer
FROM faq_drafts q;
CREATE VIEW search_docs (rid, name, keywords, summary, body) AS
SELECT id * 4 + 0, name, keywords, summary, body FROM search_trend_docs
UNION ALL SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs
UNION ALL SELECT id * 4 + 2, name, keywords, summary, body FROM search_company_docs
UNION ALL SELECT id * 4 + 3, name, keywords, summary, body FROM search_faq_docs
UNION ALL SELECT id * 4 + 1099511627776, name, keywords, summary, body FROM search_trend_draft_docs
UNION ALL SELECT id * 4 + 1099511627777, name, keywords, summary, body FROM search_framework_draft_docs
UNION ALL SELECT id * 4 + 1099511627778, name, keywords, summary, body FROM search_company_draft_docs
UNION ALL SELECT id * 4 + 1099511627779, name, keywords, summary, body FROM search_faq_draft_docs;
CREATE VIEW search_drafted (rid) AS
SELECT id * 4 + 0 FROM trend_drafts
UNION ALL SELECT id * 4 + 1 FROM framework_drafts
UNION ALL SELECT id * 4 + 2 FROM company_drafts
UNION ALL SELECT id * 4 + 3 FROM faq_drafts;
CREATE INDEX trend_drafts_search_rid ON trend_drafts ((id * 4 + 1099511627776));
CREATE INDEX framework_drafts_search_rid ON framework_drafts ((id * 4 + 1099511627777));
CREATE INDEX company_drafts_search_rid ON company_drafts ((id * 4 + 1099511627778));
CREATE INDEX faq_drafts_search_rid ON faq_drafts ((id * 4 + 1099511627779));

-- The two search indexes: search holds every item (a published item's
-- pending draft at its rid + 2^40), search_public the published live items.
-- rid = id * 4 + type code (0 trend, 1 framework, 2 company, 3 FAQ).
CREATE TABLE search (
    rid      bigint PRIMARY KEY,
    name     text COLLATE "C",
    keywords text COLLATE "C",
    summary  text COLLATE "C",
    body     text COLLATE "C",
    tsv      tsvector NOT NULL
);
CREATE INDEX search_tsv ON search USING gin (tsv);
CREATE TABLE search_public (
    rid      bigint PRIMARY KEY,
    name     text COLLATE "C",
    keywords text COLLATE "C",
    summary  text COLLATE "C",
    body     text COLLATE "C",
    tsv      tsvector NOT NULL
);
CREATE INDEX search_public_tsv ON search_public USING gin (tsv);

-- tsv is computed from the text unless the writer gives it: the public index
-- copies the rows (tsv included) that it shares with search, so that each
-- text is analysed once. (A generated column would analyse every copy again.)
CREATE FUNCTION search_tsv() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.tsv IS NULL OR (TG_OP = 'UPDATE' AND NEW.tsv IS NOT DISTINCT FROM OLD.tsv
            AND (NEW.name, NEW.keywords, NEW.summary, NEW.body) IS DISTINCT FROM (OLD.name, OLD.keywords, OLD.summary, OLD.body)) THEN
        NEW.tsv := trendql_tsvector(NEW.name, NEW.keywords, NEW.summary, NEW.body);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER search_tsv BEFORE INSERT OR UPDATE ON search FOR EACH ROW EXECUTE FUNCTION search_tsv();
CREATE TRIGGER search_public_tsv BEFORE INSERT OR UPDATE ON search_public FOR EACH ROW EXECUTE FUNCTION search_tsv();

-- search_rebuild empties both indexes and refills them from the views: the
-- bulk import calls it after writing with search_suspended set.
CREATE FUNCTION search_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search;
    DELETE FROM search_public;
    INSERT INTO search (rid, name, keywords, summary, body)
    SELECT rid, name, keywords, summary, body FROM search_docs;
    -- search_public_docs is search_docs' live rows of published items.
    INSERT INTO search_public (rid, name, keywords, summary, body, tsv)
    SELECT rid, name, keywords, summary, body, tsv FROM search WHERE rid IN (
        SELECT id * 4 + 0 FROM trends WHERE status = 'PUBLISHED'
        UNION ALL SELECT id * 4 + 1 FROM frameworks WHERE status = 'PUBLISHED'
        UNION ALL SELECT id * 4 + 2 FROM companies WHERE status = 'PUBLISHED'
        UNION ALL SELECT id * 4 + 3 FROM faqs WHERE status = 'PUBLISHED');
END
$$;

-- Re-indexing. Where SQLite's FTS5 triggers 'delete' a rid BEFORE a write
-- and insert it AFTER, one AFTER trigger here deletes the rid and inserts
-- what the view says now: the same rids end with the same text, because a
-- row is found by its rid rather than by the text it indexed.
CREATE FUNCTION search_index_trends(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search WHERE rid IN (SELECT i * 4 + 0 FROM unnest(ids) AS i);
    DELETE FROM search_public WHERE rid IN (SELECT i * 4 + 0 FROM unnest(ids) AS i);
    INSERT INTO search (rid, name, keywords, summary, body)
    SELECT id * 4 + 0, name, keywords, summary, body FROM search_trend_docs WHERE id = ANY (ids);
    INSERT INTO search_public (rid, name, keywords, summary, body, tsv)
    SELECT rid, name, keywords, summary, body, tsv FROM search
    WHERE rid IN (SELECT id * 4 + 0 FROM trends WHERE id = ANY (ids) AND status = 'PUBLISHED');
END
$$;
CREATE FUNCTION search_index_frameworks(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search WHERE rid IN (SELECT i * 4 + 1 FROM unnest(ids) AS i);
    DELETE FROM search_public WHERE rid IN (SELECT i * 4 + 1 FROM unnest(ids) AS i);
    INSERT INTO search (rid, name, keywords, summary, body)
    SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id = ANY (ids);
    INSERT INTO search_public (rid, name, keywords, summary, body, tsv)
    SELECT rid, name, keywords, summary, body, tsv FROM search
    WHERE rid IN (SELECT id * 4 + 1 FROM frameworks WHERE id = ANY (ids) AND status = 'PUBLISHED');
END
$$;
CREATE FUNCTION search_index_companies(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search WHERE rid IN (SELECT i * 4 + 2 FROM unnest(ids) AS i);
    DELETE FROM search_public WHERE rid IN (SELECT i * 4 + 2 FROM unnest(ids) AS i);
    INSERT INTO search (rid, name, keywords, summary, body)
    SELECT id * 4 + 2, name, keywords, summary, body FROM search_company_docs WHERE id = ANY (ids);
    INSERT INTO search_public (rid, name, keywords, summary, body, tsv)
    SELECT rid, name, keywords, summary, body, tsv FROM search
    WHERE rid IN (SELECT id * 4 + 2 FROM companies WHERE id = ANY (ids) AND status = 'PUBLISHED');
END
$$;
CREATE FUNCTION search_index_faqs(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search WHERE rid IN (SELECT i * 4 + 3 FROM unnest(ids) AS i);
    DELETE FROM search_public WHERE rid IN (SELECT i * 4 + 3 FROM unnest(ids) AS i);
    INSERT INTO search (rid, name, keywords, summary, body)
    SELECT id * 4 + 3, name, keywords, summary, body FROM search_faq_docs WHERE id = ANY (ids);
    INSERT INTO search_public (rid, name, keywords, summary, body, tsv)
    SELECT rid, name, keywords, summary, body, tsv FROM search
    WHERE rid IN (SELECT id * 4 + 3 FROM faqs WHERE id = ANY (ids) AND status = 'PUBLISHED');
END
$$;
CREATE FUNCTION search_index_trend_drafts(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search WHERE rid IN (SELECT i * 4 + 1099511627776 FROM unnest(ids) AS i);
    INSERT INTO search (rid, name, keywords, summary, body)
    SELECT id * 4 + 1099511627776, name, keywords, summary, body FROM search_trend_draft_docs WHERE id = ANY (ids);
END
$$;
CREATE FUNCTION search_index_framework_drafts(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search WHERE rid IN (SELECT i * 4 + 1099511627777 FROM unnest(ids) AS i);
    INSERT INTO search (rid, name, keywords, summary, body)
    SELECT id * 4 + 1099511627777, name, keywords, summary, body FROM search_framework_draft_docs WHERE id = ANY (ids);
END
$$;
CREATE FUNCTION search_index_company_drafts(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search WHERE rid IN (SELECT i * 4 + 1099511627778 FROM unnest(ids) AS i);
    INSERT INTO search (rid, name, keywords, summary, body)
    SELECT id * 4 + 1099511627778, name, keywords, summary, body FROM search_company_draft_docs WHERE id = ANY (ids);
END
$$;
CREATE FUNCTION search_index_faq_drafts(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search WHERE rid IN (SELECT i * 4 + 1099511627779 FROM unnest(ids) AS i);
    INSERT INTO search (rid, name, keywords, summary, body)
    SELECT id * 4 + 1099511627779, name, keywords, summary, body FROM search_faq_draft_docs WHERE id = ANY (ids);
END
$$;
CREATE FUNCTION search_trends_reindex() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM search_suspended) THEN
        RETURN NULL;
    END IF;
    PERFORM search_index_trends(ARRAY[OLD.id, NEW.id]);
    RETURN NULL;
END
$$;
CREATE TRIGGER search_trends_insert AFTER INSERT ON trends FOR EACH ROW EXECUTE FUNCTION search_trends_reindex();
CREATE TRIGGER search_trends_update AFTER UPDATE OF id, name, summary, body, highlights, examples, status ON trends FOR EACH ROW EXECUTE FUNCTION search_trends_reindex();
CREATE TRIGGER search_trends_delete AFTER DELETE ON trends FOR EACH ROW EXECUTE FUNCTION search_trends_reindex();
CREATE FUNCTION search_frameworks_reindex() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM search_suspended) THEN
        RETURN NULL;
    END IF;
    PERFORM search_index_frameworks(ARRAY[OLD.id, NEW.id]);
    RETURN NULL;
END
$$;
CREATE TRIGGER search_frameworks_insert AFTER INSERT ON frameworks FOR EACH ROW EXECUTE FUNCTION search_frameworks_reindex();
CREATE TRIGGER search_frameworks_update AFTER UPDATE OF id, name, language, creator, architecture, summary, features, status ON frameworks FOR EACH ROW EXECUTE FUNCTION search_frameworks_reindex();
CREATE TRIGGER search_frameworks_delete AFTER DELETE ON frameworks FOR EACH ROW EXECUTE FUNCTION search_frameworks_reindex();
CREATE FUNCTION search_framework_companies_reindex() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM search_suspended) THEN
        RETURN NULL;
    END IF;
    PERFORM search_index_frameworks(ARRAY[OLD.framework_id, NEW.framework_id]);
    RETURN NULL;
END
$$;
CREATE TRIGGER search_framework_companies_insert AFTER INSERT ON framework_companies FOR EACH ROW EXECUTE FUNCTION search_framework_companies_reindex();
CREATE TRIGGER search_framework_companies_update AFTER UPDATE ON framework_companies FOR EACH ROW EXECUTE FUNCTION search_framework_companies_reindex();
CREATE TRIGGER search_framework_companies_delete AFTER DELETE ON framework_companies FOR EACH ROW EXECUTE FUNCTION search_framework_companies_reindex();
CREATE FUNCTION search_faqs_reindex() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM search_suspended) THEN
        RETURN NULL;
    END IF;
    PERFORM search_index_faqs(ARRAY[OLD.id, NEW.id]);
    RETURN NULL;
END
$$;
CREATE TRIGGER search_faqs_insert AFTER INSERT ON faqs FOR EACH ROW EXECUTE FUNCTION search_faqs_reindex();
CREATE TRIGGER search_faqs_update AFTER UPDATE OF id, question, answer, items, status ON faqs FOR EACH ROW EXECUTE FUNCTION search_faqs_reindex();
CREATE TRIGGER search_faqs_delete AFTER DELETE ON faqs FOR EACH ROW EXECUTE FUNCTION search_faqs_reindex();
CREATE FUNCTION search_companies_reindex() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM search_suspended) THEN
        RETURN NULL;
    END IF;
    PERFORM search_index_companies(ARRAY[OLD.id, NEW.id]);
    -- A company's name and status are in the keywords of the frameworks,
    -- live and drafts, that link to it.
    PERFORM search_index_frameworks(ARRAY(SELECT framework_id FROM framework_companies WHERE company_id IN (OLD.id, NEW.id)));
    PERFORM search_index_framework_drafts(ARRAY(SELECT framework_id FROM framework_companies_drafts WHERE company_id IN (OLD.id, NEW.id)));
    RETURN NULL;
END
$$;
CREATE TRIGGER search_companies_insert AFTER INSERT ON companies FOR EACH ROW EXECUTE FUNCTION search_companies_reindex();
CREATE TRIGGER search_companies_update AFTER UPDATE OF id, name, status ON companies FOR EACH ROW EXECUTE FUNCTION search_companies_reindex();
CREATE TRIGGER search_companies_delete AFTER DELETE ON companies FOR EACH ROW EXECUTE FUNCTION search_companies_reindex();
CREATE FUNCTION search_trend_drafts_reindex() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM search_suspended) THEN
        RETURN NULL;
    END IF;
    PERFORM search_index_trend_drafts(ARRAY[OLD.id, NEW.id]);
    RETURN NULL;
END
$$;
CREATE TRIGGER search_trend_drafts_insert AFTER INSERT ON trend_drafts FOR EACH ROW EXECUTE FUNCTION search_trend_drafts_reindex();
CREATE TRIGGER search_trend_drafts_update AFTER UPDATE OF id, name, summary, body, highlights, examples ON trend_drafts FOR EACH ROW EXECUTE FUNCTION search_trend_drafts_reindex();
CREATE TRIGGER search_trend_drafts_delete AFTER DELETE ON trend_drafts FOR EACH ROW EXECUTE FUNCTION search_trend_drafts_reindex();
CREATE FUNCTION search_framework_drafts_reindex() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM search_suspended) THEN
        RETURN NULL;
    END IF;
    PERFORM search_index_framework_drafts(ARRAY[OLD.id, NEW.id]);
    RETURN NULL;
END
$$;
CREATE TRIGGER search_framework_drafts_insert AFTER INSERT ON framework_drafts FOR EACH ROW EXECUTE FUNCTION search_framework_drafts_reindex();
CREATE TRIGGER search_framework_drafts_update AFTER UPDATE OF id, name, language, creator, architecture, summary, features ON framework_drafts FOR EACH ROW EXECUTE FUNCTION search_framework_drafts_reindex();
CREATE TRIGGER search_framework_drafts_delete AFTER DELETE ON framework_drafts FOR EACH ROW EXECUTE FUNCTION search_framework_drafts_reindex();
CREATE FUNCTION search_company_drafts_reindex() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM search_suspended) THEN
        RETURN NULL;
    END IF;
    PERFORM search_index_company_drafts(ARRAY[OLD.id, NEW.id]);
    RETURN NULL;
END
$$;
CREATE TRIGGER search_company_drafts_insert AFTER INSERT ON company_drafts FOR EACH ROW EXECUTE FUNCTION search_company_drafts_reindex();
CREATE TRIGGER search_company_drafts_update AFTER UPDATE OF id, name ON company_drafts FOR EACH ROW EXECUTE FUNCTION search_company_drafts_reindex();
CREATE TRIGGER search_company_drafts_delete AFTER DELETE ON company_drafts FOR EACH ROW EXECUTE FUNCTION search_company_drafts_reindex();
CREATE FUNCTION search_faq_drafts_reindex() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM search_suspended) THEN
        RETURN NULL;
    END IF;
    PERFORM search_index_faq_drafts(ARRAY[OLD.id, NEW.id]);
    RETURN NULL;
END
$$;
CREATE TRIGGER search_faq_drafts_insert AFTER INSERT ON faq_drafts FOR EACH ROW EXECUTE FUNCTION search_faq_drafts_reindex();
CREATE TRIGGER search_faq_drafts_update AFTER UPDATE OF id, question, answer, items ON faq_drafts FOR EACH ROW EXECUTE FUNCTION search_faq_drafts_reindex();
CREATE TRIGGER search_faq_drafts_delete AFTER DELETE ON faq_drafts FOR EACH ROW EXECUTE FUNCTION search_faq_drafts_reindex();
CREATE FUNCTION search_framework_companies_drafts_reindex() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM search_suspended) THEN
        RETURN NULL;
    END IF;
    PERFORM search_index_framework_drafts(ARRAY[OLD.framework_id, NEW.framework_id]);
    RETURN NULL;
END
$$;
CREATE TRIGGER search_framework_companies_drafts_insert AFTER INSERT ON framework_companies_drafts FOR EACH ROW EXECUTE FUNCTION search_framework_companies_drafts_reindex();
CREATE TRIGGER search_framework_companies_drafts_update AFTER UPDATE ON framework_companies_drafts FOR EACH ROW EXECUTE FUNCTION search_framework_companies_drafts_reindex();
CREATE TRIGGER search_framework_companies_drafts_delete AFTER DELETE ON framework_companies_drafts FOR EACH ROW EXECUTE FUNCTION search_framework_companies_drafts_reindex();
-- As in SQLite, deleting a company (or a framework's draft) first deletes
-- its links, whose triggers re-index the frameworks they named.
CREATE FUNCTION search_companies_unlink() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM search_suspended) THEN
        DELETE FROM framework_companies WHERE company_id = OLD.id;
        DELETE FROM framework_companies_drafts WHERE company_id = OLD.id;
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER search_companies_unlink BEFORE DELETE ON companies FOR EACH ROW EXECUTE FUNCTION search_companies_unlink();
CREATE FUNCTION search_framework_drafts_unlink() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM search_suspended) THEN
        DELETE FROM framework_companies_drafts WHERE framework_id = OLD.id;
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER search_framework_drafts_unlink BEFORE DELETE ON framework_drafts FOR EACH ROW EXECUTE FUNCTION search_framework_drafts_unlink();

-- The event log and the schedule log are append-only; only retention (with a
-- row in events_pruning) deletes from them, and an event's document, NULL on
-- an item's newest event, is filled in once.
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'raise_exception';
END
$$;
CREATE TRIGGER events_document_once BEFORE UPDATE OF document ON events
    FOR EACH ROW WHEN (OLD.document IS NOT NULL)
    EXECUTE FUNCTION events_append_only('events are append-only');
CREATE TRIGGER events_append_only_update BEFORE UPDATE OF id, at, type, item_id, slug, action, version, status, token_id, actor, changed,
    public, public_form, public_changed, public_document, tx_id ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only('events are append-only');
CREATE FUNCTION events_append_only_unless_pruning() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM events_pruning) THEN
        RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'raise_exception';
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only_unless_pruning('events are append-only (only retention prunes them)');
CREATE TRIGGER schedule_log_append_only_update BEFORE UPDATE ON schedule_log
    FOR EACH ROW EXECUTE FUNCTION events_append_only('the schedule log is append-only');
CREATE TRIGGER schedule_log_append_only_delete BEFORE DELETE ON schedule_log
    FOR EACH ROW EXECUTE FUNCTION events_append_only_unless_pruning('the schedule log is append-only');

-- Deleting an item cancels its schedules, and the schedule log says so.
CREATE FUNCTION drop_schedules() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO schedule_log (at, type, item_id, slug, action, outcome, due_at, token_id, actor, message)
    SELECT to_char(statement_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           type, item_id, OLD.slug, action, 'CANCELLED', due_at, token_id, actor, 'the item was deleted'
    FROM schedules WHERE type = TG_ARGV[0] AND item_id = OLD.id
    ORDER BY action;
    DELETE FROM schedules WHERE type = TG_ARGV[0] AND item_id = OLD.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER trends_drop_schedules AFTER DELETE ON trends FOR EACH ROW EXECUTE FUNCTION drop_schedules('Trend');
CREATE TRIGGER frameworks_drop_schedules AFTER DELETE ON frameworks FOR EACH ROW EXECUTE FUNCTION drop_schedules('Framework');
CREATE TRIGGER companies_drop_schedules AFTER DELETE ON companies FOR EACH ROW EXECUTE FUNCTION drop_schedules('Company');
CREATE TRIGGER faqs_drop_schedules AFTER DELETE ON faqs FOR EACH ROW EXECUTE FUNCTION drop_schedules('FAQ');
