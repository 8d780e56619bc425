-- trendql schema, version 6: the search index without a second copy of the
-- text, readable by SQLite 3.40, and a public index that drafts cannot move.
--
-- Version 3 stored every indexed word twice (FTS5's own content table beside
-- the content tables), used group_concat(... ORDER BY ...) and concat_ws
-- (SQLite 3.44), so Debian 12's sqlite3 and Python's sqlite3 module could not
-- even read the schema, and ranked anonymous searches with statistics that
-- counted drafts. This migration replaces all of that:
--
-- * The views that say what each type puts in the index use only SQL that
--   SQLite 3.40 knows: an ordered subquery under group_concat, and
--   substr/coalesce for concat_ws. They produce the same text as before.
--   They cannot use json_each: FTS5 reads its content with statements that
--   may not touch virtual tables, so list items come out one by one with
--   json_extract, counted by a recursive CTE.
-- * Two FTS5 tables are "external content" tables: they hold the index only
--   and read the text (for snippets) from the views, by rowid.
--     search         every item, drafts included: what token holders search
--     search_public  published items only: what anonymous callers search, so
--                    that their scores (BM25 counts every document of the
--                    index) are the same whatever the drafts hold
--   Neither keeps prefix indexes: they were 60% of the index, and a prefix
--   query reads the (short) run of terms that start with it instead.
-- * An external content index must be told the exact text it indexed to
--   remove it, so every re-index is a pair of triggers: BEFORE the write,
--   'delete' with the text the view gives now; AFTER it, insert the new text.
--   Deleting a company first deletes its framework links (whose triggers
--   re-index the frameworks while the company still exists), because the
--   foreign-key cascade would only run after the company row is gone.
-- * Expression indexes on id * 4 + code let FTS5's lookup by rowid through
--   the views use an index instead of scanning the content tables.

DROP INDEX IF EXISTS trends_unpublished;
DROP INDEX IF EXISTS frameworks_unpublished;
DROP INDEX IF EXISTS companies_unpublished;
DROP INDEX IF EXISTS faqs_unpublished;
DROP TRIGGER IF EXISTS search_trends_insert;
DROP TRIGGER IF EXISTS search_trends_update;
DROP TRIGGER IF EXISTS search_trends_delete;
DROP TRIGGER IF EXISTS search_frameworks_insert;
DROP TRIGGER IF EXISTS search_frameworks_update;
DROP TRIGGER IF EXISTS search_frameworks_delete;
DROP TRIGGER IF EXISTS search_companies_insert;
DROP TRIGGER IF EXISTS search_companies_update;
DROP TRIGGER IF EXISTS search_companies_delete;
DROP TRIGGER IF EXISTS search_faqs_insert;
DROP TRIGGER IF EXISTS search_faqs_update;
DROP TRIGGER IF EXISTS search_faqs_delete;
DROP TRIGGER IF EXISTS search_framework_companies_insert;
DROP TRIGGER IF EXISTS search_framework_companies_update;
DROP TRIGGER IF EXISTS search_framework_companies_delete;
DROP TABLE IF EXISTS search;
DROP VIEW IF EXISTS search_trend_docs;
DROP VIEW IF EXISTS search_framework_docs;
DROP VIEW IF EXISTS search_company_docs;
DROP VIEW IF EXISTS search_faq_docs;

-- What each type indexes (columns, most to least weighty: name, keywords,
-- summary, body; see version 3) and its status.
CREATE VIEW search_trend_docs (id, name, keywords, summary, body, status) AS
SELECT t.id, t.name,
       substr(coalesce(' · ' || CASE WHEN json_valid(t.highlights) THEN (SELECT group_concat(v, ' · ') FROM (WITH RECURSIVE i (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n + 1 < json_array_length(t.highlights)) SELECT json_extract(t.highlights, '$[' || n || ']') AS v FROM i ORDER BY n)) ELSE t.highlights END, '')
           || coalesce(' · ' || CASE WHEN json_valid(t.examples) THEN (SELECT group_concat(v, ' · ') FROM (WITH RECURSIVE i (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n + 1 < json_array_length(t.examples)) SELECT json_extract(t.examples, '$[' || n || ']') AS v FROM i ORDER BY n)) ELSE t.examples END, ''), 4),
       t.summary, t.body, t.status
