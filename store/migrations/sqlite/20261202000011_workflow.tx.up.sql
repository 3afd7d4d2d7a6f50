-- The ticket workflow of the portal: sharing within a company, ticket
-- links (related, follow-up, merged), the close evaluation, reply drafts,
-- reactions and canned responses.

-- share_tickets replaces isolated (kept, no longer read): colleagues see
-- each other's tickets only when it is on. New companies start not
-- sharing; existing ones keep what they had.
ALTER TABLE companies ADD COLUMN share_tickets BOOLEAN NOT NULL DEFAULT FALSE;
--bun:split
UPDATE companies SET share_tickets = NOT isolated;
--bun:split
-- Links between tickets. A pair is stored once per kind, as created (a
-- follow-up points from the new ticket to the old one; merged from the
-- merged ticket to the one it went into).
CREATE TABLE ticket_links (
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    other_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('related', 'follow_up', 'merged')),
    created_at TIMESTAMP NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (ticket_id, other_id, kind),
    CHECK (ticket_id <> other_id)
);
--bun:split
CREATE INDEX ticket_links_other_idx ON ticket_links (other_id);
--bun:split
INSERT INTO ticket_links (ticket_id, other_id, kind, created_at)
SELECT id, linked_ticket_id, 'follow_up', created_at FROM tickets
WHERE linked_ticket_id IS NOT NULL AND linked_ticket_id <> id;
--bun:split
-- The close evaluation (internal: never shown or mailed to the requester)
-- and the solution given when resolving.
ALTER TABLE tickets ADD COLUMN close_reason TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE tickets ADD COLUMN classification TEXT NOT NULL DEFAULT ''
    CHECK (classification IN ('', 'tecnico', 'sistemico', 'usuario', 'solicitacao', 'melhoria', 'outro'));
--bun:split
ALTER TABLE tickets ADD COLUMN solution TEXT NOT NULL DEFAULT '';
--bun:split
-- One reply draft per user and ticket, kept on the server.
CREATE TABLE ticket_drafts (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    body TEXT NOT NULL DEFAULT '',
    internal BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, ticket_id)
);
--bun:split
CREATE INDEX ticket_drafts_ticket_idx ON ticket_drafts (ticket_id);
--bun:split
CREATE TABLE comment_reactions (
    comment_id INTEGER NOT NULL REFERENCES ticket_comments (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (comment_id, user_id, emoji)
);
--bun:split
-- Canned responses: owner NULL = shared with all staff; company NULL =
-- for every company.
CREATE TABLE canned_responses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    owner_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    company_id BIGINT REFERENCES companies (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX canned_responses_owner_idx ON canned_responses (owner_id, name);
