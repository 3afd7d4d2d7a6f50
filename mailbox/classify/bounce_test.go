package classify

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/emersion/go-message/textproto"
)

// report wraps a delivery-status body (and optional returned headers) in a
// minimal multipart/report.
func report(dsn, returned string) []byte {
	s := "From: MAILER-DAEMON@mx.example\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=BB\r\n\r\n" +
		"--BB\r\nContent-Type: text/plain\r\n\r\nreport\r\n" +
		"--BB\r\nContent-Type: message/delivery-status\r\n\r\n" + dsn + "\r\n"
	if returned != "" {
		s += "--BB\r\nContent-Type: text/rfc822-headers\r\n\r\n" + returned + "\r\n"
	}
	return []byte(s + "--BB--\r\n")
}

func TestParseBounceDSN(t *testing.T) {
	const per = "Reporting-MTA: dns; mx.example\n\n"
	tests := []struct {
		name       string
		raw        []byte
		action     string
		permanent  bool
		recipients []string
		status     string
		origID     string
	}{
		{"failed wins over delayed",
			report(per+"Final-Recipient: rfc822; a@x.com\nAction: delayed\nStatus: 4.4.1\n\nFinal-Recipient: rfc822; B@X.com\nAction: failed\nStatus: 5.1.1\n", ""),
			"failed", true, []string{"b@x.com"}, "5.1.1", ""},
		{"two failed recipients",
			report(per+"Final-Recipient: rfc822; a@x.com\nAction: failed\nStatus: 5.1.1\n\nFinal-Recipient: rfc822;b@x.com\nAction: failed\nStatus: 5.2.2\n", ""),
			"failed", true, []string{"a@x.com", "b@x.com"}, "5.1.1", ""},
		{"original recipient preferred",
			report(per+"Original-Recipient: rfc822;alias@x.com\nFinal-Recipient: rfc822; real@internal.x.com\nAction: failed\nStatus: 5.1.1\n", ""),
			"failed", true, []string{"alias@x.com"}, "5.1.1", ""},
		{"expired queue is failed but not permanent",
			report(per+"Final-Recipient: rfc822; a@x.com\nAction: failed\nStatus: 4.4.7\n", ""),
			"failed", false, []string{"a@x.com"}, "4.4.7", ""},
		{"delivered notice",
			report(per+"Final-Recipient: rfc822; a@x.com\nAction: delivered\nStatus: 2.0.0\n", ""),
			"delivered", false, []string{"a@x.com"}, "2.0.0", ""},
		{"relayed notice",
			report(per+"Final-Recipient: rfc822; a@x.com\nAction: relayed (to non-DSN MTA)\nStatus: 2.0.0\n", ""),
			"relayed", false, []string{"a@x.com"}, "2.0.0", ""},
		{"status only in diagnostic",
			report(per+"Final-Recipient: rfc822; a@x.com\nAction: failed\nDiagnostic-Code: smtp; 550 5.7.1 blocked\n", ""),
			"failed", true, []string{"a@x.com"}, "5.7.1", ""},
		{"action missing, from status",
			report(per+"Final-Recipient: rfc822; a@x.com\nStatus: 5.1.1\n", ""),
			"failed", true, []string{"a@x.com"}, "5.1.1", ""},
		{"no blank line after per-message fields",
			report("Reporting-MTA: dns; mx.example\nFinal-Recipient: rfc822; a@x.com\nAction: failed\nStatus: 5.1.1\n", ""),
			"failed", true, []string{"a@x.com"}, "5.1.1", ""},
		{"returned headers give the id",
			report(per+"Final-Recipient: rfc822; a@x.com\nAction: failed\nStatus: 5.1.1\n", "From: support@helpdesk.example\nMessage-ID: <Out-1042-ABC@helpdesk.example>\nX-JCServiceDesk-Loop: hd1\n"),
			"failed", true, []string{"a@x.com"}, "5.1.1", "out-1042-abc@helpdesk.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, ok := ParseBounce(tt.raw)
			if !ok {
				t.Fatal("not recognised")
			}
			if b.Action != tt.action || b.Permanent != tt.permanent || b.Status != tt.status || b.OriginalMessageID != tt.origID {
				t.Errorf("got %q/%v/%q/%q, want %q/%v/%q/%q", b.Action, b.Permanent, b.Status, b.OriginalMessageID, tt.action, tt.permanent, tt.status, tt.origID)
			}
			if !slices.Equal(b.Recipients, tt.recipients) {
				t.Errorf("Recipients = %q, want %q", b.Recipients, tt.recipients)
			}
		})
	}
}

