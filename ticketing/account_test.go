package ticketing_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

const goodPW = "correct horse battery"

// acct is a world with a settable clock and the account mails queued.
type acct struct {
	*world
	now   time.Time
	svc   *ticketing.Service
	mails []*ticketing.AccountMail
}

func newAcct(t testing.TB, st *store.Store, cfg ticketing.AccountConfig) *acct {
	t.Helper()
	a := &acct{world: newWorld(t, st), now: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)}
	cfg.Secret = []byte("test secret")
	a.svc = ticketing.NewService(st, ticketing.WithClock(func() time.Time { return a.now }), ticketing.WithAccounts(cfg),
		ticketing.WithListener(func(ev ticketing.Event) {
			if ev.Kind == ticketing.EventAccount {
				a.mails = append(a.mails, ev.Account)
			}
		}))
	return a
}

func (a *acct) tick(d time.Duration) { a.now = a.now.Add(d) }

// withPassword gives u a password (any, even a weak one) and confirms it.
func (a *acct) withPassword(t testing.TB, u *store.User, pw string) *store.User {
	t.Helper()
	h, err := ticketing.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	err = a.st.InTx(context.Background(), func(q *store.Q) error {
		fresh, err := q.User(context.Background(), store.AllCompanies(), u.ID)
		if err != nil {
			return err
		}
		now := a.now
		fresh.PasswordHash, fresh.ConfirmedAt = h, &now
		*u = *fresh
		return q.UpdateUser(context.Background(), fresh)
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (a *acct) user(t testing.TB, email string) *store.User {
	t.Helper()
	u, err := a.st.R().UserByEmail(context.Background(), store.AllCompanies(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (a *acct) lastMail(t testing.TB, kind string) *ticketing.AccountMail {
	t.Helper()
	for i := len(a.mails) - 1; i >= 0; i-- {
		if a.mails[i].Kind == kind {
			return a.mails[i]
		}
	}
	t.Fatalf("no %s mail among %d", kind, len(a.mails))
	return nil
}

func (a *acct) countMails(kind string) int {
	n := 0
	for _, m := range a.mails {
		if m.Kind == kind {
			n++
		}
	}
	return n
}

func auditActions(t testing.TB, st *store.Store, u *store.User) []string {
	t.Helper()
	es, err := st.R().AuditLog(context.Background(), "user", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Action)
	}
	return out
}

var browser = ticketing.Client{IP: netip.MustParseAddr("203.0.113.7"), UserAgent: "Firefox/140"}

func TestLoginLockout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := newAcct(t, st, ticketing.AccountConfig{})
		u := a.withPassword(t, a.client, goodPW)
		steps := []struct {
			pw   string
			want error
		}{
			{"wrong 1", ticketing.ErrBadLogin}, {"wrong 2", ticketing.ErrBadLogin}, {"wrong 3", ticketing.ErrBadLogin},
			{"wrong 4", ticketing.ErrBadLogin}, {"wrong 5", ticketing.ErrBadLogin}, // locks
			{goodPW, ticketing.ErrBadLogin}, // locked: even the right one
		}
		for i, s := range steps {
			if _, err := a.svc.Login(ctx, u.Email, s.pw, false, browser); !errors.Is(err, s.want) {
				t.Fatalf("step %d: %v, want %v", i, err, s.want)
			}
		}
		if got := a.user(t, u.Email); got.LockedUntil == nil || !got.LockedUntil.Equal(a.now.Add(15*time.Minute)) {
			t.Fatalf("locked until %v", got.LockedUntil)
		}
		a.tick(14 * time.Minute)
		if _, err := a.svc.Login(ctx, u.Email, goodPW, false, browser); !errors.Is(err, ticketing.ErrBadLogin) {
			t.Fatalf("14 min into the lock: %v", err)
		}
		a.tick(time.Minute)
		info, err := a.svc.Login(ctx, u.Email, goodPW, false, browser)
		if err != nil || info.Stage != store.StageFull || info.Token == "" || info.MustChangePassword {
			t.Fatalf("after the lock: %+v, %v", info, err)
		}
		got := strings.Join(auditActions(t, st, u), ",")
		want := "login_failed,login_failed,login_failed,login_failed,lockout,login_failed,login_failed,login"
		if got != want {
			t.Fatalf("audit %s, want %s", got, want)
		}
		// The same answer for what does not exist, is disabled or has no password.
		if _, err := a.svc.Login(ctx, "nobody@acme.example", goodPW, false, browser); !errors.Is(err, ticketing.ErrBadLogin) {
			t.Fatalf("unknown address: %v", err)
		}
		if _, err := a.svc.Login(ctx, a.colleague.Email, "", false, browser); !errors.Is(err, ticketing.ErrBadLogin) {
			t.Fatalf("no password: %v", err)
		}
		if err := a.svc.Unlock(ctx, a.client, u.Email); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("a client unlocks: %v", err)
		}
	})
}

func TestLoginNeedsConfirmationAfterTheRightPasswordOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := newAcct(t, st, ticketing.AccountConfig{})
		u := a.withPassword(t, a.client, goodPW)
		_ = st.InTx(ctx, func(q *store.Q) error { u.ConfirmedAt = nil; return q.UpdateUser(ctx, u) })
		if _, err := a.svc.Login(ctx, u.Email, "wrong", false, browser); !errors.Is(err, ticketing.ErrBadLogin) {
			t.Fatalf("wrong password, unconfirmed: %v", err)
		}
		if _, err := a.svc.Login(ctx, u.Email, goodPW, false, browser); !errors.Is(err, ticketing.ErrUnconfirmed) {
			t.Fatalf("right password, unconfirmed: %v", err)
		}
		if got := a.user(t, u.Email); got.FailedLogins != 0 {
			t.Fatalf("the right password left %d failures", got.FailedLogins)
		}
	})
}

