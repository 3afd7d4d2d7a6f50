package thread

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// NormalizeID returns the comparable form of a Message-ID: without angle
// brackets and whitespace (folding may split an id), lower-cased as a whole.
//
// The whole id is lower-cased, not just the domain: RFC 5322 makes the left
// part case-sensitive, but real ids never differ only by case while some
// gateways and clients do change case, so folding gains matches and loses
// nothing. Store and compare ids in this form only.
func NormalizeID(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "<")
	s = strings.TrimSuffix(s, ">")
	if strings.ContainsAny(s, " \t\r\n") {
		s = strings.Join(strings.Fields(s), "")
	}
	return strings.ToLower(s)
}

// maxIDLen skips ids longer than any sane generator makes (hostile or
// corrupted headers); maxRefs keeps the newest ids of an endless thread.
const (
	maxIDLen = 250
	maxRefs  = 100
)

// ParseReferences returns the normalized ids of In-Reply-To and References,
// newest first: the In-Reply-To ids, then References from last (the parent)
// to first (the thread root). Parsing is lenient: comments and quoted
// strings are skipped, bare ids without brackets are accepted when they
// contain '@', folded whitespace is removed, ids cut off without '>' or
// longer than 250 bytes or not valid UTF-8 are skipped, duplicates removed,
// and at most 100 ids are returned.
func ParseReferences(inReplyTo, references string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(ids []string) {
		for _, id := range ids {
			if len(out) >= maxRefs {
				return
			}
			if seen[id] {
				continue
			}
			seen[id] = true
			out = append(out, id)
		}
	}
	add(normalized(msgIDs(inReplyTo)))
	refs := normalized(msgIDs(references))
	for i, j := 0, len(refs)-1; i < j; i, j = i+1, j-1 {
		refs[i], refs[j] = refs[j], refs[i]
	}
	add(refs)
	return out
}

// IDs returns the message ids of a Message-ID, In-Reply-To, References or
// Content-ID value in header order, as written (case kept) but without
// angle brackets and folding whitespace, by the grammar ParseReferences
// uses: comments and quoted strings skipped, bare ids accepted when they
// contain '@', truncated, overlong, invalid UTF-8 or control-character ids
// skipped. Exact duplicates are dropped. This is the one Message-ID grammar
// of the mailbox packages (parse, thread, classify, compose).
func IDs(h string) []string {
	ids := msgIDs(h)
	out := ids[:0]
	for i, id := range ids {
		if !slices.Contains(ids[:i], id) {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// FirstID returns the first id of a Message-ID or Content-ID value (see
// IDs). A value holding no id by that grammar (broken generators write
// "<12345 67>" or a bare token) is returned without brackets and
// whitespace: as a key for dedupe and matching it still works, and it is
// never written into a header of ours (see WritableID).
func FirstID(s string) string {
	if ids := msgIDs(s); len(ids) > 0 {
		return ids[0]
	}
	return strings.ToValidUTF8(strings.Join(strings.Fields(strings.Trim(strings.TrimSpace(s), "<>")), ""), "")
}

// ValidID reports whether id (with or without its brackets) is a message
// id by the grammar of IDs.
func ValidID(id string) bool {
	_, ok := cleanID(id)
	return ok
}

// WritableID reports whether id (without brackets) may go into a header we
// write: valid, of the form left@right, and ASCII (a relay without
// SMTPUTF8 must accept our mail).
func WritableID(id string) bool {
	if c, ok := cleanID(id); !ok || c != id || !strings.Contains(id, "@") {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] >= 0x80 {
			return false
		}
	}
	return true
}

func normalized(ids []string) []string {
	for i, id := range ids {
		ids[i] = strings.ToLower(id)
	}
	return ids
}

// msgIDs extracts ids in header order, as written.
func msgIDs(h string) []string {
	var ids []string
	var bare strings.Builder
	flushBare := func() {
		for _, tok := range strings.FieldsFunc(bare.String(), func(r rune) bool {
			return r == ' ' || r == '\t' || r == '\r' || r == '\n' || r == ',' || r == ';'
		}) {
			// "<a@b <c@d>": the first is cut off, like a truncated id
			// at the end, and skipped.
			if strings.Contains(tok, "@") && tok[0] != '<' {
				if id, ok := cleanID(tok); ok {
					ids = append(ids, id)
				}
			}
		}
		bare.Reset()
	}
	for i := 0; i < len(h); {
		switch c := h[i]; c {
		case '(':
			i = skipComment(h, i)
		case '"':
			i = skipQuoted(h, i)
		case '<':
			end := strings.IndexByte(h[i:], '>')
			if end < 0 {
				// Truncated id: nothing after it can be trusted.
				i = len(h)
				continue
			}
			if k := strings.LastIndexByte(h[i+1:i+end], '<'); k >= 0 {
				// A stray '<' before the real id: "a < b <id@h>".
				bare.WriteString(h[i : i+1+k])
				i += 1 + k
				continue
			}
			flushBare()
			if id, ok := cleanID(h[i+1 : i+end]); ok {
				ids = append(ids, id)
			}
			i += end + 1
		default:
			bare.WriteByte(c)
			i++
		}
	}
	flushBare()
	return ids
}

// cleanID strips brackets and whitespace (folding may split an id) and
// checks what is left.
func cleanID(s string) (string, bool) {
	id := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "<"), ">")
	if strings.ContainsAny(id, " \t\r\n") {
		id = strings.Join(strings.Fields(id), "")
	}
	if id == "" || len(id) > maxIDLen || !utf8.ValidString(id) || strings.ContainsAny(id, "<>()\",") {
		return "", false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] == 0x7f {
			return "", false
		}
	}
	return id, true
}

// skipComment returns the index after the (possibly nested) comment at i.
func skipComment(s string, i int) int {
	depth := 0
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(s)
}

// skipQuoted returns the index after the quoted string at i.
func skipQuoted(s string, i int) int {
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(s)
}

// NewMessageID returns a new Message-ID with angle brackets, like
// <jc.20261129T193000.8f3a…@domain>: a UTC timestamp for humans reading
// logs, and 96 random bits for uniqueness across processes without
// coordination. An empty domain becomes "localhost".
func NewMessageID(domain string) string {
	domain = strings.ToLower(strings.Trim(strings.TrimSpace(domain), "<>@"))
	if domain == "" {
		domain = "localhost"
	}
	var r [12]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never returns an error (Go ≥ 1.24)
	return "<jc." + time.Now().UTC().Format("20060102T150405") + "." + hex.EncodeToString(r[:]) + "@" + domain + ">"
}
