package ticketing_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestEmitAccount: an account mail reaches the hooks inside the
// transaction (a hook error rolls it back) and the listeners after the
// commit, as an EventAccount without a ticket that Notices ignores.
func TestEmitAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var inTx, told []ticketing.Event
		var notices int
		fail := false
		svc := ticketing.NewService(st,
			ticketing.WithTxHook(func(ctx context.Context, tx *ticketing.Tx, ev ticketing.Event) error {
				ns, err := tx.Notices(ctx, ev, ticketing.NotifyConfig{NotifyTo: []string{"all@helpdesk.example"}})
				notices += len(ns)
				inTx = append(inTx, ev)
				if fail {
					return errors.New("hook failed")
				}
				return err
			}),
			ticketing.WithListener(func(ev ticketing.Event) { told = append(told, ev) }))
		m := &ticketing.AccountMail{Kind: ticketing.AccountReset, To: "ana@acme.example", Token: "t"}
		emit := func() error {
			return svc.TxWith(ctx, func(tx *ticketing.Tx) error { tx.EmitAccount(m); return nil })
		}
		if err := emit(); err != nil {
			t.Fatal(err)
		}
		if len(inTx) != 1 || inTx[0].Kind != ticketing.EventAccount || inTx[0].Account != m || inTx[0].Ticket != nil {
			t.Fatalf("hooks saw %+v", inTx)
		}
		if len(told) != 1 || told[0].Account != m || notices != 0 {
			t.Fatalf("listeners told %d times, %d ticket notices", len(told), notices)
		}
		fail = true
		if err := emit(); err == nil {
			t.Fatal("a failing hook did not fail the transaction")
		}
		if len(told) != 1 {
			t.Error("listeners told about a rolled-back mail")
		}
	})
}
