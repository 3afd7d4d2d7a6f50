package ticketing_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestNotices checks who is told what, event by event.
func TestNotices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		tk := w.create(t)
		if err := w.svc.AddParticipant(ctx, w.tech, tk.Number, w.colleague); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Assign(ctx, w.tech, tk.Number, w.tech); err != nil {
			t.Fatal(err)
		}
		fresh, err := st.R().TicketByNumber(ctx, store.AllCompanies(), tk.Number, false)
		if err != nil {
			t.Fatal(err)
		}
		notices := func(ev ticketing.Event, cfg ticketing.NotifyConfig) string {
			t.Helper()
			ev.Ticket = fresh
			var got []string
			err := st.InTx(ctx, func(q *store.Q) error {
				_, err := w.svc.Within(ctx, q, func(tx *ticketing.Tx) error {
					ns, err := tx.Notices(ctx, ev, cfg)
					for _, n := range ns {
						got = append(got, n.Kind+":"+n.Address)
					}
					return err
				})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			sort.Strings(got)
			return strings.Join(got, " ")
		}
		public := &store.Comment{Internal: false}
		internal := &store.Comment{Internal: true}
		for _, tc := range []struct {
			name string
			ev   ticketing.Event
			cfg  ticketing.NotifyConfig
			want string
		}{
			{"created: ack to the requester, notify_to told", ticketing.Event{Kind: ticketing.EventCreated, Actor: w.client},
				ticketing.NotifyConfig{NotifyTo: []string{"Equipe@Helpdesk.example"}},
				"created:maria@acme.example new_ticket:equipe@helpdesk.example new_ticket:tech@helpdesk.example"},
			{"automated: nobody", ticketing.Event{Kind: ticketing.EventCreated, Actor: w.client, Automated: true}, ticketing.NotifyConfig{}, ""},
			{"tech comments: requester and follower, not the author", ticketing.Event{Kind: ticketing.EventCommented, Actor: w.tech, Comment: public}, ticketing.NotifyConfig{},
				"commented:joao@acme.example commented:maria@acme.example"},
			{"requester comments: assignee and follower", ticketing.Event{Kind: ticketing.EventCommented, Actor: w.client, Comment: public}, ticketing.NotifyConfig{},
				"commented:joao@acme.example commented:tech@helpdesk.example"},
			{"internal note: staff only", ticketing.Event{Kind: ticketing.EventCommented, Actor: w.superv, Comment: internal}, ticketing.NotifyConfig{},
				"internal_note:tech@helpdesk.example"},
			{"assigned: the assignee", ticketing.Event{Kind: ticketing.EventAssigned, Actor: w.superv, Assignee: w.tech2}, ticketing.NotifyConfig{},
				"assigned:tech2@helpdesk.example"},
			{"self-assigned: nobody", ticketing.Event{Kind: ticketing.EventAssigned, Actor: w.tech, Assignee: w.tech}, ticketing.NotifyConfig{}, ""},
			{"closed: rating to the requester", ticketing.Event{Kind: ticketing.EventClosed, Actor: w.tech}, ticketing.NotifyConfig{},
				"closed:joao@acme.example closed:maria@acme.example"},
			{"participant added: them", ticketing.Event{Kind: ticketing.EventParticipantAdded, Actor: w.tech, User: w.colleague}, ticketing.NotifyConfig{},
				"participant_added:joao@acme.example"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := notices(tc.ev, tc.cfg); got != tc.want {
					t.Fatalf("got  %q\nwant %q", got, tc.want)
				}
			})
		}
		// A bouncing address and a turned-off preference are skipped.
		err = st.InTx(ctx, func(q *store.Q) error {
			if err := q.MarkBouncing(ctx, "joao@acme.example", "5.1.1"); err != nil {
				return err
			}
			u, err := q.UserByEmail(ctx, store.AllCompanies(), "maria@acme.example")
			if err != nil {
				return err
			}
			u.NotifyPrefs = `{"commented": false}`
			return q.UpdateUser(ctx, u)
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := notices(ticketing.Event{Kind: ticketing.EventCommented, Actor: w.tech, Comment: public}, ticketing.NotifyConfig{}); got != "" {
			t.Fatalf("bouncing/opted-out still told: %q", got)
		}
	})
}
