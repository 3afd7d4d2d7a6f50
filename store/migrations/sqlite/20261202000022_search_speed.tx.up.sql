-- The dashboard's "due soon or breached" card: the open tickets that
-- breached a target, read through this partial index (the warning times
-- have theirs from the SLA work).
CREATE INDEX tickets_sla_breached_open_idx ON tickets (sla_breached_at) WHERE sla_breached_at IS NOT NULL AND resolved_at IS NULL AND closed_at IS NULL;
--bun:split
-- The search index's words, so that a long prefix ("impres") is searched
-- as the words it starts (store/search_prefix.go).
CREATE VIRTUAL TABLE ticket_search_vocab USING fts5vocab (ticket_search, 'row');
