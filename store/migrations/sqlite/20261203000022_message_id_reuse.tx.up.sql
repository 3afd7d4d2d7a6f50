-- One Message-ID may belong to several messages (a sender that reuses
-- one for different mail): each is processed, so each maps its ticket.
-- SQLite cannot change a primary key in place: the table is rebuilt.
CREATE TABLE mail_message_ids_new (
    message_id TEXT NOT NULL,
    original_id TEXT NOT NULL DEFAULT '',
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    recipient TEXT NOT NULL DEFAULT '',
    event TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (message_id, ticket_id)
);
--bun:split
INSERT INTO mail_message_ids_new (message_id, original_id, ticket_id, direction, recipient, event, created_at)
SELECT message_id, original_id, ticket_id, direction, recipient, event, created_at FROM mail_message_ids;
--bun:split
DROP TABLE mail_message_ids;
--bun:split
ALTER TABLE mail_message_ids_new RENAME TO mail_message_ids;
--bun:split
CREATE INDEX mail_message_ids_ticket_idx ON mail_message_ids (ticket_id);
