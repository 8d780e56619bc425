-- trendql schema, version 9: reserved for drafts of published items (issue
-- 13), which the drafts branch builds. This file keeps the numbering whole
-- until that migration lands in its place; it changes nothing.
SELECT 1;
