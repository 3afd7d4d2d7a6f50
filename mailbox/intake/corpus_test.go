package intake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jcservicedesk/servicedesk/mailbox/classify"
	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/mailbox/thread"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// placed is what the corpus golden files record: what became of a message.
type placed struct {
	Action      string       `json:"action"`
	Reason      string       `json:"reason,omitempty"`
	Ticket      *placedTk    `json:"ticket,omitempty"`
	Quarantined []string     `json:"quarantined,omitempty"`
	Bouncing    []string     `json:"bouncing,omitempty"`
	Comments    []placedNote `json:"comments,omitempty"`
}

type placedTk struct {
	Subject     string      `json:"subject"`
	Status      string      `json:"status"`
	Requester   string      `json:"requester"`
	Company     string      `json:"company"`
	Description string      `json:"description"`
	Images      []string    `json:"images,omitempty"` // img sources in the stored HTML
	Attachments []placedAtt `json:"attachments,omitempty"`
}

type placedNote struct {
	Body     string `json:"body"`
	Internal bool   `json:"internal"`
}

type placedAtt struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	Inline      bool   `json:"inline"`
}

// TestCorpus ingests every message of the shared corpus into a fresh
// database and compares what became of it with its golden file. Nothing
// may be lost: each is a ticket, a comment, a bounce, an ignored automated
// message or a quarantine entry with a reason.
func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob("../testdata/*.eml")
	files = append(files, "../testdata/not-mail.bin")
	if len(files) < 30 {
		t.Fatalf("corpus has %d files", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			st := storetest.Open(t, store.SQLite)
			r := newRig(t, st, func(c *intake.Config) {
				c.Addresses = []string{"support@helpdesk.example", "suporte@jcservicedesk.example"}
			})
			ctx := context.Background()
			switch {
			case strings.HasPrefix(name, "dsn-"):
				bouncedOurMail(t, r, raw)
			case strings.HasPrefix(name, "arf-"):
				complainedOurMail(t, r, raw)
			}
			out, err := r.in.Deliver(ctx, delivery.Envelope{Source: delivery.SourceIMAP, Recipients: []string{"support@helpdesk.example"}}, raw)
			if err != nil {
				t.Fatalf("deliver: %v", err)
			}
			got := placed{Action: out.Action, Reason: out.Reason}
			switch out.Action {
			case "ticket", "comment", "bounce", "ignored", "quarantine":
			default:
				t.Fatalf("unexpected action %q", out.Action)
			}
			if out.TicketNum > 0 {
				v := r.ticket(out.TicketNum)
				tk := &placedTk{Subject: v.Ticket.Subject, Status: v.Ticket.Status, Requester: v.Ticket.Requester.Email,
					Company: v.Ticket.Company.Name, Description: v.Ticket.Description}
				for _, m := range imgSrc.FindAllStringSubmatch(v.Ticket.DescriptionHTML, -1) {
					tk.Images = append(tk.Images, m[1])
				}
				for _, a := range v.Attachments {
					tk.Attachments = append(tk.Attachments, placedAtt{a.Filename, a.ContentType, a.Size, a.Inline})
				}
				for _, c := range v.Comments {
					got.Comments = append(got.Comments, placedNote{c.BodyText, c.Internal})
				}
				got.Ticket = tk
			}
			held, err := st.R().QuarantineList(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range held {
				got.Quarantined = append(got.Quarantined, q.Reason)
			}
			if out.Action == "quarantine" && len(got.Quarantined) != 1 {
				t.Fatalf("quarantined but %d held", len(got.Quarantined))
			}
			if out.Action != "quarantine" {
				counts, _ := st.R().CountMail(ctx)
				if counts[out.Action] != 1 {
					t.Fatalf("mail rows %v: the raw message was not kept", counts)
				}
			}
			if got.Bouncing, err = st.R().BouncingAddresses(ctx); err != nil {
				t.Fatal(err)
			}
			js, _ := json.MarshalIndent(got, "", "  ")
			if !utf8.Valid(js) {
				t.Fatal("invalid UTF-8 in the result")
			}
			golden := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, append(js, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("no golden file (run go test ./mailbox/intake -run TestCorpus -update and review it): %v", err)
			}
			if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(js)) {
				t.Fatalf("result differs from %s:\n%s", golden, js)
			}
		})
	}
}

// bouncedOurMail makes the bounce's returned message one we sent: a
// ticket with that outbound Message-ID to the failed recipient.
func bouncedOurMail(t *testing.T, r *rig, raw []byte) {
	t.Helper()
	rep, ok := classify.ParseBounce(raw)
	if !ok || rep.OriginalMessageID == "" || len(rep.Recipients) == 0 {
		t.Fatalf("fixture is not a readable bounce about one of our mails: %+v", rep)
	}
	sentOurMail(t, r, rep.OriginalMessageID, rep.Recipients[0])
}

// complainedOurMail does the same for a complaint's reported message.
func complainedOurMail(t *testing.T, r *rig, raw []byte) {
	t.Helper()
	rep, ok := classify.ParseComplaint(raw)
	if !ok || rep.OriginalMessageID == "" || len(rep.Recipients) == 0 {
		t.Fatalf("fixture is not a readable complaint about one of our mails: %+v", rep)
	}
	sentOurMail(t, r, rep.OriginalMessageID, rep.Recipients[0])
}

// sentOurMail records that we sent message id to recipient, on a ticket.
func sentOurMail(t *testing.T, r *rig, id, recipient string) {
	t.Helper()
	ctx := context.Background()
	tk, err := r.svc.Create(ctx, ticketing.SystemActor(), ticketing.CreateInput{Requester: r.tech, CompanyID: r.acme.ID, Subject: "Enviado por nós"})
	if err != nil {
		t.Fatal(err)
	}
	err = r.st.InTx(ctx, func(q *store.Q) error {
		return q.AddMessageID(ctx, store.MessageRef{MessageID: thread.NormalizeID(id), OriginalID: id,
			TicketID: tk.ID, Direction: "out", Recipient: recipient})
	})
	if err != nil {
		t.Fatal(err)
	}
}

var imgSrc = regexp.MustCompile(`<img[^>]*\ssrc="([^"]*)"`)
