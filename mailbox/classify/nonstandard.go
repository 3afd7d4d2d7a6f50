package classify

import (
	"strings"

	"github.com/emersion/go-message/textproto"
)

// The human-readable bounces of each mail system, after the rules sisimai
// publishes for them (its lhost modules): how to tell the family (header
// hints, marker phrases), where the recipient section starts, which
// phrases mean a delay, and where the returned message begins. The code is
// ours; one fixture per family (dsn-<family>-*.eml) pins it.

type nonStandard struct {
	family   string
	action   string // of the whole report, for one that names no address
	delivery []RecipientStatus
	returned *textproto.Header
}

type family struct {
	name string
	// header reports a header that identifies the family on its own.
	header func(h *textproto.Header) bool
	// markers (lower-case) identify the family in the text; the first found
	// also starts the recipient section unless a start phrase is found.
	markers []string
	start   []string // the recipient section starts at the first found
	delayed []string // phrases that make the report a delay notice
	// delivered are phrases of a success notice (OpenSMTPD sends them).
	delivered []string
	// rcptAfter are phrases followed by the recipient on the same line,
	// e.g. "unable to deliver message to <a@x>".
	rcptAfter []string
	returned  []string // the returned message starts after the first found
}

// familyRules lists the report formats read without a delivery-status
// part, in the order tried: specific ones before those whose phrases they
// share.
var familyRules = families()

// Families returns the names of the sender families whose human-readable
// reports ParseBounce reads (BounceReport.Family).
func Families() []string {
	var out []string
	for _, f := range familyRules {
		out = append(out, f.name)
	}
	return out
}

func fromContains(subs ...string) func(h *textproto.Header) bool {
	return func(h *textproto.Header) bool {
		v := strings.ToLower(h.Get("From"))
		for _, s := range subs {
			if strings.Contains(v, s) {
				return true
			}
		}
		return false
	}
}

func receivedContains(sub string) func(h *textproto.Header) bool {
	return func(h *textproto.Header) bool {
		for _, v := range h.Values("Received") {
			if strings.Contains(strings.ToLower(v), sub) {
				return true
			}
		}
		return false
	}
}

func hasHeader(keys ...string) func(h *textproto.Header) bool {
	return func(h *textproto.Header) bool {
		for _, k := range keys {
			if h.Has(k) {
				return true
			}
		}
		return false
	}
}

