-- trendql schema, version 9: drafts of published items.
--
-- A published item keeps its live version in its content table (what
-- anonymous callers and, without a preview, token holders read) and may
-- have one pending draft beside it: a row of the same id in its *_drafts
-- table, and, for an item that owns links, its whole list of links in the
-- *_drafts link tables. Editing a published item writes its draft only;
-- publish copies the draft over the live version, discard drops it. Items
-- that were never published (status DRAFT) have no separate draft: they
-- are edited in place, as before.
--
-- The *_preview views read the content as it would be with every draft
-- published: the draft where there is one, the live row elsewhere. Preview
-- reads (a token holder's X-Trendql-Preview: true, and every mutation's
-- answer) go through them, with the same columns as the content tables.
--
-- A draft row carries its own version (above the live one) and update time;
-- its status, creation and publication times are the item's.
--
-- Drafts are searched too: their text goes into the "search" index (never
-- into search_public) under rowids offset by 2^40, so a preview search finds
-- the draft's words and a search without preview never sees them.

CREATE TABLE trend_drafts (
    id         INTEGER PRIMARY KEY REFERENCES trends (id) ON DELETE CASCADE,
    slug       TEXT NOT NULL,
    rank       INTEGER NOT NULL,
    name       TEXT NOT NULL,
    category   TEXT NOT NULL,
    summary    TEXT NOT NULL DEFAULT '',
    body       TEXT NOT NULL DEFAULT '',
    highlights TEXT NOT NULL DEFAULT '[]',
    examples   TEXT NOT NULL DEFAULT '[]',
    version    INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE framework_drafts (
    id             INTEGER PRIMARY KEY REFERENCES frameworks (id) ON DELETE CASCADE,
    slug           TEXT NOT NULL,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    language       TEXT NOT NULL DEFAULT '',
    creator        TEXT NOT NULL DEFAULT '',
    first_released INTEGER,
    architecture   TEXT NOT NULL DEFAULT '',
    summary        TEXT NOT NULL DEFAULT '',
    features       TEXT NOT NULL DEFAULT '[]',
    version        INTEGER NOT NULL,
    updated_at     TEXT NOT NULL
);

CREATE TABLE company_drafts (
    id         INTEGER PRIMARY KEY REFERENCES companies (id) ON DELETE CASCADE,
    slug       TEXT NOT NULL,
    name       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE faq_drafts (
    id         INTEGER PRIMARY KEY REFERENCES faqs (id) ON DELETE CASCADE,
    slug       TEXT NOT NULL,
    position   INTEGER NOT NULL,
    question   TEXT NOT NULL,
    answer     TEXT NOT NULL DEFAULT '',
    items      TEXT NOT NULL DEFAULT '[]',
    version    INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE INDEX trend_drafts_slug ON trend_drafts (slug);
CREATE INDEX framework_drafts_slug ON framework_drafts (slug);
CREATE INDEX company_drafts_slug ON company_drafts (slug);
CREATE INDEX faq_drafts_slug ON faq_drafts (slug);

-- A drafted owner's links: its whole list, as the draft has it.

CREATE TABLE framework_companies_drafts (
    framework_id INTEGER NOT NULL REFERENCES framework_drafts (id) ON DELETE CASCADE,
    company_id INTEGER NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (framework_id, company_id)
) WITHOUT ROWID;
CREATE INDEX framework_companies_drafts_company ON framework_companies_drafts (company_id, framework_id);

CREATE TABLE trend_companies_drafts (
    trend_id INTEGER NOT NULL REFERENCES trend_drafts (id) ON DELETE CASCADE,
    company_id INTEGER NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (trend_id, company_id)
) WITHOUT ROWID;
CREATE INDEX trend_companies_drafts_company ON trend_companies_drafts (company_id, trend_id);

CREATE TABLE trend_frameworks_drafts (
    trend_id INTEGER NOT NULL REFERENCES trend_drafts (id) ON DELETE CASCADE,
    framework_id INTEGER NOT NULL REFERENCES frameworks (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (trend_id, framework_id)
) WITHOUT ROWID;
CREATE INDEX trend_frameworks_drafts_framework ON trend_frameworks_drafts (framework_id, trend_id);

CREATE TABLE faq_frameworks_drafts (
    faq_id INTEGER NOT NULL REFERENCES faq_drafts (id) ON DELETE CASCADE,
    framework_id INTEGER NOT NULL REFERENCES frameworks (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (faq_id, framework_id)
) WITHOUT ROWID;
CREATE INDEX faq_frameworks_drafts_framework ON faq_frameworks_drafts (framework_id, faq_id);

CREATE TABLE faq_trends_drafts (
    faq_id INTEGER NOT NULL REFERENCES faq_drafts (id) ON DELETE CASCADE,
    trend_id INTEGER NOT NULL REFERENCES trends (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (faq_id, trend_id)
) WITHOUT ROWID;
CREATE INDEX faq_trends_drafts_trend ON faq_trends_drafts (trend_id, faq_id);

-- Content as it would be with every draft published.

CREATE VIEW trends_preview (id, slug, rank, name, category, summary, body, highlights, examples, status, version, created_at, updated_at, published_at) AS
SELECT m.id, d.slug, d.rank, d.name, d.category, d.summary, d.body, d.highlights, d.examples, m.status, d.version, m.created_at, d.updated_at, m.published_at
FROM trend_drafts d JOIN trends m ON m.id = d.id
UNION ALL
SELECT m.id, m.slug, m.rank, m.name, m.category, m.summary, m.body, m.highlights, m.examples, m.status, m.version, m.created_at, m.updated_at, m.published_at
FROM trends m WHERE NOT EXISTS (SELECT 1 FROM trend_drafts d WHERE d.id = m.id);

CREATE VIEW frameworks_preview (id, slug, name, kind, language, creator, first_released, architecture, summary, features, status, version, created_at, updated_at, published_at) AS
SELECT m.id, d.slug, d.name, d.kind, d.language, d.creator, d.first_released, d.architecture, d.summary, d.features, m.status, d.version, m.created_at, d.updated_at, m.published_at
FROM framework_drafts d JOIN frameworks m ON m.id = d.id
UNION ALL
SELECT m.id, m.slug, m.name, m.kind, m.language, m.creator, m.first_released, m.architecture, m.summary, m.features, m.status, m.version, m.created_at, m.updated_at, m.published_at
FROM frameworks m WHERE NOT EXISTS (SELECT 1 FROM framework_drafts d WHERE d.id = m.id);

CREATE VIEW companies_preview (id, slug, name, status, version, created_at, updated_at, published_at) AS
SELECT m.id, d.slug, d.name, m.status, d.version, m.created_at, d.updated_at, m.published_at
FROM company_drafts d JOIN companies m ON m.id = d.id
UNION ALL
SELECT m.id, m.slug, m.name, m.status, m.version, m.created_at, m.updated_at, m.published_at
FROM companies m WHERE NOT EXISTS (SELECT 1 FROM company_drafts d WHERE d.id = m.id);

CREATE VIEW faqs_preview (id, slug, position, question, answer, items, status, version, created_at, updated_at, published_at) AS
SELECT m.id, d.slug, d.position, d.question, d.answer, d.items, m.status, d.version, m.created_at, d.updated_at, m.published_at
FROM faq_drafts d JOIN faqs m ON m.id = d.id
UNION ALL
SELECT m.id, m.slug, m.position, m.question, m.answer, m.items, m.status, m.version, m.created_at, m.updated_at, m.published_at
FROM faqs m WHERE NOT EXISTS (SELECT 1 FROM faq_drafts d WHERE d.id = m.id);

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

-- The same, for the two ways queries use it best (SQLite flattens a UNION
-- view into a query on one table, using each arm's indexes, but not into a
-- join or an ordered list): the *_overlay views are each item with its
-- draft's values (a LEFT JOIN: joined to by id, through the primary key),
-- and the *_drafted views the drafted items alone (a list reads the
-- content table in its index order and the few drafted items beside it).

CREATE VIEW trends_overlay (id, slug, rank, name, category, summary, body, highlights, examples, status, version, created_at, updated_at, published_at) AS
SELECT m.id, CASE WHEN d.id IS NULL THEN m.slug ELSE d.slug END, CASE WHEN d.id IS NULL THEN m.rank ELSE d.rank END, CASE WHEN d.id IS NULL THEN m.name ELSE d.name END, CASE WHEN d.id IS NULL THEN m.category ELSE d.category END, CASE WHEN d.id IS NULL THEN m.summary ELSE d.summary END, CASE WHEN d.id IS NULL THEN m.body ELSE d.body END, CASE WHEN d.id IS NULL THEN m.highlights ELSE d.highlights END, CASE WHEN d.id IS NULL THEN m.examples ELSE d.examples END, m.status, CASE WHEN d.id IS NULL THEN m.version ELSE d.version END, m.created_at, CASE WHEN d.id IS NULL THEN m.updated_at ELSE d.updated_at END, m.published_at
FROM trends m LEFT JOIN trend_drafts d ON d.id = m.id;

CREATE VIEW trends_drafted (id, slug, rank, name, category, summary, body, highlights, examples, status, version, created_at, updated_at, published_at) AS
SELECT m.id, d.slug, d.rank, d.name, d.category, d.summary, d.body, d.highlights, d.examples, m.status, d.version, m.created_at, d.updated_at, m.published_at
FROM trend_drafts d CROSS JOIN trends m ON m.id = d.id; -- the few drafts drive the join

CREATE VIEW frameworks_overlay (id, slug, name, kind, language, creator, first_released, architecture, summary, features, status, version, created_at, updated_at, published_at) AS
SELECT m.id, CASE WHEN d.id IS NULL THEN m.slug ELSE d.slug END, CASE WHEN d.id IS NULL THEN m.name ELSE d.name END, CASE WHEN d.id IS NULL THEN m.kind ELSE d.kind END, CASE WHEN d.id IS NULL THEN m.language ELSE d.language END, CASE WHEN d.id IS NULL THEN m.creator ELSE d.creator END, CASE WHEN d.id IS NULL THEN m.first_released ELSE d.first_released END, CASE WHEN d.id IS NULL THEN m.architecture ELSE d.architecture END, CASE WHEN d.id IS NULL THEN m.summary ELSE d.summary END, CASE WHEN d.id IS NULL THEN m.features ELSE d.features END, m.status, CASE WHEN d.id IS NULL THEN m.version ELSE d.version END, m.created_at, CASE WHEN d.id IS NULL THEN m.updated_at ELSE d.updated_at END, m.published_at
FROM frameworks m LEFT JOIN framework_drafts d ON d.id = m.id;

CREATE VIEW frameworks_drafted (id, slug, name, kind, language, creator, first_released, architecture, summary, features, status, version, created_at, updated_at, published_at) AS
SELECT m.id, d.slug, d.name, d.kind, d.language, d.creator, d.first_released, d.architecture, d.summary, d.features, m.status, d.version, m.created_at, d.updated_at, m.published_at
FROM framework_drafts d CROSS JOIN frameworks m ON m.id = d.id; -- the few drafts drive the join

CREATE VIEW companies_overlay (id, slug, name, status, version, created_at, updated_at, published_at) AS
SELECT m.id, CASE WHEN d.id IS NULL THEN m.slug ELSE d.slug END, CASE WHEN d.id IS NULL THEN m.name ELSE d.name END, m.status, CASE WHEN d.id IS NULL THEN m.version ELSE d.version END, m.created_at, CASE WHEN d.id IS NULL THEN m.updated_at ELSE d.updated_at END, m.published_at
FROM companies m LEFT JOIN company_drafts d ON d.id = m.id;

CREATE VIEW companies_drafted (id, slug, name, status, version, created_at, updated_at, published_at) AS
SELECT m.id, d.slug, d.name, m.status, d.version, m.created_at, d.updated_at, m.published_at
FROM company_drafts d CROSS JOIN companies m ON m.id = d.id; -- the few drafts drive the join

CREATE VIEW faqs_overlay (id, slug, position, question, answer, items, status, version, created_at, updated_at, published_at) AS
SELECT m.id, CASE WHEN d.id IS NULL THEN m.slug ELSE d.slug END, CASE WHEN d.id IS NULL THEN m.position ELSE d.position END, CASE WHEN d.id IS NULL THEN m.question ELSE d.question END, CASE WHEN d.id IS NULL THEN m.answer ELSE d.answer END, CASE WHEN d.id IS NULL THEN m.items ELSE d.items END, m.status, CASE WHEN d.id IS NULL THEN m.version ELSE d.version END, m.created_at, CASE WHEN d.id IS NULL THEN m.updated_at ELSE d.updated_at END, m.published_at
FROM faqs m LEFT JOIN faq_drafts d ON d.id = m.id;

CREATE VIEW faqs_drafted (id, slug, position, question, answer, items, status, version, created_at, updated_at, published_at) AS
SELECT m.id, d.slug, d.position, d.question, d.answer, d.items, m.status, d.version, m.created_at, d.updated_at, m.published_at
FROM faq_drafts d CROSS JOIN faqs m ON m.id = d.id; -- the few drafts drive the join

-- What each draft puts in the search index (as version 6 for the items).

CREATE VIEW search_trend_draft_docs (id, name, keywords, summary, body) AS
SELECT t.id, t.name,
       substr(coalesce(' · ' || CASE WHEN json_valid(t.highlights) THEN (SELECT group_concat(v, ' · ') FROM (WITH RECURSIVE i (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n + 1 < json_array_length(t.highlights)) SELECT json_extract(t.highlights, '$[' || n || ']') AS v FROM i ORDER BY n)) ELSE t.highlights END, '')
           || coalesce(' · ' || CASE WHEN json_valid(t.examples) THEN (SELECT group_concat(v, ' · ') FROM (WITH RECURSIVE i (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n + 1 < json_array_length(t.examples)) SELECT json_extract(t.examples, '$[' || n || ']') AS v FROM i ORDER BY n)) ELSE t.examples END, ''), 4),
       t.summary, t.body
FROM trend_drafts t;

CREATE VIEW search_framework_draft_docs (id, name, keywords, summary, body) AS
SELECT f.id, f.name,
       substr(coalesce(' · ' || CASE WHEN json_valid(f.features) THEN (SELECT group_concat(v, ' · ') FROM (WITH RECURSIVE i (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n + 1 < json_array_length(f.features)) SELECT json_extract(f.features, '$[' || n || ']') AS v FROM i ORDER BY n)) ELSE f.features END, '')
           || coalesce(' · ' || nullif(f.language, ''), '')
           || coalesce(' · ' || nullif(f.creator, ''), '')
           || coalesce(' · ' || nullif(f.architecture, ''), '')
           || coalesce(' · ' || (SELECT group_concat(name, ' · ') FROM (
                  SELECT c.name FROM framework_companies_drafts l JOIN companies c ON c.id = l.company_id
                   WHERE l.framework_id = f.id AND c.status = 'PUBLISHED' ORDER BY l.position)), ''), 4),
       f.summary, ''
FROM framework_drafts f;

CREATE VIEW search_company_draft_docs (id, name, keywords, summary, body) AS
SELECT c.id, c.name, '', '', ''
FROM company_drafts c;

CREATE VIEW search_faq_draft_docs (id, name, keywords, summary, body) AS
SELECT q.id, q.question,
       coalesce(CASE WHEN json_valid(q.items) THEN (SELECT group_concat(v, ' · ') FROM (WITH RECURSIVE i (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n + 1 < json_array_length(q.items)) SELECT json_extract(q.items, '$[' || n || ']') AS v FROM i ORDER BY n)) ELSE q.items END, ''),
       '', q.answer
FROM faq_drafts q;

-- The index "search" reads drafts too, at rowid + 2^40.
DROP VIEW search_docs;
CREATE VIEW search_docs (rid, name, keywords, summary, body) AS
SELECT id * 4 + 0, name, keywords, summary, body FROM search_trend_docs
UNION ALL SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs
UNION ALL SELECT id * 4 + 2, name, keywords, summary, body FROM search_company_docs
UNION ALL SELECT id * 4 + 3, name, keywords, summary, body FROM search_faq_docs
UNION ALL SELECT id * 4 + 1099511627776, name, keywords, summary, body FROM search_trend_draft_docs
UNION ALL SELECT id * 4 + 1099511627777, name, keywords, summary, body FROM search_framework_draft_docs
UNION ALL SELECT id * 4 + 1099511627778, name, keywords, summary, body FROM search_company_draft_docs
UNION ALL SELECT id * 4 + 1099511627779, name, keywords, summary, body FROM search_faq_draft_docs;


-- The rowids in "search" of the items a draft hides in a preview.
CREATE VIEW search_drafted (rid) AS
SELECT id * 4 + 0 FROM trend_drafts
UNION ALL SELECT id * 4 + 1 FROM framework_drafts
UNION ALL SELECT id * 4 + 2 FROM company_drafts
UNION ALL SELECT id * 4 + 3 FROM faq_drafts;

CREATE INDEX trend_drafts_search_rid ON trend_drafts (id * 4 + 1099511627776);

CREATE INDEX framework_drafts_search_rid ON framework_drafts (id * 4 + 1099511627777);

CREATE INDEX company_drafts_search_rid ON company_drafts (id * 4 + 1099511627778);

CREATE INDEX faq_drafts_search_rid ON faq_drafts (id * 4 + 1099511627779);



-- Trend drafts.
CREATE TRIGGER search_trend_drafts_insert AFTER INSERT ON trend_drafts
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1099511627776, name, keywords, summary, body FROM search_trend_draft_docs WHERE id = new.id;
END;
CREATE TRIGGER search_trend_drafts_update_before BEFORE UPDATE OF id, name, summary, body, highlights, examples ON trend_drafts
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1099511627776, name, keywords, summary, body FROM search_trend_draft_docs WHERE id = old.id;
END;
CREATE TRIGGER search_trend_drafts_update_after AFTER UPDATE OF id, name, summary, body, highlights, examples ON trend_drafts
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1099511627776, name, keywords, summary, body FROM search_trend_draft_docs WHERE id = new.id;
END;
CREATE TRIGGER search_trend_drafts_delete BEFORE DELETE ON trend_drafts
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1099511627776, name, keywords, summary, body FROM search_trend_draft_docs WHERE id = old.id;
END;

-- Framework drafts.
CREATE TRIGGER search_framework_drafts_insert AFTER INSERT ON framework_drafts
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1099511627777, name, keywords, summary, body FROM search_framework_draft_docs WHERE id = new.id;
END;
CREATE TRIGGER search_framework_drafts_update_before BEFORE UPDATE OF id, name, language, creator, architecture, summary, features ON framework_drafts
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1099511627777, name, keywords, summary, body FROM search_framework_draft_docs WHERE id = old.id;
END;
CREATE TRIGGER search_framework_drafts_update_after AFTER UPDATE OF id, name, language, creator, architecture, summary, features ON framework_drafts
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1099511627777, name, keywords, summary, body FROM search_framework_draft_docs WHERE id = new.id;
END;
CREATE TRIGGER search_framework_drafts_delete BEFORE DELETE ON framework_drafts
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    DELETE FROM framework_companies_drafts WHERE framework_id = old.id;
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1099511627777, name, keywords, summary, body FROM search_framework_draft_docs WHERE id = old.id;
END;

-- Company drafts.
CREATE TRIGGER search_company_drafts_insert AFTER INSERT ON company_drafts
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1099511627778, name, keywords, summary, body FROM search_company_draft_docs WHERE id = new.id;
END;
CREATE TRIGGER search_company_drafts_update_before BEFORE UPDATE OF id, name ON company_drafts
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1099511627778, name, keywords, summary, body FROM search_company_draft_docs WHERE id = old.id;
END;
CREATE TRIGGER search_company_drafts_update_after AFTER UPDATE OF id, name ON company_drafts
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1099511627778, name, keywords, summary, body FROM search_company_draft_docs WHERE id = new.id;
END;
CREATE TRIGGER search_company_drafts_delete BEFORE DELETE ON company_drafts
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1099511627778, name, keywords, summary, body FROM search_company_draft_docs WHERE id = old.id;
END;

-- Faq drafts.
CREATE TRIGGER search_faq_drafts_insert AFTER INSERT ON faq_drafts
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1099511627779, name, keywords, summary, body FROM search_faq_draft_docs WHERE id = new.id;
END;
CREATE TRIGGER search_faq_drafts_update_before BEFORE UPDATE OF id, question, answer, items ON faq_drafts
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1099511627779, name, keywords, summary, body FROM search_faq_draft_docs WHERE id = old.id;
END;
CREATE TRIGGER search_faq_drafts_update_after AFTER UPDATE OF id, question, answer, items ON faq_drafts
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1099511627779, name, keywords, summary, body FROM search_faq_draft_docs WHERE id = new.id;
END;
CREATE TRIGGER search_faq_drafts_delete BEFORE DELETE ON faq_drafts
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1099511627779, name, keywords, summary, body FROM search_faq_draft_docs WHERE id = old.id;
END;

-- A drafted framework's links: its keywords name its published companies.
CREATE TRIGGER search_framework_companies_drafts_insert_before BEFORE INSERT ON framework_companies_drafts
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1099511627777, name, keywords, summary, body FROM search_framework_draft_docs WHERE id = new.framework_id;
END;
CREATE TRIGGER search_framework_companies_drafts_insert_after AFTER INSERT ON framework_companies_drafts
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1099511627777, name, keywords, summary, body FROM search_framework_draft_docs WHERE id = new.framework_id;
END;
CREATE TRIGGER search_framework_companies_drafts_update_before BEFORE UPDATE ON framework_companies_drafts
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1099511627777, name, keywords, summary, body FROM search_framework_draft_docs WHERE id IN (old.framework_id, new.framework_id);
END;
CREATE TRIGGER search_framework_companies_drafts_update_after AFTER UPDATE ON framework_companies_drafts
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1099511627777, name, keywords, summary, body FROM search_framework_draft_docs WHERE id IN (old.framework_id, new.framework_id);
END;
CREATE TRIGGER search_framework_companies_drafts_delete_before BEFORE DELETE ON framework_companies_drafts
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1099511627777, name, keywords, summary, body FROM search_framework_draft_docs WHERE id = old.framework_id;
END;
CREATE TRIGGER search_framework_companies_drafts_delete_after AFTER DELETE ON framework_companies_drafts
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1099511627777, name, keywords, summary, body FROM search_framework_draft_docs WHERE id = old.framework_id;
END;

-- A company's new name or status re-indexes the drafts that list it; a
-- deleted company leaves their lists first (the cascade would come after
-- the row is gone, too late to re-index).
CREATE TRIGGER search_companies_drafted_update_before BEFORE UPDATE OF id, name, status ON companies
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1099511627777, name, keywords, summary, body FROM search_framework_draft_docs WHERE id IN (SELECT framework_id FROM framework_companies_drafts WHERE company_id = old.id);
END;
CREATE TRIGGER search_companies_drafted_update_after AFTER UPDATE OF id, name, status ON companies
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1099511627777, name, keywords, summary, body FROM search_framework_draft_docs WHERE id IN (SELECT framework_id FROM framework_companies_drafts WHERE company_id = new.id);
END;
CREATE TRIGGER search_companies_drafted_delete BEFORE DELETE ON companies
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    DELETE FROM framework_companies_drafts WHERE company_id = old.id;
END;
