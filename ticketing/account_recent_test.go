package ticketing_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestAddPasskeyNeedsRecentAuth: a passkey is added only within
// RecentAuthWindow of signing in or of confirming the password again; a
// session rotation is no new proof; another person's session is none.
func TestAddPasskeyNeedsRecentAuth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := newAcct(t, st, ticketing.AccountConfig{})
		u := a.withPassword(t, a.client, goodPW)
		se, err := a.svc.Login(ctx, u.Email, goodPW, false, browser)
		if err != nil {
			t.Fatal(err)
		}
		add := func(cred string) error {
			return a.svc.AddPasskey(ctx, u, se.ID, "key "+cred, []byte(cred), []byte(`{}`))
		}
		if err := add("fresh"); err != nil {
			t.Fatalf("right after signing in: %v", err)
		}
		a.tick(ticketing.RecentAuthWindow + time.Second)
		if err := add("late"); !errors.Is(err, ticketing.ErrReauth) || !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("long after signing in: %v", err)
		}
		// A new token carries the old proof, not a new one.
		rotated, err := a.svc.RotateSession(ctx, se.Token, browser)
		if err != nil {
			t.Fatal(err)
		}
		se = rotated
		if err := add("rotated"); !errors.Is(err, ticketing.ErrReauth) {
			t.Fatalf("after a rotation: %v", err)
		}
		if err := a.svc.ConfirmIdentity(ctx, u, se.ID, "wrong password"); !errors.Is(err, ticketing.ErrBadLogin) {
			t.Fatalf("wrong password: %v", err)
		}
		if err := add("still"); !errors.Is(err, ticketing.ErrReauth) {
			t.Fatalf("after a wrong password: %v", err)
		}
		if err := a.svc.ConfirmIdentity(ctx, u, se.ID, goodPW); err != nil {
			t.Fatal(err)
		}
		if err := add("confirmed"); err != nil {
			t.Fatalf("after confirming: %v", err)
		}
		// Someone else's fresh session proves nothing about u.
		col := a.withPassword(t, a.colleague, goodPW)
		other, err := a.svc.Login(ctx, col.Email, goodPW, false, browser)
		if err != nil {
			t.Fatal(err)
		}
		a.tick(ticketing.RecentAuthWindow + time.Second)
		if err := a.svc.AddPasskey(ctx, u, other.ID, "x", []byte("borrowed"), []byte(`{}`)); !errors.Is(err, ticketing.ErrReauth) {
			t.Fatalf("another person's session: %v", err)
		}
		if err := a.svc.ConfirmIdentity(ctx, u, other.ID, goodPW); !errors.Is(err, ticketing.ErrReauth) {
			t.Fatalf("confirming on another person's session: %v", err)
		}
		_, creds, err := a.svc.PasskeyUser(ctx, u.ID)
		if err != nil || len(creds) != 2 {
			t.Fatalf("%d passkeys, want 2 (fresh, confirmed): %v", len(creds), err)
		}
	})
}

// TestPasswordResetRemovesPasskeysAndSessions: whoever held the account
// before a reset keeps no way in.
func TestPasswordResetRemovesPasskeysAndSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := newAcct(t, st, ticketing.AccountConfig{})
		u := a.withPassword(t, a.client, goodPW)
		se, err := a.svc.Login(ctx, u.Email, goodPW, false, browser)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.svc.AddPasskey(ctx, u, se.ID, "intruder", []byte("cred-x"), []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		if err := a.svc.Forgot(ctx, u.Email, browser); err != nil {
			t.Fatal(err)
		}
		if err := a.svc.ResetPassword(ctx, a.lastMail(t, ticketing.AccountReset).Token, "a brand new passphrase", browser); err != nil {
			t.Fatal(err)
		}
		if _, creds, err := a.svc.PasskeyUser(ctx, u.ID); err != nil || len(creds) != 0 {
			t.Fatalf("passkeys after the reset: %+v %v", creds, err)
		}
		if _, err := a.svc.Session(ctx, se.Token, browser); err == nil {
			t.Fatal("the old session still works")
		}
		if _, err := a.svc.PasskeyLogin(ctx, []byte("cred-x"), []byte(`{}`), "", false, browser); !errors.Is(err, ticketing.ErrBadLogin) {
			t.Fatalf("the removed passkey signs in: %v", err)
		}
	})
}

// TestEmailCodeOffNeedsPassword: turning the e-mail code on is free,
// turning it off asks for the current password.
func TestEmailCodeOffNeedsPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := newAcct(t, st, ticketing.AccountConfig{})
		u := a.withPassword(t, a.client, goodPW)
		for _, tc := range []struct {
			name     string
			on       bool
			password string
			err      error
			want     bool
		}{
			{"on, no password asked", true, "", nil, true},
			{"off without the password", false, "", ticketing.ErrBadLogin, true},
			{"off with a wrong one", false, "nope nope nope", ticketing.ErrBadLogin, true},
			{"off with the password", false, goodPW, nil, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := a.svc.SetEmailOTP(ctx, u, tc.on, tc.password)
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				fresh := a.user(t, u.Email)
				if fresh.EmailOTP != tc.want {
					t.Fatalf("email code on = %v, want %v", fresh.EmailOTP, tc.want)
				}
				a.tick(time.Minute) // failed attempts must not lock the account between cases
			})
		}
	})
}
