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
CREATE INDEX events_created_at_idx ON events (created_at);

-- The notification centre: one row per person told about a change.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ticket_id BIGINT REFERENCES tickets (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    ticket_number BIGINT NOT NULL DEFAULT 0,
    subject TEXT NOT NULL DEFAULT '',
    actor_name TEXT NOT NULL DEFAULT '',
    link TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;
CREATE INDEX notifications_ticket_idx ON notifications (ticket_id);
