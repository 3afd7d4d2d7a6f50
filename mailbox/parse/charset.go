package parse

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/japanese"
)

// decodeCharset turns body or header bytes in the declared charset into
// valid UTF-8. Labels lie often, so the bytes win over the label: valid UTF-8
// is taken as UTF-8 whatever the label says (ASCII-compatible labels only),
// text with no usable label is decoded by detection (detect.go), and bytes
// the labelled charset cannot decode are detected too (Shift_JIS labelled
// ISO-2022-JP, GB18030 labelled GB2312...). "iso-8859-1" and "us-ascii"
// with 8-bit bytes mean Windows-1252, the usual truth behind them. ok is
// false when the label was unknown or had to be overridden.
func decodeCharset(b []byte, label string) (s string, ok bool) {
	return decodeCharsetHints(b, label, nil)
}

// decodeCharsetHints is decodeCharset with the charsets the message
// declares elsewhere, tried first when the label does not decide.
func decodeCharsetHints(b []byte, label string, hints *charsetHints) (s string, ok bool) {
	label = normLabel(label)
	hint := hints.get
	switch label {
	case "", "us-ascii", "x-unknown", "unknown", "unknown-8bit", "x-user-defined", "default":
		if isISO2022JP(b) {
			if out, err := japanese.ISO2022JP.NewDecoder().Bytes(b); err == nil && utf8.Valid(out) {
				return string(out), label == ""
			}
		}
		if utf8.Valid(b) {
			return string(b), true
		}
		if label == "us-ascii" && hints == nil {
			return win1252(b), false
		}
		return detectDecode(b, hint()), label == ""
	case "iso-8859-1", "windows-1252":
		if utf8.Valid(b) {
			return string(b), true
		}
		return win1252(b), true
	case "utf-8":
		if utf8.Valid(b) {
			return string(b), true
		}
		if hasMultibyteRune(b) {
			// Mostly UTF-8 with a few broken bytes: keep the text, mark the damage.
			return strings.ToValidUTF8(string(b), "\uFFFD"), false
		}
		return detectDecode(b, hint()), false
	case "utf-7":
		return decodeUTF7(b), true
	case "iso-2022-jp":
		if !has8bit(b) {
			break
		}
		// 8-bit bytes cannot be ISO-2022-JP: usually Shift_JIS.
		if out, ok := strictDecode(japanese.ShiftJIS, b); ok {
			return out, false
		}
		return detectDecode(b, hint()), false
	}
	enc, _ := lookupCharset(label)
	if enc == nil {
		r, err := charset.Reader(label, bytes.NewReader(b))
		if err != nil {
			if utf8.Valid(b) {
				return string(b), false
			}
			return detectDecode(b, hint()), false
		}
		out, err := io.ReadAll(r)
		if err != nil || !utf8.Valid(out) {
			return strings.ToValidUTF8(string(out), "\uFFFD"), false
		}
		return string(out), true
	}
	if out, ok := strictDecode(enc, b); ok {
		return out, true
	}
	if utf8.Valid(b) {
		return string(b), false
	}
	return detectDecode(b, hint()), false
}

