-- Decomposed accents (NFD: "e" then U+0301, as macOS mail clients send)
-- were not found: [[:punct:]] matches a combining mark, so "manutenção"
-- in NFD was indexed as "manutenc", "a", "o". Every text is composed
-- (NFC) before it is split, as the query is (store.ParseSearch), so both
-- forms index the same words. normalize() needs a UTF8 database, which
-- the Portuguese configuration assumes already.
CREATE OR REPLACE FUNCTION ticket_search_doc(subject text, body text) RETURNS tsvector
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT
    setweight(to_tsvector('sd_portuguese', regexp_replace(normalize(left(coalesce($1, ''), 100000), NFC), '[[:punct:]]+', ' ', 'g')), 'A') ||
    setweight(to_tsvector('sd_portuguese', regexp_replace(normalize(left(coalesce($2, ''), 100000), NFC), '[[:punct:]]+', ' ', 'g')), 'B') $$;
--bun:split
-- Units already indexed from decomposed text are indexed again; composed
-- text gave the same document before.
UPDATE ticket_search s SET doc = ticket_search_doc(t.subject, t.description)
FROM tickets t
WHERE s.unit_id = t.id * 4 + 1 AND (t.subject IS NOT NFC NORMALIZED OR t.description IS NOT NFC NORMALIZED);
--bun:split
UPDATE ticket_search s SET doc = ticket_search_doc('', c.body_text)
FROM ticket_comments c
WHERE s.unit_id = c.id * 4 + 2 AND c.body_text IS NOT NFC NORMALIZED;
--bun:split
UPDATE ticket_search s SET doc = ticket_search_doc('', a.filename)
FROM attachments a
WHERE s.unit_id = a.id * 4 + 3 AND a.filename IS NOT NFC NORMALIZED;
