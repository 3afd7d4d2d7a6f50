package ticketing_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// parallel runs f n times at once and returns the errors.
func parallel(n int, f func() error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = f()
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// Guesses sent at once must not each find the attempt count still low: at
// most five codes of a pending sign-in are ever checked.
func TestSecondFactorAttemptsHoldUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := newAcct(t, st, ticketing.AccountConfig{})
		u := a.withPassword(t, a.client, goodPW)
		if _, err := a.svc.UpdateUser(ctx, a.admin, u.Email, func(u *store.User) error { u.Require2FA = true; return nil }); err != nil {
			t.Fatal(err)
		}
		p := mustPending(t, a, u)
		wrong := "000000"
		if a.lastMail(t, ticketing.AccountLoginCode).Code == wrong {
			wrong = "111111"
		}
		judged := 0
		for _, err := range parallel(30, func() error {
			_, err := a.svc.VerifySecondFactor(ctx, p.Token, "email", wrong, browser)
			return err
		}) {
			switch {
			case errors.Is(err, ticketing.ErrBadCode), errors.Is(err, ticketing.ErrRateLimited):
				judged++
			case errors.Is(err, ticketing.ErrBadToken):
			default:
				t.Fatalf("unexpected: %v", err)
			}
		}
		if judged > 5 {
			t.Fatalf("%d codes were checked for one pending sign-in, want at most 5", judged)
		}
	})
}

// Wrong passwords sent at once all count: the account locks after five,
// and no attempt reads a count another one is changing.
func TestLockoutHoldsUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := newAcct(t, st, ticketing.AccountConfig{HashConcurrency: 16})
		u := a.withPassword(t, a.client, goodPW)
		for _, err := range parallel(16, func() error {
			_, err := a.svc.Login(ctx, u.Email, "wrong password!", false, browser)
			return err
		}) {
			if !errors.Is(err, ticketing.ErrBadLogin) {
				t.Fatalf("unexpected: %v", err)
			}
		}
		es, err := st.R().AuditLog(ctx, "user", u.ID)
		if err != nil {
			t.Fatal(err)
		}
		wrong, lockouts := 0, 0
		for _, e := range es {
			switch {
			case e.Action == "lockout":
				lockouts++
			case strings.Contains(e.After, "wrong password"):
				wrong++
			}
		}
		if wrong != 4 || lockouts != 1 {
			t.Fatalf("%d wrong passwords counted before %d lockouts, want 4 and 1", wrong, lockouts)
		}
	})
}

// Someone who knows the password must not get five more code guesses with
// every new sign-in: wrong second-factor codes count toward the lockout
// like wrong passwords.
func TestWrongCodesCountTowardTheLockout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := newAcct(t, st, ticketing.AccountConfig{})
		u := a.withPassword(t, a.client, goodPW)
		if _, err := a.svc.UpdateUser(ctx, a.admin, u.Email, func(u *store.User) error { u.Require2FA = true; return nil }); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			p := mustPending(t, a, u)
			_, err := a.svc.VerifySecondFactor(ctx, p.Token, "email", "99999", browser) // never a right code
			if i < 4 && !errors.Is(err, ticketing.ErrBadCode) {
				t.Fatalf("wrong code %d: %v", i+1, err)
			}
			if i == 4 && !errors.Is(err, ticketing.ErrRateLimited) {
				t.Fatalf("fifth wrong code: %v", err)
			}
		}
		if _, err := a.svc.Login(ctx, u.Email, goodPW, false, browser); !errors.Is(err, ticketing.ErrBadLogin) {
			t.Fatalf("the right password after five wrong codes: %v, want the lockout", err)
		}
		a.tick(15 * time.Minute)
		p := mustPending(t, a, u)
		a.tick(time.Minute)
		if err := a.svc.SendLoginCode(ctx, p.Token); err != nil {
			t.Fatal(err)
		}
		full, err := a.svc.VerifySecondFactor(ctx, p.Token, "email", a.lastMail(t, ticketing.AccountLoginCode).Code, browser)
		if err != nil || full.Stage != store.StageFull {
			t.Fatalf("after the lock: %+v %v", full, err)
		}
		if got := a.user(t, u.Email); got.FailedLogins != 0 || got.LockedUntil != nil {
			t.Fatalf("a full sign-in left %d failures, locked until %v", got.FailedLogins, got.LockedUntil)
		}
	})
}
