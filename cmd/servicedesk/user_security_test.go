package main

import (
	"strings"
	"testing"
)

func TestCLIAccountSecurity(t *testing.T) {
	eachDriver(t, func(t *testing.T, c *cli) {
		c.ok(nil, "company", "add", "--name", "Acme", "--domain", "acme.example")
		var co struct {
			ConsentRequired bool   `json:"consent_required"`
			TimeZone        string `json:"time_zone"`
		}
		c.ok(&co, "company", "update", "Acme", "--consent-required", "--time-zone", "America/Manaus")
		if !co.ConsentRequired || co.TimeZone != "America/Manaus" {
			t.Fatalf("company update: %+v", co)
		}
		c.fails(1, "unknown time zone", "company", "update", "Acme", "--time-zone", "Mars/Olympus")
		c.ok(nil, "user", "add", "--email", "maria@acme.example", "--company", "Acme")
		var u struct {
			Require2FA  bool    `json:"require_2fa"`
			LockedUntil *string `json:"locked_until"`
		}
		c.ok(&u, "user", "update", "maria@acme.example", "--require-2fa")
		if !u.Require2FA {
			t.Fatalf("--require-2fa: %+v", u)
		}
		c.ok(&u, "user", "update", "maria@acme.example", "--require-2fa=false")
		if u.Require2FA {
			t.Fatalf("--require-2fa=false: %+v", u)
		}
		// The policy for new passwords applies to set-password.
		if r := c.run("senha123\n", "user", "set-password", "--email", "maria@acme.example"); r.code != 1 || !strings.Contains(r.stderr, "too weak") {
			t.Fatalf("weak password: %+v", r)
		}
		c.ok(&u, "user", "unlock", "maria@acme.example")
		if u.LockedUntil != nil {
			t.Fatalf("unlock: %+v", u)
		}
		c.wantArray(0, "user", "sessions", "maria@acme.example")
		var dry struct {
			DryRun bool `json:"dry_run"`
			Target struct {
				Sessions int `json:"sessions"`
			} `json:"target"`
		}
		c.ok(&dry, "user", "logout-all", "maria@acme.example", "--dry-run")
		if !dry.DryRun || dry.Target.Sessions != 0 {
			t.Fatalf("dry run: %+v", dry)
		}
		var out struct {
			Sessions int `json:"sessions"`
		}
		c.ok(&out, "user", "logout-all", "maria@acme.example", "--yes")
		c.fails(1, `unknown user "nobody@acme.example"`, "user", "sessions", "nobody@acme.example")
		var inv struct {
			Company string `json:"company"`
			Email   string `json:"email"`
			Link    string `json:"link"`
		}
		c.ok(&inv, "company", "invite", "Acme", "--email", "ze@gmail.example", "--ttl", "48h")
		if inv.Company != "Acme" || inv.Email != "ze@gmail.example" || !strings.Contains(inv.Link, "/register?invite=") {
			t.Fatalf("invite: %+v", inv)
		}
		r := c.run("", "company", "invite", "Acme")
		if r.code != 0 || !strings.Contains(r.stdout, "/register?invite=") {
			t.Fatalf("invite as text: %+v", r)
		}
		c.fails(2, "--ttl", "company", "invite", "Acme", "--ttl", "1000h")
		c.fails(1, "unknown company", "company", "invite", "Nope")
	})
}
