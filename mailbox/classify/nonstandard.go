package classify

import (
	"strings"

	"github.com/emersion/go-message/textproto"
)

type nonStandard struct {
	action     string
	recipients []string
	status     string
	diagnostic string
	returned   *textproto.Header
}

// bounceStyle is one family of human-readable bounce texts: a phrase that
// identifies it and the action it reports.
type bounceStyle struct {
	phrase string // lower-case
	action string
}

// bounceStyles in priority order: delay notices before failure notices of
// the same software, since both share the introduction.
var bounceStyles = []bounceStyle{
	// Exim
	{"has not yet been delivered to one or more of its", "delayed"},
	{"could not be delivered to one or more of its", "failed"},
	{"this message was created automatically by mail delivery software", "failed"},
	// qmail
	{"this is the qmail-send program", "failed"},
	// Exchange / Office 365 NDR
	{"delivery has failed to these recipients or groups", "failed"},
	{"delivery to the following recipients failed", "failed"},
	// Gmail (older plain-text form and current wording)
	{"delivery to the following recipient has been delayed", "delayed"},
	{"delivery to the following recipients has been delayed", "delayed"},
	{"delivery to the following recipient failed permanently", "failed"},
	{"your message wasn't delivered to", "failed"},
	{"your message has not been delivered to", "failed"},
	// sendmail
	{"the following addresses had permanent fatal errors", "failed"},
	{"could not send message for past", "delayed"},
}

// returnedMarkers introduce the copy of our message inside the text.
var returnedMarkers = []string{
	"------ this is a copy of the message, including all the headers. ------",
	"------ this is a copy of the message's headers. ------",
	"--- below this line is a copy of the message.",
	"original message headers:",
	"----- original message -----",
	"------ original message ------",
	"----- the header of the original message is following. -----",
}

// lowerASCII lower-cases A-Z only, so byte offsets stay valid in the
// original text (strings.ToLower may change lengths).
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// parseNonStandard reads the plain-text part of a bounce that has no
// message/delivery-status: Exim, qmail, Exchange, Gmail, sendmail.
func parseNonStandard(text string) (nonStandard, bool) {
	var ns nonStandard
	low := lowerASCII(text)
	styleAt := -1
	for _, st := range bounceStyles {
		if i := strings.Index(low, st.phrase); i >= 0 {
			ns.action, styleAt = st.action, i
			break
		}
	}
	if styleAt < 0 {
		return ns, false
	}
	section := text
	for _, m := range returnedMarkers {
		i := strings.Index(low, m)
		if i < 0 {
			continue
		}
		section = text[:i]
		rest := text[i+len(m):]
		if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
			rest = rest[nl+1:]
		}
		if h := headerFromText(rest); h.Len() > 0 {
			ns.returned = &h
		}
		break
	}
	if styleAt > len(section) {
		styleAt = 0
	}
	lines := strings.Split(section[styleAt:], "\n")
	first := -1
	for i, line := range lines {
		a, ok := recipientLine(line)
		if !ok {
			continue
		}
		ns.recipients = appendAddr(ns.recipients, a)
		if first < 0 {
			first = i
		}
	}
	if first >= 0 {
		// The paragraph after the first address is the remote's reason.
		var diag []string
		for _, l := range lines[first+1:] {
			if strings.TrimSpace(l) == "" {
				if len(diag) > 0 {
					break
				}
				continue
			}
			if _, isRcpt := recipientLine(l); isRcpt && len(diag) == 0 {
				continue
			}
			diag = append(diag, l)
			if len(diag) > 8 {
				break
			}
		}
		ns.diagnostic = clip(strings.Join(diag, " "))
	}
	if d := lineWith(section, "remote server returned"); d != "" {
		ns.diagnostic = clip(d)
	}
	if ns.diagnostic == "" || findStatus(ns.diagnostic) == "" {
		if d := lineWithStatus(section[styleAt:]); d != "" {
			ns.diagnostic = clip(d)
		}
	}
	ns.status = findStatus(ns.diagnostic)
	return ns, true
}

// recipientLine recognises a line naming one failed address: indented
// "  user@example.com" (Exim, Gmail), "<user@example.com>:" (qmail), a
// bare address or "Name (user@example.com)" / "user@x<mailto:user@x>"
// (Exchange), "<user@example.com>... User unknown" (sendmail).
func recipientLine(line string) (string, bool) {
	t := strings.TrimSpace(line)
	if t == "" || !strings.Contains(t, "@") || len(t) > 320 {
		return "", false
	}
	low := lowerASCII(t)
	// Sentences that merely mention an address are not recipient lines.
	for _, w := range []string{"rcpt to", "mail from", "said:", "smtp error", " from ", "remote server", "message-id"} {
		if strings.Contains(low, w) {
			return "", false
		}
	}
	fields := strings.Fields(t)
	switch {
	case len(fields) == 1:
		return extractEmail(strings.TrimSuffix(fields[0], ":"))
	case strings.HasPrefix(t, "<") && strings.Contains(t, ">..."):
		return extractEmail(t[:strings.Index(t, ">...")])
	case strings.HasSuffix(t, ")") && strings.Contains(t, "("):
		return extractEmail(t[strings.LastIndexByte(t, '('):])
	case strings.HasPrefix(low, "your message wasn't delivered to ") || strings.HasPrefix(low, "your message has not been delivered to "):
		for _, f := range fields {
			if strings.Contains(f, "@") {
				return extractEmail(f)
			}
		}
	}
	return "", false
}

func isAddrByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte(".!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// extractEmail returns the lower-cased address around the first '@'.
func extractEmail(s string) (string, bool) {
	at := strings.IndexByte(s, '@')
	if at <= 0 {
		return "", false
	}
	i := at
	for i > 0 && isAddrByte(s[i-1]) {
		i--
	}
	j := at + 1
	for j < len(s) && (isAddrByte(s[j]) && s[j] != '\'' || s[j] == '[' || s[j] == ']') {
		j++
	}
	local, domain := s[i:at], strings.Trim(s[at+1:j], ".")
	if local == "" || domain == "" || !strings.Contains(domain, ".") && !strings.HasPrefix(domain, "[") {
		return "", false
	}
	return strings.ToLower(local + "@" + domain), true
}

// lineWith returns the first line containing phrase (lower-case).
func lineWith(text, phrase string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(lowerASCII(l), phrase) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// lineWithStatus returns the first line with an enhanced status code.
func lineWithStatus(text string) string {
	for _, l := range strings.Split(text, "\n") {
		if findStatus(l) != "" {
			return strings.TrimSpace(l)
		}
	}
	return ""
}
