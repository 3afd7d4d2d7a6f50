package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestMailShowExplainsTheThread: `mail show` says why a reply joined a
// ticket (its sender was on the thread) or opened a linked one (it was
// not), the decision the intake stored on the mail's row.
func TestMailShowExplainsTheThread(t *testing.T) {
	eachDriver(t, func(t *testing.T, c *cli) {
		c.env = append(c.env, "SERVICEDESK_MAIL_UNKNOWN_SENDER=create")
		outs, r := c.ingest(rfc5322("Ana Souza <ana@cliente.test>", "support@localhost", "Impressora parada",
			"Parou.", "<th-1@cliente.test>", "Cc: Bruno <bruno@fornecedor.test>"))
		req := oneOutcome(t, "request", outs, r, 0, "ticket")
		outs, r = c.ingest(rfc5322("Bruno <bruno@fornecedor.test>", "support@localhost", "Re: Impressora parada",
			"Troco amanhã.", "<th-2@fornecedor.test>", "In-Reply-To: <th-1@cliente.test>"))
		if got := oneOutcome(t, "vendor in Cc", outs, r, 0, "comment"); got.Ticket != req.Ticket {
			t.Fatalf("vendor's reply went to #%d, want #%d", got.Ticket, req.Ticket)
		}
		outs, r = c.ingest(rfc5322("eve@outro.test", "support@localhost", "Re: Impressora parada",
			"Oi.", "<th-3@outro.test>", "In-Reply-To: <th-1@cliente.test>"))
		if got := oneOutcome(t, "stranger", outs, r, 0, "ticket"); got.Ticket == req.Ticket {
			t.Fatal("the stranger's reply acted on the ticket")
		}

		var mails []struct {
			ID        int64  `json:"id"`
			MessageID string `json:"message_id"`
		}
		c.ok(&mails, "mail", "list")
		ids := map[string]int64{}
		for _, m := range mails {
			ids[m.MessageID] = m.ID
		}
		for _, w := range []struct{ msgid, want string }{
			{"th-2@fornecedor.test", "threaded: on the thread as Cc of message <th-1@cliente.test>"},
			{"th-3@outro.test", fmt.Sprintf("new ticket linked to #%d: sender not on the thread", req.Ticket)},
		} {
			var shown struct {
				Reason string `json:"reason"`
			}
			c.ok(&shown, "mail", "show", fmt.Sprint(ids[w.msgid]))
			if !strings.HasPrefix(shown.Reason, w.want) {
				t.Errorf("mail show %s: reason %q, want %q", w.msgid, shown.Reason, w.want)
			}
		}
	})
}
