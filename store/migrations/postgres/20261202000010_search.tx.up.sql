-- Full-text search over tickets: one row per searchable unit (a ticket's
-- subject and description, one comment, one attachment's file name) with
-- the internal flag a reader must be allowed to see, and its tsvector
-- (subject weighted A, the rest B). unit_id encodes the unit: source id *
-- 4 + kind (1 ticket, 2 comment, 3 attachment). Triggers keep it in sync,
-- so no write path (retention, erasure, a merge moving comments) can leave
-- searchable text behind.

-- unaccent lives in public, where every schema (and the per-test schemas)
-- finds it. Two schemas migrating at once would race on CREATE EXTENSION
-- (the migrator's lock is per schema): this lock, held to the end of the
-- transaction, serialises them.
SELECT pg_advisory_xact_lock(7256813450917310010);
--bun:split
CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;
--bun:split
-- Portuguese with accent folding inside the configuration itself: the
-- same folding then applies to the documents, to the queries and to
-- ts_headline, which highlights "impressão" for a query "impressao".
CREATE TEXT SEARCH CONFIGURATION sd_portuguese (COPY = pg_catalog.portuguese);
--bun:split
ALTER TEXT SEARCH CONFIGURATION sd_portuguese
    ALTER MAPPING FOR hword, hword_part, word WITH public.unaccent, portuguese_stem;
--bun:split
-- Punctuation splits words, as SQLite's unicode61 does: a file name
-- "relatorio_impressao.pdf" or "e-mail" is found by its parts. A
-- tsvector is limited to 1 MB, so very long texts are indexed by their
-- first 100,000 characters.
CREATE FUNCTION ticket_search_doc(subject text, body text) RETURNS tsvector
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT
    setweight(to_tsvector('sd_portuguese', regexp_replace(left(coalesce($1, ''), 100000), '[[:punct:]]+', ' ', 'g')), 'A') ||
    setweight(to_tsvector('sd_portuguese', regexp_replace(left(coalesce($2, ''), 100000), '[[:punct:]]+', ' ', 'g')), 'B') $$;
--bun:split
CREATE TABLE ticket_search (
    unit_id BIGINT PRIMARY KEY,
    ticket_id BIGINT NOT NULL,
    internal BOOLEAN NOT NULL DEFAULT FALSE,
    doc tsvector NOT NULL
);
--bun:split
CREATE INDEX ticket_search_doc_idx ON ticket_search USING GIN (doc);
--bun:split
CREATE INDEX ticket_search_ticket_idx ON ticket_search (ticket_id);
--bun:split
CREATE FUNCTION ticket_search_put(unit BIGINT, ticket BIGINT, is_internal BOOLEAN, d tsvector) RETURNS void
LANGUAGE sql
AS $$ INSERT INTO ticket_search (unit_id, ticket_id, internal, doc) VALUES (unit, ticket, is_internal, d)
    ON CONFLICT (unit_id) DO UPDATE SET ticket_id = EXCLUDED.ticket_id, internal = EXCLUDED.internal, doc = EXCLUDED.doc $$;
--bun:split
CREATE FUNCTION ticket_search_ticket() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        -- Comments and attachments go by their own triggers (the cascade fires them).
        DELETE FROM ticket_search WHERE unit_id = OLD.id * 4 + 1;
    ELSE
        PERFORM ticket_search_put(NEW.id * 4 + 1, NEW.id, FALSE, ticket_search_doc(NEW.subject, NEW.description));
    END IF;
    RETURN NULL;
END $$;
--bun:split
CREATE TRIGGER ticket_search_ticket_ins AFTER INSERT ON tickets
FOR EACH ROW EXECUTE FUNCTION ticket_search_ticket();
--bun:split
CREATE TRIGGER ticket_search_ticket_upd AFTER UPDATE OF subject, description ON tickets
FOR EACH ROW WHEN (OLD.subject IS DISTINCT FROM NEW.subject OR OLD.description IS DISTINCT FROM NEW.description)
EXECUTE FUNCTION ticket_search_ticket();
--bun:split
CREATE TRIGGER ticket_search_ticket_del AFTER DELETE ON tickets
FOR EACH ROW EXECUTE FUNCTION ticket_search_ticket();
--bun:split
CREATE FUNCTION ticket_search_comment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM ticket_search WHERE unit_id = OLD.id * 4 + 2;
        RETURN NULL;
    END IF;
    PERFORM ticket_search_put(NEW.id * 4 + 2, NEW.ticket_id, NEW.internal, ticket_search_doc('', NEW.body_text));
    IF TG_OP = 'UPDATE' THEN
        -- The attachments of a comment share its internal flag.
        UPDATE ticket_search s SET internal = NEW.internal
        FROM attachments a WHERE a.comment_id = NEW.id AND s.unit_id = a.id * 4 + 3 AND s.internal <> NEW.internal;
    END IF;
    RETURN NULL;
END $$;
--bun:split
CREATE TRIGGER ticket_search_comment_ins AFTER INSERT ON ticket_comments
FOR EACH ROW EXECUTE FUNCTION ticket_search_comment();
--bun:split
CREATE TRIGGER ticket_search_comment_upd AFTER UPDATE OF body_text, internal, ticket_id ON ticket_comments
FOR EACH ROW WHEN (OLD.body_text IS DISTINCT FROM NEW.body_text OR OLD.internal IS DISTINCT FROM NEW.internal
    OR OLD.ticket_id IS DISTINCT FROM NEW.ticket_id)
EXECUTE FUNCTION ticket_search_comment();
--bun:split
CREATE TRIGGER ticket_search_comment_del AFTER DELETE ON ticket_comments
FOR EACH ROW EXECUTE FUNCTION ticket_search_comment();
--bun:split
CREATE FUNCTION ticket_search_attachment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM ticket_search WHERE unit_id = OLD.id * 4 + 3;
    ELSE
        PERFORM ticket_search_put(NEW.id * 4 + 3, NEW.ticket_id,
            COALESCE((SELECT c.internal FROM ticket_comments c WHERE c.id = NEW.comment_id), FALSE),
            ticket_search_doc('', NEW.filename));
    END IF;
    RETURN NULL;
END $$;
--bun:split
CREATE TRIGGER ticket_search_attachment_ins AFTER INSERT ON attachments
FOR EACH ROW EXECUTE FUNCTION ticket_search_attachment();
--bun:split
CREATE TRIGGER ticket_search_attachment_upd AFTER UPDATE OF filename, ticket_id, comment_id ON attachments
FOR EACH ROW WHEN (OLD.filename IS DISTINCT FROM NEW.filename OR OLD.ticket_id IS DISTINCT FROM NEW.ticket_id
    OR OLD.comment_id IS DISTINCT FROM NEW.comment_id)
EXECUTE FUNCTION ticket_search_attachment();
--bun:split
CREATE TRIGGER ticket_search_attachment_del AFTER DELETE ON attachments
FOR EACH ROW EXECUTE FUNCTION ticket_search_attachment();
--bun:split
INSERT INTO ticket_search (unit_id, ticket_id, internal, doc)
SELECT id * 4 + 1, id, FALSE, ticket_search_doc(subject, description) FROM tickets;
--bun:split
INSERT INTO ticket_search (unit_id, ticket_id, internal, doc)
SELECT id * 4 + 2, ticket_id, internal, ticket_search_doc('', body_text) FROM ticket_comments;
--bun:split
INSERT INTO ticket_search (unit_id, ticket_id, internal, doc)
SELECT a.id * 4 + 3, a.ticket_id, COALESCE(c.internal, FALSE), ticket_search_doc('', a.filename)
FROM attachments a LEFT JOIN ticket_comments c ON c.id = a.comment_id;
