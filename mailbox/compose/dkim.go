package compose

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/emersion/go-msgauth/dkim"
)

// DKIMSigner signs composed mail for one domain and selector. It is safe for
// concurrent use.
type DKIMSigner struct {
	opts dkim.SignOptions // read-only after NewDKIMSigner
}

// signedHeaders follows RFC 6376 §5.4.1. From is listed twice so that a
// second From added in transit breaks the signature (oversigning).
func signedHeaders() []string {
	return []string{
		"From", "From", "Reply-To", "To", "Cc", "Subject", "Date", "Message-Id",
		"In-Reply-To", "References", "Auto-Submitted", "MIME-Version",
		"Content-Type", "Content-Transfer-Encoding",
	}
}

// NewDKIMSigner reads an RSA (PKCS#1 or PKCS#8, at least 1024 bits; 2048
// recommended) or Ed25519 (PKCS#8) private key in PEM.
func NewDKIMSigner(domain, selector string, keyPEM []byte) (*DKIMSigner, error) {
	if domain == "" || selector == "" {
		return nil, errors.New("compose: dkim: domain and selector are required")
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("compose: dkim: no PEM block in key")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("compose: dkim: unsupported PEM block %q", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("compose: dkim: parse key: %w", err)
	}
	var signer crypto.Signer
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 1024 { // RFC 8301: verifiers reject shorter keys
			return nil, fmt.Errorf("compose: dkim: RSA key of %d bits, want at least 1024", k.N.BitLen())
		}
		signer = k
	case ed25519.PrivateKey:
		signer = k
	default:
		return nil, fmt.Errorf("compose: dkim: unsupported key type %T", key)
	}
	return &DKIMSigner{opts: dkim.SignOptions{
		Domain:                 domain,
		Selector:               selector,
		Signer:                 signer,
		Hash:                   crypto.SHA256,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             signedHeaders(),
	}}, nil
}

// Sign returns raw with a DKIM-Signature header prepended.
func (s *DKIMSigner) Sign(raw []byte) ([]byte, error) {
	opts := s.opts // dkim.Sign may not modify it, but a copy costs nothing
	var b bytes.Buffer
	b.Grow(len(raw) + 1024)
	if err := dkim.Sign(&b, bytes.NewReader(raw), &opts); err != nil {
		return nil, fmt.Errorf("compose: dkim sign: %w", err)
	}
	return b.Bytes(), nil
}
