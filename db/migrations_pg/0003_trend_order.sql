-- trendql:postgres
-- Lists sort by their key and then by id, so that an order is total
-- (and a cursor exact). A trend's rank is unique, but the planner does not
-- infer that (rank, id) is then in rank's order: a page of trends read the
-- rank index and sorted its rows again (an incremental sort of the page's
-- ≈1.5 KB rows, half the statement's time in q3). This index is the list's
-- order itself.
CREATE INDEX trends_rank_order ON trends (rank, id);
