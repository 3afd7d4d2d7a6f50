-- New tickets, comments and attachments are indexed for search once per
-- write transaction (store/search_index.go), not by a trigger per row.
-- The triggers made every such insert open a statement journal, and FTS5
-- flushed its pending terms at each one: every message wrote a segment of
-- its own and the merges followed, a sixth of the mail writer's time.
-- search_indexed holds, per table, the highest id already in the index;
-- ids only grow (AUTOINCREMENT), so whatever is above it is new, however
-- it was inserted. Updates and deletes keep their triggers.
DROP TRIGGER ticket_search_ticket_ins;
--bun:split
DROP TRIGGER ticket_search_comment_ins;
--bun:split
DROP TRIGGER ticket_search_attachment_ins;
--bun:split
CREATE TABLE search_indexed (
    source TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL
) WITHOUT ROWID;
--bun:split
INSERT INTO search_indexed (source, last_id)
SELECT 'tickets', COALESCE(MAX(id), 0) FROM tickets
UNION ALL SELECT 'ticket_comments', COALESCE(MAX(id), 0) FROM ticket_comments
UNION ALL SELECT 'attachments', COALESCE(MAX(id), 0) FROM attachments;