func TestWeakLegacyPasswordSignsInAndMustChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := newAcct(t, st, ticketing.AccountConfig{})
		u := a.withPassword(t, a.admin, "admin123")
		info, err := a.svc.Login(ctx, u.Email, "admin123", false, browser)
		if err != nil || !info.MustChangePassword {
			t.Fatalf("legacy password: %+v, %v", info, err)
		}
		if s, err := a.svc.Session(ctx, info.Token, browser); err != nil || !s.MustChangePassword {
			t.Fatalf("session: %+v, %v", s, err)
		}
		if _, err := a.svc.ChangePassword(ctx, u, info.Token, "admin123", "senha123"); !errors.Is(err, ticketing.ErrWeakPassword) || !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("weak new password: %v", err)
		}
		other, _ := a.svc.Login(ctx, u.Email, "admin123", false, browser)
		next, err := a.svc.ChangePassword(ctx, u, info.Token, "admin123", goodPW)
		if err != nil || next.Token == "" || next.Token == info.Token || next.ID == info.ID || next.MustChangePassword {
			t.Fatalf("change: %+v, %v", next, err)
		}
		for _, old := range []string{info.Token, other.Token} {
			if _, err := a.svc.Session(ctx, old, browser); !errors.Is(err, ticketing.ErrNotFound) {
				t.Fatalf("a session from before the change: %v", err)
			}
		}
		if _, err := a.svc.Session(ctx, next.Token, browser); err != nil {
			t.Fatalf("the rotated session: %v", err)
		}
		if _, err := a.svc.ChangePassword(ctx, u, next.Token, "wrong current", "another good passphrase"); !errors.Is(err, ticketing.ErrBadLogin) {
			t.Fatalf("wrong current password: %v", err)
		}
	})
}

func TestCheckNewPassword(t *testing.T) {
	for _, c := range []struct {
		pw string
		ok bool
	}{
		{"short", false}, {"123456789", false}, {"1234567890", false}, {"senha12345", false}, {"Senha12345!", false},
		{"mudar123456", false}, {"aaaaaaaaaaaa", false}, {"abcdefghijkl", false}, {"Qwertyuiop", false},
		{"senha1234567", false}, {"çãõéüçãõéü", true}, {"correct horse battery", true}, {"Tr0ub4dor&3x", true},
	} {
		err := ticketing.CheckNewPassword(c.pw)
		if (err == nil) != c.ok {
			t.Errorf("%q: %v, want ok=%v", c.pw, err, c.ok)
		}
		if err != nil && !errors.Is(err, ticketing.ErrInvalid) {
			t.Errorf("%q: %v is not ErrInvalid", c.pw, err)
		}
	}
}

func TestResetLiftsLockoutEndsSessionsAndIsSingleUse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := newAcct(t, st, ticketing.AccountConfig{})
		u := a.withPassword(t, a.client, goodPW)
		sess, err := a.svc.Login(ctx, u.Email, goodPW, true, browser)
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			_, _ = a.svc.Login(ctx, u.Email, "wrong", false, browser)
		}
		if err := a.svc.Forgot(ctx, "MARIA@acme.example", browser); err != nil {
			t.Fatal(err)
		}
		if err := a.svc.Forgot(ctx, "nobody@acme.example", browser); err != nil {
			t.Fatalf("unknown address: %v", err)
		}
		m := a.lastMail(t, ticketing.AccountReset)
		if m.To != u.Email || m.Token == "" || !m.Expires.Equal(a.now.Add(2*time.Hour)) || a.countMails(ticketing.AccountReset) != 1 {
			t.Fatalf("reset mail %+v", m)
		}
		// A reset token is no confirmation token.
		if _, err := a.svc.Confirm(ctx, m.Token); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("reset token as confirmation: %v", err)
		}
		if err := a.svc.ResetPassword(ctx, m.Token, "short", browser); !errors.Is(err, ticketing.ErrWeakPassword) {
			t.Fatalf("weak: %v", err)
		}
		const next = "a new long passphrase"
		if err := a.svc.ResetPassword(ctx, m.Token, next, browser); err != nil {
			t.Fatal(err)
		}
		if err := a.svc.ResetPassword(ctx, m.Token, "yet another passphrase", browser); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("reused: %v", err)
		}
		if _, err := a.svc.Session(ctx, sess.Token, browser); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("session after reset: %v", err)
		}
		if _, err := a.svc.Login(ctx, u.Email, next, false, browser); err != nil {
			t.Fatalf("login after reset (was locked): %v", err)
		}
		// Any password change voids the links issued before it.
		a.tick(2 * time.Minute)
		if err := a.svc.Forgot(ctx, u.Email, browser); err != nil {
			t.Fatal(err)
		}
		m2 := a.lastMail(t, ticketing.AccountReset)
		if err := a.svc.SetPassword(ctx, a.admin, u.Email, "set by the admin now"); err != nil {
			t.Fatal(err)
		}
		if err := a.svc.ResetPassword(ctx, m2.Token, "a passphrase too late", browser); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("token from before a password change: %v", err)
		}
		// Expiry.
		a.tick(2 * time.Minute)
		_ = a.svc.Forgot(ctx, u.Email, browser)
		m3 := a.lastMail(t, ticketing.AccountReset)
		a.tick(2*time.Hour + time.Second)
		if err := a.svc.ResetPassword(ctx, m3.Token, "a passphrase too late", browser); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("expired: %v", err)
		}
		acts := strings.Join(auditActions(t, st, u), ",")
		if !strings.Contains(acts, "password_reset") || !strings.Contains(acts, "password_change") {
			t.Fatalf("audit %s", acts)
		}
	})
}

