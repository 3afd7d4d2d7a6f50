-- Accounts for the web portal: sessions the profile can list and end,
-- second factors (e-mail codes, TOTP with recovery codes, passkeys),
-- invitations, and the user's and company's own settings.

-- Sessions are keyed by the SHA-256 of the cookie token (id); public_id
-- names them in lists and forms. No session was ever written before.
DELETE FROM sessions;
--bun:split
ALTER TABLE sessions ADD COLUMN public_id TEXT NOT NULL DEFAULT '';
--bun:split
-- stage: full, or mfa (password right, second factor pending: methods).
ALTER TABLE sessions ADD COLUMN stage TEXT NOT NULL DEFAULT 'full' CHECK (stage IN ('full', 'mfa'));
--bun:split
ALTER TABLE sessions ADD COLUMN methods TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE sessions ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE sessions ADD COLUMN remember BOOLEAN NOT NULL DEFAULT FALSE;
--bun:split
ALTER TABLE sessions ADD COLUMN last_used_at TIMESTAMP;
--bun:split
CREATE UNIQUE INDEX sessions_public_id_key ON sessions (public_id);
--bun:split
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
--bun:split
CREATE INDEX used_tokens_expires_idx ON used_tokens (expires_at);
--bun:split
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE users ADD COLUMN require_2fa BOOLEAN NOT NULL DEFAULT FALSE;
--bun:split
ALTER TABLE users ADD COLUMN email_otp BOOLEAN NOT NULL DEFAULT FALSE;
--bun:split
-- The last TOTP time step accepted: a code is never accepted twice.
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
--bun:split
-- The avatar's content type ('' = none); the image is in user_avatars, so
-- loading a user never loads it.
ALTER TABLE users ADD COLUMN avatar_type TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE users ADD COLUMN webauthn_handle BLOB;
--bun:split
-- Any password change moves it, which voids every reset link issued before.
ALTER TABLE users ADD COLUMN password_changed_at TIMESTAMP;
--bun:split
-- Signed in with a password our policy no longer accepts: ask to change it.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
--bun:split
CREATE UNIQUE INDEX users_webauthn_handle_key ON users (webauthn_handle) WHERE webauthn_handle IS NOT NULL;
--bun:split
ALTER TABLE companies ADD COLUMN consent_required BOOLEAN NOT NULL DEFAULT FALSE;
--bun:split
ALTER TABLE companies ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
--bun:split
CREATE TABLE user_avatars (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    data BLOB NOT NULL,
    content_type TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
--bun:split
-- One-time sign-in codes mailed for a pending session; only their HMAC is kept.
CREATE TABLE otp_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    consumed_at TIMESTAMP
);
--bun:split
CREATE INDEX otp_codes_session_idx ON otp_codes (session_id, created_at);
--bun:split
CREATE INDEX otp_codes_user_idx ON otp_codes (user_id, created_at);
--bun:split
CREATE TABLE recovery_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
--bun:split
CREATE UNIQUE INDEX recovery_codes_user_code_key ON recovery_codes (user_id, code_hash);
--bun:split
CREATE TABLE webauthn_credentials (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id BLOB NOT NULL,
    data BLOB NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP
);
--bun:split
CREATE UNIQUE INDEX webauthn_credentials_credential_key ON webauthn_credentials (credential_id);
--bun:split
CREATE INDEX webauthn_credentials_user_idx ON webauthn_credentials (user_id);
--bun:split
-- Invitations to register with a company (the only way into one that
-- accepts any domain). The link is signed; the row makes it single-use.
CREATE TABLE invites (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id INTEGER NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    email TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    used_by BIGINT REFERENCES users (id) ON DELETE SET NULL
);
--bun:split
CREATE INDEX invites_company_idx ON invites (company_id, created_at);
--bun:split
-- The devices (a hash of browser and IP) a user has signed in from, for the
-- new-device notice.
CREATE TABLE known_devices (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, fingerprint)
);
--bun:split
-- Account mails sent, to limit how often each kind goes to one person.
CREATE TABLE account_mails (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    sent_at TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX account_mails_user_idx ON account_mails (user_id, kind, sent_at);
