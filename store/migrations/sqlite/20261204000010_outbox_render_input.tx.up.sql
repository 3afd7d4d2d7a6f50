-- A mail queued by a ticket change is rendered and signed after the
-- change commits (mailbox/outbound): the transaction writes what it is
-- composed of (JSON: recipient, wording, threading, the template override
-- it saw) here and leaves raw empty; the sender renders it, stores raw
-- and clears this column. It holds names and comment text: LGPD erasure
-- scrubs it like raw (store/lgpd_erase.go).
ALTER TABLE mail_outbox ADD COLUMN render_input TEXT NOT NULL DEFAULT '';