func TestSignedState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := newAcct(t, st, ticketing.AccountConfig{})
		tok := a.svc.SignState("webauthn", []byte("challenge"), time.Minute)
		if b, err := a.svc.OpenState("webauthn", tok); err != nil || string(b) != "challenge" {
			t.Fatalf("open: %q, %v", b, err)
		}
		forged := tok[:len(tok)-2] + "AA"
		for name, c := range map[string]struct{ purpose, token string }{
			"other purpose": {"csrf", tok}, "forged": {"webauthn", forged}, "garbage": {"webauthn", "x.y"}, "empty": {"webauthn", ""},
		} {
			if _, err := a.svc.OpenState(c.purpose, c.token); !errors.Is(err, ticketing.ErrBadToken) {
				t.Errorf("%s: %v", name, err)
			}
		}
		if err := a.svc.UseOnce(ctx, "webauthn", tok, a.now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := a.svc.UseOnce(ctx, "webauthn", tok, a.now.Add(time.Minute)); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("second use: %v", err)
		}
		if err := a.svc.UseOnce(ctx, "other", tok, a.now.Add(time.Minute)); err != nil {
			t.Fatalf("same token, other purpose: %v", err)
		}
		a.tick(time.Minute)
		if _, err := a.svc.OpenState("webauthn", tok); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("expired: %v", err)
		}
	})
}

func TestEmailCode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := newAcct(t, st, ticketing.AccountConfig{})
		u := a.withPassword(t, a.client, goodPW)
		if _, err := a.svc.UpdateUser(ctx, a.admin, u.Email, func(u *store.User) error { u.Require2FA = true; return nil }); err != nil {
			t.Fatal(err)
		}
		p, err := a.svc.Login(ctx, u.Email, goodPW, true, browser)
		if err != nil || p.Stage != store.StageMFA || strings.Join(p.Methods, ",") != "email" || !p.CodeSent {
			t.Fatalf("pending: %+v, %v", p, err)
		}
		m := a.lastMail(t, ticketing.AccountLoginCode)
		if len(m.Code) != 6 || !m.Expires.Equal(a.now.Add(10*time.Minute)) {
			t.Fatalf("code mail %+v", m)
		}
		wrong := "000000"
		if m.Code == wrong {
			wrong = "111111"
		}
		for i := 1; i <= 4; i++ {
			if _, err := a.svc.VerifySecondFactor(ctx, p.Token, "email", wrong, browser); !errors.Is(err, ticketing.ErrBadCode) {
				t.Fatalf("wrong code %d: %v", i, err)
			}
		}
		if _, err := a.svc.VerifySecondFactor(ctx, p.Token, "email", wrong, browser); !errors.Is(err, ticketing.ErrRateLimited) {
			t.Fatalf("fifth wrong code: %v", err)
		}
		if _, err := a.svc.VerifySecondFactor(ctx, p.Token, "email", m.Code, browser); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("the right code after five wrong ones: %v", err)
		}
		// Five wrong codes also locked the account (like five wrong
		// passwords); an admin lifts the lock to go on.
		if _, err := a.svc.Login(ctx, u.Email, goodPW, true, browser); !errors.Is(err, ticketing.ErrBadLogin) {
			t.Fatalf("the right password after five wrong codes: %v", err)
		}
		if err := a.svc.Unlock(ctx, a.admin, u.Email); err != nil {
			t.Fatal(err)
		}
		// A new sign-in within the minute: the code is held back, and a
		// resend is refused until a minute has passed.
		p2, err := a.svc.Login(ctx, u.Email, goodPW, true, browser)
		if err != nil || p2.CodeSent {
			t.Fatalf("second pending within a minute: %+v, %v", p2, err)
		}
		if err := a.svc.SendLoginCode(ctx, p2.Token); !errors.Is(err, ticketing.ErrRateLimited) {
			t.Fatalf("resend at once: %v", err)
		}
		a.tick(time.Minute)
		if err := a.svc.SendLoginCode(ctx, p2.Token); err != nil {
			t.Fatal(err)
		}
		code := a.lastMail(t, ticketing.AccountLoginCode).Code
		if _, err := a.svc.Session(ctx, p2.Token, browser); err != nil {
			t.Fatalf("a pending session is found (stage mfa): %v", err)
		}
		full, err := a.svc.VerifySecondFactor(ctx, p2.Token, "email", code, browser)
		if err != nil || full.Stage != store.StageFull || full.Token == p2.Token || full.ID == p2.ID || !full.Remember {
			t.Fatalf("full: %+v, %v", full, err)
		}
		if _, err := a.svc.VerifySecondFactor(ctx, p2.Token, "email", code, browser); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("the pending session lives on: %v", err)
		}
		if _, err := a.svc.VerifySecondFactor(ctx, full.Token, "email", code, browser); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("a full session verified again: %v", err)
		}
		// Five codes an hour at most.
		for range 4 {
			a.tick(time.Minute)
			_ = a.svc.SendLoginCode(ctx, mustPending(t, a, u).Token)
		}
		a.tick(time.Minute)
		if err := a.svc.SendLoginCode(ctx, mustPending(t, a, u).Token); !errors.Is(err, ticketing.ErrRateLimited) {
			t.Fatalf("sixth code in an hour: %v", err)
		}
		// A code expires after 10 minutes.
		a.tick(time.Hour)
		p3 := mustPending(t, a, u)
		code3 := a.lastMail(t, ticketing.AccountLoginCode).Code
		a.tick(10 * time.Minute)
		if _, err := a.svc.VerifySecondFactor(ctx, p3.Token, "email", code3, browser); err == nil {
			t.Fatal("a code 10 minutes old was accepted")
		}
	})
}

