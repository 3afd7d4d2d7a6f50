package store_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// postgresMigrations counts the PostgreSQL migration files: a fresh
// schema applies each once.
func postgresMigrations(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir("migrations/postgres")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if strings.HasSuffix(e.Name(), ".up.sql") {
			n++
		}
	}
	return n
}

// The schema, not only the service, keeps one version per series and one
// published revision per series, with the global revisions a series of
// their own.
func TestRevisionConstraints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		err := s.InTx(ctx, func(q *store.Q) error {
			c := &store.Company{Name: "Acme"}
			if err := q.CreateCompany(ctx, c); err != nil {
				return err
			}
			g, err := q.PublishedRevision(ctx, 0)
			if err != nil {
				t.Fatalf("seeded global revision: %v", err)
			}
			if v, _ := q.NextRevisionVersion(ctx, 0); v != "2" {
				t.Fatalf("next global version %q", v)
			}
			if v, _ := q.NextRevisionVersion(ctx, c.ID); v != "1" {
				t.Fatalf("next acme version %q", v)
			}
			cid := c.ID
			a1 := &store.LGPDRevision{CompanyID: &cid, Version: "1", Title: "t", Body: "b"}
			if err := q.CreateRevision(ctx, a1); err != nil {
				t.Fatalf("acme v1 beside global v1: %v", err)
			}
			err = q.Savepoint(ctx, "dup", func() error {
				return q.CreateRevision(ctx, &store.LGPDRevision{CompanyID: &cid, Version: "1", Title: "t", Body: "b"})
			})
			if !errors.Is(err, store.ErrConflict) {
				t.Fatalf("second acme v1: %v", err)
			}
			err = q.Savepoint(ctx, "dupg", func() error {
				return q.CreateRevision(ctx, &store.LGPDRevision{Version: g.Version, Title: "t", Body: "b"})
			})
			if !errors.Is(err, store.ErrConflict) {
				t.Fatalf("second global v1: %v", err)
			}
			// Two published rows in one series: the partial index refuses.
			err = q.Savepoint(ctx, "twopub", func() error {
				return q.CreateRevision(ctx, &store.LGPDRevision{Version: "9", Title: "t", Body: "b", Status: store.RevisionPublished})
			})
			if !errors.Is(err, store.ErrConflict) {
				t.Fatalf("second published global: %v", err)
			}
			prev, err := q.PublishRevision(ctx, a1, nil, g.CreatedAt)
			if err != nil || prev != nil {
				t.Fatalf("publish acme v1: %v %v", prev, err)
			}
			if cur, _ := q.PublishedRevision(ctx, 0); cur.ID != g.ID {
				t.Fatal("publishing acme's policy touched the global one")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
