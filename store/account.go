package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// The second factors and the rest of an account beyond the users row:
// mailed sign-in codes, recovery codes, avatars, known devices and the
// log that limits account mails.

// OTPCode is a sign-in code mailed for a pending session; only its HMAC
// is kept.
type OTPCode struct {
	bun.BaseModel `bun:"table:otp_codes,alias:otp"`

	ID         int64      `bun:"id,pk,autoincrement"`
	UserID     int64      `bun:"user_id,notnull"`
	SessionID  string     `bun:"session_id,notnull"`
	CodeHash   string     `bun:"code_hash,notnull"`
	Attempts   int        `bun:"attempts,notnull"`
	CreatedAt  time.Time  `bun:"created_at,notnull"`
	ExpiresAt  time.Time  `bun:"expires_at,notnull"`
	ConsumedAt *time.Time `bun:"consumed_at"`
}

// CreateOTPCode inserts c.
func (q *Q) CreateOTPCode(ctx context.Context, c *OTPCode) error {
	if _, err := q.db.NewInsert().Model(c).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("store: otp code: %w", err)
	}
	return nil
}

// LatestOTPCode is the newest unconsumed code of a session that is still
// valid at now: mailing a new code voids the older ones.
func (q *Q) LatestOTPCode(ctx context.Context, sessionID string, now time.Time) (*OTPCode, error) {
	c := new(OTPCode)
	err := q.db.NewSelect().Model(c).Where("otp.session_id = ?", sessionID).OrderExpr("otp.id DESC").Limit(1).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "sign-in code")
	}
	if c.ConsumedAt != nil || !now.Before(c.ExpiresAt) {
		return nil, fmt.Errorf("%w: sign-in code", ErrNotFound)
	}
	return c, nil
}

// UpdateOTPCode saves the attempts and consumption of c.
func (q *Q) UpdateOTPCode(ctx context.Context, c *OTPCode) error {
	if _, err := q.db.NewUpdate().Model(c).Column("attempts", "consumed_at").WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("store: otp code: %w", err)
	}
	return nil
}

// RecoveryCode is one single-use recovery code (its HMAC).
type RecoveryCode struct {
	bun.BaseModel `bun:"table:recovery_codes,alias:rc"`

	ID        int64      `bun:"id,pk,autoincrement"`
	UserID    int64      `bun:"user_id,notnull"`
	CodeHash  string     `bun:"code_hash,notnull"`
	CreatedAt time.Time  `bun:"created_at,notnull"`
	UsedAt    *time.Time `bun:"used_at"`
}

// ReplaceRecoveryCodes drops a user's recovery codes and stores hashes
// as the new set (none: the user has none).
func (q *Q) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes []string, at time.Time) error {
	if _, err := q.db.NewDelete().Model((*RecoveryCode)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("store: recovery codes: %w", err)
	}
	if len(hashes) == 0 {
		return nil
	}
	rows := make([]*RecoveryCode, len(hashes))
	for i, h := range hashes {
		rows[i] = &RecoveryCode{UserID: userID, CodeHash: h, CreatedAt: at.UTC()}
	}
	if _, err := q.db.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return fmt.Errorf("store: recovery codes: %w", err)
	}
	return nil
}

// UseRecoveryCode marks the unused code with this hash used; it reports
// whether there was one.
func (q *Q) UseRecoveryCode(ctx context.Context, userID int64, hash string, at time.Time) (bool, error) {
	res, err := q.db.NewUpdate().Model((*RecoveryCode)(nil)).Set("used_at = ?", at.UTC()).
		Where("user_id = ? AND code_hash = ? AND used_at IS NULL", userID, hash).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: use recovery code: %w", err)
	}
	n, err := rowsAffected(res)
	return n > 0, err
}

// RecoveryCodesLeft counts a user's unused recovery codes.
func (q *Q) RecoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	n, err := q.db.NewSelect().Model((*RecoveryCode)(nil)).Where("user_id = ? AND used_at IS NULL", userID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: recovery codes: %w", err)
	}
	return int(n), nil
}

// Passkey is a WebAuthn credential; Data is the library's JSON of it.
type Passkey struct {
	bun.BaseModel `bun:"table:webauthn_credentials,alias:wc"`

	ID           int64      `bun:"id,pk,autoincrement"`
	UserID       int64      `bun:"user_id,notnull"`
	CredentialID []byte     `bun:"credential_id,notnull"`
	Data         []byte     `bun:"data,notnull"`
	Name         string     `bun:"name,notnull"`
	CreatedAt    time.Time  `bun:"created_at,notnull"`
	LastUsedAt   *time.Time `bun:"last_used_at"`
}

