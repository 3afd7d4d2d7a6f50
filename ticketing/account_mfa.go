package ticketing

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/jcservicedesk/servicedesk/store"
)

// Second factors: TOTP authenticator apps (with recovery codes) and
// codes by e-mail. Passkeys are in account_passkey.go.

const totpIssuer = "JC Service Desk"

var totpOpts = totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// TwoFactorState is what a user has set up, for the profile.
type TwoFactorState struct {
	Required     bool // by their flag or role
	TOTP         bool
	Email        bool
	Passkeys     int
	RecoveryLeft int
}

// TwoFactor reports the second factors of u.
func (s *Service) TwoFactor(ctx context.Context, u *store.User) (TwoFactorState, error) {
	r := s.st.R()
	u, err := r.User(ctx, store.AllCompanies(), u.ID)
	if err != nil {
		return TwoFactorState{}, mapStoreErr(err)
	}
	st := TwoFactorState{Required: s.needs2FA(u), TOTP: u.TOTPEnabled, Email: u.EmailOTP}
	if st.Passkeys, err = r.CountPasskeys(ctx, u.ID); err != nil {
		return st, err
	}
	if st.RecoveryLeft, err = r.RecoveryCodesLeft(ctx, u.ID); err != nil {
		return st, err
	}
	return st, nil
}

// ownAccount loads the actor's own row for a change inside tx.
func (tx *Tx) ownAccount(ctx context.Context, actor *store.User) (*store.User, error) {
	if actor == nil || actor.ID == 0 || actor.Disabled {
		return nil, notAllowedf("sign in first")
	}
	u, err := tx.q.User(ctx, store.AllCompanies(), actor.ID)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, notAllowedf("the account is disabled")
	}
	return u, nil
}

// BeginTOTP makes a new TOTP secret for the actor, pending until
// EnableTOTP sees a code of it. ErrConflict when TOTP is already on.
func (s *Service) BeginTOTP(ctx context.Context, actor *store.User) (secret, otpauthURL string, err error) {
	err = s.TxWith(ctx, func(tx *Tx) error {
		u, err := tx.ownAccount(ctx, actor)
		if err != nil {
			return err
		}
		if u.TOTPEnabled {
			return fmt.Errorf("%w: an authenticator app is already set up; turn it off first", ErrConflict)
		}
		key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: u.Email, SecretSize: 20})
		if err != nil {
			return fmt.Errorf("totp: %w", err)
		}
		if u.TOTPSecret, err = tx.s.accounts().sealSecret(key.Secret()); err != nil {
			return err
		}
		u.TOTPLastStep = 0
		secret, otpauthURL = key.Secret(), key.URL()
		return tx.q.UpdateUser(ctx, u)
	})
	return secret, otpauthURL, err
}

// EnableTOTP turns TOTP on once a code of the pending secret is right,
// and returns 10 new recovery codes (shown once, stored hashed).
func (s *Service) EnableTOTP(ctx context.Context, actor *store.User, code string) ([]string, error) {
	var codes []string
	var refused error
	err := s.TxWith(ctx, func(tx *Tx) error {
		u, err := tx.ownAccount(ctx, actor)
		if err != nil {
			return err
		}
		if u.TOTPEnabled {
			return fmt.Errorf("%w: an authenticator app is already set up", ErrConflict)
		}
		if u.TOTPSecret == "" {
			return invalidf("start the authenticator set-up first")
		}
		ok, err := tx.checkTOTP(ctx, u, strings.Join(strings.Fields(code), ""))
		if err != nil {
			return err
		}
		if !ok {
			refused = ErrBadCode
			return nil
		}
		u.TOTPEnabled = true
		if err := tx.q.UpdateUser(ctx, u); err != nil {
			return err
		}
		if codes, err = tx.newRecoveryCodes(ctx, u); err != nil {
			return err
		}
		*actor = *u
		return auditAccount(ctx, tx.q, nil, u, "2fa_enable", map[string]any{"method": MethodTOTP})
	})
	if err == nil && refused != nil {
		return nil, refused
	}
	return codes, err
}

// checkTOTP accepts a code of u's secret for the current step or one next
// to it, once: a step used before is refused (saved in totp_last_step).
func (tx *Tx) checkTOTP(ctx context.Context, u *store.User, code string) (bool, error) {
	if u.TOTPSecret == "" || len(code) != 6 {
		return false, nil
	}
	secret, err := tx.s.accounts().openSecret(u.TOTPSecret)
	if err != nil {
		return false, err
	}
	now := tx.s.clock()
	cur := now.Unix() / int64(totpOpts.Period)
	for step := cur - int64(totpOpts.Skew); step <= cur+int64(totpOpts.Skew); step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*int64(totpOpts.Period), 0), totpOpts)
		if err != nil {
			return false, fmt.Errorf("totp: %w", err)
		}
		if hmac.Equal([]byte(want), []byte(code)) {
			if step <= u.TOTPLastStep {
				return false, nil // replayed
			}
			u.TOTPLastStep = step
			return true, tx.q.UpdateUser(ctx, u)
		}
	}
	return false, nil
}

