package compose

import (
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/mailbox/thread"
)

// TestSubjectMatchesCompose: the subject decided in the transaction (before
// the mail is rendered) is the one the rendered mail carries.
func TestSubjectMatchesCompose(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	overrides := map[string]*Template{
		"none":            nil,
		"subject":         {Subject: "Chamado {{.Tag}}: {{.TicketSubject}} ({{.StatusLabel}})"},
		"body only":       {Text: "Olá {{.RecipientName}}"},
		"broken subject":  {Subject: "{{.NoSuchField}}", Text: "x"},
		"unparsable":      {Subject: "{{if}}"},
		"subject and tag": {Subject: "{{.Tag}} ação necessária — {{.Company}}"},
	}
	for _, lang := range []string{LangPTBR, LangEN} {
		for _, ev := range Events() {
			for name, o := range overrides {
				d := SampleData(ev, lang)
				got, err := c.Subject(d, o)
				if err != nil {
					t.Fatalf("%s/%s/%s: %v", lang, ev, name, err)
				}
				m, err := c.Compose(d, o)
				if err != nil {
					t.Fatalf("%s/%s/%s: compose: %v", lang, ev, name, err)
				}
				if got != m.Subject {
					t.Errorf("%s/%s/%s: Subject %q, Compose %q", lang, ev, name, got, m.Subject)
				}
			}
		}
	}
	d := SampleData(EventCreated, LangPTBR)
	d.To = nil
	if _, err := c.Subject(d, nil); err == nil {
		t.Error("Subject of a mail with no recipient: no error")
	}
}

// TestMessageIDFor: the id decided before composing has the format of the
// one Compose generates, and Compose keeps it.
func TestMessageIDFor(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	id := MessageIDFor(" Suporte@Desk.Example.com ")
	if !strings.HasPrefix(id, "jc.") || !strings.HasSuffix(id, "@desk.example.com") || !thread.WritableID(id) {
		t.Fatalf("MessageIDFor: %q", id)
	}
	d := SampleData(EventCreated, LangPTBR)
	d.MessageID = ""
	gen, err := c.Compose(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := strings.Split(gen.MessageID, "."), strings.Split(MessageIDFor(d.From.Email), "."); len(a) != len(b) || a[0] != b[0] || len(a[1]) != len(b[1]) || len(a[2]) != len(b[2]) {
		t.Errorf("formats differ: Compose %q, MessageIDFor %q", gen.MessageID, MessageIDFor(d.From.Email))
	}
	d.MessageID = id
	m, err := c.Compose(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.MessageID != id || !strings.Contains(string(m.Raw), "Message-ID: <"+id+">\r\n") {
		t.Errorf("Compose did not keep the id %q: %q", id, m.MessageID)
	}
}
