-- What sender authentication (DKIM, SPF, DMARC alignment) found for each
-- inbound message: a one-word verdict (pass, fail, none, temperror; '' for
-- mail from before the check existed) and the Authentication-Results-style
-- summary, shown next to mail-originated comments.
ALTER TABLE mail_messages ADD COLUMN auth_verdict TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE mail_messages ADD COLUMN auth_summary TEXT NOT NULL DEFAULT '';
--bun:split
-- The global acknowledgement rate counts acknowledgements of the last hour.
CREATE INDEX mail_outbox_auto_created_idx ON mail_outbox (auto_kind, created_at);