func mustPending(t testing.TB, a *acct, u *store.User) *ticketing.SessionInfo {
	t.Helper()
	p, err := a.svc.Login(context.Background(), u.Email, goodPW, false, browser)
	if err != nil || p.Stage != store.StageMFA {
		t.Fatalf("pending: %+v, %v", p, err)
	}
	return p
}

func totpCode(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTOTPAndRecoveryCodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := newAcct(t, st, ticketing.AccountConfig{Require2FARoles: []string{store.RoleTech}})
		u := a.withPassword(t, a.tech, goodPW)
		// Required by role, nothing set up: the code by e-mail.
		if p := mustPending(t, a, u); strings.Join(p.Methods, ",") != "email" {
			t.Fatalf("required by role: %v", p.Methods)
		}
		secret, url, err := a.svc.BeginTOTP(ctx, u)
		if err != nil || !strings.HasPrefix(url, "otpauth://totp/") || !strings.Contains(url, "secret="+secret) {
			t.Fatalf("begin: %q %q %v", secret, url, err)
		}
		if st2, _ := a.svc.TwoFactor(ctx, u); st2.TOTP || !st2.Required {
			t.Fatalf("pending secret counted as set up: %+v", st2)
		}
		if _, err := a.svc.EnableTOTP(ctx, u, "123"); !errors.Is(err, ticketing.ErrBadCode) {
			t.Fatalf("wrong code: %v", err)
		}
		codes, err := a.svc.EnableTOTP(ctx, u, totpCode(t, secret, a.now))
		if err != nil || len(codes) != 10 {
			t.Fatalf("enable: %v %v", codes, err)
		}
		if s, _ := a.svc.TwoFactor(ctx, u); !s.TOTP || s.RecoveryLeft != 10 {
			t.Fatalf("state %+v", s)
		}
		// The database holds the secret sealed, never as the app's base32.
		if stored, err := st.R().User(ctx, store.AllCompanies(), u.ID); err != nil || stored.TOTPSecret == secret ||
			!strings.HasPrefix(stored.TOTPSecret, "v1.") || strings.Contains(stored.TOTPSecret, secret) {
			t.Fatalf("stored TOTP secret not sealed: %q %v", stored.TOTPSecret, err)
		}
		p := mustPending(t, a, u)
		if strings.Join(p.Methods, ",") != "totp,recovery" {
			t.Fatalf("methods %v", p.Methods)
		}
		// The step used to enable cannot sign in (replay), the next one can.
		if _, err := a.svc.VerifySecondFactor(ctx, p.Token, "totp", totpCode(t, secret, a.now), browser); !errors.Is(err, ticketing.ErrBadCode) {
			t.Fatalf("replayed step: %v", err)
		}
		a.tick(30 * time.Second)
		if _, err := a.svc.VerifySecondFactor(ctx, p.Token, "totp", totpCode(t, secret, a.now.Add(30*time.Second)), browser); err != nil {
			t.Fatalf("next step (skew 1): %v", err)
		}
		p = mustPending(t, a, u)
		if _, err := a.svc.VerifySecondFactor(ctx, p.Token, "totp", totpCode(t, secret, a.now.Add(90*time.Second)), browser); !errors.Is(err, ticketing.ErrBadCode) {
			t.Fatalf("three steps ahead: %v", err)
		}
		if _, err := a.svc.VerifySecondFactor(ctx, p.Token, "email", "123456", browser); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("a method not offered: %v", err)
		}
		if _, err := a.svc.VerifySecondFactor(ctx, p.Token, "recovery", " "+strings.ToUpper(codes[0])+" ", browser); err != nil {
			t.Fatalf("recovery code: %v", err)
		}
		p = mustPending(t, a, u)
		if _, err := a.svc.VerifySecondFactor(ctx, p.Token, "recovery", codes[0], browser); !errors.Is(err, ticketing.ErrBadCode) {
			t.Fatalf("recovery code used twice: %v", err)
		}
		if s, _ := a.svc.TwoFactor(ctx, u); s.RecoveryLeft != 9 {
			t.Fatalf("left %d", s.RecoveryLeft)
		}
		if _, err := a.svc.RegenerateRecoveryCodes(ctx, u, "wrong"); !errors.Is(err, ticketing.ErrBadLogin) {
			t.Fatalf("regenerate with a wrong password: %v", err)
		}
		fresh, err := a.svc.RegenerateRecoveryCodes(ctx, u, goodPW)
		if err != nil || len(fresh) != 10 {
			t.Fatal(err)
		}
		if _, err := a.svc.VerifySecondFactor(ctx, p.Token, "recovery", codes[1], browser); !errors.Is(err, ticketing.ErrBadCode) {
			t.Fatalf("an old recovery code after regenerating: %v", err)
		}
		if err := a.svc.DisableTOTP(ctx, u, goodPW); err != nil {
			t.Fatal(err)
		}
		if s, _ := a.svc.TwoFactor(ctx, u); s.TOTP || s.RecoveryLeft != 0 {
			t.Fatalf("after disable %+v", s)
		}
		acts := strings.Join(auditActions(t, st, u), ",")
		if !strings.Contains(acts, "2fa_enable") || !strings.Contains(acts, "2fa_disable") {
			t.Fatalf("audit %s", acts)
		}
	})
}

