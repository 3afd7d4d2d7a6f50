package parse

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-message/textproto"
)

// field is one header field; value keeps the raw bytes with folding removed.
type field struct {
	key   string // canonical
	value []byte
	owned bool // value is our copy, safe to append to
}

// fields is a parsed header section in order of appearance.
type fields []field

func (fs fields) get(key string) (string, bool) {
	for _, f := range fs {
		if f.key == key {
			return toUTF8(f.value), true
		}
	}
	return "", false
}

func (fs fields) str(key string) string {
	s, _ := fs.get(key)
	return s
}

func (fs fields) all(key string) []string {
	var out []string
	for _, f := range fs {
		if f.key == key {
			out = append(out, toUTF8(f.value))
		}
	}
	return out
}

// textprotoHeader builds go-message's header with values made valid UTF-8.
// textproto.Header.Add keeps its fields newest-first, so add in reverse.
func (fs fields) textprotoHeader() textproto.Header {
	var h textproto.Header
	for i := len(fs) - 1; i >= 0; i-- {
		h.Add(fs[i].key, toUTF8(fs[i].value))
	}
	return h
}

// readHeader splits b into header fields and body. It accepts bare LF, skips
// lines without a colon (warning) and a leading mbox "From " line. A header
// without the blank separator line ends at the end of input.
func readHeader(b []byte, warn func(string)) (fields, []byte) {
	var fs fields
	first := true
	for len(b) > 0 {
		line, rest := cutLine(b)
		if len(line) == 0 {
			return fs, rest
		}
		if first && bytes.HasPrefix(line, []byte("From ")) {
			b = rest
			first = false
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(fs) == 0 {
				warn("header: continuation line before any field ignored")
			} else {
				last := &fs[len(fs)-1]
				if !last.owned {
					// Copy once, then append in place: linear for long folds.
					last.value = append(make([]byte, 0, len(last.value)+len(line)+16), last.value...)
					last.owned = true
				}
				last.value = appendFolded(last.value, line)
			}
			b = rest
			first = false
			continue
		}
		first = false
		colon := bytes.IndexByte(line, ':')
		key := []byte(nil)
		if colon > 0 {
			key = bytes.TrimRight(line[:colon], " \t")
		}
		if len(key) == 0 || !validKey(key) {
			warn("header: line without a field name ignored")
			b = rest
			continue
		}
		fs = append(fs, field{key: canonicalKey(key), value: bytes.TrimSpace(line[colon+1:])})
		b = rest
	}
	return fs, nil
}

// cutLine returns the line without its LF or CRLF, and the rest.
func cutLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		line, rest = b, nil
	} else {
		line, rest = b[:i], b[i+1:]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest
}

func appendFolded(v, line []byte) []byte {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return v
	}
	if len(v) > 0 {
		v = append(v, ' ')
	}
	return append(v, line...)
}

func validKey(k []byte) bool {
	for _, c := range k {
		if c <= 32 || c >= 127 {
			return false
		}
	}
	return true
}

// canonicalKey is textproto's canonical form ("message-id" → "Message-Id").
func canonicalKey(k []byte) string {
	b := make([]byte, len(k))
	upper := true
	for i, c := range k {
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
		upper = c == '-'
	}
	return string(b)
}

// knownHeaders are the fields that make a header section recognisably mail.
var knownHeaders = map[string]bool{
	"From": true, "To": true, "Cc": true, "Subject": true, "Date": true, "Message-Id": true,
	"Received": true, "Mime-Version": true, "Return-Path": true, "Delivered-To": true,
	"Sender": true, "Reply-To": true, "In-Reply-To": true, "References": true, "Content-Type": true,
}

// decodeWords decodes RFC 2047 encoded words in a header value that is
// already valid UTF-8. Adjacent words of one charset are joined before
// charset decoding, since senders split multi-byte characters across words.
// Malformed words stay as text.
func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	var sb strings.Builder
	var pend []byte
	pendCharset := ""
	flush := func() {
		if pend != nil {
			d, _ := decodeCharset(pend, pendCharset)
			sb.WriteString(d)
			pend, pendCharset = nil, ""
		}
	}
	lastWasWord := false
	for len(s) > 0 {
		i := strings.Index(s, "=?")
		if i < 0 {
			flush()
			sb.WriteString(s)
			break
		}
		cs, data, n, ok := encodedWord(s[i:])
		if !ok {
			flush()
			sb.WriteString(s[:i+2])
			s = s[i+2:]
			lastWasWord = false
			continue
		}
		between := s[:i]
		if !(lastWasWord && strings.TrimSpace(between) == "") {
			flush()
			sb.WriteString(between)
		}
		if pend != nil && !strings.EqualFold(cs, pendCharset) {
			flush()
		}
		pendCharset = cs
		pend = append(pend, data...)
		if pend == nil {
			pend = []byte{}
		}
		s = s[i+n:]
		lastWasWord = true
	}
	flush()
	return sb.String()
}