// CreatePasskey inserts p; a credential id already stored is ErrConflict.
func (q *Q) CreatePasskey(ctx context.Context, p *Passkey) error {
	if _, err := q.db.NewInsert().Model(p).Returning("id").Exec(ctx); err != nil {
		return conflict(err, "passkey")
	}
	return nil
}

// Passkeys lists a user's passkeys, oldest first.
func (q *Q) Passkeys(ctx context.Context, userID int64) ([]*Passkey, error) {
	var ps []*Passkey
	if err := q.db.NewSelect().Model(&ps).Where("wc.user_id = ?", userID).Order("wc.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: passkeys: %w", err)
	}
	return ps, nil
}

// CountPasskeys counts a user's passkeys.
func (q *Q) CountPasskeys(ctx context.Context, userID int64) (int, error) {
	n, err := q.db.NewSelect().Model((*Passkey)(nil)).Where("user_id = ?", userID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: passkeys: %w", err)
	}
	return int(n), nil
}

// PasskeyByCredentialID finds a passkey by its WebAuthn credential id.
func (q *Q) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*Passkey, error) {
	p := new(Passkey)
	if err := q.db.NewSelect().Model(p).Where("wc.credential_id = ?", credentialID).Scan(ctx); err != nil {
		return nil, notFound(err, "passkey")
	}
	return p, nil
}

// UpdatePasskeyUse saves new credential data (its sign count) and the
// time of use.
func (q *Q) UpdatePasskeyUse(ctx context.Context, id int64, data []byte, at time.Time) error {
	_, err := q.db.NewUpdate().Model((*Passkey)(nil)).Set("data = ?", data).Set("last_used_at = ?", at.UTC()).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: passkey use: %w", err)
	}
	return nil
}

// DeletePasskeysOfUser deletes every passkey of a user (a password reset:
// whoever took the account may have added one) and says how many.
func (q *Q) DeletePasskeysOfUser(ctx context.Context, userID int64) (int64, error) {
	res, err := q.db.NewDelete().Model((*Passkey)(nil)).Where("user_id = ?", userID).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: delete passkeys: %w", err)
	}
	return rowsAffected(res)
}

// DeletePasskey removes a user's passkey.
func (q *Q) DeletePasskey(ctx context.Context, userID, id int64) error {
	res, err := q.db.NewDelete().Model((*Passkey)(nil)).Where("id = ? AND user_id = ?", id, userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: delete passkey: %w", err)
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: passkey %d", ErrNotFound, id)
	}
	return nil
}

// UserByWebAuthnHandle finds the user whose WebAuthn user handle this is.
func (q *Q) UserByWebAuthnHandle(ctx context.Context, handle []byte) (*User, error) {
	u := new(User)
	if err := q.db.NewSelect().Model(u).Where("u.webauthn_handle = ?", handle).Scan(ctx); err != nil {
		return nil, notFound(err, "user by passkey handle")
	}
	return u, nil
}

// Avatar is a user's picture, kept apart so loading a user never loads it.
type Avatar struct {
	bun.BaseModel `bun:"table:user_avatars,alias:av"`

	UserID      int64     `bun:"user_id,pk"`
	Data        []byte    `bun:"data,notnull"`
	ContentType string    `bun:"content_type,notnull"`
	UpdatedAt   time.Time `bun:"updated_at,notnull"`
}

// SetAvatar stores a user's avatar (nil data removes it) and its type on
// the user row.
func (q *Q) SetAvatar(ctx context.Context, userID int64, data []byte, contentType string, at time.Time) error {
	if _, err := q.db.NewDelete().Model((*Avatar)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("store: avatar: %w", err)
	}
	if data != nil {
		a := &Avatar{UserID: userID, Data: data, ContentType: contentType, UpdatedAt: at.UTC()}
		if _, err := q.db.NewInsert().Model(a).Exec(ctx); err != nil {
			return fmt.Errorf("store: avatar: %w", err)
		}
	} else {
		contentType = ""
	}
	if _, err := q.db.NewUpdate().Model((*User)(nil)).Set("avatar_type = ?", contentType).Where("id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("store: avatar: %w", err)
	}
	return nil
}

