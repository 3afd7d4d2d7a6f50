package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// completions asks the binary what a shell would offer for args (the
// last one is the word being completed).
func (c *cli) completions(args ...string) []string {
	c.t.Helper()
	r := c.run("", append([]string{"__complete"}, args...)...)
	if r.code != 0 {
		c.t.Fatalf("__complete %v: exit %d: %s", args, r.code, r.stderr)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if line == "" || strings.HasPrefix(line, ":") {
			continue
		}
		value, _, _ := strings.Cut(line, "\t")
		out = append(out, value)
	}
	return out
}

func (c *cli) wantCompletions(want []string, args ...string) {
	c.t.Helper()
	got := c.completions(args...)
	if !slices.Equal(got, want) {
		c.t.Errorf("completing %q: %q, want %q", args, got, want)
	}
}

// TestDynamicCompletions: ticket numbers (as the actor sees them),
// statuses, roles, companies, users and template events complete.
func TestDynamicCompletions(t *testing.T) {
	c := newCLI(t, "sqlite")
	c.ok(nil, "company", "add", "--name", "Acme", "--domain", "acme.example")
	c.ok(nil, "company", "add", "--name", "Globex", "--domain", "globex.example")
	c.ok(nil, "user", "add", "--email", "ana@acme.example", "--company", "Acme")
	c.ok(nil, "user", "add", "--email", "eve@globex.example", "--company", "Globex")
	var t1, t2 ticketOut
	c.ok(&t1, "ticket", "create", "--requester", "ana@acme.example", "--subject", "Impressora")
	c.ok(&t2, "ticket", "create", "--requester", "eve@globex.example", "--subject", "VPN")
	n1, n2 := fmt.Sprint(t1.Number), fmt.Sprint(t2.Number)

	c.wantCompletions([]string{n2, n1}, "ticket", "show", "")
	c.wantCompletions([]string{n1}, "ticket", "comment", "--as", "ana@acme.example", "")
	c.wantCompletions([]string{"new", "open", "pending", "resolved", "closed", "reopened"}, "ticket", "status", n1, "")
	c.wantCompletions(nil, "ticket", "status", n1, "open", "")
	c.wantCompletions([]string{"open,pending"}, "ticket", "list", "--status", "open,p")
	c.wantCompletions([]string{"active"}, "ticket", "list", "--status", "a")
	c.wantCompletions([]string{"supervisor"}, "user", "add", "--role", "s")
	c.wantCompletions([]string{"Acme"}, "ticket", "list", "--company", "a")
	c.wantCompletions([]string{"Globex"}, "company", "remove", "G")
	c.wantCompletions([]string{"Acme", "Default", "Globex"}, "user", "add", "--company", "")
	c.wantCompletions([]string{"eve@globex.example"}, "ticket", "create", "--requester", "eve")
	c.wantCompletions([]string{"urgent"}, "ticket", "update", n1, "--priority", "u")
	if got := c.completions("template", "show", ""); !slices.Contains(got, "created") || !slices.Contains(got, "commented") {
		t.Errorf("template events: %q", got)
	}
	if got := c.completions("template", "reset", "cr"); !slices.Equal(got, []string{"created"}) {
		t.Errorf("template reset cr: %q", got)
	}
}

// TestMainCommandsHaveExamples: the commands a new admin starts with show
// examples in --help.
func TestMainCommandsHaveExamples(t *testing.T) {
	c := newCLI(t, "sqlite")
	for _, words := range []string{
		"ticket create", "ticket list", "ticket comment", "ticket assign", "ticket status", "ticket update",
		"company add", "user add", "mail ingest",
	} {
		r := c.run("", append(strings.Fields(words), "--help")...)
		if r.code != 0 || !strings.Contains(r.stdout, "Examples:\n  servicedesk "+words) {
			t.Errorf("%s --help: exit %d, no example of itself in\n%s", words, r.code, r.stdout)
		}
	}
}
