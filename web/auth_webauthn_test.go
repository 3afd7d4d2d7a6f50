package web

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// softKey is a software authenticator: one ES256 passkey, as a browser's
// virtual authenticator would hold it (no library fakes the other side).
type softKey struct {
	t      testing.TB
	origin string
	rpID   string
	id     []byte
	handle []byte
	key    *ecdsa.PrivateKey
	count  uint32
	flags  byte // of get's authenticator data; 0 = UP and UV
}

var b64u = base64.RawURLEncoding

func newSoftKey(t testing.TB) *softKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	return &softKey{t: t, origin: "http://localhost:4480", rpID: "localhost", id: id, key: k}
}

func (k *softKey) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": k.origin, "crossOrigin": false})
	return b
}

func (k *softKey) authData(flags byte, attested []byte) []byte {
	rp := sha256.Sum256([]byte(k.rpID))
	var buf bytes.Buffer
	buf.Write(rp[:])
	buf.WriteByte(flags)
	_ = binary.Write(&buf, binary.BigEndian, k.count)
	buf.Write(attested)
	return buf.Bytes()
}

// create answers navigator.credentials.create() for the server's options.
func (k *softKey) create(options string) []byte {
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			User      struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal([]byte(options), &o); err != nil {
		k.t.Fatalf("creation options: %v\n%s", err, options)
	}
	handle, err := b64u.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		k.t.Fatal(err)
	}
	k.handle = handle
	x, y := k.key.PublicKey.X.FillBytes(make([]byte, 32)), k.key.PublicKey.Y.FillBytes(make([]byte, 32))
	cose, _ := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	var att bytes.Buffer
	att.Write(make([]byte, 16)) // AAGUID
	_ = binary.Write(&att, binary.BigEndian, uint16(len(k.id)))
	att.Write(k.id)
	att.Write(cose)
	ad := k.authData(0x45, att.Bytes()) // UP, UV, AT
	obj, _ := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": ad})
	out, _ := json.Marshal(map[string]any{"id": b64u.EncodeToString(k.id), "rawId": b64u.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64u.EncodeToString(k.clientData("webauthn.create", o.PublicKey.Challenge)),
			"attestationObject": b64u.EncodeToString(obj), "transports": []string{"internal"}},
		"clientExtensionResults": map[string]any{}})
	return out
}

// get answers navigator.credentials.get() for the server's options.
func (k *softKey) get(options string) []byte {
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal([]byte(options), &o); err != nil {
		k.t.Fatalf("request options: %v\n%s", err, options)
	}
	k.count++
	flags := k.flags
	if flags == 0 {
		flags = 0x05 // UP, UV
	}
	ad := k.authData(flags, nil)
	cd := k.clientData("webauthn.get", o.PublicKey.Challenge)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.key, digest[:])
	if err != nil {
		k.t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{"id": b64u.EncodeToString(k.id), "rawId": b64u.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64u.EncodeToString(cd), "authenticatorData": b64u.EncodeToString(ad),
			"signature": b64u.EncodeToString(sig), "userHandle": b64u.EncodeToString(k.handle)},
		"clientExtensionResults": map[string]any{}})
	return out
}

// fetch is passkey.js's POST: JSON with the X-CSRF-Token header.
func (b *browser) fetch(path string, body []byte) resp {
	b.t.Helper()
	b.header.Set("X-CSRF-Token", b.csrf)
	b.header.Set("Accept", "application/json")
	defer func() {
		b.header.Del("X-CSRF-Token")
		b.header.Del("Accept")
	}()
	return b.do("POST", path, bytes.NewReader(body), "application/json")
}

func TestPasskeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		b := aw.browser()
		b.mustLogin("maria@acme.example")
		key := newSoftKey(t)

		res := b.fetch("/webauthn/register/begin", []byte(`{"name":"Notebook"}`))
		expect(t, "register begin", res, 200, "", `"challenge"`, `"residentKey":"required"`)
		res = b.fetch("/webauthn/register/finish", key.create(res.Body))
		expect(t, "register finish", res, 200, "", `"redirect":"/meu-perfil#seguranca"`)
		expect(t, "listed", b.get("/meu-perfil"), 200, "", "Notebook", "/remover")
		// The ceremony cookie is single use.
		res = b.fetch("/webauthn/register/finish", newSoftKey(t).create(`{"publicKey":{"challenge":"AAAA","user":{"id":"AAAA"}}}`))
		if res.StatusCode == 200 {
			t.Fatal("a second finish without a begin was accepted")
		}
		b.post("/logout", nil)

		// Passwordless: the passkey picks the account; a new session.
		anon := aw.browser()
		anon.get("/login")
		res = anon.fetch("/webauthn/login/begin", []byte(`{"next":"/meu-perfil"}`))
		expect(t, "login begin", res, 200, "", `"challenge"`)
		if strings.Contains(res.Body, "allowCredentials") {
			t.Fatal("a discoverable login lists credentials")
		}
		answer := key.get(res.Body)
		res = anon.fetch("/webauthn/login/finish", answer)
		expect(t, "login finish", res, 200, "", `"redirect":"/meu-perfil"`)
		if anon.session() == "" {
			t.Fatal("no session after the passkey")
		}
		expect(t, "signed in", anon.get("/meu-perfil"), 200, "", "Maria Silva")

		// A replayed assertion (same challenge, cookie gone) fails.
		replay := aw.browser()
		replay.get("/login")
		res = replay.fetch("/webauthn/login/finish", answer)
		if res.StatusCode == 200 || replay.session() != "" {
			t.Fatalf("a replayed assertion signed in: %d", res.StatusCode)
		}

		// As a second factor: with TOTP on, the pending session offers it.
		u, _ := st.R().UserByEmail(t.Context(), store.AllCompanies(), "maria@acme.example")
		expectPasskeySecondFactor(t, aw, key, u)
	})
}

func expectPasskeySecondFactor(t *testing.T, aw *authWorld, key *softKey, u *store.User) {
	t.Helper()
	b := aw.browser()
	b.mustLogin(u.Email)
	expect(t, "email codes on", b.post("/meu-perfil/codigo-email", map[string][]string{"on": {"1"}}), http.StatusSeeOther, "")
	b.post("/logout", map[string][]string{"csrf_token": {csrfOf(t, b, "/meu-perfil")}})
	res := b.login(u.Email, testPassword)
	expect(t, "password step", res, http.StatusSeeOther, "/otp")
	pending := b.session()
	expect(t, "otp offers the passkey", b.get("/otp"), 200, "", `data-second="1"`)
	res = b.fetch("/webauthn/login/begin", []byte(`{"second":true}`))
	expect(t, "second begin", res, 200, "", "allowCredentials")
	res = b.fetch("/webauthn/login/finish", key.get(res.Body))
	expect(t, "second finish", res, 200, "", `"redirect":"/dashboard"`)
	if b.session() == "" || b.session() == pending {
		t.Fatal("the cookie did not change after the passkey")
	}
	expect(t, "signed in", b.get("/meu-perfil"), 200, "")
}
