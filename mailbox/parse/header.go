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
	"unicode/utf8"

	"github.com/emersion/go-message/textproto"
)

// field is one header field. key and s of all fields point into one
// string (see finishHeader), so a header section costs two allocations.
type field struct {
	key string // canonical
	s   string // value with folding removed, valid UTF-8
}

// rawField is a field as readHeader scans it.
type rawField struct {
	raw   []byte // field name as written
	value []byte // first line's value, or the folded value once owned
	cont  []byte // continuation lines not yet folded into value, as in the input
	owned bool   // value is our copy, safe to append to
}

// fields is a parsed header section in order of appearance.
type fields []field

func (fs fields) get(key string) (string, bool) {
	for i := range fs {
		if fs[i].key == key {
			return fs[i].s, true
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
	for i := range fs {
		if fs[i].key == key {
			out = append(out, fs[i].s)
		}
	}
	return out
}

// textprotoHeader builds go-message's header with values made valid UTF-8.
// textproto.Header.Add keeps its fields newest-first, so add in reverse.
func (fs fields) textprotoHeader() textproto.Header {
	var h textproto.Header
	for i := len(fs) - 1; i >= 0; i-- {
		h.Add(fs[i].key, fs[i].s)
	}
	return h
}

// headerScratch is shared by the readHeader calls of one parse: a slab
// the fields slices are cut from, and a buffer for folding values.
type headerScratch struct {
	slab []field
	fold []byte
	// controls is set when a header value had control characters replaced.
	controls bool
	// hints lists the charsets the message declares, for raw 8-bit text.
	hints charsetHints
}

type fieldSpan struct{ k, v, e int }

// readHeader splits b into header fields and body. It accepts bare LF, skips
// lines without a colon (warning) and a leading mbox "From " line. A header
// without the blank separator line ends at the end of input.
func (hs *headerScratch) readHeader(b []byte, warn func(string)) (fields, []byte) {
	var buf [40]rawField
	fs := buf[:0]
	orig := b
	first := true
	knownUntil := -1 // offset of the last well-known field line, once needed
	// lastOpen: the previous line belonged to the last field, so a
	// continuation line extends that field's cont span in place.
	lastOpen := false
	for len(b) > 0 {
		line, rest := cutLine(b)
		if len(line) == 0 {
			return hs.finish(fs), rest
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
				start := len(orig) - len(b)
				end := len(orig) - len(rest)
				if last.cont != nil && !lastOpen {
					// A skipped line came between: fold what we have first.
					if !last.owned {
						// Copy once, then fold in place: linear for long folds.
						last.value = append(make([]byte, 0, len(last.value)+len(last.cont)+len(line)+16), last.value...)
						last.owned = true
					}
					last.value = foldValue(last.value, 0, last.cont)
					last.cont = nil
				}
				if last.cont == nil {
					last.cont = orig[start:end:end]
				} else {
					contStart := end - (len(last.cont) + (end - start))
					last.cont = orig[contStart:end:end]
				}
				lastOpen = true
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
			at := len(orig) - len(b)
			if knownUntil < 0 {
				knownUntil = lastKnownField(orig, at)
			}
			if len(fs) > 0 && at > knownUntil {
				// No known field follows: this is the body, sent without
				// the blank line that should come before it.
				warn("header: no blank line before the body")
				return hs.finish(fs), b
			}
			warn("header: line without a field name ignored")
			lastOpen = false
			b = rest
			continue
		}
		fs = append(fs, rawField{raw: key, value: bytes.TrimSpace(line[colon+1:])})
		lastOpen = true
		b = rest
	}
	return hs.finish(fs), nil
}

// lastKnownField returns the offset in b of the last line from off on,
// up to the blank line ending the header, that starts a well-known field
// (isKnownHeader); 0 when there is none.
func lastKnownField(b []byte, off int) int {
	last := 0
	for off < len(b) {
		line, rest := cutLine(b[off:])
		if len(line) == 0 {
			break
		}
		if colon := bytes.IndexByte(line, ':'); colon > 0 {
			if key := bytes.TrimRight(line[:colon], " \t"); validKey(key) && isKnownHeader(key) {
				last = off
			}
		}
		off = len(b) - len(rest)
	}
	return last
}

// foldValue appends value and then each continuation line of cont, trimmed
// and joined by single spaces, to dst; start is where the value begins in dst.
func foldValue(dst []byte, start int, cont []byte) []byte {
	for len(cont) > 0 {
		line, rest := cutLine(cont)
		if line = bytes.TrimSpace(line); len(line) > 0 {
			if len(dst) > start {
				dst = append(dst, ' ')
			}
			dst = append(dst, line...)
		}
		cont = rest
	}
	return dst
}

// finish makes the fields of rfs: canonical keys and values folded and
// made valid UTF-8, all in one string. Common keys are constants.
func (hs *headerScratch) finish(rfs []rawField) fields {
	if len(rfs) == 0 {
		return nil
	}
	n := 0
	for i := range rfs {
		n += len(rfs[i].raw) + len(rfs[i].value) + len(rfs[i].cont)
	}
	var sb strings.Builder
	sb.Grow(n)
	if cap(hs.slab)-len(hs.slab) < len(rfs) {
		hs.slab = make([]field, 0, len(rfs)+24) // room for a few part headers
	}
	fs := hs.slab[len(hs.slab) : len(hs.slab)+len(rfs) : len(hs.slab)+len(rfs)]
	hs.slab = hs.slab[:len(hs.slab)+len(rfs)]
	var spanBuf [40]fieldSpan
	spans := spanBuf[:0]
	var kbuf [64]byte
	for i := range rfs {
		f := &rfs[i]
		k := sb.Len()
		if len(f.raw) <= len(kbuf) {
			ck := appendCanonicalKey(kbuf[:0], f.raw)
			if c, ok := commonKeys[string(ck)]; ok {
				fs[i].key = c
				k = -1
			} else {
				sb.Write(ck)
			}
		} else {
			sb.Write(appendCanonicalKey(nil, f.raw))
		}
		v := sb.Len()
		val := f.value
		if f.cont != nil {
			hs.fold = foldValue(append(hs.fold[:0], f.value...), 0, f.cont)
			val = hs.fold
		}
		if plainHeaderValue(val) {
			sb.Write(val)
		} else {
			d, hit := scrubControls(decodeRawHeader(val, &hs.hints))
			hs.controls = hs.controls || hit
			sb.WriteString(d)
		}
		spans = append(spans, fieldSpan{k, v, sb.Len()})
	}
	all := sb.String()
	for i, sp := range spans {
		if sp.k >= 0 {
			fs[i].key = all[sp.k:sp.v]
		}
		fs[i].s = all[sp.v:sp.e]
	}
	return fs
}

// commonKeys interns the usual canonical field names.
var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"Received", "From", "To", "Cc", "Bcc", "Subject", "Date", "Message-Id", "In-Reply-To", "References",
		"Reply-To", "Sender", "Return-Path", "Delivered-To", "Mime-Version", "Content-Type",
		"Content-Transfer-Encoding", "Content-Disposition", "Content-Id", "Content-Description",
		"Content-Language", "Dkim-Signature", "Arc-Seal", "Arc-Message-Signature", "Arc-Authentication-Results",
		"Authentication-Results", "Received-Spf", "X-Mailer", "User-Agent", "Thread-Topic", "Thread-Index",
		"Auto-Submitted", "Precedence", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "X-Priority",
		"Importance", "X-Original-To", "X-Spam-Status", "X-Ms-Has-Attach", "X-Ms-Tnef-Correlator",
		"X-Google-Smtp-Source", "X-Received", "X-Gm-Message-State", "Accept-Language", "X-Auto-Response-Suppress",
		"X-Autoreply", "X-Autorespond", "X-Failed-Recipients", "Feedback-Id", "Organization",
	} {
		m[k] = k
	}
	return m
}()

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