func has8bit(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// normLabel lower-cases a charset label, drops quotes and maps aliases to
// the canonical names lookupCharset knows.
func normLabel(label string) string {
	l := strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`))
	if a, ok := charsetAliases[l]; ok {
		return a
	}
	return l
}

// charsetAliases maps the labels mailers write to canonical names; GB2312
// and GBK text is read with GB18030, their superset, and KS C 5601 with
// EUC-KR (as Windows-949 is sent).
var charsetAliases = map[string]string{
	"ascii": "us-ascii", "ansi_x3.4-1968": "us-ascii", "us": "us-ascii", "iso646-us": "us-ascii",
	"utf8": "utf-8", "unicode-1-1-utf-8": "utf-8", "x-unicode20utf8": "utf-8", "utf-8-bom": "utf-8",
	"utf7": "utf-7", "unicode-1-1-utf-7": "utf-7", "x-unicode20utf7": "utf-7",
	"iso8859-1": "iso-8859-1", "iso_8859-1": "iso-8859-1", "iso-8859-1:1987": "iso-8859-1", "iso8859_1": "iso-8859-1",
	"latin1": "iso-8859-1", "latin-1": "iso-8859-1", "l1": "iso-8859-1", "cp819": "iso-8859-1",
	"cp1252": "windows-1252", "windows1252": "windows-1252", "win-1252": "windows-1252", "x-cp1252": "windows-1252",
	"iso8859-15": "iso-8859-15", "latin9": "iso-8859-15", "latin-9": "iso-8859-15",
	"iso8859-2": "iso-8859-2", "iso_8859-2": "iso-8859-2", "latin2": "iso-8859-2", "latin-2": "iso-8859-2", "l2": "iso-8859-2",
	"cp1250": "windows-1250", "windows1250": "windows-1250", "win-1250": "windows-1250", "x-cp1250": "windows-1250",
	"cp1251": "windows-1251", "windows1251": "windows-1251", "win-1251": "windows-1251", "x-cp1251": "windows-1251",
	"win1251": "windows-1251", "cp866": "ibm866", "866": "ibm866",
	"koi8r": "koi8-r", "koi8": "koi8-r", "koi-8-r": "koi8-r", "cskoi8r": "koi8-r", "koi8u": "koi8-u",
	"gb2312": "gb18030", "iso-gb2312": "gb18030", "gb_2312-80": "gb18030", "gb_2312": "gb18030", "csgb2312": "gb18030",
	"x-gbk": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "ms936": "gb18030", "windows-936": "gb18030",
	"euc-cn": "gb18030", "x-euc-cn": "gb18030", "euccn": "gb18030", "chinese": "gb18030", "gb18030-2000": "gb18030",
	"x-gb18030": "gb18030", "iso-ir-58": "gb18030",
	"big-5": "big5", "x-big5": "big5", "cn-big5": "big5", "cp950": "big5", "big5-hkscs": "big5", "big5hkscs": "big5",
	"csbig5": "big5", "x-x-big5": "big5",
	"shift-jis": "shift_jis", "sjis": "shift_jis", "x-sjis": "shift_jis", "ms_kanji": "shift_jis", "cp932": "shift_jis",
	"ms932": "shift_jis", "windows-31j": "shift_jis", "csshiftjis": "shift_jis", "x-ms-cp932": "shift_jis",
	"shift_jisx0213": "shift_jis", "shiftjis": "shift_jis",
	"euc_jp": "euc-jp", "x-euc-jp": "euc-jp", "eucjp": "euc-jp", "ujis": "euc-jp", "x-euc": "euc-jp",
	"iso2022-jp": "iso-2022-jp", "iso-2022-jp-1": "iso-2022-jp", "iso-2022-jp-2": "iso-2022-jp", "csiso2022jp": "iso-2022-jp",
	"ks_c_5601-1987": "euc-kr", "ks_c_5601": "euc-kr", "ksc5601": "euc-kr", "ksc_5601": "euc-kr", "euc_kr": "euc-kr",
	"euckr": "euc-kr", "cp949": "euc-kr", "uhc": "euc-kr", "x-windows-949": "euc-kr", "ms949": "euc-kr",
	"korean": "euc-kr", "iso-ir-149": "euc-kr", "ks_c_5601-1989": "euc-kr", "x-uhc": "euc-kr",
	"tis-620": "windows-874", "iso-8859-11": "windows-874", "cp874": "windows-874",
	"iso-8859-8-i": "iso-8859-8", "visual": "iso-8859-8",
}

// lookupCharset returns the decoder for a canonical name (see normLabel)
// and the script it writes; nil when unknown.
func lookupCharset(name string) (encoding.Encoding, script) {
	for _, c := range candidates {
		if c.name == name {
			return c.enc, c.script
		}
	}
	if name == "iso-8859-1" {
		return charmap.Windows1252, scriptLatin
	}
	if enc, err := htmlindex.Get(name); err == nil && enc != nil {
		return enc, scriptOf(name)
	}
	if enc, err := ianaindex.MIME.Encoding(name); err == nil && enc != nil {
		return enc, scriptOf(name)
	}
	return nil, scriptOther
}

// declaredCharsets lists the charsets a message names anywhere (charset=
// parameters, encoded words), for text that names none. UTF-8 and ASCII
// are left out: they are tried first anyway.
func declaredCharsets(raw []byte) []string {
	if len(raw) > 1<<20 {
		raw = raw[:1<<20]
	}
	low := bytes.ToLower(raw)
	var out []string
	add := func(l string) {
		l = normLabel(l)
		switch l {
		case "", "us-ascii", "utf-8", "utf-7", "x-unknown", "unknown", "unknown-8bit", "default":
			return
		}
		for _, o := range out {
			if o == l {
				return
			}
		}
		if len(out) < 8 {
			out = append(out, l)
		}
	}
	for _, marker := range []string{"charset=", "=?"} {
		for off := 0; len(out) < 8; {
			i := bytes.Index(low[off:], []byte(marker))
			if i < 0 {
				break
			}
			v := low[off+i+len(marker):]
			off += i + len(marker)
			v = bytes.TrimLeft(v, `"' `)
			end := bytes.IndexAny(v, "\"'; \t\r\n?*)")
			if end < 0 || end > 40 {
				continue
			}
			add(string(v[:end]))
		}
	}
	return out
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

// charsetHints is declaredCharsets of a message, computed on first use:
// only text that is neither UTF-8 nor labelled needs it. A nil
// *charsetHints has no hints.
type charsetHints struct {
	raw  []byte
	list []string
	done bool
}

func (c *charsetHints) get() []string {
	if c == nil {
		return nil
	}
	if !c.done {
		c.list, c.done = declaredCharsets(c.raw), true
	}
	return c.list
}

// decodeText is normalizeNewlines(decodeCharsetHints(b, label, hints)) with one copy
// of b in the common case (UTF-8 compatible label, valid UTF-8).
func decodeText(b []byte, label string, hints *charsetHints) (s string, ok bool) {
	if asciiLabel(normLabel(label)) && utf8.Valid(b) && bytes.IndexByte(b, 0x1b) < 0 {
		return newlinesString(b), true
	}
	s, ok = decodeCharsetHints(b, label, hints)
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
// unlabelled ISO-2022-JP (recognised by its escapes), UTF-8, then the
// message's declared charsets and detection (hints may be nil).
func decodeRawHeader(b []byte, hints *charsetHints) string {
	if isISO2022JP(b) {
		if out, err := japanese.ISO2022JP.NewDecoder().Bytes(b); err == nil && utf8.Valid(out) {
			return string(out)
		}
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return detectDecode(b, hints.get())
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