// encodedWord parses "=?charset?enc?text?=" at the start of s.
func encodedWord(s string) (cs string, data []byte, n int, ok bool) {
	// Words are at most 75 bytes; a generous window keeps decoding linear.
	if len(s) > 2048 {
		s = s[:2048]
	}
	p := strings.SplitN(s[2:], "?", 3)
	if len(p) < 3 || p[0] == "" || len(p[1]) != 1 {
		return "", nil, 0, false
	}
	end := strings.Index(p[2], "?=")
	if end < 0 || strings.ContainsAny(p[2][:end], " \t") {
		return "", nil, 0, false
	}
	text := p[2][:end]
	cs = p[0]
	if j := strings.IndexByte(cs, '*'); j >= 0 { // RFC 2231 language suffix
		cs = cs[:j]
	}
	switch p[1] {
	case "B", "b":
		t := strings.TrimRight(text, "=")
		d, err := base64.RawStdEncoding.DecodeString(t)
		if err != nil {
			if len(t)%4 == 1 {
				d, err = base64.RawStdEncoding.DecodeString(t[:len(t)-1])
			}
			if err != nil {
				return "", nil, 0, false
			}
		}
		data = d
	case "Q", "q":
		data = decodeQWord(text)
	default:
		return "", nil, 0, false
	}
	return cs, data, 2 + len(p[0]) + 1 + len(p[1]) + 1 + end + 2, true
}

