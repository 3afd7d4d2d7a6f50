package intake

import (
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
)

// FuzzPrepare drives the front half of the intake — parsing, automated-mail
// classification, recipient and threading signals, content hash — with
// arbitrary bytes: it never panics, its strings are valid UTF-8, and the
// hash is stable.
func FuzzPrepare(f *testing.F) {
	files, _ := filepath.Glob("../testdata/*.eml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("From: a@b\r\nIn-Reply-To: <x@y>\r\nReferences: <a@b> <c@d>\r\nSubject: Re: [#12] x\r\n\r\nhi"))
	in := &Intake{cfg: Config{Addresses: []string{"support@helpdesk.example"}, SubjectTagPrefix: "#", LoopValues: []string{"helpdesk.example"}}}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m := in.prepare(delivery.Envelope{Source: delivery.SourceSMTP, MailFrom: "x@y", Recipients: []string{"support+t1abc@helpdesk.example"}}, raw)
		if m.hash == "" || m.hash != contentHash(raw) {
			t.Fatal("content hash missing or unstable")
		}
		if m.parseErr != nil {
			return
		}
		for _, s := range append([]string{m.messageID, m.from, string(m.kind.Kind), m.kind.Reason}, m.recipients...) {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8: %q", s)
			}
		}
		_ = in.ownAddress(m.from)
		_ = in.toCommentAddress(m)
	})
}
