-- Nothing to do on PostgreSQL: its row triggers write a tsvector row per
-- unit, with no per-statement flush to avoid. On SQLite this migration
-- replaces the search triggers of inserts by one indexing statement per
-- write transaction (store/search_index.go).
SELECT 1;