FROM trends t;

CREATE VIEW search_framework_docs (id, name, keywords, summary, body, status) AS
SELECT f.id, f.name,
       substr(coalesce(' · ' || CASE WHEN json_valid(f.features) THEN (SELECT group_concat(v, ' · ') FROM (WITH RECURSIVE i (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n + 1 < json_array_length(f.features)) SELECT json_extract(f.features, '$[' || n || ']') AS v FROM i ORDER BY n)) ELSE f.features END, '')
           || coalesce(' · ' || nullif(f.language, ''), '')
           || coalesce(' · ' || nullif(f.creator, ''), '')
           || coalesce(' · ' || nullif(f.architecture, ''), '')
           || coalesce(' · ' || (SELECT group_concat(name, ' · ') FROM (
                  SELECT c.name FROM framework_companies l JOIN companies c ON c.id = l.company_id
                   WHERE l.framework_id = f.id AND c.status = 'PUBLISHED' ORDER BY l.position)), ''), 4),
       f.summary, '', f.status
FROM frameworks f;

CREATE VIEW search_company_docs (id, name, keywords, summary, body, status) AS
SELECT c.id, c.name, '', '', '', c.status
FROM companies c;

CREATE VIEW search_faq_docs (id, name, keywords, summary, body, status) AS
SELECT q.id, q.question,
       coalesce(CASE WHEN json_valid(q.items) THEN (SELECT group_concat(v, ' · ') FROM (WITH RECURSIVE i (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n + 1 < json_array_length(q.items)) SELECT json_extract(q.items, '$[' || n || ']') AS v FROM i ORDER BY n)) ELSE q.items END, ''),
       '', q.answer, q.status
FROM faqs q;

-- The indexes' content, keyed by index rowid: id * 4 + type code (0 trend,
-- 1 framework, 2 company, 3 FAQ).
CREATE VIEW search_docs (rid, name, keywords, summary, body) AS
SELECT id * 4 + 0, name, keywords, summary, body FROM search_trend_docs
UNION ALL SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs
UNION ALL SELECT id * 4 + 2, name, keywords, summary, body FROM search_company_docs
UNION ALL SELECT id * 4 + 3, name, keywords, summary, body FROM search_faq_docs;

CREATE VIEW search_public_docs (rid, name, keywords, summary, body) AS
SELECT id * 4 + 0, name, keywords, summary, body FROM search_trend_docs WHERE status = 'PUBLISHED'
UNION ALL SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE status = 'PUBLISHED'
UNION ALL SELECT id * 4 + 2, name, keywords, summary, body FROM search_company_docs WHERE status = 'PUBLISHED'
UNION ALL SELECT id * 4 + 3, name, keywords, summary, body FROM search_faq_docs WHERE status = 'PUBLISHED';

CREATE INDEX trends_search_rid ON trends (id * 4 + 0);
CREATE INDEX frameworks_search_rid ON frameworks (id * 4 + 1);
CREATE INDEX companies_search_rid ON companies (id * 4 + 2);
CREATE INDEX faqs_search_rid ON faqs (id * 4 + 3);

