-- The search index learns who may read each unit, so a requester's search
-- narrows to its company's readable units inside FTS5 (a doclist
-- intersection) instead of matching everyone's units and dropping most
-- of them through a lookup in tickets. The new column "scope" holds
--   c<company id>                    an internal unit (staff only)
--   c<company id> p<company id>      a public unit
-- so "scope : p17" is what a client of company 17 may read and
-- "scope : c17" everything of company 17. Searches put the user's words
-- under {subject body}, so the scope tokens never match a typed word.
-- The rowid is unchanged (ticket_id << 32 | source id << 3 | kind << 1 |
-- internal). An FTS5 table cannot gain a column: it is built again.
DROP TABLE ticket_search_vocab;
--bun:split
DROP TRIGGER ticket_search_ticket_ins;
--bun:split
DROP TRIGGER ticket_search_ticket_upd;
--bun:split
DROP TRIGGER ticket_search_ticket_del;
--bun:split
DROP TRIGGER ticket_search_comment_ins;
--bun:split
DROP TRIGGER ticket_search_comment_upd;
--bun:split
DROP TRIGGER ticket_search_comment_del;
--bun:split
DROP TRIGGER ticket_search_attachment_ins;
--bun:split
DROP TRIGGER ticket_search_attachment_upd;
--bun:split
DROP TRIGGER ticket_search_attachment_del;
--bun:split
DROP TABLE ticket_search;
--bun:split
CREATE VIRTUAL TABLE ticket_search USING fts5 (
    subject,
    body,
    scope,
    ticket_id UNINDEXED,
    internal UNINDEXED,
    tokenize = "unicode61 remove_diacritics 2",
    prefix = '2 3'
);
--bun:split
INSERT INTO ticket_search (ticket_search, rank) VALUES ('secure-delete', 1);
--bun:split
CREATE VIRTUAL TABLE ticket_search_vocab USING fts5vocab (ticket_search, 'row');
--bun:split
CREATE TRIGGER ticket_search_ticket_ins AFTER INSERT ON tickets BEGIN
    INSERT INTO ticket_search (rowid, subject, body, scope, ticket_id, internal)
    VALUES ((new.id << 32) + new.id * 8 + 2, new.subject, new.description, 'c' || new.company_id || ' p' || new.company_id, new.id, 0);
END;
--bun:split
CREATE TRIGGER ticket_search_ticket_upd AFTER UPDATE OF subject, description ON tickets
WHEN old.subject IS NOT new.subject OR old.description IS NOT new.description BEGIN
    DELETE FROM ticket_search WHERE rowid IN ((old.id << 32) + old.id * 8 + 2, (old.id << 32) + old.id * 8 + 3);
    INSERT INTO ticket_search (rowid, subject, body, scope, ticket_id, internal)
    VALUES ((new.id << 32) + new.id * 8 + 2, new.subject, new.description, 'c' || new.company_id || ' p' || new.company_id, new.id, 0);
END;
--bun:split
-- A ticket moved to another company: every unit of it (one rowid range)
-- takes the new company's tokens.
CREATE TRIGGER ticket_search_ticket_company AFTER UPDATE OF company_id ON tickets
WHEN old.company_id IS NOT new.company_id BEGIN
    UPDATE ticket_search SET scope = 'c' || new.company_id || CASE WHEN rowid & 1 THEN '' ELSE ' p' || new.company_id END
    WHERE rowid >= (new.id << 32) AND rowid < ((new.id + 1) << 32);
END;
--bun:split
CREATE TRIGGER ticket_search_ticket_del AFTER DELETE ON tickets BEGIN
    DELETE FROM ticket_search WHERE rowid IN ((old.id << 32) + old.id * 8 + 2, (old.id << 32) + old.id * 8 + 3);
END;
--bun:split
CREATE TRIGGER ticket_search_comment_ins AFTER INSERT ON ticket_comments BEGIN
    INSERT INTO ticket_search (rowid, subject, body, scope, ticket_id, internal)
    SELECT (new.ticket_id << 32) + new.id * 8 + 4 + (CASE WHEN new.internal THEN 1 ELSE 0 END), '', new.body_text,
        'c' || t.company_id || CASE WHEN new.internal THEN '' ELSE ' p' || t.company_id END,
        new.ticket_id, CASE WHEN new.internal THEN 1 ELSE 0 END
    FROM tickets t WHERE t.id = new.ticket_id;
