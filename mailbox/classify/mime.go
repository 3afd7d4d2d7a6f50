package classify

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime/quotedprintable"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/textproto"
)

// This is a small lenient MIME reader for reports: a malformed part (no
// header, a broken line, a missing closing boundary, bad base64) yields what
// could be read and never stops the walk over its siblings.

// stripEnvelope drops leading blank lines and a leading mbox "From " line,
// which Procmail and Postfix pipes put before the header.
func stripEnvelope(raw []byte) []byte {
	raw = bytes.TrimLeft(raw, "\r\n")
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			return raw[i+1:]
		}
		return nil
	}
	return raw
}

// readEntity splits b into header and body. Text that does not start with a
// header field is all body (a part whose header was lost), and a header
// without the blank line after it runs to the end.
func readEntity(b []byte) (textproto.Header, []byte) {
	var h textproto.Header
	line, _ := cutLine(b)
	if k, _, ok := strings.Cut(string(line), ":"); !ok || !validKey(k) {
		return h, b
	}
	end, bodyStart := len(b), len(b)
	for off := 0; off < len(b); {
		l, rest := cutLine(b[off:])
		if len(bytes.TrimRight(l, " \t")) == 0 {
			end, bodyStart = off, len(b)-len(rest)
			break
		}
		off = len(b) - len(rest)
	}
	h = headerFromText(string(b[:end]))
	return h, b[bodyStart:]
}

func cutLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return bytes.TrimSuffix(b, []byte("\r")), nil
	}
	return bytes.TrimSuffix(b[:i], []byte("\r")), b[i+1:]
}

// splitParts cuts a multipart body at its "--boundary" lines; the part after
// the last delimiter runs to the end when the closing one is missing.
func splitParts(body []byte, boundary string, max int) [][]byte {
	delim := []byte("--" + boundary)
	var parts [][]byte
	start := -1
	for off := 0; off < len(body); {
		line, rest := cutLine(body[off:])
		lineStart := off
		off = len(body) - len(rest)
		if !bytes.HasPrefix(line, delim) {
			if rest == nil {
				break
			}
			continue
		}
		tail := bytes.TrimRight(line[len(delim):], " \t")
		closing := bytes.Equal(tail, []byte("--"))
		if len(tail) != 0 && !closing {
			continue // a longer boundary sharing our prefix
		}
		if start >= 0 {
			parts = append(parts, bytes.TrimSuffix(bytes.TrimSuffix(body[start:lineStart], []byte("\n")), []byte("\r")))
			if len(parts) >= max {
				return parts
			}
		}
		if closing {
			return parts
		}
		start = off
		if rest == nil {
			break
		}
	}
	if start >= 0 && start < len(body) {
		parts = append(parts, body[start:])
	}
	return parts
}

// decodeBody undoes the transfer encoding, keeping what decodes.
func decodeBody(b []byte, cte string) []byte {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		clean := make([]byte, 0, len(b))
		for _, c := range b {
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' {
				clean = append(clean, c)
			}
		}
		clean = clean[:len(clean)/4*4+rawTail(len(clean)%4)]
		out, err := base64.RawStdEncoding.DecodeString(string(clean))
		if err != nil {
			return b
		}
		return out
	case "quoted-printable":
		out, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(b)))
		return out
	}
	return b
}

func rawTail(n int) int {
	if n == 1 {
		return 0
	}
	return n
}

// decodeText makes body bytes valid UTF-8 in their declared charset.
func decodeText(b []byte, label string) string {
	if utf8.Valid(b) {
		return string(b)
	}
	if r, err := charsetReader(strings.Trim(strings.TrimSpace(label), `"`), bytes.NewReader(b)); err == nil {
		if out, err := io.ReadAll(r); err == nil {
			return strings.ToValidUTF8(string(out), "\uFFFD")
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// htmlText is a rough text of an HTML part: tags dropped, block ends as line
// breaks, a few entities. Reports only need their phrases and addresses.
func htmlText(s string) string {
	var sb strings.Builder
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			sb.WriteString(s)
			break
		}
		sb.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break
		}
		tag := strings.ToLower(s[i+1 : i+j])
		tag = strings.TrimPrefix(tag, "/")
		for _, b := range []string{"br", "p", "div", "tr", "li", "h1", "h2", "h3", "table"} {
			if tag == b || strings.HasPrefix(tag, b+" ") || strings.HasPrefix(tag, b+"/") {
				sb.WriteByte('\n')
				break
			}
		}
		s = s[i+j+1:]
	}
	return strings.NewReplacer("&nbsp;", " ", "&lt;", "<", "&gt;", ">", "&amp;", "&", "&quot;", `"`, "&#39;", "'").Replace(sb.String())
}
