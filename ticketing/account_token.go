package ticketing

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
)

// Signed state and links. A token is base64url(expiry ‖ data) "."
// base64url(HMAC-SHA256(key, purpose ‖ body)): the purpose is in the MAC,
// not the token, so a reset link can never pass as a confirmation link.
// Single use is recorded in used_tokens.

// Purposes of the account links.
const (
	purposeConfirm = "confirm"
	purposeReset   = "reset"
	purposeSignIn  = "signin"
	purposeInvite  = "invite"
)

func hmacSum(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(p)))
		m.Write(n[:]) // length-prefixed: no two part lists sign alike
		m.Write(p)
	}
	return m.Sum(nil)
}

// SignState signs data for purpose, valid for ttl.
func (s *Service) SignState(purpose string, data []byte, ttl time.Duration) string {
	body := make([]byte, 8+len(data))
	binary.BigEndian.PutUint64(body, uint64(s.clock().Add(ttl).Unix()))
	copy(body[8:], data)
	mac := hmacSum(s.accounts().key, []byte("state"), []byte(purpose), body)
	return base64.RawURLEncoding.EncodeToString(body) + "." + base64.RawURLEncoding.EncodeToString(mac)
}

// OpenState checks a token of SignState and returns its data;
// ErrBadToken when it is forged, of another purpose or expired.
func (s *Service) OpenState(purpose, token string) ([]byte, error) {
	data, _, err := s.openState(purpose, token)
	return data, err
}

func (s *Service) openState(purpose, token string) ([]byte, time.Time, error) {
	b64, m64, ok := strings.Cut(token, ".")
	if !ok || len(token) > 4096 {
		return nil, time.Time{}, ErrBadToken
	}
	body, err1 := base64.RawURLEncoding.DecodeString(b64)
	mac, err2 := base64.RawURLEncoding.DecodeString(m64)
	if err1 != nil || err2 != nil || len(body) < 8 {
		return nil, time.Time{}, ErrBadToken
	}
	want := hmacSum(s.accounts().key, []byte("state"), []byte(purpose), body)
	if !hmac.Equal(mac, want) {
		return nil, time.Time{}, ErrBadToken
	}
	exp := time.Unix(int64(binary.BigEndian.Uint64(body)), 0).UTC()
	if !s.clock().Before(exp) {
		return nil, time.Time{}, ErrBadToken
	}
	return body[8:], exp, nil
}

// UseOnce spends a token: the second use of the same token for the same
// purpose is ErrBadToken. until is when the record may be forgotten (the
// token's expiry).
func (s *Service) UseOnce(ctx context.Context, purpose, token string, until time.Time) error {
	return s.TxWith(ctx, func(tx *Tx) error { return tx.useOnce(ctx, purpose, token, until) })
}

func (tx *Tx) useOnce(ctx context.Context, purpose, token string, until time.Time) error {
	h := sha256.Sum256([]byte(purpose + "\x00" + token))
	err := tx.q.UseToken(ctx, &store.UsedToken{TokenHash: fmt.Sprintf("%x", h), Purpose: purpose,
		UsedAt: tx.s.clock(), ExpiresAt: until.UTC()}, tx.s.clock())
	if errors.Is(err, store.ErrConflict) {
		return ErrBadToken
	}
	return err
}

// accountBinding ties a link to the account as it is now: a change of
// address or of password (password_changed_at, the hash) voids it.
func accountBinding(purpose string, u *store.User) []byte {
	changed := ""
	if u.PasswordChangedAt != nil {
		changed = u.PasswordChangedAt.UTC().Format(time.RFC3339Nano)
	}
	h := sha256.Sum256([]byte(purpose + "\x00" + u.Email + "\x00" + u.PasswordHash + "\x00" + changed))
	return h[:12]
}

// accountToken is a link token for u.
func (s *Service) accountToken(purpose string, u *store.User, ttl time.Duration) string {
	data := make([]byte, 8, 20)
	binary.BigEndian.PutUint64(data, uint64(u.ID))
	return s.SignState(purpose, append(data, accountBinding(purpose, u)...), ttl)
}

// openAccountToken checks a link token, spends it and returns its user.
func (tx *Tx) openAccountToken(ctx context.Context, purpose, token string) (*store.User, error) {
	data, exp, err := tx.s.openState(purpose, token)
	if err != nil {
		return nil, err
	}
	if len(data) != 20 {
		return nil, ErrBadToken
	}
	u, err := tx.q.User(ctx, store.AllCompanies(), int64(binary.BigEndian.Uint64(data)))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrBadToken
	} else if err != nil {
		return nil, err
	}
	if u.Disabled || subtle.ConstantTimeCompare(data[8:], accountBinding(purpose, u)) != 1 {
		return nil, ErrBadToken
	}
	if err := tx.useOnce(ctx, purpose, token, exp); err != nil {
		return nil, err
	}
	return u, nil
}

// mailAllowed reports whether one more account mail of kind may go to u
// now (one a minute, five an hour), and records it when so.
func (tx *Tx) mailAllowed(ctx context.Context, u *store.User, kind string) (bool, error) {
	now := tx.s.clock()
	if n, err := tx.q.CountAccountMails(ctx, u.ID, kind, now.Add(-time.Minute)); err != nil || n >= mailsPerMinute {
		return false, err
	}
	if n, err := tx.q.CountAccountMails(ctx, u.ID, kind, now.Add(-time.Hour)); err != nil || n >= mailsPerHour {
		return false, err
	}
	return true, tx.q.LogAccountMail(ctx, u.ID, kind, now)
}

// mailAccount queues an account mail through the outbox (the TxHooks), in
// this transaction.
func (tx *Tx) mailAccount(ctx context.Context, m *AccountMail) error {
	if m.Company == nil && m.User != nil && m.User.CompanyID != nil {
		c, err := tx.q.Company(ctx, *m.User.CompanyID)
		if err != nil {
			return err
		}
		m.Company = c
	}
	if m.To == "" && m.User != nil {
		m.To = m.User.Email
	}
	tx.emit(Event{Kind: EventAccount, Account: m, Actor: m.User})
	return nil
}