func TestParseBounceNonStandard(t *testing.T) {
	tests := []struct {
		name       string
		raw        string
		action     string
		recipients []string
		status     string
		origID     string
	}{
		{"exim delay warning",
			"From: Mail Delivery System <Mailer-Daemon@x.net>\nSubject: Warning: message delayed\n\nThis message was created automatically by mail delivery software.\nA message that you sent has not yet been delivered to one or more of its\nrecipients after more than 24 hours on the queue on x.net.\n\n  slow@y.com\n    Delay reason: 451 4.3.0 try later\n",
			"delayed", []string{"slow@y.com"}, "4.3.0", ""},
		{"gmail legacy permanent",
			"From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\nSubject: Delivery Status Notification (Failure)\n\nDelivery to the following recipient failed permanently:\n\n     nobody@y.com\n\nTechnical details of permanent failure:\nThe email account that you tried to reach does not exist. 550 5.1.1\n",
			"failed", []string{"nobody@y.com"}, "5.1.1", ""},
		{"sendmail fatal",
			"From: Mail Delivery Subsystem <MAILER-DAEMON@y.com>\nSubject: Returned mail: see transcript for details\n\n   ----- The following addresses had permanent fatal errors -----\n<gone@z.com>\n    (reason: 550 5.1.1 User unknown)\n",
			"failed", []string{"gone@z.com"}, "5.1.1", ""},
		{"id from loop header sibling in pasted text",
			"From: MAILER-DAEMON@y.com\nSubject: failure notice\n\nHi. This is the qmail-send program at y.com.\n\n<x@z.com>:\nSorry, no mailbox here by that name. (#5.1.1)\n\nthe headers were:\nFrom: support@helpdesk.example\nX-JCServiceDesk-Loop: hd1\nMessage-Id: <out-9-q@helpdesk.example>\n",
			"failed", []string{"x@z.com"}, "5.1.1", "out-9-q@helpdesk.example"},
		{"exim x-failed-recipients when body has none",
			"From: Mail Delivery System <Mailer-Daemon@x.net>\nX-Failed-Recipients: A@B.com, c@d.com\n\nThis message was created automatically by mail delivery software.\n\nA message that you sent could not be delivered to one or more of its recipients.\n",
			"failed", []string{"a@b.com", "c@d.com"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, ok := ParseBounce([]byte(tt.raw))
			if !ok {
				t.Fatal("not recognised")
			}
			if b.Action != tt.action || b.Status != tt.status || b.OriginalMessageID != tt.origID {
				t.Errorf("got %q/%q/%q, want %q/%q/%q", b.Action, b.Status, b.OriginalMessageID, tt.action, tt.status, tt.origID)
			}
			if !slices.Equal(b.Recipients, tt.recipients) {
				t.Errorf("Recipients = %q, want %q", b.Recipients, tt.recipients)
			}
		})
	}
}

func TestParseBounceRejects(t *testing.T) {
	for name, raw := range map[string]string{
		"empty":            "",
		"header only":      "Subject: hi\n",
		"person":           "From: ana@x.com\nSubject: Undelivered Mail Returned to Sender\n\nI never got your mail.\n",
		"broken header":    "\x00\x01: :\n\n",
		"multipart no dsn": "Content-Type: multipart/mixed; boundary=q\n\n--q\nContent-Type: text/plain\n\nhello\n--q--\n",
		"bad boundary":     "Content-Type: multipart/report; report-type=delivery-status\n\n--\n",
	} {
		if b, ok := ParseBounce([]byte(raw)); ok {
			t.Errorf("%s: recognised as %+v", name, b)
		}
	}
}

