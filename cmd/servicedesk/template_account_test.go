package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAccountTemplatesFromTheCLI: the account mails are listed, shown and
// overridden per company like the ticket mails.
func TestAccountTemplatesFromTheCLI(t *testing.T) {
	eachDriver(t, func(t *testing.T, c *cli) {
		c.ok(nil, "company", "add", "--name", "Acme Ltda", "--domain", "acme.example")
		var list []struct{ Event, Language string }
		c.ok(&list, "template", "list")
		seen := map[string]int{}
		for _, l := range list {
			seen[l.Event]++
		}
		for _, ev := range []string{"confirm", "reset", "login_code", "signin_link", "new_device", "register_exists", "invite"} {
			if seen[ev] != 2 {
				t.Errorf("template list shows %s %d times, want once per language", ev, seen[ev])
			}
		}
		var def struct{ Subject, Text string }
		c.ok(&def, "template", "show", "login_code", "--lang", "en")
		if !strings.Contains(def.Text, "{{.Code}}") || strings.Contains(def.Subject, "Code") {
			t.Errorf("login_code default: %+v", def)
		}
		f := filepath.Join(c.dir, "confirm.txt")
		if err := os.WriteFile(f, []byte("Bem-vindo à Acme! Confirme em {{.ActionURL}} (vale {{.ValidFor}}).\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c.ok(nil, "template", "set", "confirm", "--company", "Acme Ltda", "--subject", "Bem-vindo à Acme", "--text-file", f)
		var got struct {
			Overridden bool
			Subject    string
		}
		c.ok(&got, "template", "show", "confirm", "--company", "Acme Ltda")
		if !got.Overridden || got.Subject != "Bem-vindo à Acme" {
			t.Errorf("override not shown: %+v", got)
		}
		bad := filepath.Join(c.dir, "bad.txt")
		if err := os.WriteFile(bad, []byte("{{.NoSuchField}}"), 0o600); err != nil {
			t.Fatal(err)
		}
		c.fails(1, "template", "template", "set", "reset", "--text-file", bad)
	})
}