func families() []family {
	return []family{
		{name: "mailru", header: fromContains("mail.ru"),
			markers:  []string{"не удалось доставить письмо", "сервером mail.ru"},
			start:    []string{"не удалось доставить письмо", "the following address(es) failed", "could not be delivered to one or more"},
			returned: []string{"------ this is a copy of the message, including all the headers. ------", "--- below this line is a copy of the message."}},
		{name: "amazonses", header: hasHeader("X-Ses-Outgoing", "X-Aws-Outgoing"),
			markers:   []string{"was undeliverable.\nthe reason for the problem", "the following message to <"},
			rcptAfter: []string{"the following message to"},
			returned:  []string{"original message headers:", "------ original message ------"}},
		{name: "outlook", header: func(h *textproto.Header) bool {
			return h.Has("X-Message-Delivery") || h.Has("X-Message-Info") || fromContains("@hotmail.", "@outlook.com", "@live.", "@msn.com")(h)
		},
			markers: []string{"this is an automatically generated delivery status notification"},
			start:   []string{"delivery to the following recipients failed", "delivery to the following recipient failed"},
			delayed: []string{"delivery to the following recipients has been delayed"}},
		{name: "mcafee", header: hasHeader("X-Nai-Header"),
			markers: []string{"--- the following addresses had delivery problems ---"}},
		{name: "trendmicro", header: fromContains("interscan"),
			markers:   []string{"unable to deliver message to <", "メッセージを配信できません"},
			start:     []string{"sent <<< rcpt to:", "unable to deliver message to"},
			rcptAfter: []string{"unable to deliver message to"}},
		{name: "dragonfly", header: receivedContains(" (dragonfly mail agent"),
			markers:   []string{"this is the dragonfly mail agent", "there was an error delivering your mail to <"},
			start:     []string{"there was an error delivering your mail to"},
			rcptAfter: []string{"there was an error delivering your mail to"},
			returned:  []string{"original message follows.", "message headers follow."}},
		{name: "opensmtpd",
			markers:   []string{"this is the mailer-daemon, please do not reply to this e-mail", "an error has occurred while attempting to deliver a message for"},
			start:     []string{"the following list of recipients:", "list of recipients:", "delivered to these recipients.", "relayed to these recipients."},
			delayed:   []string{"a message is delayed for more than"},
			delivered: []string{"your message was successfully delivered to these recipients", "your message was relayed to these recipients"},
			returned:  []string{"below is a copy of the original message:"}},
		{name: "courier",
			markers:  []string{"running the courier mail server", "your message to the following recipients cannot be delivered"},
			start:    []string{"your message to the following recipients cannot be delivered", "your message to the following recipients has been delayed"},
			delayed:  []string{"your message to the following recipients has been delayed", "delays in delivering your message"},
			returned: []string{"------ this is a copy of the message"}},
		{name: "notes", header: func(h *textproto.Header) bool {
			subj := strings.ToUpper(h.Get("Subject"))
			return strings.HasPrefix(subj, "DELIVERY FAILURE:") || strings.Contains(subj, "DELIVERY_FAILURE")
		},
			markers:  []string{"------- failure reasons", "not listed in domino directory"},
			start:    []string{"was not delivered to:", "------- failure reasons"},
			returned: []string{"------- returned message --------"}},
		{name: "yahoo", header: fromContains("yahoo"),
			markers:  []string{"sorry, we were unable to deliver your message to the following address"},
			returned: []string{"--- below this line is a copy of the message."}},
		{name: "qmail",
			markers:  []string{"this is the qmail-send program", "i'm afraid i wasn't able to deliver your message"},
			returned: []string{"--- below this line is a copy of the message."}},
		{name: "exchange",
			markers: []string{"delivery has failed to these recipients or groups", "delivery to the following recipients failed",
				"your message did not reach some or all of the intended recipients", "the following recipient(s) cannot be reached"},
			returned: []string{"original message headers:"}},
		{name: "gmail",
			markers: []string{"delivery to the following recipient has been delayed", "delivery to the following recipients has been delayed",
				"delivery to the following recipient failed permanently", "your message wasn't delivered to", "your message has not been delivered to"},
			delayed:  []string{"has been delayed"},
			returned: []string{"----- original message -----"}},
		{name: "sendmail",
			markers: []string{"the following addresses had permanent fatal errors", "could not send message for past",
				"----- transcript of session follows -----"},
			delayed: []string{"could not send message for past", "warning: message still undelivered"},
			returned: []string{"----- original message follows -----", "----- unsent message follows -----",
				"------ the original message follows ------", "----- message header follows -----"}},
		{name: "postfix",
			markers:  []string{"this is the mail system at host", "the postfix program"},
			start:    []string{"the mail system", "the postfix program"},
			delayed:  []string{"delayed mail (still being retried)", "your message could not be delivered for"},
			returned: []string{"--- delivery report unavailable ---", "undelivered message headers:"}},
		{name: "exim",
			markers: []string{"has not yet been delivered to one or more of its", "could not be delivered to one or more of its",
				"this message was created automatically by mail delivery software"},
			start:    []string{"the following address(es) failed", "the following address failed"},
			delayed:  []string{"has not yet been delivered to one or more of its"},
			returned: []string{"------ this is a copy of the message, including all the headers. ------", "------ this is a copy of the message's headers. ------"}},
	}
}

