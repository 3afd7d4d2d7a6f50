package main

import (
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/jcservicedesk/servicedesk/mailbox/auth/authtest"
	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestForgedStaffMailReachesNobody goes through the real daemon (SMTP
// receiver → intake → outbox) with the test's own DNS server: the staff
// domain signs with DKIM and publishes p=reject and an SPF record that
// names no host. A mail forging a technician's From with the ticket's
// subject tag is held as "unauthenticated staff sender": no comment as
// the technician, nothing queued to the customer. The same technician's
// DKIM-signed mail acts, and its comment is mailed on.
func TestForgedStaffMailReachesNobody(t *testing.T) {
	eachDriver(t, func(t *testing.T, c *cli) {
		key := c.dns.NewKey(t, "equipe.test", "mail")
		c.dns.SetTXT("_dmarc.equipe.test", "v=DMARC1; p=reject")
		c.dns.SetTXT("equipe.test", "v=spf1 -all")
		c.dns.SetTXT("cliente.test", "v=spf1 -all") // carla's domain names no sender
		c.ok(nil, "user", "add", "--email", "tecnico@equipe.test", "--name", "Técnico", "--role", "tech")
		smtpAddr, _, stop := startServe(t, c)

		if err := sendSMTP(smtpAddr, "carla@cliente.test", "support@localhost", "Impressora parada", "Não imprime.", "<e2e-1@cliente.test>"); err != nil {
			t.Fatal(err)
		}
		got := ticketsWithSubject(c, "Impressora parada")
		if len(got) != 1 {
			t.Fatalf("tickets: %+v", got)
		}
		n := strconv.FormatInt(got[0].Number, 10)
		queued := func() []map[string]any {
			var list []map[string]any
			c.ok(&list, "mail", "outbox", "list", "--ticket", n)
			return list
		}
		// carla's address proves nothing and was unknown: no
		// acknowledgement repeats her subject to whatever From says.
		for _, m := range queued() {
			if m["event"] == ticketing.NoticeAck {
				t.Fatalf("acknowledgement to an unverified new sender: %v", m)
			}
		}
		before := len(queued())

		forged := rfc5322("Técnico <tecnico@equipe.test>", "support@localhost", "Re: [#"+n+"] Impressora parada",
			"Pague o boleto em http://phish.example", "<forged-1@evil.example>")
		if err := sendRaw(smtpAddr, "tecnico@equipe.test", "support@localhost", forged); err != nil {
			t.Fatalf("forged mail refused (want it accepted and held): %v", err)
		}
		var held []struct {
			Reason string `json:"reason"`
			From   string `json:"from"`
		}
		c.ok(&held, "mail", "quarantine", "list")
		if len(held) != 1 || !strings.HasPrefix(held[0].Reason, intake.ReasonStaffFail) || held[0].From != "tecnico@equipe.test" {
			t.Fatalf("quarantine: %+v, want the forged mail held as %q", held, intake.ReasonStaffFail)
		}
		var tk ticketOut
		c.ok(&tk, "ticket", "show", n)
		for _, cm := range tk.Comments {
			if strings.Contains(cm.Body, "phish") {
				t.Fatalf("the forged text reached the ticket: %+v", cm)
			}
		}
		if after := len(queued()); after != before {
			t.Fatalf("outbox went from %d to %d mails after the forged mail", before, after)
		}

		signed := key.Sign(t, []byte(rfc5322("Técnico <tecnico@equipe.test>", "support@localhost", "Re: [#"+n+"] Impressora parada",
			"Troquei o toner; pode testar?", "<signed-1@equipe.test>")))
		if err := sendRaw(smtpAddr, "tecnico@equipe.test", "support@localhost", string(signed)); err != nil {
			t.Fatal(err)
		}
		c.ok(&tk, "ticket", "show", n)
		acted := false
		for _, cm := range tk.Comments {
			if strings.Contains(cm.Body, "Troquei o toner") && !cm.Internal && strings.Contains(cm.Author, "tecnico@equipe.test") {
				acted = true
			}
		}
		if !acted {
			t.Fatalf("the signed staff mail did not act: %+v", tk.Comments)
		}
		// Queued in the comment's own transaction, so already there.
		toCarla := false
		for _, m := range queued() {
			toCarla = toCarla || (m["to"] == "carla@cliente.test" && m["event"] == ticketing.NoticeCommented)
		}
		if !toCarla {
			t.Fatalf("the signed staff comment was not mailed to the customer: %v", queued())
		}
		if err := stop(syscall.SIGTERM); err != nil {
			t.Fatalf("serve stop: %v", err)
		}
	})
}

// TestAuthDNSTroubleIsRetried: when DNS cannot answer, sender
// authentication gives no verdict and nothing is stored: SMTP answers
// 451 and the pipe exits 75, so the mail comes again later.
func TestAuthDNSTroubleIsRetried(t *testing.T) {
	eachDriver(t, func(t *testing.T, c *cli) {
		c.dns.SetTXT("_dmarc.flaky.test", authtest.ServFail)
		c.dns.SetTXT("flaky.test", authtest.ServFail) // SPF too
		smtpAddr, _, _ := startServe(t, c)
		err := sendSMTP(smtpAddr, "ana@flaky.test", "support@localhost", "DNS down", "x", "<dns-1@flaky.test>")
		if smtpCode(err) != 451 {
			t.Fatalf("SMTP with DNS failing: %v, want a 451 reply", err)
		}
		outs, r := c.ingest(rfc5322("ana@flaky.test", "support@localhost", "DNS down", "x", "<dns-2@flaky.test>"))
		if r.code != exTempFail {
			t.Fatalf("pipe with DNS failing: exit %d (%+v), want %d", r.code, outs, exTempFail)
		}
		if got := ticketsWithSubject(c, "DNS down"); len(got) != 0 {
			t.Fatalf("tickets despite no verdict: %+v", got)
		}
	})
}
