-- Indexes that another one already covers: every row written paid for
-- both (a ticket on PostgreSQL was 22 index entries, a mail row 7).
-- tickets_requester_idx (requester_id) is the prefix of
-- tickets_requester_id_idx (requester_id, id), which serves every lookup
-- it did (a requester's tickets, the users foreign key). The retention
-- indexes of mail_messages (comment_id), mail_outbox and notifications
-- (ticket_id) have the columns of mail_messages_comment_idx,
-- mail_outbox_ticket_idx and notifications_ticket_idx.
DROP INDEX IF EXISTS tickets_requester_idx;
--bun:split
DROP INDEX IF EXISTS mail_messages_retention_comment_idx;
--bun:split
DROP INDEX IF EXISTS mail_outbox_retention_ticket_idx;
--bun:split
DROP INDEX IF EXISTS notifications_retention_ticket_idx;
