package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// webKey derives the portal's own signing key from the service's secret,
// so a flash or CSRF cookie can never pass for another token.
func webKey(svc *ticketing.Service) ([]byte, error) {
	secret, err := svc.SecretKey(context.Background(), "")
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("servicedesk/web cookies v1"))
	return m.Sum(nil), nil
}

var b64 = base64.RawURLEncoding

// sign returns value.mac for a cookie of the given purpose.
func (s *Server) sign(purpose, value string) string {
	return value + "." + b64.EncodeToString(s.mac(purpose, value))
}

// unsign returns the value of a signed cookie, ok false when forged.
func (s *Server) unsign(purpose, signed string) (string, bool) {
	i := strings.LastIndexByte(signed, '.')
	if i < 0 {
		return "", false
	}
	mac, err := b64.DecodeString(signed[i+1:])
	if err != nil || !hmac.Equal(mac, s.mac(purpose, signed[:i])) {
		return "", false
	}
	return signed[:i], true
}

func (s *Server) mac(purpose, value string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)[:20]
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b64.EncodeToString(b)
}