func TestSessionLifetimeIdleAndTouch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := newAcct(t, st, ticketing.AccountConfig{SessionLifetime: 8 * time.Hour, IdleTimeout: 2 * time.Hour, RememberLifetime: 720 * time.Hour})
		u := a.withPassword(t, a.client, goodPW)
		s, err := a.svc.Login(ctx, u.Email, goodPW, false, browser)
		if err != nil || !s.ExpiresAt.Equal(a.now.Add(8*time.Hour)) {
			t.Fatalf("%+v %v", s, err)
		}
		start := a.now
		a.tick(30 * time.Second)
		got, err := a.svc.Session(ctx, s.Token, browser)
		if err != nil || !got.LastUsedAt.Equal(start) || got.Token != "" || got.CSRF != s.CSRF {
			t.Fatalf("within a minute: %+v %v", got, err)
		}
		a.tick(31 * time.Second)
		if got, _ = a.svc.Session(ctx, s.Token, browser); !got.LastUsedAt.Equal(a.now) {
			t.Fatalf("after a minute last used %v, want %v", got.LastUsedAt, a.now)
		}
		// Used every 100 minutes it never idles out, but ends at 8 h.
		for a.now.Before(start.Add(8*time.Hour - 100*time.Minute)) {
			a.tick(100 * time.Minute)
			if _, err := a.svc.Session(ctx, s.Token, browser); err != nil {
				t.Fatalf("at %v: %v", a.now.Sub(start), err)
			}
		}
		a.now = start.Add(8 * time.Hour)
		if _, err := a.svc.Session(ctx, s.Token, browser); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("at 8 h: %v", err)
		}
		// Idle for more than 2 h ends a session that is not remembered.
		s2, _ := a.svc.Login(ctx, u.Email, goodPW, false, browser)
		r, _ := a.svc.Login(ctx, u.Email, goodPW, true, browser)
		a.tick(2*time.Hour + time.Second)
		if _, err := a.svc.Session(ctx, s2.Token, browser); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("idle: %v", err)
		}
		if _, err := a.svc.Session(ctx, r.Token, browser); err != nil {
			t.Fatalf("remembered, idle: %v", err)
		}
		if !r.ExpiresAt.Equal(a.now.Add(-2*time.Hour - time.Second).Add(720 * time.Hour)) {
			t.Fatalf("remembered expires %v", r.ExpiresAt)
		}
		// Logout ends it on the server; a disabled user has no session.
		if err := a.svc.Logout(ctx, r.Token); err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.Session(ctx, r.Token, browser); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("after logout: %v", err)
		}
		s3, _ := a.svc.Login(ctx, u.Email, goodPW, false, browser)
		if _, err := a.svc.UpdateUser(ctx, a.admin, u.Email, func(u *store.User) error { u.Disabled = true; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.Session(ctx, s3.Token, browser); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("disabled: %v", err)
		}
		if _, err := a.svc.Session(ctx, "not a token", browser); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("unknown: %v", err)
		}
	})
}