END;
--bun:split
CREATE TRIGGER ticket_search_comment_upd AFTER UPDATE OF body_text, internal, ticket_id ON ticket_comments
WHEN old.body_text IS NOT new.body_text OR old.internal IS NOT new.internal OR old.ticket_id IS NOT new.ticket_id BEGIN
    DELETE FROM ticket_search WHERE rowid IN ((old.ticket_id << 32) + old.id * 8 + 4, (old.ticket_id << 32) + old.id * 8 + 5);
    INSERT INTO ticket_search (rowid, subject, body, scope, ticket_id, internal)
    SELECT (new.ticket_id << 32) + new.id * 8 + 4 + (CASE WHEN new.internal THEN 1 ELSE 0 END), '', new.body_text,
        'c' || t.company_id || CASE WHEN new.internal THEN '' ELSE ' p' || t.company_id END,
        new.ticket_id, CASE WHEN new.internal THEN 1 ELSE 0 END
    FROM tickets t WHERE t.id = new.ticket_id;
    DELETE FROM ticket_search WHERE rowid IN (SELECT (ticket_id << 32) + id * 8 + 6 FROM attachments WHERE comment_id = new.id
        UNION ALL SELECT (ticket_id << 32) + id * 8 + 7 FROM attachments WHERE comment_id = new.id);
    INSERT INTO ticket_search (rowid, subject, body, scope, ticket_id, internal)
    SELECT (a.ticket_id << 32) + a.id * 8 + 6 + (CASE WHEN new.internal THEN 1 ELSE 0 END), '', a.filename,
        'c' || t.company_id || CASE WHEN new.internal THEN '' ELSE ' p' || t.company_id END,
        a.ticket_id, CASE WHEN new.internal THEN 1 ELSE 0 END
    FROM attachments a JOIN tickets t ON t.id = a.ticket_id WHERE a.comment_id = new.id;
END;
--bun:split
CREATE TRIGGER ticket_search_comment_del AFTER DELETE ON ticket_comments BEGIN
    DELETE FROM ticket_search WHERE rowid IN ((old.ticket_id << 32) + old.id * 8 + 4, (old.ticket_id << 32) + old.id * 8 + 5);
END;
--bun:split
CREATE TRIGGER ticket_search_attachment_ins AFTER INSERT ON attachments BEGIN
    INSERT INTO ticket_search (rowid, subject, body, scope, ticket_id, internal)
    SELECT (new.ticket_id << 32) + new.id * 8 + 6 + i, '', new.filename,
        'c' || t.company_id || CASE WHEN i THEN '' ELSE ' p' || t.company_id END, new.ticket_id, i
    FROM (SELECT COALESCE((SELECT CASE WHEN c.internal THEN 1 ELSE 0 END FROM ticket_comments c WHERE c.id = new.comment_id), 0) AS i)
    JOIN tickets t ON t.id = new.ticket_id;
END;
--bun:split
CREATE TRIGGER ticket_search_attachment_upd AFTER UPDATE OF filename, ticket_id, comment_id ON attachments
WHEN old.filename IS NOT new.filename OR old.ticket_id IS NOT new.ticket_id OR old.comment_id IS NOT new.comment_id BEGIN
    DELETE FROM ticket_search WHERE rowid IN ((old.ticket_id << 32) + old.id * 8 + 6, (old.ticket_id << 32) + old.id * 8 + 7);
    INSERT INTO ticket_search (rowid, subject, body, scope, ticket_id, internal)
    SELECT (new.ticket_id << 32) + new.id * 8 + 6 + i, '', new.filename,
        'c' || t.company_id || CASE WHEN i THEN '' ELSE ' p' || t.company_id END, new.ticket_id, i
    FROM (SELECT COALESCE((SELECT CASE WHEN c.internal THEN 1 ELSE 0 END FROM ticket_comments c WHERE c.id = new.comment_id), 0) AS i)
    JOIN tickets t ON t.id = new.ticket_id;
END;
--bun:split
CREATE TRIGGER ticket_search_attachment_del AFTER DELETE ON attachments BEGIN
    DELETE FROM ticket_search WHERE rowid IN ((old.ticket_id << 32) + old.id * 8 + 6, (old.ticket_id << 32) + old.id * 8 + 7);
END;
--bun:split
INSERT INTO ticket_search (rowid, subject, body, scope, ticket_id, internal)
SELECT (id << 32) + id * 8 + 2, subject, description, 'c' || company_id || ' p' || company_id, id, 0 FROM tickets;
--bun:split
INSERT INTO ticket_search (rowid, subject, body, scope, ticket_id, internal)
SELECT (c.ticket_id << 32) + c.id * 8 + 4 + (CASE WHEN c.internal THEN 1 ELSE 0 END), '', c.body_text,
    'c' || t.company_id || CASE WHEN c.internal THEN '' ELSE ' p' || t.company_id END,
    c.ticket_id, CASE WHEN c.internal THEN 1 ELSE 0 END
FROM ticket_comments c JOIN tickets t ON t.id = c.ticket_id;
--bun:split
INSERT INTO ticket_search (rowid, subject, body, scope, ticket_id, internal)
SELECT (a.ticket_id << 32) + a.id * 8 + 6 + (CASE WHEN c.internal THEN 1 ELSE 0 END), '', a.filename,
    'c' || t.company_id || CASE WHEN c.internal THEN '' ELSE ' p' || t.company_id END,
    a.ticket_id, CASE WHEN c.internal THEN 1 ELSE 0 END
FROM attachments a JOIN tickets t ON t.id = a.ticket_id LEFT JOIN ticket_comments c ON c.id = a.comment_id;
--bun:split
-- The bulk insert's segments merged into one, as OptimizeSearch does.
INSERT INTO ticket_search (ticket_search) VALUES ('optimize');
--bun:split
-- A company's search window: its newest tickets by id.
CREATE INDEX tickets_company_id_idx ON tickets (company_id, id);
--bun:split
-- A requester's search window: their newest tickets by id.
CREATE INDEX tickets_requester_id_idx ON tickets (requester_id, id);
