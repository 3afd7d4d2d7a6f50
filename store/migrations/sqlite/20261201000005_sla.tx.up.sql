-- SLA plans on business calendars, with pause, escalation and breach
-- records; the job lease that keeps cron and serve from running a job
-- twice at once.
CREATE TABLE sla_calendars (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    time_zone TEXT NOT NULL DEFAULT 'America/Sao_Paulo',
    week TEXT NOT NULL DEFAULT '{}',
    brazil_national BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
--bun:split
CREATE UNIQUE INDEX sla_calendars_name_key ON sla_calendars (name_key);
--bun:split
CREATE TABLE sla_holidays (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    calendar_id INTEGER NOT NULL REFERENCES sla_calendars (id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    yearly BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);
--bun:split
CREATE UNIQUE INDEX sla_holidays_day_key ON sla_holidays (calendar_id, day);
--bun:split
ALTER TABLE sla_plans ADD COLUMN company_id BIGINT REFERENCES companies (id) ON DELETE CASCADE;
--bun:split
ALTER TABLE sla_plans ADD COLUMN contract_id BIGINT REFERENCES contracts (id);
--bun:split
ALTER TABLE sla_plans ADD COLUMN category_id BIGINT REFERENCES categories (id);
--bun:split
ALTER TABLE sla_plans ADD COLUMN calendar_id BIGINT REFERENCES sla_calendars (id);
--bun:split
ALTER TABLE sla_plans ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;
--bun:split
ALTER TABLE sla_plans ADD COLUMN warn_percent INTEGER NOT NULL DEFAULT 80;
--bun:split
ALTER TABLE sla_plans ADD COLUMN breach_notify_supervisors BOOLEAN NOT NULL DEFAULT TRUE;
--bun:split
ALTER TABLE sla_plans ADD COLUMN breach_queue_id BIGINT REFERENCES queues (id) ON DELETE SET NULL;
--bun:split
ALTER TABLE sla_plans ADD COLUMN updated_at TIMESTAMP;
--bun:split
CREATE INDEX sla_plans_company_idx ON sla_plans (company_id);
--bun:split
ALTER TABLE tickets ADD COLUMN sla_paused_at TIMESTAMP;
--bun:split
ALTER TABLE tickets ADD COLUMN sla_pause_reason TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE tickets ADD COLUMN sla_paused_seconds BIGINT NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE tickets ADD COLUMN first_response_warn_at TIMESTAMP;
--bun:split
ALTER TABLE tickets ADD COLUMN resolution_warn_at TIMESTAMP;
--bun:split
ALTER TABLE tickets ADD COLUMN first_response_warned_at TIMESTAMP;
--bun:split
ALTER TABLE tickets ADD COLUMN resolution_warned_at TIMESTAMP;
--bun:split
ALTER TABLE tickets ADD COLUMN first_response_breached_at TIMESTAMP;
--bun:split
ALTER TABLE tickets ADD COLUMN resolution_breached_at TIMESTAMP;
--bun:split
-- sla check reads only the tickets whose warning time has come and whose
-- breach is not recorded yet.
CREATE INDEX tickets_sla_first_response_idx ON tickets (first_response_warn_at) WHERE first_response_at IS NULL AND first_response_breached_at IS NULL;
--bun:split
CREATE INDEX tickets_sla_resolution_idx ON tickets (resolution_warn_at) WHERE resolved_at IS NULL AND closed_at IS NULL AND resolution_breached_at IS NULL;
--bun:split
CREATE TABLE sla_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('first_response_warning', 'first_response_breach', 'resolution_warning', 'resolution_breach')),
    due_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
--bun:split
CREATE UNIQUE INDEX sla_events_key ON sla_events (ticket_id, kind, due_at);
--bun:split
CREATE TABLE job_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    acquired_at TIMESTAMP NOT NULL
);