func TestSessionsListEndAndLogoutAll(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := newAcct(t, st, ticketing.AccountConfig{})
		u := a.withPassword(t, a.client, goodPW)
		s1, _ := a.svc.Login(ctx, u.Email, goodPW, false, browser)
		s2, _ := a.svc.Login(ctx, u.Email, goodPW, false, ticketing.Client{IP: netip.MustParseAddr("2001:db8::1"), UserAgent: "Safari"})
		list, err := a.svc.Sessions(ctx, u, u.Email)
		if err != nil || len(list) != 2 || list[0].Token != "" {
			t.Fatalf("own list: %+v %v", list, err)
		}
		if _, err := a.svc.Sessions(ctx, a.colleague, u.Email); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("a colleague lists: %v", err)
		}
		if err := a.svc.EndSession(ctx, a.colleague, s1.ID); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("a colleague ends: %v", err)
		}
		if err := a.svc.EndSession(ctx, u, s1.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.Session(ctx, s1.Token, browser); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("ended: %v", err)
		}
		n, err := a.svc.LogoutAll(ctx, a.admin, u.Email)
		if err != nil || n != 1 {
			t.Fatalf("logout-all: %d %v", n, err)
		}
		if _, err := a.svc.Session(ctx, s2.Token, browser); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("after logout-all: %v", err)
		}
	})
}

func TestIPAllowed(t *testing.T) {
	c := &store.Company{AllowedIPs: []string{"198.51.100.7", "10.0.0.0/8", "2001:db8:1::/48", "bad rule", "192.168.1.77/24"}}
	for _, tc := range []struct {
		company *store.Company
		ip      string
		want    bool
	}{
		{nil, "203.0.113.1", true},
		{&store.Company{}, "203.0.113.1", true},
		{&store.Company{}, "", true},
		{c, "198.51.100.7", true},
		{c, "198.51.100.8", false},
		{c, "10.200.3.4", true},
		{c, "::ffff:10.1.1.1", true}, // IPv4 in IPv6
		{c, "11.0.0.1", false},
		{c, "2001:db8:1:2::5", true},
		{c, "2001:db8:2::5", false},
		{c, "192.168.1.3", true}, // host bits of a rule ignored
		{c, "", false},           // no client address: refused when there is a list
	} {
		var ip netip.Addr
		if tc.ip != "" {
			ip = netip.MustParseAddr(tc.ip)
		}
		if got := ticketing.IPAllowed(tc.company, ip); got != tc.want {
			t.Errorf("%v %q: %v, want %v", tc.company, tc.ip, got, tc.want)
		}
	}
}

func TestIPAllowListAtLoginAndEveryRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := newAcct(t, st, ticketing.AccountConfig{})
		u := a.withPassword(t, a.client, goodPW)
		if _, err := a.svc.UpdateCompany(ctx, a.admin, "Acme", func(in *ticketing.CompanyInput) { in.AllowedIPs = []string{"10.0.0.0/8"} }); err != nil {
			t.Fatal(err)
		}
		inside := ticketing.Client{IP: netip.MustParseAddr("10.1.2.3"), UserAgent: "Firefox"}
		outside := ticketing.Client{IP: netip.MustParseAddr("192.0.2.1"), UserAgent: "Firefox"}
		if _, err := a.svc.Login(ctx, u.Email, "wrong", false, outside); !errors.Is(err, ticketing.ErrBadLogin) {
			t.Fatalf("wrong password outside: %v", err)
		}
		if _, err := a.svc.Login(ctx, u.Email, goodPW, false, outside); !errors.Is(err, ticketing.ErrIPNotAllowed) {
			t.Fatalf("right password outside: %v", err)
		}
		s, err := a.svc.Login(ctx, u.Email, goodPW, false, inside)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.Session(ctx, s.Token, outside); !errors.Is(err, ticketing.ErrIPNotAllowed) {
			t.Fatalf("request from outside: %v", err)
		}
		if _, err := a.svc.Session(ctx, s.Token, inside); err != nil {
			t.Fatalf("request from inside: %v", err)
		}
		// Staff without a company are not held to any list.
		ad := a.withPassword(t, a.admin, goodPW)
		if _, err := a.svc.Login(ctx, ad.Email, goodPW, false, outside); err != nil {
			t.Fatalf("staff: %v", err)
		}
	})
}

