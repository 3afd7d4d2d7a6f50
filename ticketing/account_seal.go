package ticketing

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
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

// SealState is SignState for data the holder of the token must not read
// (a TOTP secret between two pages): AES-256-GCM under a key of its own,
// with the purpose as additional data, so a token of one purpose never
// opens as another. The expiry is sealed with the data.
func (s *Service) SealState(purpose string, data []byte, ttl time.Duration) (string, error) {
	aead, err := s.accounts().stateSealer()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal state: %w", err)
	}
	body := make([]byte, 8+len(data))
	binary.BigEndian.PutUint64(body, uint64(s.clock().Add(ttl).Unix()))
	copy(body[8:], data)
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, body, []byte(purpose))), nil
}

// OpenSealedState opens a token of SealState; ErrBadToken when it is
// forged, of another purpose or expired.
func (s *Service) OpenSealedState(purpose, token string) ([]byte, error) {
	aead, err := s.accounts().stateSealer()
	if err != nil {
		return nil, err
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(token) > 8192 || len(b) < aead.NonceSize()+aead.Overhead()+8 {
		return nil, ErrBadToken
	}
	body, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], []byte(purpose))
	if err != nil {
		return nil, ErrBadToken
	}
	if exp := time.Unix(int64(binary.BigEndian.Uint64(body)), 0); !s.clock().Before(exp) {
		return nil, ErrBadToken
	}
	return body[8:], nil
}

func (a *accounts) stateSealer() (cipher.AEAD, error) {
	block, err := aes.NewCipher(hmacSum(a.key, []byte("state seal v1")))
	if err != nil {
		return nil, fmt.Errorf("seal state: %w", err)
	}
	return cipher.NewGCM(block)
}