// commonReturned start a returned copy in any family.
var commonReturned = []string{
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

// identify returns the family of the text and where its marker is.
func identify(h *textproto.Header, low string) (*family, int) {
	for i := range familyRules {
		f := &familyRules[i]
		for _, m := range f.markers {
			if at := strings.Index(low, m); at >= 0 {
				return f, at
			}
		}
		if f.header != nil && f.header(h) {
			for _, m := range append(append([]string{}, f.start...), f.rcptAfter...) {
				if at := strings.Index(low, m); at >= 0 {
					return f, at
				}
			}
		}
	}
	return nil, -1
}

func firstIndex(low string, phrases []string) (int, string) {
	for _, p := range phrases {
		if i := strings.Index(low, p); i >= 0 {
			return i, p
		}
	}
	return -1, ""
}

// parseNonStandard reads the human-readable report of one of Families.
func parseNonStandard(h *textproto.Header, text string) (nonStandard, bool) {
	var ns nonStandard
	low := lowerASCII(text)
	f, at := identify(h, low)
	if f == nil {
		return ns, false
	}
	ns.family = f.name
	section := text
	if i, m := firstIndex(low, append(append([]string{}, f.returned...), commonReturned...)); i >= 0 && i > at {
		section = text[:i]
		rest := text[i+len(m):]
		if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
			rest = rest[nl+1:]
		}
		if rh := headerFromText(rest); rh.Len() > 0 {
			ns.returned = &rh
		}
	}
	if i, _ := firstIndex(low[:len(section)], f.start); i >= 0 {
		at = i
	}
	if at > len(section) {
		at = 0
	}
	at = strings.LastIndexByte(section[:at], '\n') + 1 // from the start of its line
	action := "failed"
	if i, _ := firstIndex(low, f.delayed); i >= 0 && i < len(section) {
		action = "delayed"
	} else if i, p := firstIndex(low, f.delivered); i >= 0 && i < len(section) {
		action = "delivered"
		if strings.Contains(p, "relayed") {
			action = "relayed"
		}
	}
	ns.action = action
	ns.delivery = recipientsOf(section[at:], f.rcptAfter, action)
	if len(ns.delivery) == 0 {
		return ns, true
	}
	// A cause written before the address (Lotus Notes, Trend Micro) or far
	// from it (Exchange's "Remote Server returned") replaces a paragraph
	// that has no status code, unless that paragraph names a cause and the
	// other line no code either.
	remote := lineWith(section, "remote server returned")
	fallback := remote
	if fallback == "" {
		fallback = lineWithStatus(section)
	}
	if fallback == "" {
		fallback = lineWithReason(section)
	}
	fallback = clip(fallback)
	for i := range ns.delivery {
		d := &ns.delivery[i]
		switch {
		case fallback == "":
		case remote != "", d.Diagnostic == "":
			d.Diagnostic = fallback
		case findStatus(d.Diagnostic) != "":
		case findStatus(fallback) != "" || reasonCode("", d.Diagnostic) == "undefined":
			d.Diagnostic = fallback
		}
		d.Status = findStatus(d.Diagnostic)
	}
	return ns, true
}

// recipientsOf finds the failed addresses in a report section, each with
// the paragraph that follows it as its diagnostic.
func recipientsOf(section string, rcptAfter []string, action string) []RecipientStatus {
	lines := strings.Split(section, "\n")
	var out []RecipientStatus
	for i := 0; i < len(lines) && len(out) < maxRecipients; i++ {
		a, rest, ok := recipientLine(lines[i], rcptAfter)
		if !ok {
			continue
		}
		dup := false
		for _, r := range out {
			dup = dup || r.Recipient == a
		}
		if dup {
			continue
		}
		diag := []string{}
		if rest = strings.TrimSpace(rest); rest != "" {
			diag = append(diag, rest)
		}
		// The lookahead is bounded so that many addresses stay linear.
		for j := i + 1; j < len(lines) && j < i+24 && len(diag) <= 8; j++ {
			l := lines[j]
			if strings.TrimSpace(l) == "" {
				if len(diag) > 0 {
					break
				}
				continue
			}
			if b, _, isRcpt := recipientLine(l, rcptAfter); isRcpt && b != a {
				if len(diag) > 0 {
					break
				}
				continue
			}
			diag = append(diag, strings.TrimSpace(l))
		}
		out = append(out, RecipientStatus{Recipient: a, Action: action, Diagnostic: clip(strings.Join(diag, " "))})
	}
	return out
}

