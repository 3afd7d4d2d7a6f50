package outbound_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/compose"
	"github.com/jcservicedesk/servicedesk/mailbox/outbound"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestSLANotices: a warning mails the assignee; a breach mails the
// assignee and the supervisors; the requester hears of neither; a second
// check mails nothing.
func TestSLANotices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		d := newDesk(t, st)
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		c, err := compose.New()
		if err != nil {
			t.Fatal(err)
		}
		ob := outbound.New(outbound.Config{From: compose.Address{Email: "support@helpdesk.example"}, ReplyBase: "support@helpdesk.example",
			PublicURL: "https://helpdesk.example", Secret: secret, LoopValue: "helpdesk.example", Lang: "pt-BR"},
			c, slog.New(slog.NewTextHandler(io.Discard, nil)))
		svc := ticketing.NewService(st, ticketing.WithTxHook(ob.Hook), ticketing.WithClock(func() time.Time { return now }))
		var admin, super, client *store.User
		err = st.InTx(ctx, func(q *store.Q) error {
			acme, err := q.CompanyByName(ctx, "Acme")
			if err != nil {
				return err
			}
			admin = &store.User{Email: "admin@helpdesk.example", Role: store.RoleAdmin, Name: "Admin"}
			super = &store.User{Email: "super@helpdesk.example", Role: store.RoleSupervisor, Name: "Sueli"}
			client = &store.User{Email: "maria@acme.example", Role: store.RoleClient, Name: "Maria", CompanyID: &acme.ID}
			for _, u := range []*store.User{admin, super, client} {
				if err := q.CreateUser(ctx, u); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateSLAPlan(ctx, admin, ticketing.SLAPlanInput{Name: "24x7", Resolution: 2 * time.Hour, Active: true, NotifySupervisors: true}); err != nil {
			t.Fatal(err)
		}
		tk, err := svc.Create(ctx, client, ticketing.CreateInput{Requester: client, Subject: "Sem rede"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Assign(ctx, admin, tk.Number, d.tech); err != nil {
			t.Fatal(err)
		}
		d.take() // the acknowledgement and the assignment

		to := func(ms []*store.OutboxMail, event string) []string {
			var out []string
			for _, m := range ms {
				if m.Event == event {
					out = append(out, m.Recipients)
				}
			}
			return out
		}
		now = now.Add(100 * time.Minute) // past 80 % of two hours
		if _, err := svc.CheckSLA(ctx, admin, ticketing.SLACheckOptions{}); err != nil {
			t.Fatal(err)
		}
		ms := d.take()
		if got := to(ms, "sla_warning"); len(got) != 1 || got[0] != d.tech.Email {
			t.Fatalf("warning mailed to %v, want the assignee only", got)
		}
		now = now.Add(time.Hour)
		if _, err := svc.CheckSLA(ctx, admin, ticketing.SLACheckOptions{}); err != nil {
			t.Fatal(err)
		}
		ms = d.take()
		got := strings.Join(to(ms, "sla_breach"), ",")
		if !strings.Contains(got, d.tech.Email) || !strings.Contains(got, super.Email) || strings.Contains(got, client.Email) {
			t.Fatalf("breach mailed to %q, want the assignee and the supervisor, not the requester", got)
		}
		if len(ms) != 2 {
			t.Fatalf("%d mails after the breach, want 2", len(ms))
		}
		if _, err := svc.CheckSLA(ctx, admin, ticketing.SLACheckOptions{}); err != nil {
			t.Fatal(err)
		}
		if ms := d.take(); len(ms) != 0 {
			t.Fatalf("a second check mailed %d more", len(ms))
		}
	})
}