func decodeQWord(t string) []byte {
	out := make([]byte, 0, len(t))
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c == '_':
			out = append(out, ' ')
		case c == '=' && i+2 < len(t) && isHex(t[i+1]) && isHex(t[i+2]):
			out = append(out, unhex(t[i+1])<<4|unhex(t[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// NormalizeMessageID returns the first message id in s without angle
// brackets and whitespace, or s trimmed of them when it holds no id form.
func NormalizeMessageID(s string) string {
	if ids := ParseIDList(s); len(ids) > 0 {
		return ids[0]
	}
	s = strings.Trim(strings.TrimSpace(s), "<>")
	return strings.Join(strings.Fields(s), "")
}

// ParseIDList reads the message ids of a References or In-Reply-To value
// leniently: comments and quoted strings are skipped, ids may be folded or
// separated by commas, and bare ids (with an "@") are accepted when the value
// has no bracketed ids at all. Duplicates are dropped, order kept. An id
// without its closing bracket is truncated and skipped.
func ParseIDList(s string) []string {
	var ids []string
	seen := map[string]bool{}
	add := func(id string) {
		id = strings.Join(strings.Fields(id), "")
		id = strings.ToValidUTF8(id, "")
		if id == "" || seen[id] {
			return
		}
		seen[id] = true
		ids = append(ids, id)
	}
	bracketed := strings.Contains(s, "<")
	var bare strings.Builder
	flushBare := func() {
		if !bracketed && strings.Contains(bare.String(), "@") {
			add(bare.String())
		}
		bare.Reset()
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '(':
			flushBare()
			depth := 1
			for i++; i < len(s) && depth > 0; i++ {
				switch s[i] {
				case '\\':
					i++
				case '(':
					depth++
				case ')':
					depth--
				}
			}
			i--
		case '"':
			flushBare()
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		case '<':
			flushBare()
			end := strings.IndexAny(s[i+1:], "<>")
			if end < 0 {
				return ids
			}
			if s[i+1+end] == '>' {
				add(s[i+1 : i+1+end])
			}
			i += end
		case ' ', '\t', '\r', '\n', ',':
			flushBare()
		default:
			bare.WriteByte(c)
		}
	}
	flushBare()
	return ids
}

// Address is one mailbox: display name (decoded) and address as written.
type Address struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

// parseAddressList parses leniently: the standard parser first, then each
// comma-separated item alone, then a best effort "name <addr>" split.
func parseAddressList(s string, warn func(string)) []Address {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if list, err := addrParser.ParseList(s); err == nil {
		out := make([]Address, 0, len(list))
		for _, a := range list {
			out = append(out, tidy(Address{Name: strings.TrimSpace(a.Name), Email: a.Address}))
		}
		return out
	}
	var out []Address
	bad := false
	for _, item := range splitAddresses(s) {
		item = strings.TrimSpace(item)
		if item == "" || strings.HasSuffix(item, ":;") {
			continue
		}
		if a, err := addrParser.Parse(item); err == nil {
			out = append(out, Address{Name: strings.TrimSpace(a.Name), Email: a.Address})
			continue
		}
		if a, ok := looseAddress(item); ok {
			out = append(out, a)
			bad = true // repaired, worth a warning
			continue
		}
		bad = true
	}
	for i := range out {
		out[i] = tidy(out[i])
	}
	if bad || len(out) == 0 {
		warn("header: malformed address list " + strconv.Quote(truncate(s, 80)))
	}
	return out
}

// addrParser decodes encoded words in display names through decodeCharset,
// so every charset we know works and bad labels do not fail the list.
var addrParser = &mail.AddressParser{WordDecoder: &mime.WordDecoder{
	CharsetReader: func(label string, r io.Reader) (io.Reader, error) {
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("read encoded word: %w", err)
		}
		s, _ := decodeCharset(b, label)
		return strings.NewReader(s), nil
	},
}}

func cleanName(n string) string {
	return strings.TrimSpace(decodeWords(n))
}

// tidy drops a display name that only repeats the address.
func tidy(a Address) Address {
	a.Email = strings.TrimSpace(a.Email)
	if strings.EqualFold(strings.Trim(a.Name, `"' `), a.Email) {
		a.Name = ""
	}
	return a
}

// splitAddresses splits at commas outside quotes, comments and brackets.
func splitAddresses(s string) []string {
	var out []string
	depth, quoted, angle, start := 0, false, false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			if depth == 0 {
				quoted = !quoted
			}
		case '(':
			if !quoted {
				depth++
			}
		case ')':
			if !quoted && depth > 0 {
				depth--
			}
		case '<':
			if !quoted && depth == 0 {
				angle = true
			}
		case '>':
			angle = false
		case ',', ';':
			if !quoted && depth == 0 && !angle {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// looseAddress handles "Name <addr" with missing brackets, "Name addr@x",
// unquoted specials and the like.
func looseAddress(item string) (Address, bool) {
	if i := strings.IndexByte(item, '<'); i >= 0 {
		rest := item[i+1:]
		if j := strings.IndexByte(rest, '>'); j >= 0 {
			rest = rest[:j]
		}
		email := strings.TrimSpace(rest)
		if !strings.Contains(email, "@") {
			return Address{}, false
		}
		return Address{Name: cleanName(strings.Trim(strings.TrimSpace(item[:i]), `"'`)), Email: email}, true
	}
	for _, w := range strings.Fields(item) {
		w = strings.Trim(w, `"'()[];,`)
		if strings.Contains(w, "@") {
			name := strings.TrimSpace(strings.Replace(item, w, "", 1))
			name = strings.Trim(name, `"'() `)
			return Address{Name: cleanName(name), Email: w}, true
		}
	}
	return Address{}, false
}

// dateLayouts are tried after net/mail.ParseDate fails; they cover the
// usual deviations (no seconds, no weekday comma, named or odd zones).
var dateLayouts = []string{
	"Mon, 2 Jan 2006 15:04 -0700",
	"2 Jan 2006 15:04 -0700",
	"Mon 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 January 2006 15:04:05 -0700",
	"Mon, 2 Jan 06 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05",
	"2 Jan 2006 15:04:05",
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 -0700 2006",
	"Mon, Jan 2 2006 15:04:05 -0700",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05",
}

func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if t, err := mail.ParseDate(s); err == nil {
		return t, true
	}
	// Drop comments like "(UTC)" and collapse spaces.
	if i := strings.IndexByte(s, '('); i > 0 {
		s = strings.TrimSpace(s[:i])
	}
	s = strings.Join(strings.Fields(s), " ")
	if t, err := mail.ParseDate(s); err == nil {
		return t, true
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(c byte) bool { return c&0xC0 != 0x80 }
