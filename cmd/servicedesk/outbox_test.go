package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTemplatesAndOutboxFromTheCLI: ticket changes queue mail; templates
// are checked when set, never at send time; send-test writes a file when
// sending is suppressed.
func TestTemplatesAndOutboxFromTheCLI(t *testing.T) {
	eachDriver(t, func(t *testing.T, c *cli) {
		c.ok(nil, "company", "add", "--name", "Ótica São João", "--domain", "otica.example")
		c.ok(nil, "user", "add", "--email", "rita@otica.example", "--name", "Rita", "--company", "Ótica São João")
		var tk ticketOut
		c.ok(&tk, "ticket", "create", "--requester", "rita@otica.example", "--subject", "Leitor de código não lê")

		var queued []struct {
			ID     int64  `json:"id"`
			To     string `json:"to"`
			Event  string `json:"event"`
			Status string `json:"status"`
		}
		c.ok(&queued, "mail", "outbox", "list")
		if len(queued) != 1 || queued[0].To != "rita@otica.example" || queued[0].Event != "created" || queued[0].Status != "queued" {
			t.Fatalf("outbox after create: %+v", queued)
		}
		raw := c.run("", "mail", "outbox", "show", "1", "--raw")
		if raw.code != 0 || !strings.Contains(raw.stdout, "Auto-Submitted: auto-replied") || !strings.Contains(raw.stdout, "Reply-To:") {
			t.Fatalf("outbox show --raw: %+v", raw)
		}

		bad := filepath.Join(c.dir, "bad.txt")
		if err := os.WriteFile(bad, []byte("Olá {{.Nope}"), 0o600); err != nil {
			t.Fatal(err)
		}
		c.fails(1, "template", "template", "set", "commented", "--text-file", bad)
		good := filepath.Join(c.dir, "good.txt")
		if err := os.WriteFile(good, []byte("Personalizado para a ótica.\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c.ok(nil, "template", "set", "created", "--company", "Ótica São João", "--text-file", good, "--subject", "Recebemos seu chamado")
		var list []struct {
			Event, Language, Company string
			Overridden               bool
		}
		c.ok(&list, "template", "list")
		overridden := 0
		for _, l := range list {
			if l.Overridden {
				overridden++
				if l.Event != "created" || l.Company != "Ótica São João" {
					t.Fatalf("override listed as %+v", l)
				}
			}
		}
		if overridden != 1 {
			t.Fatalf("%d overrides listed", overridden)
		}
		c.ok(nil, "ticket", "create", "--requester", "rita@otica.example", "--subject", "Segundo")
		raw = c.run("", "mail", "outbox", "show", "2", "--raw")
		if !strings.Contains(raw.stdout, "Subject: Recebemos seu chamado") && !strings.Contains(raw.stdout, "Recebemos seu chamado") {
			t.Fatalf("override not used: %s", raw.stdout)
		}
		c.ok(nil, "template", "reset", "created", "--company", "Ótica São João")
		c.fails(1, "no override", "template", "reset", "created", "--company", "Ótica São João")
		c.fails(2, "unknown event", "template", "show", "nonsense")

		// Sending is suppressed by default (no mail.server): the test mail
		// is written to the outbox folder.
		c.ok(nil, "mail", "send-test", "--to", "rita@otica.example")
		files, _ := filepath.Glob(filepath.Join(c.dir, "data", "outbox", "*.eml"))
		if len(files) != 1 {
			t.Fatalf("send-test wrote %d files", len(files))
		}
		c.fails(1, "not sent", "mail", "outbox", "retry", "999")
	})
}

func TestNotificationPreferences(t *testing.T) {
	c := newCLI(t, "sqlite")
	c.ok(nil, "user", "add", "--email", "tech@helpdesk.example", "--role", "tech")
	var u struct {
		NotifyOff []string `json:"notify_off"`
	}
	c.ok(&u, "user", "update", "tech@helpdesk.example", "--notify-off", "commented", "--notify-off", "status_changed")
	if strings.Join(u.NotifyOff, ",") != "commented,status_changed" {
		t.Fatalf("notify_off = %v", u.NotifyOff)
	}
	c.ok(&u, "user", "update", "tech@helpdesk.example", "--notify-on", "commented")
	if strings.Join(u.NotifyOff, ",") != "status_changed" {
		t.Fatalf("notify_off = %v", u.NotifyOff)
	}
	c.fails(2, "unknown notice kind", "user", "update", "tech@helpdesk.example", "--notify-off", "everything")
}

func TestBouncingList(t *testing.T) {
	c := newCLI(t, "sqlite")
	var list []string
	c.ok(&list, "mail", "bouncing", "list")
	if len(list) != 0 {
		t.Fatalf("fresh list: %v", list)
	}
	c.fails(1, "not marked as bouncing", "mail", "bouncing", "clear", "nobody@example.com")
	c.fails(1, "invalid email address", "mail", "bouncing", "clear", "not an address")

	// Our acknowledgement to Maria bounces: she is marked, then cleared.
	c.ok(nil, "company", "add", "--name", "Acme", "--domain", "acme.example")
	// Known before her mail (piped mail has no SPF): acknowledged.
	c.ok(nil, "user", "add", "--email", "maria@acme.example", "--company", "Acme")
	if r := c.run("From: maria@acme.example\r\nTo: support@localhost\r\nSubject: oi\r\nMessage-ID: <m1@acme.example>\r\n\r\nolá\r\n", "mail", "ingest"); r.code != 0 {
		t.Fatalf("ingest: %+v", r)
	}
	var queued []struct {
		MessageID string `json:"message_id"`
	}
	c.ok(&queued, "mail", "outbox", "list")
	if len(queued) != 1 {
		t.Fatalf("outbox: %+v", queued)
	}
	dsn := "From: MAILER-DAEMON@mx.acme.example\r\nTo: support@localhost\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\nfailed\r\n" +
		"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.acme.example\r\n\r\n" +
		"Final-Recipient: rfc822; maria@acme.example\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
		"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <" + queued[0].MessageID + ">\r\n--B--\r\n"
	if r := c.run(dsn, "mail", "ingest"); r.code != 0 || !strings.Contains(r.stdout, "bounce") {
		t.Fatalf("ingest dsn: %+v", r)
	}
	c.ok(&list, "mail", "bouncing", "list")
	if len(list) != 1 || list[0] != "maria@acme.example" {
		t.Fatalf("after the bounce: %v", list)
	}
	c.ok(nil, "mail", "bouncing", "clear", "Maria@Acme.example")
	c.ok(&list, "mail", "bouncing", "list")
	if len(list) != 0 {
		t.Fatalf("after clear: %v", list)
	}
}
