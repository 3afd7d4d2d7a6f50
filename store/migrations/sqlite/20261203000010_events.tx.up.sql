-- The event log behind the live pages: every change someone should see,
-- written in the change's transaction. Its id is the SSE event id; appends
-- are serialised by the single writer, so
-- ids commit in order and a reader never passes an id still in flight.
-- Who may read a row is decided at delivery from ticket_id, company_id,
-- user_id (a notification: that user only) and internal (staff only).
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    ticket_id BIGINT,
    company_id BIGINT,
    user_id BIGINT,
    internal BOOLEAN NOT NULL DEFAULT FALSE,
    data TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX events_created_at_idx ON events (created_at);
--bun:split

-- The notification centre uses the first migration's notifications
-- table (message holds the ticket's subject, which LGPD erasure scrubs);
-- the number makes the link without a join, and the bell lists a user's
-- latest by id.
ALTER TABLE notifications ADD COLUMN ticket_number BIGINT NOT NULL DEFAULT 0;
--bun:split
CREATE INDEX notifications_user_latest_idx ON notifications (user_id, id);
