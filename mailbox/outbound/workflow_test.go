package outbound_test

import (
	"context"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-message/mail"

	"github.com/jcservicedesk/servicedesk/mailbox/thread"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// allText is every text part of a mail, decoded.
func allText(t *testing.T, raw []byte) string {
	t.Helper()
	r, err := mail.CreateReader(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(r.Header.Get("Subject") + "\n")
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			return b.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(p.Body)
		b.Write(body)
		b.WriteString("\n")
	}
}

// TestClosingMailKeepsTheEvaluationInternal: the mails of resolving,
// closing and rating carry the solution and the rating link, never the
// technician's evaluation or classification (the old app mailed them, S6).
// The link in the mail is the signed one, and it works once.
func TestClosingMailKeepsTheEvaluationInternal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		d := newDesk(t, st)
		out := d.deliver("From: Maria <maria@acme.example>\r\nTo: support@helpdesk.example\r\nSubject: VPN caiu\r\nMessage-ID: <vpn.1@acme.example>\r\n\r\nSem VPN.\r\n")
		n := out.TicketNum
		if _, err := d.svc.Assign(ctx, d.tech, n, d.tech); err != nil {
			t.Fatal(err)
		}
		if _, err := d.svc.SetStatus(ctx, d.tech, n, store.StatusResolved, ticketing.StatusInput{Solution: "Certificado renovado"}); err != nil {
			t.Fatal(err)
		}
		closed, err := d.svc.SetStatus(ctx, d.tech, n, store.StatusClosed, ticketing.StatusInput{Reason: "resolvido",
			Evaluation: "SEGREDO-INTERNO o usuário apagou o certificado", Classification: "usuario"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.svc.RateByToken(ctx, d.svc.RatingToken(closed), 5, "ótimo"); err != nil {
			t.Fatal(err)
		}
		var link string
		for _, m := range d.take() {
			text := allText(t, m.Raw)
			for _, secret := range []string{"SEGREDO-INTERNO", "apagou o certificado", "Erro do usuário", "User error"} {
				if strings.Contains(text, secret) || strings.Contains(string(m.Raw), secret) {
					t.Fatalf("%s mail to %s carries %q:\n%s", m.Event, m.Recipients, secret, text)
				}
			}
			if m.Event == ticketing.NoticeClosed && m.Recipients == "maria@acme.example" {
				link = regexp.MustCompile(`https://helpdesk\.example/tickets/rate/[A-Za-z0-9_.-]+`).FindString(text)
			}
		}
		if link == "" {
			t.Fatal("the closing mail has no rating link")
		}
		// Rated already through the same token: the mailed link is spent.
		tok := strings.TrimPrefix(link, "https://helpdesk.example/tickets/rate/")
		if _, err := d.svc.RatingForm(ctx, tok); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("mailed link after rating: %v", err)
		}
	})
}

// TestOldRatingLinksKeepWorking: the /tickets/N/rate?t= links mailed
// before (never expiring) verify under the new rules: once, and only for
// the rating TTL after the ticket closed.
func TestOldRatingLinksKeepWorking(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		d := newDesk(t, st)
		svc := ticketing.NewService(st, ticketing.WithAccounts(ticketing.AccountConfig{Secret: secret}))
		out := d.deliver("From: Maria <maria@acme.example>\r\nTo: support@helpdesk.example\r\nSubject: Teclado\r\nMessage-ID: <kb.1@acme.example>\r\n\r\nTeclas presas.\r\n")
		if _, err := d.svc.Assign(ctx, d.tech, out.TicketNum, d.tech); err != nil {
			t.Fatal(err)
		}
		tk, err := d.svc.SetStatus(ctx, d.tech, out.TicketNum, store.StatusClosed, ticketing.StatusInput{Reason: "r", Evaluation: "e", Classification: "outro"})
		if err != nil {
			t.Fatal(err)
		}
		old := thread.SignToken(append([]byte("rate:"), secret...), tk.ID)
		if _, err := svc.RatingForm(ctx, old); err != nil {
			t.Fatalf("old link form: %v", err)
		}
		// A reply token (without "rate:") is not a rating link.
		if _, err := svc.RatingForm(ctx, thread.SignToken(secret, tk.ID)); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("reply token as rating link: %v", err)
		}
		if _, err := svc.RateByToken(ctx, old, 2, ""); err != nil {
			t.Fatalf("old link rate: %v", err)
		}
		if _, err := svc.RateByToken(ctx, old, 5, ""); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("old link twice: %v", err)
		}
	})
}