func TestFindStatus(t *testing.T) {
	tests := map[string]string{
		"550 5.1.1 user unknown":    "5.1.1",
		"550-5.1.10 RESOLVER":       "5.1.10",
		"4.4.7 expired":             "4.4.7",
		"ip 192.0.2.10 and 5.6.7.8": "",
		"version 1.2.3":             "",
		"(#5.1.1)":                  "5.1.1",
		"5.1.1234":                  "",
		"2.0.0":                     "2.0.0",
	}
	for in, want := range tests {
		if got := findStatus(in); got != want {
			t.Errorf("findStatus(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseBounce(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "*.eml"))
	for _, name := range files {
		base := filepath.Base(name)
		if !(strings.HasPrefix(base, "dsn-") || strings.HasPrefix(base, "arf-") || strings.HasPrefix(base, "autoreply-") || strings.HasPrefix(base, "list-") || strings.HasPrefix(base, "loop-")) {
			continue
		}
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add(report("Final-Recipient: rfc822; a@x.com\nAction: failed\nStatus: 5.1.1\n", "Message-ID: <a@b>\n"))
	f.Add([]byte("From x\nContent-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/report; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\nAction: failed\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var h textproto.Header
		h.Set("From", "MAILER-DAEMON@x.example")
		if r := ClassifyMessage(raw, h, "", true, nil); r.Kind == "" || !utf8.ValidString(r.Reason) {
			t.Fatalf("ClassifyMessage = %+v", r)
		}
		if c, ok := ParseComplaint(raw); ok {
			if len(c.Recipients) > maxRecipients || !utf8.ValidString(c.UserAgent) {
				t.Fatalf("complaint unbounded or invalid: %+v", c)
			}
		}
		b, ok := ParseBounce(raw)
		if !ok {
			if b != nil {
				t.Fatal("non-nil report with ok=false")
			}
			return
		}
		if _, known := actionRank[b.Action]; b.Action != "" && !known {
			t.Fatalf("unknown action %q", b.Action)
		}
		if b.Permanent && b.Action != "failed" {
			t.Fatalf("permanent %q", b.Action)
		}
		if len(b.Recipients) > maxRecipients || len(b.Diagnostic) > maxDiagnostic || !utf8.ValidString(b.Diagnostic) {
			t.Fatalf("unbounded output: %d recipients, %d diag bytes", len(b.Recipients), len(b.Diagnostic))
		}
		if len(b.Delivery) > maxRecipients || !b.Failed() && b.Permanent {
			t.Fatalf("%d delivery entries, failed %v permanent %v", len(b.Delivery), b.Failed(), b.Permanent)
		}
		for _, d := range b.Delivery {
			if _, known := actionRank[d.Action]; !known || len(d.Diagnostic) > maxDiagnostic || !utf8.ValidString(d.Diagnostic) {
				t.Fatalf("bad delivery entry %+v", d)
			}
		}
		if !utf8.ValidString(b.Summary()) {
			t.Fatal("summary not UTF-8")
		}
		for _, r := range b.Recipients {
			if r != strings.ToLower(r) || !strings.Contains(r, "@") {
				t.Fatalf("bad recipient %q", r)
			}
		}
		if strings.ContainsAny(b.OriginalMessageID, "<> ") {
			t.Fatalf("id not normalized: %q", b.OriginalMessageID)
		}
	})
}

func BenchmarkParseBounce(b *testing.B) {
	raw := readFixture(b, "dsn-postfix-user-unknown.eml")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ParseBounce(raw); !ok {
			b.Fatal("not recognised")
		}
	}
}

// BenchmarkClassifyMessage is the intake's per-message cost of reading the
// body for bounce evidence: a person's mail with an attachment, and a text
// bounce.
func BenchmarkClassifyMessage(b *testing.B) {
	for _, name := range []string{"octet-stream-pdf-misdeclared.eml", "plain-ptbr-signature.eml", "dsn-exim-nonstandard.eml"} {
		raw := readFixture(b, name)
		h := fixtureHeader(b, raw)
		b.Run(strings.TrimSuffix(name, ".eml"), func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				ClassifyMessage(raw, h, "x@y.example", false, nil)
			}
		})
	}
}