func validKey(k []byte) bool {
	for _, c := range k {
		if c <= 32 || c >= 127 {
			return false
		}
	}
	return true
}

// appendCanonicalKey appends textproto's canonical form ("message-id" →
// "Message-Id") of k.
func appendCanonicalKey(dst, k []byte) []byte {
	upper := true
	for _, c := range k {
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
		upper = c == '-'
	}
	return dst
}

// knownHeaders are the fields that make a header section recognisably mail.
var knownHeaders = []string{
	"From", "To", "Cc", "Subject", "Date", "Message-Id",
	"Received", "Mime-Version", "Return-Path", "Delivered-To",
	"Sender", "Reply-To", "In-Reply-To", "References", "Content-Type",
}

// isKnownHeader reports whether the field name k (printable ASCII, see
// validKey) is one of knownHeaders in any case, as canonicalKey would make it.
func isKnownHeader(k []byte) bool {
	for _, h := range knownHeaders {
		if len(h) == len(k) && asciiEqualFold(k, h) {
			return true
		}
	}
	return false
}

func asciiEqualFold(b []byte, s string) bool {
	for i := 0; i < len(b); i++ {
		c, d := b[i], s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
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
	if end < 0 {
		return "", nil, 0, false
	}
	text := p[2][:end]
	if strings.ContainsAny(text, " \t") {
		// Spaces inside a Q word are a common mailer bug; they are taken as
		// written unless another word starts inside (then this one is
		// unterminated).
		if p[1] != "Q" && p[1] != "q" || strings.Contains(text, "=?") {
			return "", nil, 0, false
		}
	}
	cs = p[0]
	if j := strings.IndexByte(cs, '*'); j >= 0 { // RFC 2231 language suffix
		cs = cs[:j]
	}
	switch p[1] {
	case "B", "b":
		d, ok := decodeBWord(text)
		if !ok {
			return "", nil, 0, false
		}
		data = d
	case "Q", "q":
		data = decodeQWord(text)
	default:
		return "", nil, 0, false
	}
	return cs, data, 2 + len(p[0]) + 1 + len(p[1]) + 1 + end + 2, true
}

// decodeBWord decodes the text of a B word, accepting missing or extra
// "=" padding, also in the middle (words some mailers concatenated).
func decodeBWord(text string) ([]byte, bool) {
	var out []byte
	for _, chunk := range strings.FieldsFunc(text, func(r rune) bool { return r == '=' }) {
		if len(chunk)%4 == 1 {
			chunk = chunk[:len(chunk)-1] // a dangling sextet
		}
		d, err := base64.RawStdEncoding.DecodeString(chunk)
		if err != nil {
			return nil, false
		}
		out = append(out, d...)
	}
	if out == nil {
		out = []byte{}
	}
	return out, true
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
	if out, ok := fastAddressList(s); ok {
		return out
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
		if a, ok := commentedAddress(item); ok {
			out = append(out, a) // valid RFC 5322, no warning
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

// fastAddressList parses the common shapes of address lists — "a@b",
// "Name <a@b>", "\"Last, First\" <a@b>", comma-separated — with the result
// addrParser.ParseList (then tidy) gives for them, minus its allocations.
// ok is false for anything else (comments, groups, encoded words, escapes,
// domain literals, blanks after "@", ...), which is left to ParseList.
func fastAddressList(s string) (out []Address, ok bool) {
	if strings.Contains(s, "=?") {
		return nil, false
	}
	i := 0
	for {
		i = skipWSP(s, i)
		if i < len(s) && s[i] == ',' { // empty entries
			i++
			continue
		}
		if i == len(s) {
			return nil, false // ParseList: "no address"
		}
		var a Address
		if a, i, ok = fastAddress(s, i); !ok {
			return nil, false
		}
		out = append(out, tidy(a))
		i = skipWSP(s, i)
		if i == len(s) {
			return out, true
		}
		if s[i] != ',' {
			return nil, false
		}
		for i < len(s) && s[i] == ',' {
			i = skipWSP(s, i+1)
		}
		if i == len(s) {
			return out, true
		}
	}
}

// fastAddress parses one address at s[i:] (not blank, not ',').
func fastAddress(s string, i int) (a Address, next int, ok bool) {
	// addr-spec first, as ParseList tries it.
	if s[i] != '"' {
		if end, isSpec, ok := fastAddrSpec(s, i); isSpec {
			if !ok {
				return a, 0, false
			}
			j := skipWSP(s, end)
			if j < len(s) && s[j] == '(' {
				return a, 0, false // display name in a comment
			}
			return Address{Email: s[i:end]}, end, true
		}
	}
	// name-addr: words (atoms or quoted strings) then "<addr-spec>".
	var name strings.Builder
	for words := 0; ; words++ {
		if s[i] == '<' {
			break
		}
		if words > 0 {
			name.WriteByte(' ')
		}
		if s[i] == '"' {
			j := i + 1
			for j < len(s) && s[j] != '"' {
				c := s[j]
				if c == '\\' || c < ' ' && c != '\t' || c == 0x7f {
					return a, 0, false
				}
				if c >= utf8.RuneSelf {
					r, n := utf8.DecodeRuneInString(s[j:])
					if r == utf8.RuneError && n == 1 {
						return a, 0, false
					}
					j += n
					continue
				}
				j++
			}
			if j == len(s) {
				return a, 0, false
			}
			if j+1 < len(s) && s[j+1] == '@' {
				return a, 0, false // quoted local part
			}
			name.WriteString(s[i+1 : j])
			i = j + 1
		} else {
			j, ok := atomEnd(s, i, true)
			if !ok || j == i {
				return a, 0, false
			}
			name.WriteString(s[i:j])
			i = j
		}
		i = skipWSP(s, i)
		if i == len(s) {
			return a, 0, false
		}
	}
	i++ // '<'
	end, isSpec, ok := fastAddrSpec(s, i)
	if !isSpec || !ok || end == len(s) || s[end] != '>' {
		return a, 0, false
	}
	return Address{Name: strings.TrimSpace(name.String()), Email: s[i:end]}, end + 1, true
}

// fastAddrSpec reads a dot-atom "@" dot-atom at s[i:]. isSpec is false when
// no "@" follows the local part (so it is not an addr-spec for ParseList);
// ok is false when the input needs ParseList's full treatment.
func fastAddrSpec(s string, i int) (end int, isSpec, ok bool) {
	j, ok := atomEnd(s, i, true)
	if !ok {
		return 0, true, false
	}
	if j == len(s) || s[j] != '@' {
		return 0, false, true
	}
	if !strictDotAtom(s[i:j]) {
		return 0, true, false
	}
	k, ok := atomEnd(s, j+1, true)
	if !ok || !strictDotAtom(s[j+1:k]) {
		return 0, true, false
	}
	return k, true, true
}

// atomEnd returns the end of the run of atext (and dots when dot) at s[i:],
// as net/mail reads atoms; ok is false on invalid UTF-8.
func atomEnd(s string, i int, dot bool) (int, bool) {
	for i < len(s) {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				return 0, false
			}
			i += n
			continue
		}
		switch {
		case c == '.':
			if !dot {
				return i, true
			}
		case c < '!' || c > '~':
			return i, true
		case strings.IndexByte(`()<>[]:;@\,"`, c) >= 0:
			return i, true
		}
		i++
	}
	return i, true
}

// strictDotAtom: not empty, no leading, trailing or double dot.
func strictDotAtom(a string) bool {
	return a != "" && a[0] != '.' && a[len(a)-1] != '.' && !strings.Contains(a, "..")
}

func skipWSP(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
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
	if strings.HasSuffix(a.Email, ".") && strings.Contains(a.Email, "@") {
		// "user@example.com." names the same mailbox (the DNS root).
		a.Email = strings.TrimRight(a.Email, ".")
	}
	if strings.Contains(a.Name, "=?") {
		// Encoded words net/mail would not decode (extra padding, spaces).
		a.Name = cleanName(a.Name)
	}
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

// commentedAddress reads an address with RFC 5322 comments anywhere, as in
// `Pete(A wonderful \) chap) <pete(his account)@silly.test(his host)>`:
// the comments are dropped, and the first one is the display name when
// there is no other.
func commentedAddress(item string) (Address, bool) {
	if !strings.Contains(item, "(") {
		return Address{}, false
	}
	var sb strings.Builder
	comment := ""
	quoted, angle := false, false
	for i := 0; i < len(item); i++ {
		c := item[i]
		switch {
		case c == '\\' && quoted && i+1 < len(item):
			sb.WriteByte(c)
			sb.WriteByte(item[i+1])
			i++
			continue
		case c == '"':
			quoted = !quoted
		case c == '<' && !quoted:
			angle = true
		case c == '>' && !quoted:
			angle = false
		case c == '(' && !quoted:
			text, end := readComment(item, i)
			if comment == "" {
				comment = strings.TrimSpace(text)
			}
			i = end
			if !angle {
				sb.WriteByte(' ')
			}
			continue
		}
		sb.WriteByte(c)
	}
	clean := strings.NewReplacer(" @", "@", "@ ", "@", " .", ".", ". ", ".").Replace(strings.TrimSpace(sb.String()))
	a, err := addrParser.Parse(clean)
	if err != nil {
		return Address{}, false
	}
	name := strings.TrimSpace(a.Name)
	if name == "" {
		name = cleanName(comment)
	}
	return Address{Name: name, Email: a.Address}, true
}

// readComment reads the (possibly nested, escaped) comment starting at
// s[i] == '(' and returns its text and the index of its closing ')' (the
// end of s when unclosed).
func readComment(s string, i int) (string, int) {
	var sb strings.Builder
	depth := 0
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			sb.WriteByte(s[i])
			continue
		case c == '(':
			depth++
			if depth == 1 {
				continue
			}
		case c == ')':
			depth--
			if depth == 0 {
				return sb.String(), i
			}
		}
		sb.WriteByte(c)
	}
	return sb.String(), len(s) - 1
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
	if t, ok := parseDateFast(s); ok {
		return t, true
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

// rfc5322Layout is the layout net/mail.ParseDate settles on for the usual
// "Mon, 2 Jan 2006 15:04:05 -0700": the first of its layouts with a weekday.
const rfc5322Layout = "Mon, 2 Jan 2006 15:04:05 -0700"

// parseDateFast returns what mail.ParseDate(s) returns for the common form,
// without trying (and allocating errors for) the 24 layouts before it.
// s is trimmed. It applies ParseDate's own cut of s at the numeric zone and
// its comment check, and only when s starts with a non-digit: every layout
// ParseDate tries before rfc5322Layout starts with a day number, so fails.
// Anything else is left to mail.ParseDate.
func parseDateFast(s string) (time.Time, bool) {
	if s == "" || '0' <= s[0] && s[0] <= '9' || strings.IndexByte(s, '\r') >= 0 {
		return time.Time{}, false
	}
	ind := strings.IndexAny(s, "+-")
	if ind < 0 || len(s) < ind+5 || !simpleCFWS(s[ind+5:]) {
		return time.Time{}, false
	}
	t, err := time.Parse(rfc5322Layout, s[:ind+5])
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// simpleCFWS reports whether s is blanks, optionally around one comment
// without nested parentheses or escapes: input net/mail accepts after a zone.
func simpleCFWS(s string) bool {
	s = strings.TrimLeft(s, " \t")
	if s == "" {
		return true
	}
	if s[0] != '(' {
		return false
	}
	end := strings.IndexAny(s[1:], "()\\")
	if end < 0 || s[1+end] != ')' {
		return false
	}
	return strings.TrimLeft(s[2+end:], " \t") == ""
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
