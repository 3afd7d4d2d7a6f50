package auth_test

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/mailbox/auth"
	"github.com/jcservicedesk/servicedesk/mailbox/auth/authtest"
	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
)

func message(from string, extra ...string) []byte {
	var b strings.Builder
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("From: " + from + "\r\nTo: support@helpdesk.test\r\nSubject: [#1001] hello\r\n" +
		"Date: Tue, 01 Dec 2026 10:00:00 +0000\r\nMessage-ID: <m1@example.org>\r\n\r\nhello there\r\n")
	return []byte(b.String())
}

func smtpEnv(mailFrom string) delivery.Envelope {
	return delivery.Envelope{Source: delivery.SourceSMTP, MailFrom: mailFrom, ClientIP: net.IPv4(127, 0, 0, 1), Helo: "mx.example.org"}
}

var imapEnv = delivery.Envelope{Source: delivery.SourceIMAP}

// foreign is an SMTP client that no SPF record names.
var foreign = delivery.Envelope{Source: delivery.SourceSMTP, MailFrom: "bounce@unlisted.test", ClientIP: net.IPv4(192, 0, 2, 7), Helo: "unlisted.test"}

// zone publishes the records every case shares.
func zone(t *testing.T) (*authtest.Server, map[string]*authtest.Key) {
	s := authtest.Start(t)
	keys := map[string]*authtest.Key{
		"example.org":        s.NewKey(t, "example.org", "s1"),
		"mail.example.org":   s.NewKey(t, "mail.example.org", "s1"),
		"evil.test":          s.NewKey(t, "evil.test", "s1"),
		"shop.example.co.uk": s.NewKey(t, "shop.example.co.uk", "s1"),
		"co.uk":              s.NewKey(t, "co.uk", "s1"),
		"strict.test":        s.NewKey(t, "strict.test", "s1"),
		"a.strict.test":      s.NewKey(t, "a.strict.test", "s1"),
		"flaky.test":         s.NewKey(t, "flaky.test", "s1"),
	}
	s.SetTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	s.SetTXT("example.org", "v=spf1 ip4:127.0.0.1 -all")
	s.SetTXT("nodmarc.test", "v=spf1 ip4:10.9.9.9 -all")
	s.SetTXT("soft.test", "v=spf1 ip4:10.9.9.9 ~all")
	s.SetTXT("_dmarc.strict.test", "v=DMARC1; p=quarantine; adkim=s; aspf=s")
	s.SetTXT("_dmarc.flaky.test", authtest.ServFail)
	s.SetTXT("_dmarc.none.test", "v=DMARC1; p=none")
	s.SetTXT("_dmarc.example.co.uk", "v=DMARC1; p=reject")
	return s, keys
}

