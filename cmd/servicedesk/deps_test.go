package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyDirection keeps the arrows of the design true: the domain
// and the store know nothing of HTTP or mail, and the protocol ends and
// pure mail packages know nothing of tickets or the database.
func TestDependencyDirection(t *testing.T) {
	const mod = "github.com/jcservicedesk/servicedesk/"
	forbidden := map[string][]string{
		"store":            {mod + "ticketing", mod + "mailbox", mod + "web", mod + "cmd", "net/http"},
		"ticketing":        {mod + "mailbox", mod + "web", mod + "cmd", "net/http", "net/smtp"},
		"configs":          {mod + "store", mod + "ticketing", mod + "mailbox", mod + "web"},
		"mailbox/parse":    {mod + "store", mod + "ticketing"},
		"mailbox/classify": {mod + "store", mod + "ticketing", mod + "mailbox/parse"},
		"mailbox/thread":   {mod + "store", mod + "ticketing"},
		"mailbox/smtpd":    {mod + "store", mod + "ticketing", mod + "mailbox/intake"},
		"mailbox/poller":   {mod + "store", mod + "ticketing", mod + "mailbox/intake"},
		"mailbox/intake":   {mod + "web", mod + "cmd"},
	}
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-deps", "../../"+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, b := range bad {
				if dep == b || strings.HasPrefix(dep, b+"/") {
					t.Errorf("%s imports %s", pkg, dep)
				}
			}
		}
	}
}
