package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestBadEnumeratedValuesExit2: an unknown role, status, priority or
// language is bad usage (exit 2, one line) wherever it is given; `--role
// god` exited 1.
func TestBadEnumeratedValuesExit2(t *testing.T) {
	c := newCLI(t, "sqlite")
	c.ok(nil, "company", "add", "--name", "Acme", "--domain", "acme.example")
	c.ok(nil, "user", "add", "--email", "ana@acme.example", "--company", "Acme")
	var tk ticketOut
	c.ok(&tk, "ticket", "create", "--requester", "ana@acme.example", "--subject", "x")
	n := fmt.Sprint(tk.Number)
	for _, tc := range []struct {
		want string
		args []string
	}{
		{`unknown role "god"`, []string{"user", "add", "--email", "b@acme.example", "--company", "Acme", "--role", "god"}},
		{`unknown role "god"`, []string{"user", "update", "ana@acme.example", "--role", "god"}},
		{`unknown role "god"`, []string{"user", "list", "--role", "god"}},
		{`unknown language "klingon"`, []string{"user", "add", "--email", "b@acme.example", "--company", "Acme", "--language", "klingon"}},
		{`unknown language "klingon"`, []string{"user", "update", "ana@acme.example", "--language", "klingon"}},
		{`unknown notice kind "gossip"`, []string{"user", "update", "ana@acme.example", "--notify-off", "gossip"}},
		{`unknown priority "asap"`, []string{"ticket", "create", "--requester", "ana@acme.example", "--subject", "y", "--priority", "asap"}},
		{`unknown priority "asap"`, []string{"ticket", "update", n, "--priority", "asap"}},
		{`unknown status "done"`, []string{"ticket", "list", "--status", "open,done"}},
		{`unknown status "bogus"`, []string{"ticket", "status", n, "bogus"}},
		{"--limit must be between", []string{"ticket", "list", "--limit", "5000"}},
	} {
		c.fails(2, tc.want, tc.args...)
	}
	var after ticketOut
	c.ok(&after, "ticket", "show", n)
	var users []map[string]any
	c.ok(&users, "user", "list")
	if after.Priority != tk.Priority || len(users) != 2 {
		t.Fatalf("a refused command changed data: %+v, %d users", after, len(users))
	}
}

// TestErrorsSayNoInternalNames: the policy's action names and the store's
// prefix stay inside.
func TestErrorsSayNoInternalNames(t *testing.T) {
	c := newCLI(t, "sqlite")
	c.ok(nil, "company", "add", "--name", "Acme", "--domain", "acme.example")
	c.ok(nil, "user", "add", "--email", "ana@acme.example", "--company", "Acme")
	var tk ticketOut
	c.ok(&tk, "ticket", "create", "--requester", "ana@acme.example", "--subject", "x")
	c.fails(1, "ana@acme.example may not change the status of ticket #", "ticket", "status", fmt.Sprint(tk.Number), "pending", "--as", "ana@acme.example")
	for _, args := range [][]string{{"mail", "show", "999"}, {"mail", "quarantine", "show", "999"}, {"mail", "outbox", "show", "999"}} {
		r := c.run("", args...)
		if r.code != 1 || strings.Contains(r.stderr, "store:") || !strings.Contains(r.stderr, "not found") {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}

func TestCleanMessage(t *testing.T) {
	for in, want := range map[string]string{
		"not allowed: a@b may not change_status ticket #3": "not allowed: a@b may not change the status of ticket #3",
		"not allowed: a@b may not view_internal ticket #3": "not allowed: a@b may not see the internal notes of ticket #3",
		"not allowed: a@b may not brand_new ticket #3":     "not allowed: a@b may not brand new ticket #3",
		"store: not found: mail 9":                         "not found: mail 9",
		"acting user x: store: not found: user x":          "acting user x: not found: user x",
		"subject \"restore: backup\" is fine\nsecond line": "subject \"restore: backup\" is fine second line",
	} {
		if got := cleanMessage(fmt.Errorf("%s", in)); got != want {
			t.Errorf("cleanMessage(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAdminCommandsLogOnlyWarnings: a mail-writing admin command (here
// mail ingest of a mail that goes to quarantine) logs nothing at info
// unless -v: what it did is its output.
func TestAdminCommandsLogOnlyWarnings(t *testing.T) {
	c := newCLI(t, "sqlite")
	c.env = append(c.env, "SERVICEDESK_MAIL_UNKNOWN_SENDER=quarantine", "ADMIN_PASSWORD=a-long-password")
	msg := "From: stranger@nowhere.example\r\nTo: support@helpdesk.example\r\nSubject: hi\r\nMessage-ID: <%d@nowhere.example>\r\n\r\nhello\r\n"
	quiet := c.run(fmt.Sprintf(msg, 1), "mail", "ingest", "-o", "json")
	loud := c.run(fmt.Sprintf(msg, 2), "mail", "ingest", "-o", "json", "-v")
	if quiet.code != 0 || loud.code != 0 || !strings.Contains(quiet.stdout, "quarantine") || !strings.Contains(loud.stdout, "quarantine") {
		t.Fatalf("ingest: %+v / %+v", quiet, loud)
	}
	if strings.Contains(quiet.stderr, "level=INFO") {
		t.Fatalf("without -v: stderr %q", quiet.stderr)
	}
	if !strings.Contains(loud.stderr, "level=INFO") || !strings.Contains(loud.stderr, "mail quarantined") {
		t.Fatalf("with -v: stderr %q", loud.stderr)
	}
}
