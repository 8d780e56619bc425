-- trendql schema, version 2: one full-text index over every content type,
-- for Query.search.
--
-- The index is an FTS5 table with its own copy of the text (snippets need
-- it). A row's rowid encodes the item: rowid = id * 4 + type code, with
-- type codes 0 trend, 1 framework, 2 company, 3 FAQ, so every write finds
-- its index row by rowid without a scan.
--
-- What each type puts in the four columns is defined once, by one view per
-- type; triggers on the content tables re-index an item from its view in
-- the same statement (and so the same transaction) as any INSERT, UPDATE or
-- DELETE, whichever code path writes it. The columns, most to least
-- weighty when ranking:
--
--   name      trend and framework names, company names, FAQ questions
--   keywords  trend highlights and examples; framework features, language,
--             creator, architecture and the names of the published
--             companies that use it; FAQ list items
--   summary   trend and framework summaries
--   body      trend bodies, FAQ answers (Markdown)
--
-- List fields are stored as JSON arrays; their items are joined with " · "
-- so a snippet taken from them reads as a list. A list that is somehow not
-- valid JSON is indexed as its raw text rather than failing the write.
--
-- Trends do not index their companies' names: their bodies already name
-- them, and re-indexing a whole trend body on every link row would make
-- imports and renames costly. Frameworks are small, so they do.

-- While a bulk import holds a row here, the triggers below stand aside and
-- the import rebuilds the whole index once at its end, in the same
-- transaction (re-indexing a framework on each of its 50,000 link rows
-- made a large import take minutes of tokenizing).
CREATE TABLE search_suspended (one INTEGER PRIMARY KEY CHECK (one = 1));

CREATE VIRTUAL TABLE search USING fts5 (
    name, keywords, summary, body,
    tokenize = 'porter unicode61 remove_diacritics 2',
    prefix = '2 3'
);

CREATE VIEW search_trend_docs (id, name, keywords, summary, body) AS
SELECT t.id, t.name,
       concat_ws(' · ',
           CASE WHEN json_valid(t.highlights) THEN (SELECT group_concat(value, ' · ') FROM json_each(t.highlights)) ELSE t.highlights END,
           CASE WHEN json_valid(t.examples) THEN (SELECT group_concat(value, ' · ') FROM json_each(t.examples)) ELSE t.examples END),
       t.summary, t.body
FROM trends t;

CREATE VIEW search_framework_docs (id, name, keywords, summary, body) AS
SELECT f.id, f.name,
       concat_ws(' · ',
           CASE WHEN json_valid(f.features) THEN (SELECT group_concat(value, ' · ') FROM json_each(f.features)) ELSE f.features END,
           nullif(f.language, ''), nullif(f.creator, ''), nullif(f.architecture, ''),
           (SELECT group_concat(c.name, ' · ' ORDER BY l.position)
              FROM framework_companies l JOIN companies c ON c.id = l.company_id
             WHERE l.framework_id = f.id AND c.status = 'PUBLISHED')),
       f.summary, ''
FROM frameworks f;

CREATE VIEW search_company_docs (id, name, keywords, summary, body) AS
SELECT c.id, c.name, '', '', ''
FROM companies c;

CREATE VIEW search_faq_docs (id, name, keywords, summary, body) AS
SELECT q.id, q.question,
       CASE WHEN json_valid(q.items) THEN (SELECT group_concat(value, ' · ') FROM json_each(q.items)) ELSE q.items END,
       '', q.answer
FROM faqs q;

-- Unpublished items, for the anonymous search's filter: an index per
-- content table holding only the rows that are not published, so the
-- filter reads a few small indexes rather than the status of every match.
CREATE INDEX trends_unpublished ON trends (id) WHERE status <> 'PUBLISHED';
CREATE INDEX frameworks_unpublished ON frameworks (id) WHERE status <> 'PUBLISHED';
CREATE INDEX companies_unpublished ON companies (id) WHERE status <> 'PUBLISHED';
CREATE INDEX faqs_unpublished ON faqs (id) WHERE status <> 'PUBLISHED';

