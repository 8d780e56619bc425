-- trendql:postgres
-- json_group_array, as SQLite has it: the group's values as a JSON array,
-- [] for no rows (json_agg gives NULL).
CREATE FUNCTION trendql_json_array_final(a anycompatiblearray) RETURNS json
    LANGUAGE sql IMMUTABLE AS 'SELECT array_to_json(a)';
CREATE AGGREGATE trendql_json_array(anycompatible) (
    SFUNC = array_append,
    STYPE = anycompatiblearray,
    INITCOND = '{}',
    FINALFUNC = trendql_json_array_final
);
