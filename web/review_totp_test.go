package web

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// The set-up cookie carries the new TOTP secret between the pages: it is
// encrypted, not only signed, so whatever sees the cookie (a proxy's log,
// the browser's cookie store) does not see the secret.
func TestTOTPSetupCookieHidesTheSecret(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		b := aw.browser()
		b.mustLogin("maria@acme.example")
		res := b.follow(b.post("/meu-perfil/totp", nil))
		expect(t, "set-up page", res, http.StatusOK, "")
		secret := strings.ReplaceAll(secretText.FindStringSubmatch(res.Body)[1], " ", "")
		ck := b.cookies[totpCookie]
		if ck == "" {
			t.Fatal("no set-up cookie")
		}
		seen := ck
		for _, part := range strings.Split(ck, ".") {
			if raw, err := base64.RawURLEncoding.DecodeString(part); err == nil {
				seen += "\n" + string(raw)
			}
		}
		if strings.Contains(seen, secret) || strings.Contains(seen, "otpauth") {
			t.Fatalf("the set-up cookie shows the secret: %q", seen)
		}
	})
}