-- Trends.
CREATE TRIGGER search_trends_insert AFTER INSERT ON trends
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 0, name, keywords, summary, body FROM search_trend_docs WHERE id = new.id;
END;
CREATE TRIGGER search_trends_update AFTER UPDATE OF id, name, summary, body, highlights, examples ON trends
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    DELETE FROM search WHERE rowid = old.id * 4 + 0;
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 0, name, keywords, summary, body FROM search_trend_docs WHERE id = new.id;
END;
CREATE TRIGGER search_trends_delete AFTER DELETE ON trends
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    DELETE FROM search WHERE rowid = old.id * 4 + 0;
END;

-- Frameworks, and the companies linked to them.
CREATE TRIGGER search_frameworks_insert AFTER INSERT ON frameworks
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id = new.id;
END;
CREATE TRIGGER search_frameworks_update AFTER UPDATE OF id, name, language, creator, architecture, summary, features ON frameworks
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    DELETE FROM search WHERE rowid = old.id * 4 + 1;
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id = new.id;
END;
CREATE TRIGGER search_frameworks_delete AFTER DELETE ON frameworks
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    DELETE FROM search WHERE rowid = old.id * 4 + 1;
END;
CREATE TRIGGER search_framework_companies_insert AFTER INSERT ON framework_companies
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    DELETE FROM search WHERE rowid = new.framework_id * 4 + 1;
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id = new.framework_id;
END;
CREATE TRIGGER search_framework_companies_update AFTER UPDATE ON framework_companies
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    DELETE FROM search WHERE rowid IN (old.framework_id * 4 + 1, new.framework_id * 4 + 1);
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id IN (old.framework_id, new.framework_id);
END;
CREATE TRIGGER search_framework_companies_delete AFTER DELETE ON framework_companies
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    DELETE FROM search WHERE rowid = old.framework_id * 4 + 1;
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs WHERE id = old.framework_id;
END;

-- Companies: a new name or status also re-indexes the frameworks that list
-- the company (only published companies' names are indexed there).
CREATE TRIGGER search_companies_insert AFTER INSERT ON companies
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 2, name, keywords, summary, body FROM search_company_docs WHERE id = new.id;
END;
CREATE TRIGGER search_companies_update AFTER UPDATE OF id, name, status ON companies
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    DELETE FROM search WHERE rowid = old.id * 4 + 2;
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 2, name, keywords, summary, body FROM search_company_docs WHERE id = new.id;
    DELETE FROM search WHERE rowid IN (SELECT framework_id * 4 + 1 FROM framework_companies WHERE company_id = new.id);
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs
     WHERE id IN (SELECT framework_id FROM framework_companies WHERE company_id = new.id);
END;
CREATE TRIGGER search_companies_delete AFTER DELETE ON companies
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    DELETE FROM search WHERE rowid = old.id * 4 + 2;
END;

-- FAQs.
CREATE TRIGGER search_faqs_insert AFTER INSERT ON faqs
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 3, name, keywords, summary, body FROM search_faq_docs WHERE id = new.id;
END;
CREATE TRIGGER search_faqs_update AFTER UPDATE OF id, question, answer, items ON faqs
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    DELETE FROM search WHERE rowid = old.id * 4 + 3;
    INSERT INTO search (rowid, name, keywords, summary, body)
    SELECT id * 4 + 3, name, keywords, summary, body FROM search_faq_docs WHERE id = new.id;
END;
CREATE TRIGGER search_faqs_delete AFTER DELETE ON faqs
    WHEN NOT EXISTS (SELECT 1 FROM search_suspended) BEGIN
    DELETE FROM search WHERE rowid = old.id * 4 + 3;
END;

-- Existing content, for databases migrating forward.
INSERT INTO search (rowid, name, keywords, summary, body)
SELECT id * 4 + 0, name, keywords, summary, body FROM search_trend_docs;
INSERT INTO search (rowid, name, keywords, summary, body)
SELECT id * 4 + 1, name, keywords, summary, body FROM search_framework_docs;
INSERT INTO search (rowid, name, keywords, summary, body)
SELECT id * 4 + 2, name, keywords, summary, body FROM search_company_docs;
INSERT INTO search (rowid, name, keywords, summary, body)
SELECT id * 4 + 3, name, keywords, summary, body FROM search_faq_docs;
