-- Initial schema: the data model of the whole product.
-- Times are stored in UTC. Email addresses are stored lower-cased.

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
--bun:split
CREATE TABLE companies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    accept_any_domain BOOLEAN NOT NULL DEFAULT FALSE,
    isolated BOOLEAN NOT NULL DEFAULT FALSE,
    allowed_ips TEXT NOT NULL DEFAULT '[]',
    brand_primary TEXT NOT NULL DEFAULT '',
    brand_primary_dark TEXT NOT NULL DEFAULT '',
    brand_primary_light TEXT NOT NULL DEFAULT '',
    logo BLOB,
    logo_type TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
--bun:split
CREATE UNIQUE INDEX companies_name_key ON companies (name_key);
--bun:split
CREATE TABLE company_domains (
    domain TEXT PRIMARY KEY,
    company_id INTEGER NOT NULL REFERENCES companies (id) ON DELETE CASCADE
);
--bun:split
CREATE INDEX company_domains_company_idx ON company_domains (company_id);
--bun:split
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL CHECK (role IN ('client', 'tech', 'supervisor', 'admin')),
    company_id BIGINT REFERENCES companies (id) ON DELETE RESTRICT,
    password_hash TEXT NOT NULL DEFAULT '',
    confirmed_at TIMESTAMP,
    totp_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    totp_secret TEXT NOT NULL DEFAULT '',
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    lgpd_consent_at TIMESTAMP,
    lgpd_revision_id BIGINT,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    language TEXT NOT NULL DEFAULT '',
    notify_prefs TEXT NOT NULL DEFAULT '{}',
    last_login_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