CREATE VIRTUAL TABLE search USING fts5 (
    name, keywords, summary, body,
    content = 'search_docs', content_rowid = 'rid',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE search_public USING fts5 (
    name, keywords, summary, body,
    content = 'search_public_docs', content_rowid = 'rid',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- Trends.
CREATE TRIGGER search_trends_insert AFTER INSERT ON trends
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 0, name, keywords, summary, body FROM search_trend_docs WHERE id = new.id;
    INSERT INTO search_public (rowid, name, keywords, summary, body)
    SELECT id * 4 + 0, name, keywords, summary, body FROM search_trend_docs WHERE id = new.id AND status = 'PUBLISHED';
END;
CREATE TRIGGER search_trends_update_before BEFORE UPDATE OF id, name, summary, body, highlights, examples, status ON trends
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 0, name, keywords, summary, body FROM search_trend_docs WHERE id = old.id;
    INSERT INTO search_public (search_public, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 0, name, keywords, summary, body FROM search_trend_docs WHERE id = old.id AND status = 'PUBLISHED';
END;
CREATE TRIGGER search_trends_update_after AFTER UPDATE OF id, name, summary, body, highlights, examples, status ON trends
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 0, name, keywords, summary, body FROM search_trend_docs WHERE id = new.id;
    INSERT INTO search_public (rowid, name, keywords, summary, body)
    SELECT id * 4 + 0, name, keywords, summary, body FROM search_trend_docs WHERE id = new.id AND status = 'PUBLISHED';
END;
CREATE TRIGGER search_trends_delete BEFORE DELETE ON trends
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 0, name, keywords, summary, body FROM search_trend_docs WHERE id = old.id;
    INSERT INTO search_public (search_public, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 0, name, keywords, summary, body FROM search_trend_docs WHERE id = old.id AND status = 'PUBLISHED';
END;

-- Frameworks.
CREATE TRIGGER search_frameworks_insert AFTER INSERT ON frameworks
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id = new.id;
    INSERT INTO search_public (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id = new.id AND status = 'PUBLISHED';
END;
CREATE TRIGGER search_frameworks_update_before BEFORE UPDATE OF id, name, language, creator, architecture, summary, features, status ON frameworks
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id = old.id;
    INSERT INTO search_public (search_public, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id = old.id AND status = 'PUBLISHED';
END;
CREATE TRIGGER search_frameworks_update_after AFTER UPDATE OF id, name, language, creator, architecture, summary, features, status ON frameworks
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id = new.id;
    INSERT INTO search_public (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id = new.id AND status = 'PUBLISHED';
END;
CREATE TRIGGER search_frameworks_delete BEFORE DELETE ON frameworks
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id = old.id;
    INSERT INTO search_public (search_public, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id = old.id AND status = 'PUBLISHED';
END;

-- Framework links: a framework's keywords name its published companies.
CREATE TRIGGER search_framework_companies_insert_before BEFORE INSERT ON framework_companies
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id = new.framework_id;
    INSERT INTO search_public (search_public, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id = new.framework_id AND status = 'PUBLISHED';
END;
CREATE TRIGGER search_framework_companies_insert_after AFTER INSERT ON framework_companies
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id = new.framework_id;
    INSERT INTO search_public (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id = new.framework_id AND status = 'PUBLISHED';
END;
CREATE TRIGGER search_framework_companies_update_before BEFORE UPDATE ON framework_companies
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id IN (old.framework_id, new.framework_id);
    INSERT INTO search_public (search_public, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id IN (old.framework_id, new.framework_id) AND status = 'PUBLISHED';
END;
CREATE TRIGGER search_framework_companies_update_after AFTER UPDATE ON framework_companies
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id IN (old.framework_id, new.framework_id);
    INSERT INTO search_public (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id IN (old.framework_id, new.framework_id) AND status = 'PUBLISHED';
END;
CREATE TRIGGER search_framework_companies_delete_before BEFORE DELETE ON framework_companies
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id = old.framework_id;
    INSERT INTO search_public (search_public, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id = old.framework_id AND status = 'PUBLISHED';
END;
CREATE TRIGGER search_framework_companies_delete_after AFTER DELETE ON framework_companies
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id = old.framework_id;
    INSERT INTO search_public (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id = old.framework_id AND status = 'PUBLISHED';
END;

-- FAQs.
CREATE TRIGGER search_faqs_insert AFTER INSERT ON faqs
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 3, name, keywords, summary, body FROM search_faq_docs WHERE id = new.id;
    INSERT INTO search_public (rowid, name, keywords, summary, body)
    SELECT id * 4 + 3, name, keywords, summary, body FROM search_faq_docs WHERE id = new.id AND status = 'PUBLISHED';
END;
CREATE TRIGGER search_faqs_update_before BEFORE UPDATE OF id, question, answer, items, status ON faqs
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 3, name, keywords, summary, body FROM search_faq_docs WHERE id = old.id;
    INSERT INTO search_public (search_public, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 3, name, keywords, summary, body FROM search_faq_docs WHERE id = old.id AND status = 'PUBLISHED';
END;
CREATE TRIGGER search_faqs_update_after AFTER UPDATE OF id, question, answer, items, status ON faqs
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 3, name, keywords, summary, body FROM search_faq_docs WHERE id = new.id;
    INSERT INTO search_public (rowid, name, keywords, summary, body)
    SELECT id * 4 + 3, name, keywords, summary, body FROM search_faq_docs WHERE id = new.id AND status = 'PUBLISHED';
END;
CREATE TRIGGER search_faqs_delete BEFORE DELETE ON faqs
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 3, name, keywords, summary, body FROM search_faq_docs WHERE id = old.id;
    INSERT INTO search_public (search_public, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 3, name, keywords, summary, body FROM search_faq_docs WHERE id = old.id AND status = 'PUBLISHED';
END;

-- Companies: a new name or status re-indexes the frameworks that list the
-- company too (their keywords name their published companies).
CREATE TRIGGER search_companies_insert AFTER INSERT ON companies
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 2, name, keywords, summary, body FROM search_company_docs WHERE id = new.id;
    INSERT INTO search_public (rowid, name, keywords, summary, body)
    SELECT id * 4 + 2, name, keywords, summary, body FROM search_company_docs WHERE id = new.id AND status = 'PUBLISHED';
END;
CREATE TRIGGER search_companies_update_before BEFORE UPDATE OF id, name, status ON companies
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 2, name, keywords, summary, body FROM search_company_docs WHERE id = old.id;
    INSERT INTO search_public (search_public, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 2, name, keywords, summary, body FROM search_company_docs WHERE id = old.id AND status = 'PUBLISHED';
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id IN (SELECT framework_id FROM framework_companies WHERE company_id = old.id);
    INSERT INTO search_public (search_public, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id IN (SELECT framework_id FROM framework_companies WHERE company_id = old.id) AND status = 'PUBLISHED';
END;
CREATE TRIGGER search_companies_update_after AFTER UPDATE OF id, name, status ON companies
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 2, name, keywords, summary, body FROM search_company_docs WHERE id = new.id;
    INSERT INTO search_public (rowid, name, keywords, summary, body)
    SELECT id * 4 + 2, name, keywords, summary, body FROM search_company_docs WHERE id = new.id AND status = 'PUBLISHED';
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id IN (SELECT framework_id FROM framework_companies WHERE company_id = new.id);
    INSERT INTO search_public (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id IN (SELECT framework_id FROM framework_companies WHERE company_id = new.id) AND status = 'PUBLISHED';
END;
CREATE TRIGGER search_companies_delete BEFORE DELETE ON companies
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    DELETE FROM framework_companies WHERE company_id = old.id;
    INSERT INTO search (search, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 2, name, keywords, summary, body FROM search_company_docs WHERE id = old.id;
    INSERT INTO search_public (search_public, rowid, name, keywords, summary, body)
    SELECT 'delete', id * 4 + 2, name, keywords, summary, body FROM search_company_docs WHERE id = old.id AND status = 'PUBLISHED';
END;

-- Existing content, for databases migrating forward.
INSERT INTO search (search) VALUES ('rebuild');
INSERT INTO search_public (search_public) VALUES ('rebuild');
