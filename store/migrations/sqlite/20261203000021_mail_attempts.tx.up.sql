-- Failed attempts to place an inbound message, by content hash: a message
-- that fails the same way mail.max_attempts times is quarantined instead
-- of being retried forever (a poison message must not block its channel).
-- Temporary database errors are not counted. The row goes once the
-- message is placed or quarantined.
CREATE TABLE mail_attempts (
    content_hash TEXT PRIMARY KEY,
    attempts INTEGER NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    first_at TIMESTAMP NOT NULL,
    last_at TIMESTAMP NOT NULL
);
