package web

import (
	"net/http/httptest"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// BenchmarkDashboard is a signed-in page through the whole handler:
// middleware, session lookup (a database read), the consent check,
// template render and gzip.
func BenchmarkDashboard(b *testing.B) {
	for _, driver := range []string{store.SQLite, store.Postgres} {
		b.Run(driver, func(b *testing.B) {
			w := newWorld(b, storetest.Open(b, driver))
			for _, name := range []string{"staff", "requester"} {
				b.Run(name, func(b *testing.B) {
					cookie := w.signIn(w.tech)
					if name == "requester" {
						cookie = w.signIn(w.client)
						// Accept the policy so the page renders instead of redirecting.
						rev, err := w.svc.CurrentRevision(b.Context(), w.acme.ID)
						if err != nil {
							b.Fatal(err)
						}
						if _, err := w.svc.Accept(b.Context(), w.client, rev.ID, "", store.ChannelWeb); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportAllocs()
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							r := httptest.NewRequest("GET", "/dashboard", nil)
							r.Header.Set("Accept-Encoding", "gzip")
							r.AddCookie(cookie)
							rec := httptest.NewRecorder()
							w.h.ServeHTTP(rec, r)
							if rec.Code != 200 {
								b.Fatalf("status %d", rec.Code)
							}
						}
					})
				})
			}
		})
	}
}
