package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// BenchmarkMailsForDuplicate times the intake's duplicate check (same
// content hash, or same Message-ID) in a write transaction, where it is a
// prepared statement, over 5,000 ingested messages. The statement is
// first run while the table holds one row, as on a new database: on
// PostgreSQL its connection then keeps the generic plan it made at that
// size (autovacuum, off in CI, would replan it after an ANALYZE), and an
// OR of the two columns was a scan of the whole table for good.
//
//	go test ./store -run '^$' -bench MailsForDuplicate
func BenchmarkMailsForDuplicate(b *testing.B) {
	for _, d := range []string{store.SQLite, store.Postgres} {
		b.Run(d, func(b *testing.B) {
			st := storetest.Open(b, d)
			ctx := context.Background()
			insert := func(from, to int) {
				err := st.InTx(ctx, func(q *store.Q) error {
					for i := from; i < to; i++ {
						m := &store.MailMessage{MessageID: fmt.Sprintf("m%d@bench.example", i), ContentHash: fmt.Sprintf("h%d", i),
							Source: "smtp", FromAddr: "a@bench.example", Subject: "bench", Kind: "human", Action: "ticket",
							RawSize: 3, RawGz: []byte("raw")}
						if err := q.InsertMailMessage(ctx, m); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			check := func(hash, msgID string) {
				err := st.InTx(ctx, func(q *store.Q) error {
					_, err := q.MailsForDuplicate(ctx, hash, msgID)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			insert(0, 1)
			for range 10 { // past the plan cache's five custom plans
				check("nohash", "none@bench.example")
			}
			insert(1, 5000)
			for b.Loop() {
				check("nohash", "m2500@bench.example")
			}
		})
	}
}
