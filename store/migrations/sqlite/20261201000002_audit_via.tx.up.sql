-- Who acted, through which door: every audit row names its actor (the
-- system actor by name for automatic changes) and the channel.
ALTER TABLE audit_log ADD COLUMN via TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE audit_log ADD COLUMN via_detail TEXT NOT NULL DEFAULT '';
--bun:split
UPDATE audit_log SET actor_email = 'system' WHERE actor_email = '';
--bun:split
CREATE INDEX audit_log_created_idx ON audit_log (created_at, id);
