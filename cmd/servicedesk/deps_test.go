package main

import (
	"os/exec"
	"strings"
	"testing"
)

// imports is the "may import" column of ../shared/DESIGN.md as an
// allow-list: for each package of ours (a trailing /... covers its
// subpackages), the packages of ours it may import directly. A package
// that matches no rule fails the test, so a new one is covered the day it
// is added. "configs" is importable by the services for its types.
var imports = []struct {
	pkg string
	may []string
}{
	{"cmd/...", []string{"..."}},
	{"configs", nil},
	// cpustage sums CPU profiles by the mail path's "stage" label, for
	// mailbench and the intake's benchmark; the labels themselves are
	// plain runtime/pprof, so no mail package imports it.
	{"internal/cpustage", nil},
	{"store", nil},
	{"store/storetest", []string{"store"}},
	{"store/seedload", []string{"store"}},
	{"ticketing", []string{"store", "ticketing/...", "configs"}},
	{"ticketing/...", []string{"store"}},
	// The pure mail packages and the protocol ends know nothing of
	// tickets or the database: they turn bytes into messages, or hand
	// raw bytes to one delivery function.
	{"mailbox/thread", nil},
	{"mailbox/parse", []string{"mailbox/thread"}},
	{"mailbox/classify", []string{"mailbox/thread"}},
	{"mailbox/mbox", nil},
	{"mailbox/delivery", nil},
	{"mailbox/smtpd", []string{"mailbox/delivery"}},
	{"mailbox/poller", []string{"mailbox/delivery"}},
	{"mailbox/sender", []string{"mailbox/thread"}},
	{"mailbox/compose", []string{"mailbox/classify", "mailbox/thread"}},
	// Sender authentication: DNS and headers, no tickets; authtest is its
	// tests' DNS server.
	{"mailbox/auth", []string{"mailbox/delivery"}},
	{"mailbox/auth/authtest", nil},
	// The intake and outbound join mail to the domain.
	{"mailbox/intake", []string{"mailbox/auth", "mailbox/classify", "mailbox/delivery", "mailbox/parse", "mailbox/thread", "mailbox/mbox", "ticketing", "ticketing/...", "store", "configs"}},
	// intaketest is the channels' tests' store that fails on cue (a
	// trigger refusing a marked message).
	{"mailbox/intake/intaketest", []string{"mailbox/intake", "store", "store/storetest", "ticketing"}},
	{"mailbox/outbound", []string{"mailbox/delivery", "mailbox/compose", "mailbox/classify", "mailbox/thread", "ticketing", "ticketing/...", "store", "configs"}},
	// The portal is the other front door: it knows the domain, never mail.
	{"web", []string{"web/...", "ticketing", "ticketing/...", "store", "configs"}},
	{"web/...", []string{"web", "web/...", "ticketing", "ticketing/...", "store", "configs"}},
}

// stdForbidden keeps HTTP and mail transports out of the domain and the
// store, transitively.
var stdForbidden = map[string][]string{
	"store":     {"net/http", "net/smtp"},
	"ticketing": {"net/http", "net/smtp"},
}

const module = "github.com/jcservicedesk/servicedesk/"

func matches(pattern, pkg string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return strings.HasPrefix(pkg, base+"/")
	}
	return pkg == pattern
}

// TestDependencyDirection checks the direct imports of every package that
// `go list` finds against the allow-list.
func TestDependencyDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, ok := strings.CutPrefix(fields[0], module)
		if !ok {
			continue
		}
		rule := -1
		for i, r := range imports {
			if matches(r.pkg, pkg) {
				rule = i
				break
			}
		}
		if rule < 0 {
			t.Errorf("%s matches no rule: add it to DESIGN.md's table and to this allow-list", pkg)
			continue
		}
		checked++
		for _, imp := range fields[1:] {
			dep, ours := strings.CutPrefix(imp, module)
			if !ours {
				continue
			}
			allowed := false
			for _, m := range imports[rule].may {
				allowed = allowed || matches(m, dep)
			}
			if !allowed {
				t.Errorf("%s imports %s, which DESIGN.md does not allow", pkg, dep)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d packages checked; go list output: %s", checked, out)
	}
	for pkg, bad := range stdForbidden {
		out, err := exec.Command("go", "list", "-deps", "../../"+pkg+"/...").Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, b := range bad {
				if dep == b {
					t.Errorf("%s (or a package under it) imports %s", pkg, dep)
				}
			}
		}
	}
}

func TestDependencyRules(t *testing.T) {
	for _, tc := range []struct {
		pattern, pkg string
		want         bool
	}{
		{"ticketing", "ticketing", true},
		{"ticketing", "ticketing/calendar", false},
		{"ticketing/...", "ticketing/calendar", true},
		{"ticketing/...", "ticketing", false},
		{"...", "web", true},
	} {
		if got := matches(tc.pattern, tc.pkg); got != tc.want {
			t.Errorf("matches(%q, %q) = %v", tc.pattern, tc.pkg, got)
		}
	}
}