--bun:split
CREATE UNIQUE INDEX users_email_key ON users (email);
--bun:split
CREATE INDEX users_company_idx ON users (company_id);
--bun:split
CREATE TABLE categories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    parent_id BIGINT REFERENCES categories (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
--bun:split
CREATE UNIQUE INDEX categories_name_key ON categories (COALESCE(parent_id, 0), name_key);
--bun:split
CREATE TABLE queues (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
--bun:split
CREATE UNIQUE INDEX queues_name_key ON queues (name_key);
--bun:split
CREATE TABLE queue_members (
    queue_id INTEGER NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (queue_id, user_id)
);
--bun:split
CREATE TABLE sla_plans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    priority TEXT NOT NULL DEFAULT '',
    first_response_minutes INTEGER NOT NULL DEFAULT 0,
    resolution_minutes INTEGER NOT NULL DEFAULT 0,
    business_hours TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
--bun:split
CREATE UNIQUE INDEX sla_plans_name_key ON sla_plans (name_key);
--bun:split
CREATE TABLE assets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id INTEGER NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    tag TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT '',
    serial TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX assets_company_idx ON assets (company_id);
--bun:split
CREATE TABLE contracts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id INTEGER NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    sla_plan_id BIGINT REFERENCES sla_plans (id) ON DELETE SET NULL,
    starts_on TIMESTAMP,
    ends_on TIMESTAMP,
    hours_included INTEGER NOT NULL DEFAULT 0,
    notes TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX contracts_company_idx ON contracts (company_id);
--bun:split
CREATE TABLE tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number BIGINT NOT NULL,
    company_id INTEGER NOT NULL REFERENCES companies (id) ON DELETE RESTRICT,
    requester_id INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    assignee_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    queue_id BIGINT REFERENCES queues (id) ON DELETE SET NULL,
    category_id BIGINT REFERENCES categories (id) ON DELETE SET NULL,
    subcategory_id BIGINT REFERENCES categories (id) ON DELETE SET NULL,
    asset_id BIGINT REFERENCES assets (id) ON DELETE SET NULL,
    contract_id BIGINT REFERENCES contracts (id) ON DELETE SET NULL,
    sla_plan_id BIGINT REFERENCES sla_plans (id) ON DELETE SET NULL,
    linked_ticket_id BIGINT REFERENCES tickets (id) ON DELETE SET NULL,
    priority TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    status TEXT NOT NULL CHECK (status IN ('new', 'open', 'pending', 'resolved', 'closed', 'reopened')),
    subject TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    description_html TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL CHECK (source IN ('web', 'email', 'cli')),
    message_id TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    first_response_at TIMESTAMP,
    resolved_at TIMESTAMP,
    closed_at TIMESTAMP,
    first_response_due TIMESTAMP,
    resolution_due TIMESTAMP,
    sla_breached_at TIMESTAMP,
    tech_evaluation TEXT NOT NULL DEFAULT '',
    rating INTEGER CHECK (rating IS NULL OR (rating BETWEEN 1 AND 5)),
    rating_comment TEXT NOT NULL DEFAULT '',
    rated_at TIMESTAMP,
    reopen_count INTEGER NOT NULL DEFAULT 0
);
--bun:split
CREATE UNIQUE INDEX tickets_number_key ON tickets (number);
--bun:split
CREATE INDEX tickets_company_status_idx ON tickets (company_id, status, updated_at);
--bun:split
CREATE INDEX tickets_status_idx ON tickets (status, updated_at);
--bun:split
CREATE INDEX tickets_assignee_idx ON tickets (assignee_id, status);
--bun:split
CREATE INDEX tickets_requester_idx ON tickets (requester_id);
--bun:split
CREATE TABLE ticket_participants (
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at TIMESTAMP NOT NULL,
    PRIMARY KEY (ticket_id, user_id)
);
--bun:split
CREATE INDEX ticket_participants_user_idx ON ticket_participants (user_id);
--bun:split
CREATE TABLE ticket_comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    author_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    body_text TEXT NOT NULL DEFAULT '',
    body_html TEXT NOT NULL DEFAULT '',
    internal BOOLEAN NOT NULL DEFAULT FALSE,
    source TEXT NOT NULL,
    message_id TEXT NOT NULL DEFAULT '',
    mail_id BIGINT,
    created_at TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX ticket_comments_ticket_idx ON ticket_comments (ticket_id, created_at);
--bun:split
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    data BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL
);
--bun:split
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    comment_id BIGINT REFERENCES ticket_comments (id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content_id TEXT NOT NULL DEFAULT '',
    inline BOOLEAN NOT NULL DEFAULT FALSE,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES blobs (sha256) ON DELETE RESTRICT,
    uploaded_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX attachments_ticket_idx ON attachments (ticket_id);
--bun:split
CREATE INDEX attachments_sha_idx ON attachments (sha256);
--bun:split
CREATE TABLE problems (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open',
    root_cause TEXT NOT NULL DEFAULT '',
    workaround TEXT NOT NULL DEFAULT '',
    owner_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    resolved_at TIMESTAMP
);
--bun:split
CREATE TABLE problem_tickets (
    problem_id INTEGER NOT NULL REFERENCES problems (id) ON DELETE CASCADE,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    PRIMARY KEY (problem_id, ticket_id)
);
--bun:split
CREATE TABLE change_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'draft',
    risk TEXT NOT NULL DEFAULT 'low',
    requested_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    approved_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    problem_id BIGINT REFERENCES problems (id) ON DELETE SET NULL,
    planned_start TIMESTAMP,
    planned_end TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
--bun:split
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ticket_id BIGINT REFERENCES tickets (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    read_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX notifications_user_idx ON notifications (user_id, read_at);
--bun:split
CREATE TABLE email_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id BIGINT REFERENCES companies (id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    language TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_html TEXT NOT NULL,
    body_text TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
--bun:split
CREATE UNIQUE INDEX email_templates_key ON email_templates (COALESCE(company_id, 0), event, language);
--bun:split
CREATE TABLE lgpd_revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    published_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
--bun:split
CREATE UNIQUE INDEX lgpd_revisions_version_key ON lgpd_revisions (version);
--bun:split
CREATE TABLE lgpd_consents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    revision_id INTEGER NOT NULL REFERENCES lgpd_revisions (id) ON DELETE RESTRICT,
    ip TEXT NOT NULL DEFAULT '',
    consented_at TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX lgpd_consents_user_idx ON lgpd_consents (user_id);
--bun:split
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id BIGINT,
    actor_email TEXT NOT NULL DEFAULT '',
    company_id BIGINT,
    entity TEXT NOT NULL,
    entity_id BIGINT NOT NULL,
    action TEXT NOT NULL,
    before TEXT NOT NULL DEFAULT '',
    after TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id, created_at);
--bun:split
CREATE TABLE kb_articles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id BIGINT REFERENCES companies (id) ON DELETE CASCADE,
    category_id BIGINT REFERENCES categories (id) ON DELETE SET NULL,
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    body_html TEXT NOT NULL DEFAULT '',
    published BOOLEAN NOT NULL DEFAULT FALSE,
    author_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    views BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
--bun:split
CREATE UNIQUE INDEX kb_articles_slug_key ON kb_articles (slug);
--bun:split
CREATE TABLE chat_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id BIGINT REFERENCES tickets (id) ON DELETE CASCADE,
    company_id BIGINT REFERENCES companies (id) ON DELETE CASCADE,
    sender_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX chat_messages_ticket_idx ON chat_messages (ticket_id, created_at);
--bun:split
CREATE TABLE game_scores (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    game TEXT NOT NULL CHECK (game IN ('snake', 'sudoku')),
    score BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX game_scores_game_idx ON game_scores (game, score);
--bun:split
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX sessions_user_idx ON sessions (user_id);
--bun:split
CREATE TABLE used_tokens (
    token_hash TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    used_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
--bun:split
CREATE TABLE mail_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL DEFAULT '',
    content_hash TEXT NOT NULL,
    source TEXT NOT NULL,
    mail_from TEXT NOT NULL DEFAULT '',
    recipients TEXT NOT NULL DEFAULT '',
    remote_addr TEXT NOT NULL DEFAULT '',
    mailbox TEXT NOT NULL DEFAULT '',
    uid_validity BIGINT NOT NULL DEFAULT 0,
    uid BIGINT NOT NULL DEFAULT 0,
    from_addr TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL DEFAULT '',
    date_header TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    ticket_id BIGINT REFERENCES tickets (id) ON DELETE SET NULL,
    comment_id BIGINT REFERENCES ticket_comments (id) ON DELETE SET NULL,
    raw_size BIGINT NOT NULL,
    raw_gz BLOB NOT NULL,
    received_at TIMESTAMP NOT NULL
);
--bun:split
CREATE UNIQUE INDEX mail_messages_hash_key ON mail_messages (content_hash);
--bun:split
CREATE INDEX mail_messages_message_id_idx ON mail_messages (message_id);
--bun:split
CREATE INDEX mail_messages_from_idx ON mail_messages (from_addr, received_at);
--bun:split
CREATE INDEX mail_messages_ticket_idx ON mail_messages (ticket_id);
--bun:split
CREATE TABLE mail_message_ids (
    message_id TEXT PRIMARY KEY,
    original_id TEXT NOT NULL DEFAULT '',
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    recipient TEXT NOT NULL DEFAULT '',
    event TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX mail_message_ids_ticket_idx ON mail_message_ids (ticket_id);
--bun:split
CREATE TABLE mail_quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reason TEXT NOT NULL,
    source TEXT NOT NULL,
    envelope TEXT NOT NULL DEFAULT '{}',
    message_id TEXT NOT NULL DEFAULT '',
    content_hash TEXT NOT NULL,
    from_addr TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL DEFAULT '',
    raw_size BIGINT NOT NULL,
    raw_gz BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL,
    released_at TIMESTAMP
);
--bun:split
CREATE INDEX mail_quarantine_created_idx ON mail_quarantine (created_at);
--bun:split
CREATE INDEX mail_quarantine_hash_idx ON mail_quarantine (content_hash);
--bun:split
CREATE TABLE mail_addresses (
    email TEXT PRIMARY KEY,
    bouncing_since TIMESTAMP,
    bounce_count INTEGER NOT NULL DEFAULT 0,
    last_bounce TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMP NOT NULL
);
--bun:split
CREATE TABLE mail_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id BIGINT REFERENCES tickets (id) ON DELETE SET NULL,
    event TEXT NOT NULL DEFAULT '',
    auto_kind TEXT NOT NULL DEFAULT '',
    mail_from TEXT NOT NULL,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    message_id TEXT NOT NULL,
    raw BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP,
    claim_token TEXT NOT NULL DEFAULT '',
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
--bun:split
CREATE INDEX mail_outbox_due_idx ON mail_outbox (status, next_attempt_at);
--bun:split
CREATE INDEX mail_outbox_recipients_idx ON mail_outbox (recipients, created_at);
--bun:split
CREATE TABLE imap_cursors (
    mailbox TEXT PRIMARY KEY,
    uid_validity BIGINT NOT NULL,
    last_uid BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
