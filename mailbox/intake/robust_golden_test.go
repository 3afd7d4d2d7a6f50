package intake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/mailbox/intake/intaketest"
	"github.com/jcservicedesk/servicedesk/store"
)

// robustOutcome is what an MTA sees of one fixture, retrying on 4xx as it
// does: the answers to each try, and what became of the message.
type robustOutcome struct {
	Fixture string   `json:"fixture"`
	Tries   []string `json:"tries"` // "retry" (451 / exit 75) or the final action
	Action  string   `json:"action"`
	Reason  string   `json:"reason,omitempty"`
}

// TestRobustFixturesGolden delivers the channel-robustness fixtures, in
// order, on a store that refuses poison, each retried as an MTA would (up
// to twice mail.max_attempts), and compares the outcomes with
// testdata/golden/robust.json. (The NUL fixture is not here: whether it
// is poison depends on the parser, see TestNULInDecodedHeaderNeverBlocks.)
func TestRobustFixturesGolden(t *testing.T) {
	o := intaketest.Open(t, store.SQLite)
	r := newRig(t, o.Store, func(c *intake.Config) {
		c.PostmasterAddress, c.FromAddress = "it-team@corp.example", "support@helpdesk.example"
	})
	ids := regexp.MustCompile(` (mail|entry|held as) \d+\b`)
	var got []robustOutcome
	for _, name := range []string{"poison-constraint.eml", "behind-the-poison.eml",
		"postmaster-blocklist-notice.eml", "abuse-cc-on-ticket-mail.eml", "msgid-reuse-first.eml", "msgid-reuse-second.eml"} {
		raw := intaketest.Fixture(t, name)
		env := delivery.Envelope{Source: delivery.SourceSMTP, MailFrom: "sender@acme.example", Recipients: []string{"support@helpdesk.example"}}
		if bytes.Contains(raw, []byte("To: postmaster@")) {
			env.Recipients = []string{"postmaster@helpdesk.example"}
		}
		res := robustOutcome{Fixture: name}
		for range 2 * intake.DefaultMaxAttempts {
			out, err := r.in.Deliver(context.Background(), env, raw)
			var te *intake.TempError
			if errors.As(err, &te) {
				res.Tries = append(res.Tries, "retry")
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			res.Tries = append(res.Tries, out.Action)
			res.Action, res.Reason = out.Action, ids.ReplaceAllString(out.Reason, " $1 N")
			break
		}
		got = append(got, res)
	}
	js, _ := json.MarshalIndent(got, "", "  ")
	golden := filepath.Join("testdata", "golden", "robust.json")
	if *update {
		if err := os.WriteFile(golden, append(js, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("no golden file (run go test ./mailbox/intake -run TestRobustFixturesGolden -update and review it): %v", err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(js)) {
		t.Fatalf("outcomes differ from %s:\n%s", golden, js)
	}
}
