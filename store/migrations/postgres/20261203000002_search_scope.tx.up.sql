-- The search index learns each unit's company, so a requester's search
-- reads its company's units of the newest tickets through a btree
-- (company_id, ticket_id) instead of the GIN index's every match in every
-- company (a common word's posting list is a tenth of the table, whatever
-- the window). The planner still takes the GIN index where the words are
-- rare. The table is built again with the column (an UPDATE of every row
-- would write each one twice, and every index entry with it).
CREATE TABLE ticket_search_scoped (
    unit_id BIGINT NOT NULL,
    ticket_id BIGINT NOT NULL,
    company_id BIGINT NOT NULL,
    internal BOOLEAN NOT NULL DEFAULT FALSE,
    doc tsvector NOT NULL
);
--bun:split
INSERT INTO ticket_search_scoped (unit_id, ticket_id, company_id, internal, doc)
SELECT s.unit_id, s.ticket_id, t.company_id, s.internal, s.doc
FROM ticket_search s JOIN tickets t ON t.id = s.ticket_id
-- In ticket order, as new units arrive: a window of the newest tickets
-- is then the table's last pages, not a page of every stretch of it.
ORDER BY s.ticket_id, s.unit_id;
--bun:split
DROP TABLE ticket_search;
--bun:split
ALTER TABLE ticket_search_scoped RENAME TO ticket_search;
--bun:split
ALTER TABLE ticket_search ADD CONSTRAINT ticket_search_pkey PRIMARY KEY (unit_id);
--bun:split
CREATE INDEX ticket_search_doc_idx ON ticket_search USING GIN (doc);
--bun:split
CREATE INDEX ticket_search_ticket_idx ON ticket_search (ticket_id, company_id);
--bun:split
CREATE INDEX ticket_search_company_idx ON ticket_search (company_id, ticket_id, unit_id);
--bun:split
-- Every write path goes through ticket_search_put: it reads the unit's
-- company from its ticket (the AFTER triggers see the ticket written).
CREATE OR REPLACE FUNCTION ticket_search_put(unit BIGINT, ticket BIGINT, is_internal BOOLEAN, d tsvector) RETURNS void
LANGUAGE sql
AS $$ INSERT INTO ticket_search (unit_id, ticket_id, company_id, internal, doc)
    SELECT unit, ticket, t.company_id, is_internal, d FROM tickets t WHERE t.id = ticket
    ON CONFLICT (unit_id) DO UPDATE SET ticket_id = EXCLUDED.ticket_id, company_id = EXCLUDED.company_id,
        internal = EXCLUDED.internal, doc = EXCLUDED.doc $$;
--bun:split
-- A ticket moved to another company takes its units along.
CREATE FUNCTION ticket_search_ticket_company() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ticket_search SET company_id = NEW.company_id WHERE ticket_id = NEW.id AND company_id <> NEW.company_id;
    RETURN NULL;
END $$;
--bun:split
CREATE TRIGGER ticket_search_ticket_company AFTER UPDATE OF company_id ON tickets
FOR EACH ROW WHEN (OLD.company_id IS DISTINCT FROM NEW.company_id)
EXECUTE FUNCTION ticket_search_ticket_company();
--bun:split
ANALYZE ticket_search;
--bun:split
-- A company's search window: its newest tickets by id.
CREATE INDEX tickets_company_id_idx ON tickets (company_id, id);
--bun:split
-- A requester's search window: their newest tickets by id.
CREATE INDEX tickets_requester_id_idx ON tickets (requester_id, id);
