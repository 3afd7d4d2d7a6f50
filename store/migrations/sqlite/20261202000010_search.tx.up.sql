-- Full-text search over tickets: one row per searchable unit (a ticket's
-- subject and description, one comment, one attachment's file name) with
-- the internal flag a reader must be allowed to see. The rowid says it
-- all, so a search reads no stored row to filter or group:
--   rowid = ticket_id << 32 | source id << 3 | kind << 1 | internal
-- (kind 1 ticket, 2 comment, 3 attachment; source ids below 2^29). Its
-- order is the tickets' order, so the newest matches come first, and a
-- ticket's units are one rowid range.
-- Triggers keep it in sync, so no write path (retention, erasure, a merge
-- moving comments) can leave searchable text behind. A delete removes
-- both internal variants: a cascade may have removed the comment that
-- said which.
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
    VALUES ((new.id << 32) + new.id * 8 + 2, new.subject, new.description, new.id, 0);
END;
--bun:split
CREATE TRIGGER ticket_search_ticket_upd AFTER UPDATE OF subject, description ON tickets
WHEN old.subject IS NOT new.subject OR old.description IS NOT new.description BEGIN
    DELETE FROM ticket_search WHERE rowid IN ((old.id << 32) + old.id * 8 + 2, (old.id << 32) + old.id * 8 + 3);
    INSERT INTO ticket_search (rowid, subject, body, ticket_id, internal)
    VALUES ((new.id << 32) + new.id * 8 + 2, new.subject, new.description, new.id, 0);
END;
--bun:split
-- A ticket's comments and attachments go by their own triggers (the
-- cascade fires them).
CREATE TRIGGER ticket_search_ticket_del AFTER DELETE ON tickets BEGIN
    DELETE FROM ticket_search WHERE rowid IN ((old.id << 32) + old.id * 8 + 2, (old.id << 32) + old.id * 8 + 3);
END;
--bun:split
CREATE TRIGGER ticket_search_comment_ins AFTER INSERT ON ticket_comments BEGIN
    INSERT INTO ticket_search (rowid, subject, body, ticket_id, internal)
    VALUES ((new.ticket_id << 32) + new.id * 8 + 4 + (CASE WHEN new.internal THEN 1 ELSE 0 END), '', new.body_text, new.ticket_id, CASE WHEN new.internal THEN 1 ELSE 0 END);
END;
--bun:split
-- The attachments of a comment share its internal flag and ticket.
CREATE TRIGGER ticket_search_comment_upd AFTER UPDATE OF body_text, internal, ticket_id ON ticket_comments
WHEN old.body_text IS NOT new.body_text OR old.internal IS NOT new.internal OR old.ticket_id IS NOT new.ticket_id BEGIN
    DELETE FROM ticket_search WHERE rowid IN ((old.ticket_id << 32) + old.id * 8 + 4, (old.ticket_id << 32) + old.id * 8 + 5);
    INSERT INTO ticket_search (rowid, subject, body, ticket_id, internal)
    VALUES ((new.ticket_id << 32) + new.id * 8 + 4 + (CASE WHEN new.internal THEN 1 ELSE 0 END), '', new.body_text, new.ticket_id, CASE WHEN new.internal THEN 1 ELSE 0 END);
    DELETE FROM ticket_search WHERE rowid IN (SELECT (ticket_id << 32) + id * 8 + 6 FROM attachments WHERE comment_id = new.id
        UNION ALL SELECT (ticket_id << 32) + id * 8 + 7 FROM attachments WHERE comment_id = new.id);
    INSERT INTO ticket_search (rowid, subject, body, ticket_id, internal)
    SELECT (ticket_id << 32) + id * 8 + 6 + (CASE WHEN new.internal THEN 1 ELSE 0 END), '', filename, ticket_id, CASE WHEN new.internal THEN 1 ELSE 0 END
    FROM attachments WHERE comment_id = new.id;
END;
--bun:split
CREATE TRIGGER ticket_search_comment_del AFTER DELETE ON ticket_comments BEGIN
    DELETE FROM ticket_search WHERE rowid IN ((old.ticket_id << 32) + old.id * 8 + 4, (old.ticket_id << 32) + old.id * 8 + 5);
END;
--bun:split
CREATE TRIGGER ticket_search_attachment_ins AFTER INSERT ON attachments BEGIN
    INSERT INTO ticket_search (rowid, subject, body, ticket_id, internal)
    SELECT (new.ticket_id << 32) + new.id * 8 + 6 + i, '', new.filename, new.ticket_id, i
    FROM (SELECT COALESCE((SELECT CASE WHEN c.internal THEN 1 ELSE 0 END FROM ticket_comments c WHERE c.id = new.comment_id), 0) AS i);
END;
--bun:split
CREATE TRIGGER ticket_search_attachment_upd AFTER UPDATE OF filename, ticket_id, comment_id ON attachments
WHEN old.filename IS NOT new.filename OR old.ticket_id IS NOT new.ticket_id OR old.comment_id IS NOT new.comment_id BEGIN
    DELETE FROM ticket_search WHERE rowid IN ((old.ticket_id << 32) + old.id * 8 + 6, (old.ticket_id << 32) + old.id * 8 + 7);
    INSERT INTO ticket_search (rowid, subject, body, ticket_id, internal)
    SELECT (new.ticket_id << 32) + new.id * 8 + 6 + i, '', new.filename, new.ticket_id, i
    FROM (SELECT COALESCE((SELECT CASE WHEN c.internal THEN 1 ELSE 0 END FROM ticket_comments c WHERE c.id = new.comment_id), 0) AS i);
END;
--bun:split
CREATE TRIGGER ticket_search_attachment_del AFTER DELETE ON attachments BEGIN
    DELETE FROM ticket_search WHERE rowid IN ((old.ticket_id << 32) + old.id * 8 + 6, (old.ticket_id << 32) + old.id * 8 + 7);
END;
--bun:split
INSERT INTO ticket_search (rowid, subject, body, ticket_id, internal)
SELECT (id << 32) + id * 8 + 2, subject, description, id, 0 FROM tickets;
--bun:split
INSERT INTO ticket_search (rowid, subject, body, ticket_id, internal)
SELECT (ticket_id << 32) + id * 8 + 4 + (CASE WHEN internal THEN 1 ELSE 0 END), '', body_text, ticket_id, CASE WHEN internal THEN 1 ELSE 0 END
FROM ticket_comments;
--bun:split
INSERT INTO ticket_search (rowid, subject, body, ticket_id, internal)
SELECT (a.ticket_id << 32) + a.id * 8 + 6 + (CASE WHEN c.internal THEN 1 ELSE 0 END), '', a.filename, a.ticket_id, CASE WHEN c.internal THEN 1 ELSE 0 END
FROM attachments a LEFT JOIN ticket_comments c ON c.id = a.comment_id;
