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
	id, mac, ok := decodeToken(body)
	if !ok {
		return 0, false
	}
	if !hmac.Equal(mac, tokenMAC(secret, id)) {
		return 0, false
	}
	return id, true
}

// boundPrefix names reply tokens bound to the recipient they were sent to.
const boundPrefix = "t2"

// boundDomain separates the bound MAC from the unbound one and from any
// other use of the secret.
const boundDomain = "jcservicedesk reply-token v2 bound\x00"

func boundMAC(secret []byte, ticketID int64, recipient string) []byte {
	m := hmac.New(sha256.New, secret)
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], uint64(ticketID))
	m.Write([]byte(boundDomain))
	m.Write(id[:])
	m.Write([]byte(normRecipient(recipient)))
	return m.Sum(nil)[:macLen]
}

func normRecipient(a string) string { return strings.ToLower(bareAddress(a)) }

// SignTokenFor returns the reply token for ticketID bound to recipient:
// "t2", then the base32 of the ticket id (uvarint) and a truncated
// HMAC-SHA256 over the id and the recipient address. Only mail from that
// address verifies it (CheckToken), so a token forwarded or copied from a
// notice does not stand in for the person it was sent to. It returns ""
// when the secret or the recipient is empty or ticketID is not positive.
func SignTokenFor(secret []byte, ticketID int64, recipient string) string {
	if len(secret) == 0 || ticketID <= 0 || normRecipient(recipient) == "" {
		return ""
	}
	buf := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+macLen), uint64(ticketID))
	buf = append(buf, boundMAC(secret, ticketID, recipient)...)
	return boundPrefix + b32.EncodeToString(buf)
}

// CheckToken verifies a reply token found in mail from sender. An unbound
// token (SignToken, the form already in people's mailboxes) verifies for
// anyone, with bound false: it names a ticket and nothing more. A bound
// token (SignTokenFor) verifies only for the address it was sent to, with
// bound true; from any other sender it does not verify at all.
func CheckToken(secret []byte, token, sender string) (ticketID int64, bound, ok bool) {
	token = strings.ToLower(token)
	if strings.HasPrefix(token, tokenPrefix) {
		id, ok := VerifyToken(secret, token)
		return id, false, ok
	}
	body, found := strings.CutPrefix(token, boundPrefix)
	if !found || len(secret) == 0 || len(token) > 64 || normRecipient(sender) == "" {
		return 0, false, false
	}
	id, mac, ok := decodeToken(body)
	if !ok || !hmac.Equal(mac, boundMAC(secret, id, sender)) {
		return 0, false, false
	}
	return id, true, true
}

// decodeToken splits a token body into its ticket id and MAC, accepting
// only the canonical spelling (one valid token per ticket and secret).
func decodeToken(body string) (id int64, mac []byte, ok bool) {
	raw, err := b32.DecodeString(body)
	if err != nil || b32.EncodeToString(raw) != body {
		return 0, nil, false
	}
	u, n := binary.Uvarint(raw)
	if n <= 0 || u == 0 || u > 1<<63-1 || len(raw)-n != macLen || n != len(binary.AppendUvarint(nil, u)) {
		return 0, nil, false
	}
	return int64(u), raw[n:], true
}

// verpPrefix and verpDomain make VERP envelope-sender tokens: they name
// one outbox message, so a bounce that comes back to its address is known
// to be about that message and recipient.
const (
	verpPrefix = "v1"
	verpDomain = "jcservicedesk verp v1\x00"
)

func verpMAC(secret []byte, outboxID int64) []byte {
	m := hmac.New(sha256.New, secret)
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], uint64(outboxID))
	m.Write([]byte(verpDomain))
	m.Write(id[:])
	return m.Sum(nil)[:macLen]
}

// VERPAddress returns the envelope sender for outbox message outboxID:
// base's local part with the signed token as its sub-address
// (bounce@x.com → bounce+v1…@x.com). It returns base unchanged when the
// secret is empty or outboxID is not positive.
func VERPAddress(secret []byte, base string, outboxID int64) string {
	if len(secret) == 0 || outboxID <= 0 {
		return base
	}
	buf := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+macLen), uint64(outboxID))
	buf = append(buf, verpMAC(secret, outboxID)...)
	return ReplyAddress(base, verpPrefix+b32.EncodeToString(buf))
}

// VerifyVERP checks a VERP token (the sub-address of a bounce's
// recipient) and returns the outbox message it names.
func VerifyVERP(secret []byte, token string) (outboxID int64, ok bool) {
	token = strings.ToLower(token)
	body, found := strings.CutPrefix(token, verpPrefix)
	if !found || len(secret) == 0 || len(token) > 64 {
		return 0, false
	}
	id, mac, ok := decodeToken(body)
	if !ok || !hmac.Equal(mac, verpMAC(secret, id)) {
		return 0, false
	}
	return id, true
}
