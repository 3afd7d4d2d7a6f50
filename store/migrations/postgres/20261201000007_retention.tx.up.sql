-- Retention: a per-company period for closed tickets (NULL: the configured
-- default, 0: keep forever) and the mark of a ticket whose personal data
-- a retention run removed, which makes runs idempotent and resumable.
ALTER TABLE companies ADD COLUMN retention_days INTEGER CHECK (retention_days IS NULL OR retention_days >= 0);
--bun:split
ALTER TABLE tickets ADD COLUMN retained_at TIMESTAMPTZ;
--bun:split
-- retention run walks each company's closed, not yet retained tickets in
-- id order.
CREATE INDEX tickets_retention_idx ON tickets (company_id, id) WHERE status = 'closed' AND retained_at IS NULL;
--bun:split
-- The rows of a ticket's mails, outbox copies and notifications, found by
-- ticket (or comment) in each batch.
CREATE INDEX mail_messages_retention_comment_idx ON mail_messages (comment_id);
--bun:split
CREATE INDEX mail_outbox_retention_ticket_idx ON mail_outbox (ticket_id);
--bun:split
CREATE INDEX notifications_retention_ticket_idx ON notifications (ticket_id);
--bun:split
CREATE INDEX mail_outbox_retention_sent_idx ON mail_outbox (sent_at) WHERE status = 'sent';