func TestRegistration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := newAcct(t, st, ticketing.AccountConfig{})
		mail, err := a.svc.CreateCompany(ctx, a.admin, ticketing.CompanyInput{Name: "Freelas", Domains: []string{"gmail.example"}, AcceptAnyDomain: true})
		if err != nil {
			t.Fatal(err)
		}
		_ = a.withPassword(t, a.client, goodPW)
		reg := func(email, invite string, consent *int64) error {
			return a.svc.Register(ctx, ticketing.RegisterInput{Email: email, Name: "Nova Pessoa", Password: goodPW, Invite: invite, ConsentRevisionID: consent}, browser)
		}
		for _, c := range []struct {
			name, email string
			want        error
		}{
			{"unknown domain", "x@nowhere.example", ticketing.ErrInvalid},
			{"accept-any needs an invitation", "x@gmail.example", ticketing.ErrInvalid},
			{"bad address", "not an address", ticketing.ErrInvalid},
		} {
			if err := reg(c.email, "", nil); !errors.Is(err, c.want) {
				t.Errorf("%s: %v", c.name, err)
			}
		}
		if err := a.svc.Register(ctx, ticketing.RegisterInput{Email: "new@acme.example", Name: "N", Password: "senha123"}, browser); !errors.Is(err, ticketing.ErrWeakPassword) {
			t.Fatalf("weak: %v", err)
		}
		// An address with an account: the same answer, a notice to its owner.
		if err := reg("maria@acme.example", "", nil); err != nil {
			t.Fatalf("existing: %v", err)
		}
		if m := a.lastMail(t, ticketing.AccountRegisterExists); m.To != "maria@acme.example" {
			t.Fatalf("notice %+v", m)
		}
		// By domain.
		if err := reg("Nova@Acme.example", "", nil); err != nil {
			t.Fatal(err)
		}
		n := a.user(t, "nova@acme.example")
		if n.ConfirmedAt != nil || n.CompanyIDValue() != a.acme.ID || n.Role != store.RoleClient {
			t.Fatalf("registered %+v", n)
		}
		if _, err := a.svc.Login(ctx, n.Email, goodPW, false, browser); !errors.Is(err, ticketing.ErrUnconfirmed) {
			t.Fatalf("before confirming: %v", err)
		}
		conf := a.lastMail(t, ticketing.AccountConfirm)
		if conf.To != n.Email || !conf.Expires.Equal(a.now.Add(24*time.Hour)) {
			t.Fatalf("confirm mail %+v", conf)
		}
		if err := a.svc.ResetPassword(ctx, conf.Token, "a passphrase by confirm", browser); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("a confirm token as reset token: %v", err)
		}
		if u, err := a.svc.Confirm(ctx, conf.Token); err != nil || u.ConfirmedAt == nil {
			t.Fatalf("confirm: %v", err)
		}
		if _, err := a.svc.Confirm(ctx, conf.Token); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("confirm twice: %v", err)
		}
		if _, err := a.svc.Login(ctx, n.Email, goodPW, false, browser); err != nil {
			t.Fatalf("after confirming: %v", err)
		}
		// By invitation, into the company that accepts any domain, with consent.
		if _, err := a.svc.UpdateCompany(ctx, a.admin, "Freelas", func(in *ticketing.CompanyInput) { in.ConsentRequired = true }); err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.CreateInvite(ctx, a.client, "Freelas", "", 0); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("a client invites: %v", err)
		}
		inv, err := a.svc.CreateInvite(ctx, a.admin, "Freelas", "ze@gmail.example", 0)
		if err != nil {
			t.Fatal(err)
		}
		if m := a.lastMail(t, ticketing.AccountInvite); m.Token != inv || m.To != "ze@gmail.example" || m.Company.ID != mail.ID {
			t.Fatalf("invite mail %+v", m)
		}
		c, rev, err := a.svc.RegistrationNeeds(ctx, "", inv)
		if err != nil || c.ID != mail.ID || rev == nil {
			t.Fatalf("needs: %+v %+v %v", c, rev, err)
		}
		if err := reg("other@gmail.example", inv, &rev.ID); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("invitation for another address: %v", err)
		}
		if err := reg("ze@gmail.example", inv, nil); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("without consent: %v", err)
		}
		if err := reg("ze@gmail.example", inv, &rev.ID); err != nil {
			t.Fatal(err)
		}
		ze := a.user(t, "ze@gmail.example")
		if ok, err := st.R().HasConsent(ctx, ze.ID, rev.ID); err != nil || !ok || ze.CompanyIDValue() != mail.ID {
			t.Fatalf("consent row %v %v, company %d", ok, err, ze.CompanyIDValue())
		}
		if err := reg("ze2@gmail.example", inv, &rev.ID); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("invitation used twice: %v", err)
		}
		if !strings.Contains(strings.Join(auditActions(t, st, ze), ","), "register") {
			t.Fatal("no register audit row")
		}
		a.tick(8 * 24 * time.Hour)
		late, _ := a.svc.CreateInvite(ctx, a.admin, "Freelas", "", time.Hour)
		a.tick(time.Hour)
		if _, _, err := a.svc.RegistrationNeeds(ctx, "", late); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("expired invitation: %v", err)
		}
	})
}

func TestSignInLinkAndNewDevice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := newAcct(t, st, ticketing.AccountConfig{})
		// The colleague was created by mail: no password, not confirmed.
		if err := a.svc.SendSignInLink(ctx, "nobody@acme.example", browser); err != nil || len(a.mails) != 0 {
			t.Fatalf("unknown address: %v, %d mails", err, len(a.mails))
		}
		if err := a.svc.SendSignInLink(ctx, a.colleague.Email, browser); err != nil {
			t.Fatal(err)
		}
		m := a.lastMail(t, ticketing.AccountSignInLink)
		if !m.Expires.Equal(a.now.Add(15 * time.Minute)) {
			t.Fatalf("link mail %+v", m)
		}
		s, err := a.svc.SignInWithLink(ctx, m.Token, false, browser)
		if err != nil || s.Stage != store.StageFull || s.User.ConfirmedAt == nil {
			t.Fatalf("link: %+v %v", s, err)
		}
		if _, err := a.svc.SignInWithLink(ctx, m.Token, false, browser); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("link twice: %v", err)
		}
		if a.countMails(ticketing.AccountNewDevice) != 0 {
			t.Fatal("the first device ever was announced")
		}
		u := a.withPassword(t, a.colleague, goodPW)
		if _, err := a.svc.Login(ctx, u.Email, goodPW, false, browser); err != nil || a.countMails(ticketing.AccountNewDevice) != 0 {
			t.Fatalf("same device: %v, %d", err, a.countMails(ticketing.AccountNewDevice))
		}
		other := ticketing.Client{IP: netip.MustParseAddr("198.51.100.9"), UserAgent: "Chrome/150"}
		if _, err := a.svc.Login(ctx, u.Email, goodPW, false, other); err != nil {
			t.Fatal(err)
		}
		if m := a.lastMail(t, ticketing.AccountNewDevice); m.Client != other || m.To != u.Email {
			t.Fatalf("new device %+v", m)
		}
		a.tick(20 * time.Minute)
		_ = a.svc.SendSignInLink(ctx, u.Email, browser)
		late := a.lastMail(t, ticketing.AccountSignInLink)
		a.tick(15 * time.Minute)
		if _, err := a.svc.SignInWithLink(ctx, late.Token, false, browser); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("expired link: %v", err)
		}
	})
}

func TestPasskeyStorageAndLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := newAcct(t, st, ticketing.AccountConfig{})
		u := a.withPassword(t, a.client, goodPW)
		h1, creds, err := a.svc.PasskeyUser(ctx, u.ID)
		if err != nil || len(h1) != 32 || len(creds) != 0 {
			t.Fatalf("%x %v %v", h1, creds, err)
		}
		if h2, _, _ := a.svc.PasskeyUser(ctx, u.ID); string(h2) != string(h1) {
			t.Fatal("the handle changed")
		}
		se, err := a.svc.Login(ctx, u.Email, goodPW, false, browser)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.svc.AddPasskey(ctx, u, se.ID, "Laptop", []byte("cred-1"), []byte(`{"n":0}`)); err != nil {
			t.Fatal(err)
		}
		col := a.withPassword(t, a.colleague, goodPW)
		cse, err := a.svc.Login(ctx, col.Email, goodPW, false, browser)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.svc.AddPasskey(ctx, col, cse.ID, "x", []byte("cred-1"), []byte(`{}`)); !errors.Is(err, ticketing.ErrConflict) {
			t.Fatalf("a credential twice: %v", err)
		}
		who, creds, err := a.svc.PasskeyUserByHandle(ctx, h1)
		if err != nil || who.ID != u.ID || len(creds) != 1 || creds[0].Name != "Laptop" {
			t.Fatalf("by handle: %v %+v %v", who, creds, err)
		}
		s, err := a.svc.PasskeyLogin(ctx, []byte("cred-1"), []byte(`{"n":1}`), "", false, browser)
		if err != nil || s.Stage != store.StageFull {
			t.Fatalf("passwordless: %+v %v", s, err)
		}
		if _, creds, _ = a.svc.PasskeyUser(ctx, u.ID); string(creds[0].Data) != `{"n":1}` || creds[0].LastUsedAt.IsZero() {
			t.Fatalf("use not saved: %+v", creds[0])
		}
		if _, err := a.svc.PasskeyLogin(ctx, []byte("nope"), nil, "", false, browser); !errors.Is(err, ticketing.ErrBadLogin) {
			t.Fatalf("unknown credential: %v", err)
		}
		// As the second factor.
		if err := a.svc.SetEmailOTP(ctx, u, true, ""); err != nil {
			t.Fatal(err)
		}
		p := mustPending(t, a, u)
		if strings.Join(p.Methods, ",") != "passkey,email" {
			t.Fatalf("methods %v", p.Methods)
		}
		full, err := a.svc.PasskeyLogin(ctx, []byte("cred-1"), nil, p.Token, false, browser)
		if err != nil || full.Stage != store.StageFull || full.Token == p.Token {
			t.Fatalf("second factor: %+v %v", full, err)
		}
		if err := a.svc.RemovePasskey(ctx, a.colleague, creds[0].ID); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("someone else's passkey: %v", err)
		}
		if err := a.svc.RemovePasskey(ctx, u, creds[0].ID); err != nil {
			t.Fatal(err)
		}
		acts := strings.Join(auditActions(t, st, u), ",")
		if !strings.Contains(acts, "passkey_add") || !strings.Contains(acts, "passkey_remove") {
			t.Fatalf("audit %s", acts)
		}
	})
}

func TestNoSecretsInAuditRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := newAcct(t, st, ticketing.AccountConfig{})
		u := a.withPassword(t, a.client, goodPW)
		_, _ = a.svc.Login(ctx, u.Email, "wrong guess pw", false, browser)
		s, _ := a.svc.Login(ctx, u.Email, goodPW, false, browser)
		_ = a.svc.Forgot(ctx, u.Email, browser)
		reset := a.lastMail(t, ticketing.AccountReset).Token
		_ = a.svc.ResetPassword(ctx, reset, "brand new passphrase", browser)
		es, err := st.R().AuditList(ctx, store.AuditFilter{Entity: "user"})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			for _, secret := range []string{goodPW, "wrong guess pw", "brand new passphrase", s.Token, s.CSRF, reset, "$argon2id"} {
				if strings.Contains(e.Before+e.After, secret) {
					t.Fatalf("audit row %s %s holds a secret: %s %s", e.Entity, e.Action, e.Before, e.After)
				}
			}
		}
	})
}
