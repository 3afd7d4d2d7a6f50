package ticketing

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"

	"github.com/jcservicedesk/servicedesk/store"
)

// Accounts: sign-in, sessions, second factors, registration and the
// signed links of the portal. The web parses forms and sets cookies; every
// rule (lockout, tokens, who may end whose session) is here, with its
// audit row in the same transaction.

// Errors of the account functions. ErrBadLogin is deliberately vague: an
// unknown address, a wrong password, a locked or disabled account all
// read the same.
var (
	ErrBadLogin     = errors.New("wrong e-mail or password")
	ErrUnconfirmed  = errors.New("e-mail not confirmed")
	ErrIPNotAllowed = errors.New("address not allowed")
	ErrBadToken     = errors.New("link invalid or expired")
	ErrBadCode      = errors.New("code invalid")
	ErrRateLimited  = errors.New("too many attempts")
	ErrWeakPassword = &weakPasswordError{}
)

type weakPasswordError struct{}

func (*weakPasswordError) Error() string        { return "password too weak" }
func (*weakPasswordError) Is(target error) bool { return target == ErrInvalid }

// Account rules.
const (
	maxFailedLogins    = 5
	lockoutDuration    = 15 * time.Minute
	minPasswordRunes   = 10
	maxPasswordBytes   = 1024 // argon2id takes anything; a megabyte password is an attack
	confirmTTL         = 24 * time.Hour
	resetTTL           = 2 * time.Hour
	signInLinkTTL      = 15 * time.Minute
	pendingSessionTTL  = 10 * time.Minute
	otpTTL             = 10 * time.Minute
	maxCodeAttempts    = 5
	touchEvery         = time.Minute // last_used_at is written at most this often
	defaultInviteTTL   = 7 * 24 * time.Hour
	maxInviteTTL       = 30 * 24 * time.Hour
	recoveryCodeCount  = 10
	mailsPerMinute     = 1
	mailsPerHour       = 5
	defaultHashWorkers = 4
)

// AccountConfig configures sessions and sign-in.
type AccountConfig struct {
	Secret           []byte        // signs links and state; Service.SecretKey
	SessionLifetime  time.Duration // default 8 h
	RememberLifetime time.Duration // "remember me"; default 30 days
	IdleTimeout      time.Duration // ends a session that is not remembered; default 2 h, negative = never
	Require2FARoles  []string      // roles whose users must use a second factor
	HashConcurrency  int           // argon2id hashes computed at once; default 4
}

// accounts is the Service's account state: its config, the key derived
// from the secret, and the semaphore around argon2id (64 MiB per hash).
type accounts struct {
	cfg   AccountConfig
	key   []byte
	sem   chan struct{}
	once  sync.Once
	dummy string // a hash compared against for unknown addresses
}

func newAccounts(cfg AccountConfig) *accounts {
	if cfg.SessionLifetime <= 0 {
		cfg.SessionLifetime = 8 * time.Hour
	}
	if cfg.RememberLifetime <= 0 {
		cfg.RememberLifetime = 30 * 24 * time.Hour
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 2 * time.Hour
	}
	if cfg.HashConcurrency <= 0 {
		cfg.HashConcurrency = defaultHashWorkers
	}
	secret := cfg.Secret
	if len(secret) == 0 {
		// No configured secret (tests): links work until the process ends.
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	}
	a := &accounts{cfg: cfg, sem: make(chan struct{}, cfg.HashConcurrency)}
	// A key of its own, so an account link can never be mistaken for any
	// other value signed with the secret (reply tokens).
	a.key = hmacSum(secret, []byte("servicedesk accounts v1"))
	return a
}

// WithAccounts configures sign-in and sessions.
func WithAccounts(cfg AccountConfig) Option {
	return func(s *Service) { s.acct = newAccounts(cfg) }
}

func (s *Service) accounts() *accounts {
	s.acctOnce.Do(func() {
		if s.acct == nil {
			s.acct = newAccounts(AccountConfig{})
		}
	})
	return s.acct
}

// hashPassword hashes pw with argon2id, waiting for a free slot.
func (s *Service) hashPassword(ctx context.Context, pw string) (string, error) {
	a := s.accounts()
	if err := a.acquire(ctx); err != nil {
		return "", err
	}
	defer a.release()
	return HashPassword(pw)
}

// checkPassword compares pw with hash in constant time. An empty hash (no
// such user, no password) is compared against a dummy hash, so the answer
// takes as long either way.
func (s *Service) checkPassword(ctx context.Context, pw, hash string) (bool, error) {
	a := s.accounts()
	real := hash != ""
	if !real {
		a.once.Do(func() {
			b := make([]byte, 16)
			_, _ = rand.Read(b)
			a.dummy, _ = HashPassword(hex.EncodeToString(b))
		})
		hash = a.dummy
	}
	if len(pw) > maxPasswordBytes {
		pw = pw[:maxPasswordBytes] // still hashed: the time must not tell
		real = false
	}
	if err := a.acquire(ctx); err != nil {
		return false, err
	}
	defer a.release()
	ok, err := argon2id.ComparePasswordAndHash(pw, hash)
	return err == nil && ok && real, nil
}

func (a *accounts) acquire(ctx context.Context) error {
	select {
	case a.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("password hash: %w", ctx.Err())
	}
}

func (a *accounts) release() { <-a.sem }

// CheckNewPassword applies the policy for new passwords: at least 10
// characters and not one of the passwords everyone tries first.
func CheckNewPassword(pw string) error {
	if !utf8.ValidString(pw) {
		return fmt.Errorf("%w: the password is not valid text", ErrWeakPassword)
	}
	if utf8.RuneCountInString(pw) < minPasswordRunes {
		return fmt.Errorf("%w: use at least %d characters", ErrWeakPassword, minPasswordRunes)
	}
	if len(pw) > maxPasswordBytes {
		return fmt.Errorf("%w: the password is longer than %d bytes", ErrInvalid, maxPasswordBytes)
	}
	if isCommonPassword(pw) {
		return fmt.Errorf("%w: this password is among the most common ones", ErrWeakPassword)
	}
	return nil
}

// randomToken is n random bytes, base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenHash is how a session token is stored.
func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// auditAccount writes an account audit row on the user.
func auditAccount(ctx context.Context, q *store.Q, actor, u *store.User, action string, details map[string]any) error {
	if actor == nil {
		actor = u
	}
	return q.Audit(ctx, actor, u.CompanyIDValue(), "user", u.ID, action, nil, details)
}

// clientDetails is what an audit row keeps of the client: never a token.
func clientDetails(c Client, extra map[string]any) map[string]any {
	m := map[string]any{}
	if c.IP.IsValid() {
		m["ip"] = c.IP.String()
	}
	if c.UserAgent != "" {
		m["user_agent"] = truncate(c.UserAgent, 200)
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// requireSelfOrAdmin: people manage their own account; admins anyone's.
func requireSelfOrAdmin(actor, u *store.User) error {
	if actor == nil || actor.Disabled {
		return notAllowedf("sign in first")
	}
	if actor.ID == u.ID || actor.Role == store.RoleAdmin {
		return nil
	}
	return notAllowedf("%s may not manage the account of %s", actor.Email, u.Email)
}

func splitMethods(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func parseIP(s string) netip.Addr {
	a, _ := netip.ParseAddr(s)
	return a
}
