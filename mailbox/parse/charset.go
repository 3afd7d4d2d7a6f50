package parse

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
)

// decodeCharset turns body or header bytes in the declared charset into
// valid UTF-8. Labels lie often, so the bytes win over the label: valid UTF-8
// is taken as UTF-8 whatever the label says (ASCII-compatible labels only),
// and undecodable 8-bit text falls back to Windows-1252, the usual truth
// behind "us-ascii" and "iso-8859-1" labels. ok is false when the label was
// unknown or had to be overridden.
func decodeCharset(b []byte, label string) (s string, ok bool) {
	label = normLabel(label)
	switch label {
	case "", "us-ascii", "ascii", "utf-8", "utf8", "iso-8859-1", "iso8859-1", "latin1", "latin-1",
		"windows-1252", "cp1252", "x-unknown", "unknown", "unknown-8bit", "x-user-defined", "default":
		if isISO2022JP(b) {
			if out, err := japanese.ISO2022JP.NewDecoder().Bytes(b); err == nil && utf8.Valid(out) {
				return string(out), label == ""
			}
		}
		if utf8.Valid(b) {
			return string(b), true
		}
		if label == "utf-8" || label == "utf8" {
			// Mostly UTF-8 with a few broken bytes: keep the text, mark the damage.
			if hasMultibyteRune(b) {
				return strings.ToValidUTF8(string(b), "\uFFFD"), false
			}
		}
		return win1252(b), label == "" || strings.Contains(label, "8859-1") || strings.Contains(label, "1252") || strings.Contains(label, "latin")
	case "utf-7", "utf7", "unicode-1-1-utf-7":
		return decodeUTF7(b), true
	}
	r, err := charset.Reader(label, bytes.NewReader(b))
	if err != nil {
		if utf8.Valid(b) {
			return string(b), false
		}
		return win1252(b), false
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return strings.ToValidUTF8(string(out), "\uFFFD"), false
	}
	if !utf8.Valid(out) {
		return strings.ToValidUTF8(string(out), "\uFFFD"), false
	}
	return string(out), true
}

func normLabel(label string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`))
}

// asciiLabel reports whether decodeCharset takes valid UTF-8 under the
// (normalized) label as is.
func asciiLabel(label string) bool {
	switch label {
	case "", "us-ascii", "ascii", "utf-8", "utf8", "iso-8859-1", "iso8859-1", "latin1", "latin-1",
		"windows-1252", "cp1252", "x-unknown", "unknown", "unknown-8bit", "x-user-defined", "default":
		return true
	}
	return false
}

// decodeText is normalizeNewlines(decodeCharset(b, label)) with one copy
// of b in the common case (UTF-8 compatible label, valid UTF-8).
func decodeText(b []byte, label string) (s string, ok bool) {
	if asciiLabel(normLabel(label)) && utf8.Valid(b) && bytes.IndexByte(b, 0x1b) < 0 {
		return newlinesString(b), true
	}
	s, ok = decodeCharset(b, label)
	return normalizeNewlines(s), ok
}

// newlinesString is normalizeNewlines(string(b)).
func newlinesString(b []byte) string {
	i := bytes.IndexByte(b, '\r')
	if i < 0 {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b))
	for i >= 0 {
		sb.Write(b[:i])
		sb.WriteByte('\n')
		b = b[i+1:]
		if len(b) > 0 && b[0] == '\n' {
			b = b[1:]
		}
		i = bytes.IndexByte(b, '\r')
	}
	sb.Write(b)
	return sb.String()
}

func hasMultibyteRune(b []byte) bool {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r != utf8.RuneError && n > 1 {
			return true
		}
		b = b[n:]
	}
	return false
}

// toUTF8 is for raw 8-bit header bytes: UTF-8 when valid, else Windows-1252.
func toUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return win1252(b)
}

func win1252(b []byte) string {
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(out)
}

// decodeUTF7 decodes RFC 2152 UTF-7; x/text has no decoder for it.
func decodeUTF7(b []byte) string {
	var sb strings.Builder
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '+' {
			if c < 0x80 {
				sb.WriteByte(c)
			} else {
				sb.WriteRune(utf8.RuneError)
			}
			continue
		}
		j := i + 1
		for j < len(b) && isB64(b[j]) {
			j++
		}
		if j == i+1 {
			// "+-" is a literal plus.
			sb.WriteByte('+')
			if j < len(b) && b[j] == '-' {
				i = j
			}
			continue
		}
		raw, err := base64.RawStdEncoding.DecodeString(string(b[i+1 : j][:(j-i-1)/4*4+rawTail((j-i-1)%4)]))
		if err == nil {
			u := make([]uint16, 0, len(raw)/2)
			for k := 0; k+1 < len(raw); k += 2 {
				u = append(u, uint16(raw[k])<<8|uint16(raw[k+1]))
			}
			sb.WriteString(string(utf16.Decode(u)))
		} else {
			sb.Write(b[i:j])
		}
		if j < len(b) && b[j] == '-' {
			j++
		}
		i = j - 1
	}
	return strings.ToValidUTF8(sb.String(), "\uFFFD")
}

// rawTail drops a dangling sextet that cannot form a byte.
func rawTail(n int) int {
	if n == 1 {
		return 0
	}
	return n
}

func isB64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}

// plainHeaderValue reports a raw header value that is valid UTF-8 without
// control characters (TAB aside): the common case, kept as is.
func plainHeaderValue(b []byte) bool {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= utf8.RuneSelf {
			return utf8.Valid(b[i:])
		}
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// decodeRawHeader turns raw header bytes that are not plain UTF-8 into text:
// unlabelled ISO-2022-JP (recognised by its escapes), UTF-8, or Windows-1252.
func decodeRawHeader(b []byte) string {
	if isISO2022JP(b) {
		if out, err := japanese.ISO2022JP.NewDecoder().Bytes(b); err == nil && utf8.Valid(out) {
			return string(out)
		}
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return win1252(b)
}

// isISO2022JP reports the escape sequences that switch ISO-2022-JP into
// JIS X 0208 or JIS X 0201 Roman: ESC $ B, ESC $ @, ESC ( J.
func isISO2022JP(b []byte) bool {
	for {
		i := bytes.IndexByte(b, 0x1b)
		if i < 0 || i+2 >= len(b) {
			return false
		}
		if b[i+1] == '$' && (b[i+2] == 'B' || b[i+2] == '@') || b[i+1] == '(' && b[i+2] == 'J' {
			return true
		}
		b = b[i+1:]
	}
}
