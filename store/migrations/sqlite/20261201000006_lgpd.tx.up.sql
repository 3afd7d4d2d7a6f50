-- LGPD: policy revisions per company (NULL = the global default), numbered
-- per company, draft → published → superseded; each consent names its
-- channel; data-subject requests with their legal due date.

ALTER TABLE lgpd_revisions ADD COLUMN company_id BIGINT REFERENCES companies (id) ON DELETE CASCADE;
--bun:split
ALTER TABLE lgpd_revisions ADD COLUMN status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'superseded'));
--bun:split
ALTER TABLE lgpd_revisions ADD COLUMN published_by BIGINT REFERENCES users (id) ON DELETE SET NULL;
--bun:split
ALTER TABLE lgpd_revisions ADD COLUMN body_html TEXT NOT NULL DEFAULT '';
--bun:split
-- Rows from before this migration: published ones stay published (the
-- latest), older published ones are superseded.
UPDATE lgpd_revisions SET status = 'published'
WHERE published_at IS NOT NULL
  AND id = (SELECT MAX(id) FROM lgpd_revisions r WHERE r.published_at IS NOT NULL);
--bun:split
UPDATE lgpd_revisions SET status = 'superseded' WHERE published_at IS NOT NULL AND status = 'draft';
--bun:split
DROP INDEX lgpd_revisions_version_key;
--bun:split
-- Versions are numbered per company; the global revisions are their own
-- series (company 0 in the key).
CREATE UNIQUE INDEX lgpd_revisions_company_version_key ON lgpd_revisions (COALESCE(company_id, 0), version);
--bun:split
-- At most one published revision per company (and one global).
CREATE UNIQUE INDEX lgpd_revisions_published_key ON lgpd_revisions (COALESCE(company_id, 0)) WHERE status = 'published';
--bun:split
-- The default global revision, so a consent can always name what was
-- accepted.
INSERT INTO lgpd_revisions (version, title, body, body_html, status, published_at, created_at)
SELECT CAST(COALESCE((SELECT MAX(CAST(version AS INTEGER)) FROM lgpd_revisions WHERE company_id IS NULL), 0) + 1 AS TEXT),
       'Política de privacidade',
       'Tratamos seus dados pessoais (nome, endereço de e-mail e o conteúdo dos chamados) apenas para prestar o suporte solicitado, conforme a Lei Geral de Proteção de Dados (Lei 13.709/2018). Você pode pedir uma cópia dos seus dados, a correção ou a eliminação deles a qualquer momento.',
       '<p>Tratamos seus dados pessoais (nome, endereço de e-mail e o conteúdo dos chamados) apenas para prestar o suporte solicitado, conforme a Lei Geral de Proteção de Dados (Lei 13.709/2018). Você pode pedir uma cópia dos seus dados, a correção ou a eliminação deles a qualquer momento.</p>',
       'published', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
WHERE NOT EXISTS (SELECT 1 FROM lgpd_revisions WHERE company_id IS NULL AND status = 'published');
--bun:split
ALTER TABLE lgpd_consents ADD COLUMN channel TEXT NOT NULL DEFAULT 'web' CHECK (channel IN ('web', 'mail', 'cli'));
--bun:split
CREATE INDEX lgpd_consents_revision_idx ON lgpd_consents (revision_id, user_id);
--bun:split
CREATE TABLE lgpd_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    company_id BIGINT REFERENCES companies (id) ON DELETE SET NULL,
    kind TEXT NOT NULL CHECK (kind IN ('export', 'erasure', 'correction')),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'rejected')),
    note TEXT NOT NULL DEFAULT '',
    resolution TEXT NOT NULL DEFAULT '',
    filed_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    handled_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    filed_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP
);
--bun:split
CREATE INDEX lgpd_requests_status_due_idx ON lgpd_requests (status, due_at);
--bun:split
CREATE INDEX lgpd_requests_user_idx ON lgpd_requests (user_id);
