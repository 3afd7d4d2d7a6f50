-- The staff queue's sort orders, each read from an index in key order and
-- paged by keyset: created (newest first), priority (one range per
-- priority, then most recently updated), due (resolution due soonest
-- first; tickets without a due time after them, most recently updated).
-- "updated" already has tickets_updated_idx.
CREATE INDEX tickets_created_idx ON tickets (created_at DESC, id DESC);
--bun:split
-- The unassigned tab by creation: without it SQLite reads the unassigned
-- tickets through tickets_assignee_updated_idx and sorts them.
CREATE INDEX tickets_assignee_created_idx ON tickets (assignee_id, created_at DESC, id DESC);
--bun:split
CREATE INDEX tickets_priority_updated_idx ON tickets (priority, updated_at DESC, id DESC);
--bun:split
CREATE INDEX tickets_due_idx ON tickets (resolution_due, id);
--bun:split
-- Saved views: a queue filter (its query string) by name, personal
-- (owner_id) or shared with all staff (owner_id NULL).
CREATE TABLE saved_views (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    owner_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX saved_views_owner_idx ON saved_views (owner_id, name);
