-- ticket_search_put was a LANGUAGE sql function. PostgreSQL 15 keeps no
-- plan for the statement inside one: the search triggers call it from a
-- plpgsql simple expression, whose state lasts one transaction, so every
-- message parsed, analysed and planned the INSERT … ON CONFLICT again for
-- its ticket and for its comment (8% of the server's CPU per
-- message). The same statement in plpgsql is planned once per connection
-- and then runs from its cached plan. Same arguments, same effect.
CREATE OR REPLACE FUNCTION ticket_search_put(unit BIGINT, ticket BIGINT, is_internal BOOLEAN, d tsvector) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO ticket_search (unit_id, ticket_id, company_id, internal, doc)
    SELECT $1, $2, t.company_id, $3, $4 FROM tickets t WHERE t.id = $2
    ON CONFLICT (unit_id) DO UPDATE SET ticket_id = EXCLUDED.ticket_id, company_id = EXCLUDED.company_id,
        internal = EXCLUDED.internal, doc = EXCLUDED.doc;
END $$;
--bun:split
-- The raw message is gzipped before it is stored (mailbox/intake): pglz
-- compressing it again found nothing to gain and cost the insert its
-- time. EXTERNAL keeps the out-of-line storage and skips the attempt;
-- values already stored are read as before.
ALTER TABLE mail_messages ALTER COLUMN raw_gz SET STORAGE EXTERNAL;
--bun:split
ALTER TABLE mail_quarantine ALTER COLUMN raw_gz SET STORAGE EXTERNAL;
