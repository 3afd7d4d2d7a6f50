package outbound_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/compose"
	"github.com/jcservicedesk/servicedesk/mailbox/outbound"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// BenchmarkQueueInTx measures what outbound does inside the write
// transaction for one new ticket from a known requester: its
// acknowledgement and the notice to a notify_to address (the two mails
// BenchmarkSMTPIngest's messages queue each). The transaction is rolled
// back, so the per-recipient limit never trips and the outbox stays empty.
// cpu-ns/op is the process's CPU time (user+system) per op: the machine is
// shared, and wall time says more about the neighbours than about us.
func BenchmarkQueueInTx(b *testing.B) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	signer, err := compose.NewDKIMSigner("helpdesk.example", "jc2026", keyPEM)
	if err != nil {
		b.Fatal(err)
	}
	for _, dkim := range []bool{false, true} {
		name := "sqlite"
		if dkim {
			name += "+dkim"
		}
		b.Run(name, func(b *testing.B) {
			st := storetest.Open(b, store.SQLite)
			ctx := context.Background()
			d := newDesk(b, st, func(c *outbound.Config) {
				c.NotifyTo = []string{"equipe@helpdesk.example"}
				if dkim {
					c.DKIM = signer
				}
			})
			var maria *store.User
			err := st.InTx(ctx, func(q *store.Q) error {
				acme, err := q.CompanyByName(ctx, "Acme")
				if err != nil {
					return err
				}
				maria = &store.User{Email: "maria@acme.example", Role: store.RoleClient, Name: "Maria Souza", CompanyID: &acme.ID}
				return q.CreateUser(ctx, maria)
			})
			if err != nil {
				b.Fatal(err)
			}
			tk, err := d.svc.Create(ctx, maria, ticketing.CreateInput{Requester: maria, Subject: "Impressora não imprime",
				Body: "Bom dia,\n\nA impressora da recepção não imprime desde ontem.\nJá reiniciamos e nada.\n", Source: store.SourceEmail})
			if err != nil {
				b.Fatal(err)
			}
			ev := ticketing.Event{Kind: ticketing.EventCreated, Ticket: tk, Actor: maria}
			errRollback := errors.New("rollback")
			cpu0 := cpuTime()
			b.ReportAllocs()
			for b.Loop() {
				err := d.svc.TxWith(ctx, func(tx *ticketing.Tx) error {
					if err := d.ob.Hook(ctx, tx, ev); err != nil {
						return err
					}
					return errRollback
				})
				if !errors.Is(err, errRollback) {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
