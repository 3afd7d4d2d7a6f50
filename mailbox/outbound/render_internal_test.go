package outbound

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/compose"
	"github.com/jcservicedesk/servicedesk/store"
)

// TestRenderEqualsComposeInTheTransaction: what Render makes from the
// serialised input is byte for byte what composing in the transaction
// made (every field of Data, a logo, an SLA due time in a zone, a local
// Date), for every event in both languages.
func TestRenderEqualsComposeInTheTransaction(t *testing.T) {
	c, err := compose.New()
	if err != nil {
		t.Fatal(err)
	}
	logo, err := os.ReadFile("../compose/testdata/logo.png")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := time.LoadLocation("Asia/Tokyo") // not compose's default zone
	if err != nil {
		t.Fatal(err)
	}
	o := New(Config{Zone: sp}, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	override := &compose.Template{Subject: "{{.Tag}} {{.TicketSubject}} — {{.Due}}", Text: "{{.Comment}}\n{{.RequesterName}}"}
	for _, lang := range []string{compose.LangPTBR, compose.LangEN} {
		for _, ev := range compose.Events() {
			for _, ov := range []*compose.Template{nil, override} {
				d := compose.SampleData(ev, lang)
				d.Brand.Logo, d.Brand.Primary = logo, "#aa3300"
				d.SLATarget, d.DueAt, d.Zone = "resolution", time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC), sp
				d.Date = time.Date(2026, 3, 2, 9, 30, 0, 123456789, time.FixedZone("-03", -3*3600))
				d.CommentHTML = "<p>Bom dia &amp; <b>obrigado</b></p>"
				row, err := o.unrendered(d, ov, 7, "1/2/3")
				if err != nil {
					t.Fatal(err)
				}
				if row.Rendered() || row.MessageID == "" {
					t.Fatalf("row %+v", row)
				}
				d.MessageID = row.MessageID
				want, err := c.Compose(d, ov)
				if err != nil {
					t.Fatal(err)
				}
				raw, subject, err := o.Render(&store.OutboxMail{RenderInput: row.RenderInput, Raw: []byte{}})
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(raw, want.Raw) || subject != want.Subject || row.Subject != want.Subject || row.MailFrom != want.From {
					t.Errorf("%s/%s override=%v: rendered after commit differs from composed in the transaction (subject %q / %q / %q)",
						lang, ev, ov != nil, subject, row.Subject, want.Subject)
				}
			}
		}
	}
}
