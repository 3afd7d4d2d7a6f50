-- Who is on a ticket's mail thread: every To/Cc address of a message we
-- sent on the ticket (sent_to), of an inbound message placed on it
-- (inbound_cc), and the sender of a reply to a message that was addressed
-- to them (addressed). A reply by reply token or References from one of
-- these addresses joins the ticket (ticketing.OnThread); anyone else opens
-- a new ticket linked to it. One row per ticket and address, the first
-- time it was seen; the primary key is the lookup.
CREATE TABLE ticket_thread_addresses (
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    how TEXT NOT NULL CHECK (how IN ('sent_to', 'inbound_cc', 'addressed')),
    message_id TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (ticket_id, address)
);
--bun:split
-- LGPD erasure and export find a person's rows by address.
CREATE INDEX ticket_thread_addresses_address_idx ON ticket_thread_addresses (address);
--bun:split
-- How a participant came in: '' (brought in by staff, or a colleague
-- Cc'd), or 'cc' (someone from outside the requester's company who
-- answered the thread: sees that ticket's public conversation only).
ALTER TABLE ticket_participants ADD COLUMN via TEXT NOT NULL DEFAULT '';
