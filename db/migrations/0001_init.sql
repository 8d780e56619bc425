-- trendql schema, version 1: the content types, their relations and the
-- lifecycle columns every content row carries.
--
-- Conventions: times are RFC 3339 UTC text; list-valued fields (features,
-- highlights, examples, items) are JSON arrays of strings; every link table
-- has a position so relations keep the order the content gives them.

CREATE TABLE article (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    title        TEXT NOT NULL,
    last_updated TEXT NOT NULL,
    intro        TEXT NOT NULL DEFAULT '',
    conclusion   TEXT NOT NULL DEFAULT '',
    version      INTEGER NOT NULL DEFAULT 1,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE TABLE article_sections (
    position INTEGER PRIMARY KEY,
    heading  TEXT NOT NULL,
    body     TEXT NOT NULL DEFAULT ''
);

CREATE TABLE companies (
    id           INTEGER PRIMARY KEY,
    slug         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'PUBLISHED')),
    version      INTEGER NOT NULL DEFAULT 1,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    published_at TEXT
);
CREATE INDEX companies_name ON companies (name COLLATE NOCASE, id);

CREATE TABLE frameworks (
    id             INTEGER PRIMARY KEY,
    slug           TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('FRAMEWORK', 'LANGUAGE')),
    language       TEXT NOT NULL DEFAULT '',
    creator        TEXT NOT NULL DEFAULT '',
    first_released INTEGER,
    architecture   TEXT NOT NULL DEFAULT '',
    summary        TEXT NOT NULL DEFAULT '',
    features       TEXT NOT NULL DEFAULT '[]',
    status         TEXT NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'PUBLISHED')),
    version        INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    published_at   TEXT
);
CREATE INDEX frameworks_name ON frameworks (name COLLATE NOCASE, id);

CREATE TABLE trends (
    id           INTEGER PRIMARY KEY,
    slug         TEXT NOT NULL UNIQUE,
    rank         INTEGER NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    category     TEXT NOT NULL,
    summary      TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL DEFAULT '',
    highlights   TEXT NOT NULL DEFAULT '[]',
    examples     TEXT NOT NULL DEFAULT '[]',
    status       TEXT NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'PUBLISHED')),
    version      INTEGER NOT NULL DEFAULT 1,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    published_at TEXT
);
CREATE INDEX trends_name ON trends (name COLLATE NOCASE, id);

CREATE TABLE faqs (
    id           INTEGER PRIMARY KEY,
    slug         TEXT NOT NULL UNIQUE,
    position     INTEGER NOT NULL UNIQUE,
    question     TEXT NOT NULL,
    answer       TEXT NOT NULL DEFAULT '',
    items        TEXT NOT NULL DEFAULT '[]',
    status       TEXT NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'PUBLISHED')),
    version      INTEGER NOT NULL DEFAULT 1,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    published_at TEXT
);

-- Relations. Each link table is keyed both ways so that loading a relation
-- from either side is an index range scan, and indexed by position so that
-- loading it in order needs no sort.
CREATE TABLE framework_companies (
    framework_id INTEGER NOT NULL REFERENCES frameworks (id) ON DELETE CASCADE,
    company_id   INTEGER NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    PRIMARY KEY (framework_id, company_id)
) WITHOUT ROWID;
CREATE INDEX framework_companies_company ON framework_companies (company_id, framework_id);
CREATE INDEX framework_companies_order ON framework_companies (framework_id, position);

CREATE TABLE trend_companies (
    trend_id   INTEGER NOT NULL REFERENCES trends (id) ON DELETE CASCADE,
    company_id INTEGER NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    PRIMARY KEY (trend_id, company_id)
) WITHOUT ROWID;
CREATE INDEX trend_companies_company ON trend_companies (company_id, trend_id);
CREATE INDEX trend_companies_order ON trend_companies (trend_id, position);

CREATE TABLE trend_frameworks (
    trend_id     INTEGER NOT NULL REFERENCES trends (id) ON DELETE CASCADE,
    framework_id INTEGER NOT NULL REFERENCES frameworks (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    PRIMARY KEY (trend_id, framework_id)
) WITHOUT ROWID;
CREATE INDEX trend_frameworks_framework ON trend_frameworks (framework_id, trend_id);
CREATE INDEX trend_frameworks_order ON trend_frameworks (trend_id, position);

CREATE TABLE faq_frameworks (
    faq_id       INTEGER NOT NULL REFERENCES faqs (id) ON DELETE CASCADE,
    framework_id INTEGER NOT NULL REFERENCES frameworks (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    PRIMARY KEY (faq_id, framework_id)
) WITHOUT ROWID;
CREATE INDEX faq_frameworks_framework ON faq_frameworks (framework_id, faq_id);
CREATE INDEX faq_frameworks_order ON faq_frameworks (faq_id, position);

CREATE TABLE faq_trends (
    faq_id   INTEGER NOT NULL REFERENCES faqs (id) ON DELETE CASCADE,
    trend_id INTEGER NOT NULL REFERENCES trends (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (faq_id, trend_id)
) WITHOUT ROWID;
CREATE INDEX faq_trends_trend ON faq_trends (trend_id, faq_id);
CREATE INDEX faq_trends_order ON faq_trends (faq_id, position);