// Avatar returns a user's avatar.
func (q *Q) Avatar(ctx context.Context, userID int64) (*Avatar, error) {
	a := new(Avatar)
	if err := q.db.NewSelect().Model(a).Where("av.user_id = ?", userID).Scan(ctx); err != nil {
		return nil, notFound(err, "avatar of user "+strconv.FormatInt(userID, 10))
	}
	return a, nil
}

// KnownDevice is a browser and address pair (hashed) a user signed in from.
type KnownDevice struct {
	bun.BaseModel `bun:"table:known_devices,alias:kd"`

	UserID      int64     `bun:"user_id,pk"`
	Fingerprint string    `bun:"fingerprint,pk"`
	FirstSeenAt time.Time `bun:"first_seen_at,notnull"`
	LastSeenAt  time.Time `bun:"last_seen_at,notnull"`
}

// SeeDevice records a sign-in from a device. It reports whether the
// device is new and whether the user had any device before.
func (q *Q) SeeDevice(ctx context.Context, userID int64, fingerprint string, at time.Time) (isNew, hadAny bool, err error) {
	res, err := q.db.NewUpdate().Model((*KnownDevice)(nil)).Set("last_seen_at = ?", at.UTC()).
		Where("user_id = ? AND fingerprint = ?", userID, fingerprint).Exec(ctx)
	if err != nil {
		return false, false, fmt.Errorf("store: known device: %w", err)
	}
	if n, err := rowsAffected(res); err != nil {
		return false, false, err
	} else if n > 0 {
		return false, true, nil
	}
	n, err := q.db.NewSelect().Model((*KnownDevice)(nil)).Where("user_id = ?", userID).Count(ctx)
	if err != nil {
		return false, false, fmt.Errorf("store: known devices: %w", err)
	}
	d := &KnownDevice{UserID: userID, Fingerprint: fingerprint, FirstSeenAt: at.UTC(), LastSeenAt: at.UTC()}
	if _, err := q.db.NewInsert().Model(d).Exec(ctx); err != nil {
		return false, false, fmt.Errorf("store: known device: %w", err)
	}
	return true, n > 0, nil
}

// AccountMail is one account mail sent to a user, kept to limit their rate.
type AccountMail struct {
	bun.BaseModel `bun:"table:account_mails,alias:am"`

	ID     int64     `bun:"id,pk,autoincrement"`
	UserID int64     `bun:"user_id,notnull"`
	Kind   string    `bun:"kind,notnull"`
	SentAt time.Time `bun:"sent_at,notnull"`
}

// LogAccountMail records a mail of kind sent to a user at at; rows older
// than a day go at the same time.
func (q *Q) LogAccountMail(ctx context.Context, userID int64, kind string, at time.Time) error {
	if _, err := q.db.NewDelete().Model((*AccountMail)(nil)).Where("user_id = ? AND sent_at < ?", userID, at.Add(-24*time.Hour).UTC()).Exec(ctx); err != nil {
		return fmt.Errorf("store: account mails: %w", err)
	}
	if _, err := q.db.NewInsert().Model(&AccountMail{UserID: userID, Kind: kind, SentAt: at.UTC()}).Exec(ctx); err != nil {
		return fmt.Errorf("store: account mails: %w", err)
	}
	return nil
}

// CountAccountMails counts the mails of kind sent to a user after since.
func (q *Q) CountAccountMails(ctx context.Context, userID int64, kind string, since time.Time) (int, error) {
	n, err := q.db.NewSelect().Model((*AccountMail)(nil)).Where("user_id = ? AND kind = ? AND sent_at > ?", userID, kind, since.UTC()).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: account mails: %w", err)
	}
	return int(n), nil
}

// LockUser holds the row of a user until the transaction ends, so what a
// sign-in reads and then writes there (the failed-login count, the last
// TOTP step) is not lost to a sign-in running at the same time. SQLite's
// write transactions are already serial (they begin IMMEDIATE).
func (q *Q) LockUser(ctx context.Context, id int64) error {
	if !q.pg {
		return nil
	}
	var got int64
	// NO KEY UPDATE: concurrent guesses queue behind each other, but a
	// row that refers to the user (a comment, a notification: their
	// foreign keys take KEY SHARE) is not held up by a sign-in.
	if err := q.db.NewSelect().Model((*User)(nil)).Column("u.id").Where("u.id = ?", id).For("NO KEY UPDATE").Scan(ctx, &got); err != nil {
		return notFound(err, "user "+strconv.FormatInt(id, 10))
	}
	return nil
}
