package web

import (
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// A passwordless sign-in stands for both factors only when the
// authenticator verified the person (PIN, biometrics): a security key
// that only saw a touch must not sign in alone.
func TestPasskeyPasswordlessNeedsUserVerification(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		key := registerSoftKey(t, aw)

		key.flags = 0x01 // UP only
		anon := aw.browser()
		anon.get("/login")
		res := anon.fetch("/webauthn/login/begin", []byte(`{}`))
		expect(t, "login begin", res, 200, "", `"userVerification":"required"`)
		res = anon.fetch("/webauthn/login/finish", key.get(res.Body))
		if res.StatusCode == 200 || anon.session() != "" {
			t.Fatalf("a passkey without user verification signed in alone: %d %s", res.StatusCode, res.Body)
		}
	})
}

// A sign count that goes back means the key was copied: refuse it.
func TestPasskeyCloneRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		key := registerSoftKey(t, aw)
		passkeySignIn := func() resp {
			b := aw.browser()
			b.get("/login")
			res := b.fetch("/webauthn/login/begin", []byte(`{}`))
			return b.fetch("/webauthn/login/finish", key.get(res.Body))
		}
		key.count = 4
		expect(t, "first sign-in", passkeySignIn(), 200, "", `"redirect"`)
		key.count = 1 // a copy made earlier answers with a lower count
		if res := passkeySignIn(); res.StatusCode == 200 {
			t.Fatalf("a cloned passkey (count went back) signed in: %s", res.Body)
		}
	})
}

func registerSoftKey(t *testing.T, aw *authWorld) *softKey {
	t.Helper()
	b := aw.browser()
	b.mustLogin("maria@acme.example")
	key := newSoftKey(t)
	res := b.fetch("/webauthn/register/begin", []byte(`{"name":"Key"}`))
	expect(t, "register begin", res, 200, "", `"challenge"`)
	expect(t, "register finish", b.fetch("/webauthn/register/finish", key.create(res.Body)), 200, "")
	return key
}