func TestVerify(t *testing.T) {
	s, keys := zone(t)
	sign := func(d string, raw []byte) []byte { return keys[d].Sign(t, raw) }
	tampered := sign("example.org", message("Tec <tec@example.org>"))
	tampered = bytes.Replace(tampered, []byte("hello there"), []byte("send money"), 1)

	cases := []struct {
		name     string
		env      delivery.Envelope
		raw      []byte
		from     string
		verdict  string
		dkim     string // first DKIM result, "" for none
		spf      string
		dmarc    string
		trusted  string // Config.TrustedAuthServID
		ownID    string
		wantTemp bool
	}{
		{name: "dkim aligned pass", env: imapEnv, raw: sign("example.org", message("tec@example.org")), from: "example.org",
			verdict: auth.VerdictPass, dkim: auth.Pass, dmarc: auth.Pass},
		{name: "dkim subdomain, relaxed", env: imapEnv, raw: sign("mail.example.org", message("tec@example.org")), from: "example.org",
			verdict: auth.VerdictPass, dkim: auth.Pass, dmarc: auth.Pass},
		{name: "dkim subdomain, strict adkim", env: foreign, raw: sign("a.strict.test", message("x@strict.test")), from: "strict.test",
			verdict: auth.VerdictFail, dkim: auth.Pass, spf: auth.None, dmarc: auth.Fail},
		{name: "dkim other domain, p=reject", env: foreign, raw: sign("evil.test", message("tec@example.org")), from: "example.org",
			verdict: auth.VerdictFail, dkim: auth.Pass, spf: auth.None, dmarc: auth.Fail},
		{name: "dkim body changed", env: foreign, raw: tampered, from: "example.org",
			verdict: auth.VerdictFail, dkim: auth.Fail, spf: auth.None, dmarc: auth.Fail},
		{name: "unsigned, p=reject, no smtp: SPF unknown, no verdict", env: imapEnv, raw: message("tec@example.org"), from: "example.org",
			verdict: auth.VerdictNone, dmarc: auth.Fail},
		{name: "unsigned, no dmarc, no smtp", env: imapEnv, raw: message("x@nodmarc.test"), from: "nodmarc.test",
			verdict: auth.VerdictNone, dmarc: auth.None},
		{name: "spf pass aligned", env: smtpEnv("bounces@example.org"), raw: message("tec@example.org"), from: "example.org",
			verdict: auth.VerdictPass, spf: auth.Pass, dmarc: auth.Pass},
		{name: "spf pass, other domain than From", env: smtpEnv("bounces@example.org"), raw: message("x@nodmarc.test"), from: "nodmarc.test",
			verdict: auth.VerdictNone, spf: auth.Pass, dmarc: auth.None},
		{name: "spf hard fail aligned, no dmarc", env: smtpEnv("x@nodmarc.test"), raw: message("x@nodmarc.test"), from: "nodmarc.test",
			verdict: auth.VerdictFail, spf: auth.Fail, dmarc: auth.None},
		{name: "spf softfail, no dmarc", env: smtpEnv("x@soft.test"), raw: message("x@soft.test"), from: "soft.test",
			verdict: auth.VerdictNone, spf: auth.SoftFail, dmarc: auth.None},
		{name: "spf fail, dmarc p=reject", env: delivery.Envelope{Source: delivery.SourceSMTP, MailFrom: "tec@example.org", ClientIP: net.IPv4(192, 0, 2, 7)},
			raw: message("tec@example.org"), from: "example.org", verdict: auth.VerdictFail, spf: auth.Fail, dmarc: auth.Fail},
		{name: "null sender uses helo", env: delivery.Envelope{Source: delivery.SourceSMTP, ClientIP: net.IPv4(127, 0, 0, 1), Helo: "example.org"},
			raw: message("mailer-daemon@example.org"), from: "example.org", verdict: auth.VerdictPass, spf: auth.Pass, dmarc: auth.Pass},
		{name: "dmarc p=none, unsigned", env: imapEnv, raw: message("x@none.test"), from: "none.test",
			verdict: auth.VerdictNone, dmarc: auth.Fail},
		{name: "dmarc servfail", env: imapEnv, raw: message("x@flaky.test"), from: "flaky.test",
			verdict: auth.VerdictTemporary, dmarc: auth.TempError, wantTemp: true},
		{name: "dmarc servfail, aligned dkim pass wins", env: imapEnv, raw: sign("flaky.test", message("x@flaky.test")), from: "flaky.test",
			verdict: auth.VerdictPass, dkim: auth.Pass, dmarc: auth.TempError},
		{name: "public suffix: org domain below co.uk", env: imapEnv, raw: sign("shop.example.co.uk", message("x@help.example.co.uk")), from: "help.example.co.uk",
			verdict: auth.VerdictPass, dkim: auth.Pass, dmarc: auth.Pass},
		{name: "public suffix: co.uk is nobody's", env: foreign, raw: sign("co.uk", message("x@example.co.uk")), from: "example.co.uk",
			verdict: auth.VerdictFail, dkim: auth.Pass, spf: auth.None, dmarc: auth.Fail},
		{name: "trusted A-R on top", env: imapEnv, trusted: "mx.trusted.test",
			raw:  message("x@nodmarc.test", "Authentication-Results: mx.trusted.test; dkim=pass header.d=nodmarc.test; spf=pass smtp.mailfrom=nodmarc.test", "Received: from a by b"),
			from: "nodmarc.test", verdict: auth.VerdictPass, dkim: auth.Pass, spf: auth.Pass, dmarc: auth.None},
		{name: "trusted id below a Received is forged", env: imapEnv, trusted: "mx.trusted.test",
			raw: message("x@nodmarc.test", "Authentication-Results: mx.trusted.test; spf=none", "Received: from mx by inbox",
				"Authentication-Results: mx.trusted.test; dkim=pass header.d=nodmarc.test"),
			from: "nodmarc.test", verdict: auth.VerdictNone, spf: auth.None, dmarc: auth.None},
		{name: "other authserv-id ignored", env: imapEnv, trusted: "mx.trusted.test",
			raw:  message("x@nodmarc.test", "Authentication-Results: mx.forger.test; dkim=pass header.d=nodmarc.test"),
			from: "nodmarc.test", verdict: auth.VerdictNone, dmarc: auth.None},
		{name: "our own id in the input ignored", env: imapEnv, trusted: "helpdesk.test", ownID: "helpdesk.test",
			raw:  message("x@nodmarc.test", "Authentication-Results: helpdesk.test; dkim=pass header.d=nodmarc.test"),
			from: "nodmarc.test", verdict: auth.VerdictNone, dmarc: auth.None},
		{name: "trusted dmarc=fail", env: imapEnv, trusted: "mx.trusted.test",
			raw:  message("x@nodmarc.test", "Authentication-Results: mx.trusted.test; dmarc=fail header.from=nodmarc.test"),
			from: "nodmarc.test", verdict: auth.VerdictFail, dmarc: auth.None},
		{name: "no From domain", env: imapEnv, raw: message("nobody"), from: "", verdict: auth.VerdictNone, dmarc: auth.None},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := auth.New(auth.Config{TrustedAuthServID: c.trusted, OwnAuthServID: c.ownID}, auth.NewResolver(s.Addr), nil)
			r := v.Verify(context.Background(), c.env, c.raw, c.from)
			if r.Verdict() != c.verdict {
				t.Errorf("verdict = %s, want %s (%s)", r.Verdict(), c.verdict, r.Summary())
			}
			gotDKIM := ""
			if len(r.DKIM) > 0 {
				gotDKIM = r.DKIM[0].Result
			}
			if gotDKIM != c.dkim {
				t.Errorf("dkim = %q, want %q (%s)", gotDKIM, c.dkim, r.Summary())
			}
			if r.SPF.Result != c.spf {
				t.Errorf("spf = %q, want %q (%s)", r.SPF.Result, c.spf, r.Summary())
			}
			if r.DMARC.Result != c.dmarc {
				t.Errorf("dmarc = %q, want %q (%s)", r.DMARC.Result, c.dmarc, r.Summary())
			}
			if r.Temporary != c.wantTemp {
				t.Errorf("temporary = %v, want %v", r.Temporary, c.wantTemp)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	s, keys := zone(t)
	v := auth.New(auth.Config{}, auth.NewResolver(s.Addr), nil)
	r := v.Verify(context.Background(), smtpEnv("b@example.org"), keys["example.org"].Sign(t, message("tec@example.org")), "example.org")
	want := "dkim=pass header.d=example.org; spf=pass smtp.mailfrom=example.org; dmarc=pass policy=reject header.from=example.org"
	if got := r.Summary(); got != want {
		t.Errorf("summary\n got %s\nwant %s", got, want)
	}
}

func TestOrgDomain(t *testing.T) {
	for in, want := range map[string]string{
		"example.org": "example.org", "a.b.example.org": "example.org", "shop.example.co.uk": "example.co.uk",
		"co.uk": "co.uk", "Example.ORG.": "example.org", "": "", "foo.blogspot.com": "foo.blogspot.com",
	} {
		if got := auth.OrgDomain(in); got != want {
			t.Errorf("OrgDomain(%q) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	s := authtest.Start(b)
	key := s.NewKey(b, "example.org", "s1")
	s.SetTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	s.SetTXT("example.org", "v=spf1 ip4:127.0.0.1 -all")
	v := auth.New(auth.Config{}, auth.NewResolver(s.Addr), nil)
	signed := key.Sign(b, message("tec@example.org"))
	b.Run("signed", func(b *testing.B) {
		for b.Loop() {
			if r := v.Verify(context.Background(), smtpEnv("b@example.org"), signed, "example.org"); !r.Aligned {
				b.Fatal(r.Summary())
			}
		}
	})
	b.Run("no records", func(b *testing.B) {
		raw := message("x@nowhere.test")
		for b.Loop() {
			if r := v.Verify(context.Background(), smtpEnv("x@nowhere.test"), raw, "nowhere.test"); r.Verdict() != auth.VerdictNone {
				b.Fatal(r.Summary())
			}
		}
	})
}

// TestVerifyConcurrent: one Verifier serves every delivery at once.
func TestVerifyConcurrent(t *testing.T) {
	s, keys := zone(t)
	v := auth.New(auth.Config{}, auth.NewResolver(s.Addr), nil)
	signed := keys["example.org"].Sign(t, message("tec@example.org"))
	errs := make(chan string, 8)
	for range 8 {
		go func() {
			r := v.Verify(context.Background(), smtpEnv("b@example.org"), signed, "example.org")
			errs <- r.Verdict()
		}()
	}
	for range 8 {
		if got := <-errs; got != auth.VerdictPass {
			t.Errorf("verdict %s under concurrency, want pass", got)
		}
	}
}
