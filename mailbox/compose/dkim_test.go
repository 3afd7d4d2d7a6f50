package compose

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

func TestDKIM(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := func(k any) []byte {
		b, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b})
	}
	rsaPub, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	cases := []struct {
		name, keyType string
		pem           []byte
		pub           []byte
	}{
		{"rsa-pkcs1", "rsa", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}), rsaPub},
		{"rsa-pkcs8", "rsa", pkcs8(rsaKey), rsaPub},
		{"ed25519", "ed25519", pkcs8(edKey), edKey.Public().(ed25519.PublicKey)},
	}
	d := fixture(EventCommented, LangPTBR)
	d.TicketSubject = "Impressora não imprime — urgente"
	m := compose(t, c, d)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewDKIMSigner("desk.example.com", "jc2026", tc.pem)
			if err != nil {
				t.Fatal(err)
			}
			signed, err := s.Sign(m.Raw)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasSuffix(signed, m.Raw) {
				t.Fatalf("Sign changed the message beyond prepending a header")
			}
			record := fmt.Sprintf("v=DKIM1; k=%s; p=%s", tc.keyType, base64.StdEncoding.EncodeToString(tc.pub))
			lookup := func(domain string) ([]string, error) {
				if domain != "jc2026._domainkey.desk.example.com" {
					return nil, fmt.Errorf("unexpected lookup %s", domain)
				}
				return []string{record}, nil
			}
			verify := func(raw []byte) error {
				vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: lookup})
				if err != nil {
					return err
				}
				if len(vs) != 1 {
					return fmt.Errorf("%d signatures", len(vs))
				}
				if vs[0].Err != nil {
					return vs[0].Err
				}
				if vs[0].Domain != "desk.example.com" {
					return fmt.Errorf("domain %q", vs[0].Domain)
				}
				return nil
			}
			if err := verify(signed); err != nil {
				t.Fatalf("verify: %v", err)
			}
			tampered := bytes.Replace(signed, []byte("spooler"), []byte("printer"), 1)
			if err := verify(tampered); err == nil {
				t.Errorf("a changed body still verifies")
			}
		})
	}
}

func TestNewDKIMSignerErrors(t *testing.T) {
	t.Setenv("GODEBUG", "rsa1024min=0") // let the test make a key too small for DKIM
	small, err := rsa.GenerateKey(rand.Reader, 512)
	if err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string][]byte{
		"no pem":    []byte("not a key"),
		"small rsa": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)}),
		"cert type": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}),
		"garbage":   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}),
	} {
		if _, err := NewDKIMSigner("desk.example.com", "s", key); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
