-- One Message-ID may belong to several messages (a sender that reuses
-- one for different mail): each is processed, so each maps its ticket.
ALTER TABLE mail_message_ids DROP CONSTRAINT mail_message_ids_pkey;
--bun:split
ALTER TABLE mail_message_ids ADD PRIMARY KEY (message_id, ticket_id);
