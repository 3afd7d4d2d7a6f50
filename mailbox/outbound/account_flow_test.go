package outbound_test

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"testing"

	"github.com/jcservicedesk/servicedesk/mailbox/compose"
	"github.com/jcservicedesk/servicedesk/mailbox/outbound"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestAccountFlowsByMail: the account rules' own mails (a sign-in link, a
// password reset) carry links whose tokens work when taken from the
// queued mail, as a person clicking them would.
func TestAccountFlowsByMail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c, err := compose.New()
		if err != nil {
			t.Fatal(err)
		}
		ob := outbound.New(outbound.Config{From: compose.Address{Email: "support@helpdesk.example"}, PublicURL: "https://helpdesk.example",
			Secret: secret, LoopValue: "helpdesk.example"}, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
		svc := ticketing.NewService(st, ticketing.WithTxHook(ob.Hook), ticketing.WithAccounts(ticketing.AccountConfig{Secret: secret}))
		d := &desk{t: t, st: st, svc: svc}
		co := &store.Company{Name: "Acme Ltd", Domains: []string{"acme.example"}, Language: "en"}
		err = st.InTx(ctx, func(q *store.Q) error {
			if err := q.CreateCompany(ctx, co); err != nil {
				return err
			}
			return q.CreateUser(ctx, &store.User{Email: "maria@acme.example", Name: "Maria", Role: store.RoleClient, CompanyID: &co.ID})
		})
		if err != nil {
			t.Fatal(err)
		}
		linkOf := func(path string) string {
			t.Helper()
			ms := d.take()
			if len(ms) != 1 || ms[0].TicketID != nil {
				t.Fatalf("queued %d mails, want one account mail", len(ms))
			}
			m := regexp.MustCompile(`https://helpdesk\.example` + regexp.QuoteMeta(path) + `([A-Za-z0-9._~%-]+)`).FindStringSubmatch(textPart(t, ms[0].Raw))
			if m == nil {
				t.Fatalf("no %s link in:\n%s", path, textPart(t, ms[0].Raw))
			}
			tok, err := url.PathUnescape(m[1])
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}

		if err := svc.SendSignInLink(ctx, "maria@acme.example", ticketing.Client{}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SignInWithLink(ctx, linkOf("/login/link/"), false, ticketing.Client{}); err != nil {
			t.Errorf("sign-in with the mailed link: %v", err)
		}
		if err := svc.Forgot(ctx, "maria@acme.example", ticketing.Client{}); err != nil {
			t.Fatal(err)
		}
		if err := svc.ResetPassword(ctx, linkOf("/reset/"), "correct horse battery staple 42", ticketing.Client{}); err != nil {
			t.Errorf("reset with the mailed link: %v", err)
		}
	})
}
