package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// BenchmarkLoginPost is one sign-in through the form: CSRF check, the
// argon2id verification, the session row and the redirect.
//
//	go test ./web -run '^$' -bench LoginPost -benchtime 50x
//
// (set SERVICEDESK_TEST_POSTGRES_URL for the PostgreSQL half).
func BenchmarkLoginPost(b *testing.B) {
	for _, d := range []string{store.SQLite, store.Postgres} {
		b.Run(d, func(b *testing.B) {
			st := storetest.Open(b, d)
			aw := newAuthWorld(b, st, func(c *configs.Config) { c.Security.LoginRatePerIP = 0 })
			br := aw.browser()
			br.get("/login")
			form := url.Values{"csrf_token": {br.csrf}, "email": {"maria@acme.example"}, "password": {testPassword}}.Encode()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				delete(br.cookies, sessionCookie)
				res := br.do("POST", "/login", strings.NewReader(form), "application/x-www-form-urlencoded")
				if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/dashboard" {
					b.Fatalf("login: %d %s", res.StatusCode, res.Header.Get("Location"))
				}
			}
		})
	}
}
