-- Full-text search over tickets: one row per searchable unit (a ticket's
-- subject and description, one comment, one attachment's file name) with
-- the internal flag a reader must be allowed to see. The rowid encodes
-- the unit: source id * 4 + kind (1 ticket, 2 comment, 3 attachment), so
-- a trigger finds its row without an index on the UNINDEXED columns.
-- Triggers keep it in sync, so no write path (retention, erasure, a merge
-- moving comments) can leave searchable text behind.
CREATE VIRTUAL TABLE ticket_search USING fts5 (
    subject,
    body,
    ticket_id UNINDEXED,
    internal UNINDEXED,
    tokenize = "unicode61 remove_diacritics 2",
    prefix = '2 3'
);
--bun:split
-- Deleted text is removed from the index itself, not only marked deleted
-- (the database runs with secure_delete for the same reason).
INSERT INTO ticket_search (ticket_search, rank) VALUES ('secure-delete', 1);
--bun:split
CREATE TRIGGER ticket_search_ticket_ins AFTER INSERT ON tickets BEGIN
    INSERT INTO ticket_search (rowid, subject, body, ticket_id, internal)
    VALUES (new.id * 4 + 1, new.subject, new.description, new.id, 0);
END;
--bun:split
CREATE TRIGGER ticket_search_ticket_upd AFTER UPDATE OF subject, description ON tickets
WHEN old.subject IS NOT new.subject OR old.description IS NOT new.description BEGIN
    DELETE FROM ticket_search WHERE rowid = old.id * 4 + 1;
    INSERT INTO ticket_search (rowid, subject, body, ticket_id, internal)
    VALUES (new.id * 4 + 1, new.subject, new.description, new.id, 0);
END;
--bun:split
-- A ticket's comments and attachments go by their own triggers (the
-- cascade fires them).
CREATE TRIGGER ticket_search_ticket_del AFTER DELETE ON tickets BEGIN
    DELETE FROM ticket_search WHERE rowid = old.id * 4 + 1;
END;
--bun:split
CREATE TRIGGER ticket_search_comment_ins AFTER INSERT ON ticket_comments BEGIN
    INSERT INTO ticket_search (rowid, subject, body, ticket_id, internal)
    VALUES (new.id * 4 + 2, '', new.body_text, new.ticket_id, CASE WHEN new.internal THEN 1 ELSE 0 END);
END;
--bun:split
-- The attachments of a comment share its internal flag and ticket.
CREATE TRIGGER ticket_search_comment_upd AFTER UPDATE OF body_text, internal, ticket_id ON ticket_comments
WHEN old.body_text IS NOT new.body_text OR old.internal IS NOT new.internal OR old.ticket_id IS NOT new.ticket_id BEGIN
    DELETE FROM ticket_search WHERE rowid = old.id * 4 + 2;
    INSERT INTO ticket_search (rowid, subject, body, ticket_id, internal)
    VALUES (new.id * 4 + 2, '', new.body_text, new.ticket_id, CASE WHEN new.internal THEN 1 ELSE 0 END);
    DELETE FROM ticket_search WHERE rowid IN (SELECT id * 4 + 3 FROM attachments WHERE comment_id = new.id);
    INSERT INTO ticket_search (rowid, subject, body, ticket_id, internal)
    SELECT id * 4 + 3, '', filename, ticket_id, CASE WHEN new.internal THEN 1 ELSE 0 END FROM attachments WHERE comment_id = new.id;
END;
--bun:split
CREATE TRIGGER ticket_search_comment_del AFTER DELETE ON ticket_comments BEGIN
    DELETE FROM ticket_search WHERE rowid = old.id * 4 + 2;
END;
--bun:split
CREATE TRIGGER ticket_search_attachment_ins AFTER INSERT ON attachments BEGIN
    INSERT INTO ticket_search (rowid, subject, body, ticket_id, internal)
    VALUES (new.id * 4 + 3, '', new.filename, new.ticket_id,
        COALESCE((SELECT CASE WHEN c.internal THEN 1 ELSE 0 END FROM ticket_comments c WHERE c.id = new.comment_id), 0));
END;
--bun:split
CREATE TRIGGER ticket_search_attachment_upd AFTER UPDATE OF filename, ticket_id, comment_id ON attachments
WHEN old.filename IS NOT new.filename OR old.ticket_id IS NOT new.ticket_id OR old.comment_id IS NOT new.comment_id BEGIN
    DELETE FROM ticket_search WHERE rowid = old.id * 4 + 3;
    INSERT INTO ticket_search (rowid, subject, body, ticket_id, internal)
    VALUES (new.id * 4 + 3, '', new.filename, new.ticket_id,
        COALESCE((SELECT CASE WHEN c.internal THEN 1 ELSE 0 END FROM ticket_comments c WHERE c.id = new.comment_id), 0));
END;
--bun:split
CREATE TRIGGER ticket_search_attachment_del AFTER DELETE ON attachments BEGIN
    DELETE FROM ticket_search WHERE rowid = old.id * 4 + 3;
END;
--bun:split
INSERT INTO ticket_search (rowid, subject, body, ticket_id, internal)
SELECT id * 4 + 1, subject, description, id, 0 FROM tickets;
--bun:split
INSERT INTO ticket_search (rowid, subject, body, ticket_id, internal)
SELECT id * 4 + 2, '', body_text, ticket_id, CASE WHEN internal THEN 1 ELSE 0 END FROM ticket_comments;
--bun:split
INSERT INTO ticket_search (rowid, subject, body, ticket_id, internal)
SELECT a.id * 4 + 3, '', a.filename, a.ticket_id, CASE WHEN c.internal THEN 1 ELSE 0 END
FROM attachments a LEFT JOIN ticket_comments c ON c.id = a.comment_id;
