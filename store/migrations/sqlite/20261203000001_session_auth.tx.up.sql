-- When the person behind a session last proved who they are (signing in,
-- a second factor, or the current password again): adding a passkey
-- needs that to be recent. NULL (sessions from before) counts as long ago.
ALTER TABLE sessions ADD COLUMN auth_at TIMESTAMP;
