package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// jsonKind runs a command with -o json and says whether it printed an
// array (and how long) or an object.
func (c *cli) jsonKind(args ...string) (kind string, n int) {
	c.t.Helper()
	r := c.run("", append(args, "-o", "json")...)
	if r.code != 0 {
		c.t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
	}
	var v any
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		c.t.Fatalf("%v: bad JSON %q: %v", args, r.stdout, err)
	}
	switch x := v.(type) {
	case []any:
		return "array", len(x)
	case map[string]any:
		return "object", 1
	}
	return fmt.Sprintf("%T", v), 0
}

func (c *cli) wantArray(n int, args ...string) {
	c.t.Helper()
	if kind, got := c.jsonKind(args...); kind != "array" || got != n {
		c.t.Errorf("%v: printed %s of %d, want an array of %d", args, kind, got, n)
	}
}

func (c *cli) wantObject(args ...string) {
	c.t.Helper()
	if kind, _ := c.jsonKind(args...); kind != "object" {
		c.t.Errorf("%v: printed %s, want an object", args, kind)
	}
}

// TestJSONContract: every list prints a JSON array whatever the number of
// rows (0, 1 and 2: the one-row case printed a bare object), every
// show/add/update/remove/disable one object.
func TestJSONContract(t *testing.T) {
	c := newCLI(t, "sqlite")
	// Lists that are empty on a fresh install.
	c.wantArray(0, "user", "list", "--role", "tech")
	c.wantArray(0, "category", "list")
	c.wantArray(0, "ticket", "list")
	c.wantArray(0, "mail", "list")
	c.wantArray(0, "mail", "quarantine", "list")
	c.wantArray(0, "mail", "outbox", "list")
	c.wantArray(0, "mail", "bouncing", "list")
	// One row: the seeded company, one tech, one category, one ticket.
	c.wantArray(1, "company", "list")
	c.wantObject("company", "add", "--name", "Acme", "--domain", "acme.example")
	c.wantArray(2, "company", "list")
	c.wantObject("company", "show", "Acme")
	c.wantObject("company", "update", "Acme", "--brand-primary", "#112233")
	c.wantObject("user", "add", "--email", "t1@helpdesk.example", "--role", "tech")
	c.wantArray(1, "user", "list", "--role", "tech")
	c.wantObject("user", "add", "--email", "t2@helpdesk.example", "--role", "tech")
	c.wantArray(2, "user", "list", "--role", "tech")
	c.wantObject("user", "show", "t1@helpdesk.example")
	c.wantObject("user", "update", "t1@helpdesk.example", "--name", "Tech One")
	c.wantObject("category", "add", "--name", "Hardware")
	c.wantArray(1, "category", "list")
	c.wantObject("category", "add", "--name", "Rede")
	c.wantArray(2, "category", "list")
	c.wantObject("user", "add", "--email", "ana@acme.example", "--company", "Acme")
	c.wantObject("ticket", "create", "--requester", "ana@acme.example", "--subject", "one")
	c.wantArray(1, "ticket", "list")
	c.wantObject("ticket", "create", "--requester", "ana@acme.example", "--subject", "two")
	c.wantArray(2, "ticket", "list")
	c.wantObject("ticket", "show", "1001")
	c.wantObject("config", "show")
	c.wantObject("user", "disable", "t2@helpdesk.example")
	c.wantObject("company", "add", "--name", "Gone")
	c.wantObject("company", "remove", "Gone")
	c.wantArray(2, "company", "list")
}

// TestDestructiveDryRun: --dry-run names what would change and changes
// nothing; without a terminal (scripts, cron) the change proceeds.
func TestDestructiveDryRun(t *testing.T) {
	c := newCLI(t, "sqlite")
	c.ok(nil, "company", "add", "--name", "Gone")
	c.ok(nil, "user", "add", "--email", "t@helpdesk.example", "--role", "tech")
	var dry struct {
		DryRun bool   `json:"dry_run"`
		Action string `json:"action"`
		Target struct {
			Name  string `json:"name"`
			Email string `json:"email"`
		} `json:"target"`
	}
	c.ok(&dry, "company", "remove", "Gone", "--dry-run")
	if !dry.DryRun || dry.Action != "remove" || dry.Target.Name != "Gone" {
		t.Fatalf("company remove --dry-run: %+v", dry)
	}
	c.ok(&dry, "user", "disable", "t@helpdesk.example", "--dry-run")
	if !dry.DryRun || dry.Action != "disable" || dry.Target.Email != "t@helpdesk.example" {
		t.Fatalf("user disable --dry-run: %+v", dry)
	}
	var cs []struct{ Name string }
	c.ok(&cs, "company", "list")
	var u struct{ Disabled bool }
	c.ok(&u, "user", "show", "t@helpdesk.example")
	if len(cs) != 2 || u.Disabled {
		t.Fatalf("a dry run changed data: companies %+v, user %+v", cs, u)
	}
	r := c.run("", "company", "remove", "Gone")
	if r.code != 0 || !strings.Contains(r.stdout, "Gone") {
		t.Fatalf("company remove from a script: %+v", r)
	}
	c.ok(&u, "user", "disable", "t@helpdesk.example", "--yes")
	if !u.Disabled {
		t.Fatalf("user disable --yes: %+v", u)
	}
}