// DisableTOTP turns TOTP off (and drops the recovery codes); it asks for
// the password again when the account has one.
func (s *Service) DisableTOTP(ctx context.Context, actor *store.User, password string) error {
	if err := s.reauthenticate(ctx, actor, password); err != nil {
		return err
	}
	return s.TxWith(ctx, func(tx *Tx) error {
		u, err := tx.ownAccount(ctx, actor)
		if err != nil {
			return err
		}
		was := u.TOTPEnabled
		u.TOTPEnabled, u.TOTPSecret, u.TOTPLastStep = false, "", 0
		if err := tx.q.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.q.ReplaceRecoveryCodes(ctx, u.ID, nil, s.clock()); err != nil {
			return err
		}
		*actor = *u
		if !was {
			return nil
		}
		return auditAccount(ctx, tx.q, nil, u, "2fa_disable", map[string]any{"method": MethodTOTP})
	})
}

// RegenerateRecoveryCodes replaces the recovery codes (the old ones stop
// working); it asks for the password again.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, actor *store.User, password string) ([]string, error) {
	if err := s.reauthenticate(ctx, actor, password); err != nil {
		return nil, err
	}
	var codes []string
	err := s.TxWith(ctx, func(tx *Tx) error {
		u, err := tx.ownAccount(ctx, actor)
		if err != nil {
			return err
		}
		if !u.TOTPEnabled {
			return invalidf("recovery codes come with an authenticator app; set one up first")
		}
		if codes, err = tx.newRecoveryCodes(ctx, u); err != nil {
			return err
		}
		return auditAccount(ctx, tx.q, nil, u, "2fa_enable", map[string]any{"method": MethodRecovery, "regenerated": true})
	})
	return codes, err
}

// reauthenticate checks the actor's current password (when they have
// one) before a change that weakens the account. A wrong one counts as a
// failed sign-in.
func (s *Service) reauthenticate(ctx context.Context, actor *store.User, password string) error {
	if actor == nil || actor.ID == 0 {
		return notAllowedf("sign in first")
	}
	u, err := s.st.R().User(ctx, store.AllCompanies(), actor.ID)
	if err != nil {
		return mapStoreErr(err)
	}
	if u.PasswordHash == "" {
		return nil
	}
	ok, err := s.checkPassword(ctx, password, u.PasswordHash)
	if err != nil {
		return err
	}
	if ok && (u.LockedUntil == nil || !s.clock().Before(*u.LockedUntil)) {
		return nil
	}
	err = s.TxWith(ctx, func(tx *Tx) error {
		if err := tx.q.LockUser(ctx, actor.ID); err != nil {
			return err
		}
		u, err := tx.q.User(ctx, store.AllCompanies(), actor.ID)
		if err != nil {
			return err
		}
		if !ok {
			u.FailedLogins++
			if u.FailedLogins >= maxFailedLogins {
				until := s.clock().Add(lockoutDuration)
				u.FailedLogins, u.LockedUntil = 0, &until
			}
			if err := tx.q.UpdateUser(ctx, u); err != nil {
				return err
			}
		}
		return auditAccount(ctx, tx.q, nil, u, "login_failed", map[string]any{"reason": "wrong current password"})
	})
	if err != nil {
		return err
	}
	return ErrBadLogin
}

// SetEmailOTP turns the code by e-mail on or off as the actor's second
// factor. Turning it off weakens the account, so it asks for the current
// password (as DisableTOTP does); turning it on does not.
func (s *Service) SetEmailOTP(ctx context.Context, actor *store.User, on bool, password string) error {
	if !on {
		if err := s.reauthenticate(ctx, actor, password); err != nil {
			return err
		}
	}
	return s.TxWith(ctx, func(tx *Tx) error {
		u, err := tx.ownAccount(ctx, actor)
		if err != nil {
			return err
		}
		if u.EmailOTP == on {
			return nil
		}
		u.EmailOTP = on
		if err := tx.q.UpdateUser(ctx, u); err != nil {
			return err
		}
		*actor = *u
		action := "2fa_enable"
		if !on {
			action = "2fa_disable"
		}
		return auditAccount(ctx, tx.q, nil, u, action, map[string]any{"method": MethodEmail})
	})
}

var recoveryEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newRecoveryCodes replaces u's recovery codes with 10 new ones: 10
// base32 characters each (50 bits), shown as two groups of five joined
// by a dash.
func (tx *Tx) newRecoveryCodes(ctx context.Context, u *store.User) ([]string, error) {
	codes := make([]string, recoveryCodeCount)
	hashes := make([]string, recoveryCodeCount)
	for i := range codes {
		b := make([]byte, 7)
		_, _ = rand.Read(b)
		c := strings.ToLower(recoveryEncoding.EncodeToString(b))[:10]
		codes[i] = c[:5] + "-" + c[5:]
		hashes[i] = tx.s.codeHash("recovery", fmt.Sprint(u.ID), c)
	}
	return codes, tx.q.ReplaceRecoveryCodes(ctx, u.ID, hashes, tx.s.clock())
}

// normalizeRecovery forgives case, spaces and dashes.
func normalizeRecovery(code string) string {
	return strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(code))
}

func hmacEqualHex(a, b string) bool {
	x, err1 := hex.DecodeString(a)
	y, err2 := hex.DecodeString(b)
	return err1 == nil && err2 == nil && hmac.Equal(x, y)
}
