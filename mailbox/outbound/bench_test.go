package outbound_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// BenchmarkNotifyComment measures the notification path of one change that
// emits two events: the requester answers a pending ticket (Commented, and
// StatusChanged to open), which tells the assignee and 8 staff followers.
// Each op is the whole transaction: the comment, its audit rows, the
// notices (recipients, bounce checks, templates) and the queued mails.
func BenchmarkNotifyComment(b *testing.B) {
	for _, driver := range []string{store.SQLite, store.Postgres} {
		b.Run(driver, func(b *testing.B) {
			st := storetest.Open(b, driver)
			ctx := context.Background()
			d := newDesk(b, st)
			var maria *store.User
			var staff []*store.User
			err := st.InTx(ctx, func(q *store.Q) error {
				acme, err := q.CompanyByName(ctx, "Acme")
				if err != nil {
					return err
				}
				maria = &store.User{Email: "maria@acme.example", Role: store.RoleClient, Name: "Maria", CompanyID: &acme.ID}
				if err := q.CreateUser(ctx, maria); err != nil {
					return err
				}
				for i := range 8 {
					u := &store.User{Email: fmt.Sprintf("staff%d@helpdesk.example", i), Role: store.RoleTech, Name: fmt.Sprint("Staff ", i)}
					if err := q.CreateUser(ctx, u); err != nil {
						return err
					}
					staff = append(staff, u)
				}
				// A template override, so its look-up is part of the path.
				return q.SetEmailTemplate(ctx, &store.EmailTemplate{Event: ticketing.NoticeCommented, Language: "pt-BR",
					BodyText: "Nova resposta de {{.ActorName}}:\n\n{{.Comment}}"})
			})
			if err != nil {
				b.Fatal(err)
			}
			// A fresh ticket per op, set up outside the timer: the cost of
			// one change, not of a thread growing with b.N.
			setup := func() int64 {
				tk, err := d.svc.Create(ctx, maria, ticketing.CreateInput{Requester: maria, Subject: "Impressora", Body: "Não imprime.", Source: store.SourceEmail})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := d.svc.Assign(ctx, d.tech, tk.Number, d.tech); err != nil {
					b.Fatal(err)
				}
				for _, u := range staff {
					if err := d.svc.AddParticipant(ctx, d.tech, tk.Number, u); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := d.svc.SetStatus(ctx, d.tech, tk.Number, store.StatusPending, ticketing.StatusInput{}); err != nil {
					b.Fatal(err)
				}
				return tk.Number
			}
			for b.Loop() {
				b.StopTimer()
				n := setup()
				b.StartTimer()
				if _, err := d.svc.Comment(ctx, maria, n, ticketing.CommentInput{Body: "Ainda não imprime.", Source: store.SourceEmail}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