// recipientLine recognises a line naming one failed address and returns
// the text after it on the line:
//
//	  user@example.com                        (Exim, Gmail, Outlook.com, Notes)
//	<user@example.com>: host x said: 550 ...  (Postfix, qmail, Yahoo, Courier)
//	user@example.com: 550 5.1.1 ...           (OpenSMTPD)
//	<user@example.com>... User unknown        (Sendmail)
//	<user@example.com>   (User unknown)       (McAfee)
//	Name (user@example.com)                   (Exchange)
//	Unable to deliver message to <user@x>.    (a family's rcptAfter phrase)
func recipientLine(line string, rcptAfter []string) (addr, rest string, ok bool) {
	t := strings.TrimSpace(line)
	if t == "" || !strings.Contains(t, "@") || len(t) > 400 {
		return "", "", false
	}
	low := lowerASCII(t)
	for _, p := range rcptAfter {
		if i := strings.Index(low, p); i >= 0 {
			after := t[i+len(p):]
			if a, ok := extractEmail(after); ok {
				return a, "", true
			}
		}
	}
	if t[0] == '<' {
		end := strings.IndexByte(t, '>')
		if end < 0 {
			return "", "", false
		}
		a, ok := extractEmail(t[1:end])
		if !ok {
			return "", "", false
		}
		rest = t[end+1:]
		rest = strings.TrimPrefix(rest, ":")
		rest = strings.TrimPrefix(rest, "...")
		rest = strings.TrimSpace(rest)
		if strings.HasPrefix(rest, "(") && strings.HasSuffix(rest, ")") {
			rest = rest[1 : len(rest)-1]
		}
		return a, rest, true
	}
	// Sentences that merely mention an address are not recipient lines.
	for _, w := range []string{"rcpt to", "mail from", "said:", "smtp error", " from ", "remote server", "message-id"} {
		if strings.Contains(low, w) {
			return "", "", false
		}
	}
	fields := strings.Fields(t)
	switch {
	case len(fields) == 1:
		a, ok := extractEmail(strings.TrimSuffix(fields[0], ":"))
		return a, "", ok
	case strings.HasSuffix(fields[0], ":") && strings.Contains(fields[0], "@"):
		a, ok := extractEmail(strings.TrimSuffix(fields[0], ":"))
		return a, strings.TrimSpace(t[len(fields[0]):]), ok
	case strings.HasSuffix(t, ")") && strings.Contains(t, "(") && !strings.Contains(t[:strings.LastIndexByte(t, '(')], "@"):
		a, ok := extractEmail(t[strings.LastIndexByte(t, '('):])
		return a, "", ok
	}
	return "", "", false
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

// lineWithReason returns the first line whose words name a known cause.
func lineWithReason(text string) string {
	for _, l := range strings.Split(text, "\n") {
		if t := strings.TrimSpace(l); t != "" && reasonCode("", t) != "undefined" {
			return t
		}
	}
	return ""
}

// statusFromReply turns a basic SMTP reply code ("550 ...") in s into a
// status class, for servers that send no enhanced code.
func statusFromReply(s string) string {
	for i := 0; i+3 <= len(s); i++ {
		c := s[i]
		if (c == '4' || c == '5') && isDigit(s[i+1]) && isDigit(s[i+2]) &&
			(i == 0 || !isDigit(s[i-1]) && s[i-1] != '.') && (i+3 == len(s) || s[i+3] == ' ' || s[i+3] == '-') {
			return string(c) + ".0.0"
		}
	}
	return ""
}
