package classify

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/golden")

// outcome is the reviewable result of classifying and reading one report.
type outcome struct {
	Kind      Kind             `json:"kind"`
	Reason    string           `json:"reason"`
	Bounce    *bounceOutcome   `json:"bounce,omitempty"`
	Complaint *ComplaintReport `json:"complaint,omitempty"`
}

type bounceOutcome struct {
	Family            string            `json:"family"`
	Action            string            `json:"action"`
	Permanent         bool              `json:"permanent"`
	Recipients        []string          `json:"recipients"`
	Status            string            `json:"status"`
	ReasonCode        string            `json:"reason_code"`
	Reason            string            `json:"reason"`
	Diagnostic        string            `json:"diagnostic"`
	Delivery          []RecipientStatus `json:"delivery"`
	OriginalMessageID string            `json:"original_message_id"`
	Summary           string            `json:"summary"`
}

func reportFixtures(t testing.TB) []string {
	var names []string
	for _, pat := range []string{"dsn-*.eml", "arf-*.eml"} {
		m, err := filepath.Glob(filepath.Join(fixtureDir, pat))
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, m...)
	}
	return names
}

// TestReportGolden classifies every report fixture from its raw bytes (as
// the intake does, without the envelope) and compares what ParseBounce or
// ParseComplaint read with testdata/golden.
func TestReportGolden(t *testing.T) {
	for _, f := range reportFixtures(t) {
		name := strings.TrimSuffix(filepath.Base(f), ".eml")
		t.Run(name, func(t *testing.T) {
			raw := readFixture(t, filepath.Base(f))
			h := fixtureHeader(t, stripEnvelope(raw))
			r := ClassifyMessage(raw, h, "", false, []string{"helpdesk.example"})
			o := outcome{Kind: r.Kind, Reason: r.Reason}
			if b, ok := ParseBounce(raw); ok {
				o.Bounce = &bounceOutcome{Family: b.Family, Action: b.Action, Permanent: b.Permanent, Recipients: b.Recipients,
					Status: b.Status, ReasonCode: b.ReasonCode, Reason: b.Reason, Diagnostic: b.Diagnostic, Delivery: b.Delivery,
					OriginalMessageID: b.OriginalMessageID, Summary: b.Summary()}
			}
			if c, ok := ParseComplaint(raw); ok {
				c.OriginalHeaders = c.OriginalHeaders.Copy()
				o.Complaint = c
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(o); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("golden %s: %v (run go test ./mailbox/classify -run TestReportGolden -update and review it)", golden, err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("outcome differs from %s (run with -update and review the diff):\n%s", golden, buf.Bytes())
			}
		})
	}
}

// TestFamilies pins, per sender family, the failed recipient, the status
// and the cause read from its fixture; the goldens hold the rest.
func TestFamilies(t *testing.T) {
	tests := []struct {
		file, family, recipient, status, reason string
		action                                  string
	}{
		{"dsn-postfix-text-only.eml", "postfix", "rafael.costa@cliente.example.com.br", "5.1.1", "userunknown", "failed"},
		{"dsn-postfix-user-unknown.eml", "postfix", "maria.souza@cliente.example.com.br", "5.1.1", "userunknown", "failed"},
		{"dsn-sendmail-fatal-errors.eml", "sendmail", "joana.ribeiro@fabrica.example.com", "5.2.1", "suspend", "failed"},
		{"dsn-exim-nonstandard.eml", "exim", "carlos@escritorio.example.com.br", "5.2.2", "mailboxfull", "failed"},
		{"dsn-qmail.eml", "qmail", "ana@antigo.example.org", "5.1.1", "userunknown", "failed"},
		{"dsn-exchange-ndr.eml", "exchange", "pedro.lima@contoso.example", "5.1.10", "userunknown", "failed"},
		{"dsn-gmail-failure.eml", "gmail", "fernanda.nao.existe@gmail.example", "5.1.1", "userunknown", "failed"},
		{"dsn-yahoo-failure-notice.eml", "yahoo", "bruno_almeida77@yahoo.example", "5.1.1", "userunknown", "failed"},
		{"dsn-outlook-com-failed.eml", "outlook", "leticia.m@hotmail.example.com", "5.5.0", "userunknown", "failed"},
		{"dsn-amazonses-undeliverable.eml", "amazonses", "compras@distribuidora.example.net", "5.1.0", "userunknown", "failed"},
		{"dsn-mailru-returning-message.eml", "mailru", "ivan.petrov@mail.ru.example", "5.2.2", "mailboxfull", "failed"},
		{"dsn-lotus-notes-domino.eml", "notes", "marcos.vieira@industria.example.com.br", "5.1.1", "userunknown", "failed"},
		{"dsn-opensmtpd-error.eml", "opensmtpd", "dev@startup.example.io", "5.7.1", "blocked", "failed"},
		{"dsn-courier-undeliverable.eml", "courier", "secretaria@escola.example.edu.br", "5.1.1", "userunknown", "failed"},
		{"dsn-mcafee-delivery-problems.eml", "mcafee", "sinistros@seguradora.example.com", "5.1.1", "userunknown", "failed"},
		{"dsn-trendmicro-interscan.eml", "trendmicro", "expedicao@logistica.example.com", "5.1.1", "userunknown", "failed"},
		{"dsn-dragonfly-dma.eml", "dragonfly", "pesquisa@laboratorio.example.org", "5.2.2", "mailboxfull", "failed"},
		{"dsn-inside-multipart-mixed.eml", "rfc3464", "protocolo@prefeitura.example.gov.br", "5.1.1", "userunknown", "failed"},
		{"dsn-mbox-from-line-multiple-status.eml", "rfc3464", "antigo.gerente@grupo.example.com", "5.1.1", "userunknown", "failed"},
		{"dsn-malformed-nested-part.eml", "rfc3464", "faturamento@hospital.example.org", "5.2.2", "mailboxfull", "failed"},
		{"dsn-relayed-success-notice.eml", "rfc3464", "rh@contabil.example.com", "2.0.0", "", "delivered"},
		{"dsn-no-from-x-failed-recipients.eml", "x-failed-recipients", "hans.mueller@kunde.example.de", "5.1.1", "userunknown", "failed"},
		{"dsn-postfix-delayed.eml", "postfix", "joao@lento.example.org", "4.4.1", "networkerror", "delayed"},
		{"dsn-dragonfly-cr-line-endings.eml", "dragonfly", "design@estudio.example.com", "5.1.1", "userunknown", "failed"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.family] = true
		t.Run(tt.file, func(t *testing.T) {
			raw := readFixture(t, tt.file)
			h := fixtureHeader(t, stripEnvelope(raw))
			if r := ClassifyMessage(raw, h, "", false, nil); r.Kind != Bounce {
				t.Errorf("ClassifyMessage = %+v, want a bounce", r)
			}
			b, ok := ParseBounce(raw)
			if !ok {
				t.Fatal("not recognised")
			}
			if b.Family != tt.family || b.Status != tt.status || b.ReasonCode != tt.reason || b.Action != tt.action {
				t.Errorf("family/status/reason/action = %q/%q/%q/%q, want %q/%q/%q/%q",
					b.Family, b.Status, b.ReasonCode, b.Action, tt.family, tt.status, tt.reason, tt.action)
			}
			if !slices.Contains(b.Recipients, tt.recipient) {
				t.Errorf("Recipients = %q, want %q among them", b.Recipients, tt.recipient)
			}
			if b.Failed() && (b.Reason == "" || b.Diagnostic == "") {
				t.Errorf("failure without a reason or diagnostic: %+v", b)
			}
			if !strings.HasPrefix(b.OriginalMessageID, "out-") {
				t.Errorf("OriginalMessageID = %q, want our outbound id", b.OriginalMessageID)
			}
		})
	}
	for _, f := range Families() {
		if !seen[f] {
			t.Errorf("family %s has no fixture in the table", f)
		}
	}
}

// Several delivery-status parts are all read, and each recipient keeps its
// own action: delivered and delayed ones are not failures.
func TestEveryDeliveryStatusPart(t *testing.T) {
	b, ok := ParseBounce(readFixture(t, "dsn-mbox-from-line-multiple-status.eml"))
	if !ok {
		t.Fatal("not recognised")
	}
	got := map[string]string{}
	for _, d := range b.Delivery {
		got[d.Recipient] = d.Action
	}
	want := map[string]string{"diretoria@grupo.example.com": "delivered", "filial@grupo.example.com": "delayed",
		"antigo.gerente@grupo.example.com": "failed"}
	for a, act := range want {
		if got[a] != act {
			t.Errorf("%s: action %q, want %q (all: %v)", a, got[a], act, got)
		}
	}
	if !slices.Equal(b.Recipients, []string{"antigo.gerente@grupo.example.com"}) {
		t.Errorf("Recipients = %q, want only the failed one", b.Recipients)
	}
}

func TestComplaint(t *testing.T) {
	raw := readFixture(t, "arf-feedback-abuse.eml")
	if r := ClassifyMessage(raw, fixtureHeader(t, raw), "", true, nil); r.Kind != Complaint || !r.Automated() {
		t.Fatalf("ClassifyMessage = %+v, want a complaint", r)
	}
	c, ok := ParseComplaint(raw)
	if !ok {
		t.Fatal("not recognised")
	}
	if c.FeedbackType != "abuse" || !c.Suppress() || !slices.Equal(c.Recipients, []string{"claudia.reis@provedor.example.net"}) ||
		c.OriginalMessageID != "out-2018-bnc@helpdesk.example" || c.ReportingDomain != "helpdesk.example" {
		t.Errorf("complaint = %+v", c)
	}
	if _, ok := ParseBounce(raw); ok {
		t.Error("a complaint read as a bounce")
	}
	// Redacted Original-Rcpt-To: the returned To names the complainant.
	red := bytes.Replace(raw, []byte("Original-Rcpt-To: <claudia.reis@provedor.example.net>\r\n"), nil, 1)
	if c, _ := ParseComplaint(red); c == nil || !slices.Equal(c.Recipients, []string{"claudia.reis@provedor.example.net"}) {
		t.Errorf("redacted complaint = %+v", c)
	}
	// Microsoft's JMRP: the returned message names the complainant.
	jmrp := readFixture(t, "arf-outlook-jmrp.eml")
	if r := ClassifyMessage(jmrp, fixtureHeader(t, jmrp), "", false, nil); r.Kind != Complaint {
		t.Errorf("JMRP = %+v, want a complaint", r)
	}
	if c, _ := ParseComplaint(jmrp); c == nil || !slices.Equal(c.Recipients, []string{"renata.prado@hotmail.example.com"}) || c.OriginalMessageID != "out-2019-bnc@helpdesk.example" {
		t.Errorf("JMRP complaint = %+v", c)
	}
	notSpam := bytes.Replace(raw, []byte("Feedback-Type: abuse"), []byte("Feedback-Type: not-spam"), 1)
	if c, _ := ParseComplaint(notSpam); c == nil || c.Suppress() {
		t.Errorf("not-spam report = %+v, want no suppression", c)
	}
}

// Body evidence makes a bounce of mail the header alone calls bulk or a
// person; a person's mail that quotes bounce words stays a person's.
func TestBodyBounceRule(t *testing.T) {
	raw := readFixture(t, "dsn-inside-multipart-mixed.eml")
	h := fixtureHeader(t, raw)
	if r := ClassifyWithLoop(h, "", false, nil); r.Kind != Bulk {
		t.Fatalf("header alone = %+v, want bulk (the case body evidence fixes)", r)
	}
	if r := ClassifyMessage(raw, h, "", false, nil); r.Kind != Bounce {
		t.Fatalf("ClassifyMessage = %+v, want bounce over Precedence: bulk", r)
	}
	human := []byte("From: Ana <ana@cliente.example>\r\nTo: support@helpdesk.example\r\nSubject: Re: erro\r\n\r\n" +
		"Recebi isto: This message was created automatically by mail delivery software.\r\n  x@y.example\r\n")
	if r := ClassifyMessage(human, fixtureHeader(t, human), "ana@cliente.example", false, nil); r.Kind != Human {
		t.Errorf("person quoting a bounce = %+v, want human", r)
	}
	// A bounce that says Auto-Submitted from an address that is not a
	// daemon's: the header alone calls it an auto-reply.
	auto := []byte("From: Servidor de E-mail <avisos@provedor.example.com.br>\r\nTo: support@helpdesk.example\r\nSubject: Aviso\r\nAuto-Submitted: auto-replied\r\n\r\n" +
		"This message was created automatically by mail delivery software.\r\n\r\nA message that you sent could not be delivered to one or more of its\r\nrecipients. The following address(es) failed:\r\n\r\n  x@y.example\r\n    550 5.1.1 unknown user\r\n")
	if r := ClassifyWithLoop(fixtureHeader(t, auto), "", false, nil); r.Kind != AutoReply {
		t.Fatalf("header alone = %+v, want auto-reply (the case body evidence fixes)", r)
	}
	if r := ClassifyMessage(auto, fixtureHeader(t, auto), "", false, nil); r != (Result{Bounce, "exim report + Auto-Submitted"}) {
		t.Errorf("ClassifyMessage = %+v, want an exim bounce", r)
	}
	// Fetched over IMAP (no envelope) with no From at all: MAILER-DAEMON
	// mail whose sender was lost.
	noFrom := []byte("To: support@helpdesk.example\r\nSubject: failure notice\r\n\r\nHi. This is the qmail-send program at mx.example.org.\r\n\r\n<a@b.example>:\r\n550 5.1.1 no mailbox\r\n")
	want := Result{Bounce, "no usable From + Subject: failure notice"}
	if r := ClassifyWithLoop(fixtureHeader(t, noFrom), "", false, nil); r != want {
		t.Errorf("no From = %+v, want %+v", r, want)
	}
	if r := ClassifyMessage(append([]byte("From MAILER-DAEMON Mon Nov 30 09:00:00 2026\n"), noFrom...), fixtureHeader(t, noFrom), "", false, nil); r != want {
		t.Errorf("no From after an mbox line = %+v, want %+v", r, want)
	}
}

// A family's report that names no address still says what happened.
func TestFamilyReportWithoutAddress(t *testing.T) {
	raw := []byte("From: MAILER-DAEMON@mx.example.org\r\nSubject: failure notice\r\n\r\nHi. This is the qmail-send program at mx.example.org.\r\nI'm afraid I wasn't able to deliver your message.\r\n")
	b, ok := ParseBounce(raw)
	if !ok || b.Action != "failed" || b.Family != "qmail" || len(b.Recipients) != 0 {
		t.Fatalf("ParseBounce = %+v, %v", b, ok)
	}
}

// Delay and success notices in a family's own words mark nothing.
func TestFamilyNoticeActions(t *testing.T) {
	const osmtpd = "From: Mailer Daemon <MAILER-DAEMON@mx.example.org>\r\nSubject: Delivery status notification: %s\r\n\r\n" +
		"    Hi!\r\n\r\n    This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.\r\n\r\n"
	tests := []struct {
		name, raw, action string
	}{
		{"opensmtpd success", fmt.Sprintf(osmtpd, "success") + "    Your message was successfully delivered to these recipients.\r\n\r\na@b.example: 250 2.0.0 Ok\r\n", "delivered"},
		{"opensmtpd relayed", fmt.Sprintf(osmtpd, "relayed") + "    Your message was relayed to these recipients.\r\n\r\na@b.example: 250 2.0.0 Ok\r\n", "relayed"},
		{"opensmtpd delay", fmt.Sprintf(osmtpd, "delay") + "    A message is delayed for more than 4 hours for the following\r\n    list of recipients:\r\n\r\na@b.example: 421 4.4.2 Connection timed out\r\n", "delayed"},
		{"courier delay", "From: \"Courier mail server at mx.example.org\" <@>\r\nSubject: WARNING: delayed mail.\r\n\r\nThis is a delivery status notification from mx.example.org,\r\nrunning the Courier mail server.\r\n\r\n                    DELAYS IN DELIVERING YOUR MESSAGE\r\n\r\nYour message to the following recipients has been delayed:\r\n\r\n<a@b.example>:\r\n    mx.b.example [192.0.2.9]:\r\n<<< 451 4.3.0 Try again later\r\n", "delayed"},
		{"exim delay", "From: Mail Delivery System <Mailer-Daemon@mx.example.org>\r\nSubject: Warning: message 1kXy delayed 24 hours\r\n\r\nThis message was created automatically by mail delivery software.\r\nA message that you sent has not yet been delivered to one or more of its\r\nrecipients after more than 24 hours on the queue on mx.example.org.\r\n\r\n  a@b.example\r\n    Delay reason: SMTP error from remote mail server after RCPT TO:<a@b.example>: 451 4.7.1 Greylisted\r\n", "delayed"},
	}
	for _, tt := range tests {
		b, ok := ParseBounce([]byte(tt.raw))
		if !ok {
			t.Errorf("%s: not recognised", tt.name)
			continue
		}
		if b.Action != tt.action || b.Permanent || b.Failed() || !slices.Equal(b.Recipients, []string{"a@b.example"}) {
			t.Errorf("%s: action %q permanent %v recipients %q, want %q for a@b.example", tt.name, b.Action, b.Permanent, b.Recipients, tt.action)
		}
	}
}
