package classify

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-message/textproto"
)

const fixtureDir = "../testdata"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return raw
}

func fixtureHeader(t testing.TB, raw []byte) textproto.Header {
	t.Helper()
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("read header: %v", err)
	}
	return h
}

type wantBounce struct {
	action     string
	permanent  bool
	recipients []string
	status     string
	diagSub    string
	origID     string
}

func TestFixtures(t *testing.T) {
	tests := []struct {
		file     string
		mailFrom string
		null     bool
		kind     Kind
		bounce   *wantBounce
	}{
		{"dsn-postfix-user-unknown.eml", "", true, Bounce, &wantBounce{"failed", true, []string{"maria.souza@cliente.example.com.br"}, "5.1.1", "User unknown in virtual mailbox table", "out-1042-abc@helpdesk.example"}},
		{"dsn-postfix-delayed.eml", "", true, Bounce, &wantBounce{"delayed", false, []string{"joao@lento.example.org"}, "4.4.1", "Connection timed out", "out-1043-def@helpdesk.example"}},
		{"dsn-exim-nonstandard.eml", "", true, Bounce, &wantBounce{"failed", true, []string{"carlos@escritorio.example.com.br"}, "5.2.2", "mailbox full", "out-1044-ghi@helpdesk.example"}},
		{"dsn-exchange-ndr.eml", "", true, Bounce, &wantBounce{"failed", true, []string{"pedro.lima@contoso.example"}, "5.1.10", "RecipientNotFound", "out-1046-mno@helpdesk.example"}},
		{"dsn-gmail-failure.eml", "", true, Bounce, &wantBounce{"failed", true, []string{"fernanda.nao.existe@gmail.example"}, "5.1.1", "does not exist", "out-1047-pqr@helpdesk.example"}},
		{"dsn-qmail.eml", "", true, Bounce, &wantBounce{"failed", true, []string{"ana@antigo.example.org"}, "5.1.1", "User unknown", "out-1045-jkl@helpdesk.example"}},
		// Bounce detection from headers alone, without the envelope.
		{"dsn-exim-nonstandard.eml", "", false, Bounce, nil},
		{"dsn-qmail.eml", "", false, Bounce, nil},
		{"dsn-exchange-ndr.eml", "", false, Bounce, nil},
		{"autoreply-exchange-ooo.eml", "roberta.alves@contoso.example", false, AutoReply, nil},
		{"autoreply-gmail-vacation.eml", "lucas.pereira@gmail.example", false, AutoReply, nil},
		{"autoreply-ptbr-subject-only.eml", "diretoria@pequena-empresa.example.com.br", false, AutoReply, nil},
		{"autoreply-auto-submitted-no.eml", "beatriz@cliente.example.com.br", false, Human, nil},
		{"list-mailman.eml", "suporte-ti-bounces+support=helpdesk.example@listas.example.org", false, Bulk, nil},
		{"list-newsletter-unsubscribe.eml", "bounce-mc.us21_1234567.8901234-support=helpdesk.example@mail123.atl91.mcsv.example", false, Bulk, nil},
		{"loop-own-header.eml", "support@helpdesk.example", false, Loop, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw := readFixture(t, tt.file)
			got := ClassifyWithLoop(fixtureHeader(t, raw), tt.mailFrom, tt.null, []string{"helpdesk.example"})
			if got.Kind != tt.kind {
				t.Fatalf("Kind = %s (%s), want %s", got.Kind, got.Reason, tt.kind)
			}
			b, ok := ParseBounce(raw)
			if tt.kind != Bounce {
				if ok {
					t.Fatalf("ParseBounce recognised a %s fixture: %+v", tt.kind, b)
				}
				return
			}
			if tt.bounce == nil {
				return
			}
			w := tt.bounce
			if !ok {
				t.Fatal("ParseBounce did not recognise the report")
			}
			if b.Action != w.action || b.Permanent != w.permanent || b.Status != w.status {
				t.Errorf("Action/Permanent/Status = %q/%v/%q, want %q/%v/%q", b.Action, b.Permanent, b.Status, w.action, w.permanent, w.status)
			}
			if !slices.Equal(b.Recipients, w.recipients) {
				t.Errorf("Recipients = %q, want %q", b.Recipients, w.recipients)
			}
			if !strings.Contains(b.Diagnostic, w.diagSub) {
				t.Errorf("Diagnostic = %q, want it to contain %q", b.Diagnostic, w.diagSub)
			}
			if b.OriginalMessageID != w.origID {
				t.Errorf("OriginalMessageID = %q, want %q", b.OriginalMessageID, w.origID)
			}
			if b.OriginalHeaders.Get("X-JCServiceDesk-Loop") != "helpdesk.example" {
				t.Errorf("OriginalHeaders lacks our loop header: %v", b.OriginalHeaders.Map())
			}
		})
	}
}

// Every fixture in the shared testdata that is ours must be in the table.
func TestFixturesCovered(t *testing.T) {
	var names []string
	for _, pat := range []string{"dsn-*.eml", "arf-*.eml", "autoreply-*.eml", "list-*.eml", "loop-*.eml"} {
		m, err := filepath.Glob(filepath.Join(fixtureDir, pat))
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, m...)
	}
	if len(names) < 13 {
		t.Fatalf("found %d fixtures, want at least 13", len(names))
	}
	for _, n := range names {
		raw := readFixture(t, filepath.Base(n))
		if len(raw) == 0 {
			t.Errorf("%s is empty", n)
		}
	}
}
