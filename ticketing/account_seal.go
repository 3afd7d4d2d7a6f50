package ticketing

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
)

// TOTP secrets are kept sealed (AES-256-GCM under a key derived from the
// service secret), so a copy of the database alone cannot mint codes.
// Changing security.secret_key therefore turns authenticator apps off in
// effect: their users sign in with a recovery code and set one up again.
const sealPrefix = "v1."

func (a *accounts) sealer() (cipher.AEAD, error) {
	block, err := aes.NewCipher(hmacSum(a.key, []byte("totp seal v1")))
	if err != nil {
		return nil, fmt.Errorf("totp seal: %w", err)
	}
	return cipher.NewGCM(block)
}

// sealSecret encrypts a TOTP secret for storage.
func (a *accounts) sealSecret(secret string) (string, error) {
	aead, err := a.sealer()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("totp seal: %w", err)
	}
	return sealPrefix + base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(secret), []byte("totp"))), nil
}

// openSecret decrypts a stored TOTP secret. A value without the prefix
// is a secret stored before sealing existed (base32 has no dot).
func (a *accounts) openSecret(stored string) (string, error) {
	raw, ok := strings.CutPrefix(stored, sealPrefix)
	if !ok {
		return stored, nil
	}
	aead, err := a.sealer()
	if err != nil {
		return "", err
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) < aead.NonceSize() {
		return "", fmt.Errorf("totp seal: stored secret is malformed")
	}
	plain, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], []byte("totp"))
	if err != nil {
		return "", fmt.Errorf("totp seal: stored secret does not open with this secret key")
	}
	return string(plain), nil
}
