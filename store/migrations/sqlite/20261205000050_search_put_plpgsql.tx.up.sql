-- PostgreSQL's search index writes through a plpgsql function now, and
-- its gzipped raw messages are no longer compressed again (same-numbered
-- migration there). SQLite's search triggers and its storage need no
-- change; this keeps the two dialects' migration lists alike.
SELECT 1;
