// Package thread holds the signals that tie an inbound mail to an existing
// ticket: signed reply tokens in sub-addresses, subject tags, Message-ID
// references and the base subject. It is pure: no I/O, no ticket knowledge.
package thread

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"strings"
)

// tokenPrefix names the token kind and version; a future key or format gets
// a new prefix ("t2") so old tokens can be verified during rotation.
const tokenPrefix = "t1"

// macLen is the truncated HMAC length: 80 bits, above the 64-bit floor,
// while keeping the token at 22 characters for small ticket numbers.
const macLen = 10

// tokenDomain separates this MAC from any other use of the same secret.
const tokenDomain = "jcservicedesk reply-token v1\x00"

// b32 is lower-case base32 without padding: only [a-z2-7], so tokens are
// valid dot-atom text and survive servers that lower-case local parts.
var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func tokenMAC(secret []byte, ticketID int64) []byte {
	m := hmac.New(sha256.New, secret)
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], uint64(ticketID))
	m.Write([]byte(tokenDomain))
	m.Write(id[:])
	return m.Sum(nil)[:macLen]
}

// SignToken returns the reply token for ticketID: "t1" followed by the
// base32 of the ticket id (uvarint) and a truncated HMAC-SHA256. It returns
// "" when the secret is empty or ticketID is not positive, so a
// misconfiguration never yields a token anyone could forge.
func SignToken(secret []byte, ticketID int64) string {
	if len(secret) == 0 || ticketID <= 0 {
		return ""
	}
	buf := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+macLen), uint64(ticketID))
	buf = append(buf, tokenMAC(secret, ticketID)...)
	return tokenPrefix + b32.EncodeToString(buf)
}

// VerifyToken checks a token made by SignToken with the same secret and
// returns its ticket id. Case is ignored because mail servers may fold the
// local part. The MAC is compared in constant time.
func VerifyToken(secret []byte, token string) (ticketID int64, ok bool) {
	if len(secret) == 0 || len(token) < len(tokenPrefix)+2 || len(token) > 64 {
		return 0, false
	}
	token = strings.ToLower(token)
	body, found := strings.CutPrefix(token, tokenPrefix)
	if !found {
		return 0, false
	}
	raw, err := b32.DecodeString(body)
	if err != nil {
		return 0, false
	}
	// base32 ignores non-zero trailing bits; demand the canonical spelling
	// so one ticket has exactly one valid token per secret.
	if b32.EncodeToString(raw) != body {
		return 0, false
	}
	id, n := binary.Uvarint(raw)
	if n <= 0 || id == 0 || id > 1<<63-1 || len(raw)-n != macLen {
		return 0, false
	}
	if n != len(binary.AppendUvarint(nil, id)) { // non-minimal varint
		return 0, false
	}
	if !hmac.Equal(raw[n:], tokenMAC(secret, int64(id))) {
		return 0, false
	}
	return int64(id), true
}
