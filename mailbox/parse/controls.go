package parse

import "strings"

// Control characters (C0 except TAB and LF, and DEL) cannot be stored in
// every database (PostgreSQL refuses NUL in text) and are never meant for a
// reader. They are replaced after charset decoding: ISO-2022-JP needs its ESC
// bytes until then.
const controlReplacement = "\uFFFD"

// isControl reports the bytes scrubControls replaces.
func isControl(c byte) bool {
	return c < 0x20 && c != '\t' && c != '\n' || c == 0x7f
}

// hasControl reports whether s holds a byte scrubControls would replace.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if isControl(s[i]) {
			return true
		}
	}
	return false
}

// scrubControls replaces control characters in s (valid UTF-8 or not; the
// control bytes are ASCII, so they never sit inside a multi-byte rune) and
// reports whether it replaced any. It does not allocate when there is none.
func scrubControls(s string) (string, bool) {
	if !hasControl(s) {
		return s, false
	}
	var sb strings.Builder
	sb.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		if c := s[i]; isControl(c) {
			if c == '\r' && i+1 < len(s) && s[i+1] == '\n' {
				continue // a CRLF left over: the LF is the line break
			}
			sb.WriteString(controlReplacement)
		} else {
			sb.WriteByte(c)
		}
	}
	return sb.String(), true
}

// scrubMessage applies scrubControls to every text of m a reader or the
// store sees, noting it once in the warnings.
func (w *walker) scrubMessage(m *Message) {
	hit := false
	s := func(p *string) {
		if v, ok := scrubControls(*p); ok {
			*p, hit = v, true
		}
	}
	addr := func(a *Address) {
		s(&a.Name)
		s(&a.Email)
	}
	for _, p := range []*string{&m.MessageID, &m.Subject, &m.Text, &m.HTML, &m.NewText, &m.NewHTML} {
		s(p)
	}
	for i := range m.InReplyTo {
		s(&m.InReplyTo[i])
	}
	for i := range m.References {
		s(&m.References[i])
	}
	addr(&m.From)
	if m.Sender != nil {
		addr(m.Sender)
	}
	for _, l := range [][]Address{m.ReplyTo, m.To, m.Cc} {
		for i := range l {
			addr(&l[i])
		}
	}
	for i := range m.Attachments {
		s(&m.Attachments[i].Filename)
		s(&m.Attachments[i].ContentType)
		s(&m.Attachments[i].ContentID)
	}
	if hit || w.hs.controls {
		w.warn("text: control characters replaced")
	}
}
