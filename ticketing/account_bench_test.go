package ticketing_test

import (
	"context"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// BenchmarkLogin is a password sign-in: argon2id (64 MiB) dominates.
func BenchmarkLogin(b *testing.B) {
	for _, driver := range []string{store.SQLite, store.Postgres} {
		b.Run(driver, func(b *testing.B) {
			a := newAcct(b, storetest.Open(b, driver), ticketing.AccountConfig{})
			u := a.withPassword(b, a.client, goodPW)
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				if _, err := a.svc.Login(ctx, u.Email, goodPW, false, browser); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSession is the lookup every portal request makes.
func BenchmarkSession(b *testing.B) {
	for _, driver := range []string{store.SQLite, store.Postgres} {
		b.Run(driver, func(b *testing.B) {
			a := newAcct(b, storetest.Open(b, driver), ticketing.AccountConfig{})
			u := a.withPassword(b, a.client, goodPW)
			ctx := context.Background()
			s, err := a.svc.Login(ctx, u.Email, goodPW, false, browser)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := a.svc.Session(ctx, s.Token, browser); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
