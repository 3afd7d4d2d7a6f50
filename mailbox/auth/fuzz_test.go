package auth_test

import (
	"context"
	"testing"

	"github.com/jcservicedesk/servicedesk/mailbox/auth"
	"github.com/jcservicedesk/servicedesk/mailbox/auth/authtest"
)

// FuzzVerify feeds arbitrary messages (signatures, Authentication-Results
// and Received headers included) through Verify: it must never panic,
// and a verdict is one of the four.
func FuzzVerify(f *testing.F) {
	s := authtest.Start(f)
	key := s.NewKey(f, "example.org", "s1")
	s.SetTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	f.Add(key.Sign(f, message("tec@example.org")), "example.org")
	f.Add(message("x@nodmarc.test", "Authentication-Results: mx.trusted.test; dkim=pass header.d=nodmarc.test; spf=pass smtp.mailfrom=nodmarc.test", "Received: from a"), "nodmarc.test")
	f.Add(message("x@y", "Authentication-Results: mx.trusted.test; dmarc=fail (", "DKIM-Signature: v=1; d=; b=; bh=="), "y")
	f.Add([]byte("\x00\r\n\r\n"), "")
	v := auth.New(auth.Config{TrustedAuthServID: "mx.trusted.test", OwnAuthServID: "helpdesk.test"}, auth.NewResolver(s.Addr), nil)
	f.Fuzz(func(t *testing.T, raw []byte, domain string) {
		r := v.Verify(context.Background(), imapEnv, raw, domain)
		switch r.Verdict() {
		case auth.VerdictPass, auth.VerdictFail, auth.VerdictNone, auth.VerdictTemporary:
		default:
			t.Fatalf("verdict %q", r.Verdict())
		}
		if r.Aligned && (r.Definite || r.Temporary) {
			t.Fatalf("aligned and failed at once: %+v", r)
		}
		_ = r.Summary()
	})
}
