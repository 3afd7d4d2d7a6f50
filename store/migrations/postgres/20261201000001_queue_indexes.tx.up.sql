-- Indexes for the staff queue and for foreign keys that had none.
--
-- The staff queue lists tickets most recently updated first, paged by
-- the key (updated_at, id): each index ends in "updated_at DESC, id DESC"
-- so both the order and the keyset bound come from the index, with no sort.
CREATE INDEX tickets_updated_idx ON tickets (updated_at DESC, id DESC);
--bun:split
CREATE INDEX tickets_assignee_updated_idx ON tickets (assignee_id, updated_at DESC, id DESC);
--bun:split
CREATE INDEX tickets_status_updated_idx ON tickets (status, updated_at DESC, id DESC);
--bun:split
-- Superseded by tickets_status_updated_idx (same leading columns).
DROP INDEX tickets_status_idx;
--bun:split
-- The client's view: one company's tickets, with or without a status.
-- The old (company_id, status, updated_at) left ties on updated_at to a
-- sort on PostgreSQL.
CREATE INDEX tickets_company_updated_idx ON tickets (company_id, updated_at DESC, id DESC);
--bun:split
CREATE INDEX tickets_company_status_updated_idx ON tickets (company_id, status, updated_at DESC, id DESC);
--bun:split
DROP INDEX tickets_company_status_idx;
--bun:split
-- Foreign keys without an index: deleting (or SET NULL on) the parent
-- row, and joins from the parent, would scan the whole child table.
CREATE INDEX attachments_comment_idx ON attachments (comment_id);
--bun:split
CREATE INDEX tickets_category_idx ON tickets (category_id);
--bun:split
CREATE INDEX tickets_subcategory_idx ON tickets (subcategory_id);
--bun:split
CREATE INDEX tickets_linked_ticket_idx ON tickets (linked_ticket_id);
--bun:split
CREATE INDEX mail_outbox_ticket_idx ON mail_outbox (ticket_id);
--bun:split
CREATE INDEX mail_messages_comment_idx ON mail_messages (comment_id);
--bun:split
CREATE INDEX ticket_comments_author_idx ON ticket_comments (author_id);
--bun:split
CREATE INDEX audit_log_company_idx ON audit_log (company_id, created_at);
--bun:split
-- Deleting a ticket (retention) cascades into these two.
CREATE INDEX problem_tickets_ticket_idx ON problem_tickets (ticket_id);
--bun:split
CREATE INDEX notifications_ticket_idx ON notifications (ticket_id);
