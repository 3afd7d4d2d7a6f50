package classify

import (
	"bytes"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"

	"github.com/jcservicedesk/servicedesk/mailbox/thread"
)

// BounceReport is what a delivery report says about a message we sent.
// (Named so because Bounce is already the Kind.)
type BounceReport struct {
	// Action is the RFC 3464 action: failed, delayed, delivered, relayed or
	// expanded. With several recipients the most severe one wins (failed
	// over delayed over the rest).
	Action string
	// Permanent is true when Action is failed and the status is not 4.x.x:
	// the address is bad, not merely unreachable for now. A "failed" with
	// 4.4.7 (queue expired) is not permanent.
	Permanent bool
	// Recipients are the lower-cased addresses we sent to that have the
	// reported Action: Original-Recipient when given, else Final-Recipient.
	Recipients []string
	// Status is the enhanced status code, e.g. "5.1.1"; "" when none.
	Status string
	// Diagnostic is the remote server's text, whitespace collapsed.
	Diagnostic string
	// OriginalMessageID is the Message-ID of the returned message,
	// normalized with thread.NormalizeID (no <>, lower-case).
	OriginalMessageID string
	// OriginalHeaders is the header of the returned message, when the
	// report carries one (text/rfc822-headers, message/rfc822 or inline).
	OriginalHeaders textproto.Header
}

// Limits that keep a hostile report cheap to read.
const (
	maxDepth         = 6
	maxParts         = 64
	maxPartBytes     = 1 << 20
	maxDiagnostic    = 1000
	maxRecipients    = 100
	maxReturnedBytes = 256 << 10
)

type bounceScan struct {
	dsn      []byte
	texts    []string
	returned *textproto.Header
	parts    int
}

// ParseBounce reads a delivery report: an RFC 3464 multipart/report with a
// message/delivery-status part, or a common non-standard bounce (Exim,
// qmail, Exchange/Office 365, Gmail, sendmail). It returns false when raw
// is not a report it recognises. It never panics on any input.
func ParseBounce(raw []byte) (*BounceReport, bool) {
	// Unknown charsets and encodings still yield a readable entity.
	e, _ := message.Read(bytes.NewReader(raw))
	if e == nil {
		return nil, false
	}
	var s bounceScan
	s.walk(e.Header.Header, e.Body, 0)

	b := &BounceReport{}
	recognised := false
	if s.dsn != nil {
		recognised = true
		parseDSN(b, s.dsn)
	}
	text := strings.Join(s.texts, "\n")
	ns, ok := parseNonStandard(text)
	if ok {
		recognised = true
		if b.Action == "" {
			b.Action = ns.action
		}
		if len(b.Recipients) == 0 {
			b.Recipients = ns.recipients
		}
		if b.Status == "" {
			b.Status = ns.status
		}
		if b.Diagnostic == "" {
			b.Diagnostic = ns.diagnostic
		}
		if s.returned == nil && ns.returned != nil {
			s.returned = ns.returned
		}
	}
	if !recognised {
		return nil, false
	}
	if len(b.Recipients) == 0 {
		// Exim names the failed addresses in a header too.
		for _, v := range e.Header.Values("X-Failed-Recipients") {
			for _, a := range strings.Split(v, ",") {
				b.Recipients = appendAddr(b.Recipients, a)
			}
		}
	}
	if b.Action == "" {
		b.Action = actionFromStatus(b.Status)
	}
	b.Permanent = b.Action == "failed" && !strings.HasPrefix(b.Status, "4")
	if s.returned != nil {
		b.OriginalHeaders = *s.returned
		b.OriginalMessageID = firstID(s.returned.Get("Message-Id"))
	}
	if b.OriginalMessageID == "" {
		b.OriginalMessageID = idNearLoopHeader(text)
	}
	return b, true
}

// walk collects the report's parts; it does not descend into a returned
// message, whose own structure is irrelevant here.
func (s *bounceScan) walk(h textproto.Header, body io.Reader, depth int) {
	s.parts++
	if s.parts > maxParts || depth > maxDepth {
		return
	}
	ctype := h.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		mt, params = mediaType(ctype)
	}
	mt = strings.ToLower(mt)
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		if params["boundary"] == "" {
			return
		}
		mr := textproto.NewMultipartReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				return
			}
			child, _ := message.New(message.Header{Header: p.Header}, p)
			if child == nil {
				return
			}
			s.walk(p.Header, child.Body, depth+1)
			if s.parts > maxParts {
				return
			}
		}
	case mt == "message/delivery-status" || mt == "message/global-delivery-status":
		if s.dsn == nil {
			s.dsn = readLimited(body, maxPartBytes)
		}
	case mt == "text/rfc822-headers" || mt == "text/rfc822-header" || mt == "message/global-headers",
		mt == "message/rfc822" || mt == "message/global":
		if s.returned == nil {
			h := headerFromText(string(readLimited(body, maxReturnedBytes)))
			if h.Len() > 0 {
				s.returned = &h
			}
		}
	case mt == "" || mt == "text/plain":
		if !isAttachment(h) || depth == 0 {
			s.texts = append(s.texts, normalizeNewlines(string(readLimited(body, maxPartBytes))))
		}
	}
}

func isAttachment(h textproto.Header) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(h.Get("Content-Disposition"))), "attachment")
}

func readLimited(r io.Reader, n int64) []byte {
	b, _ := io.ReadAll(io.LimitReader(r, n))
	return b
}

func normalizeNewlines(s string) string {
	return strings.ReplaceAll(s, "\r\n", "\n")
}

type field struct{ key, value string }

// fieldGroups splits header-like text into blank-line separated groups of
// fields, unfolding continuation lines. Lines that are not "Key: value"
// are skipped instead of failing, as reports in the wild are sloppy.
func fieldGroups(text string, maxGroups int) [][]field {
	var groups [][]field
	var cur []field
	for _, line := range strings.Split(normalizeNewlines(text), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			if len(cur) > 0 {
				groups = append(groups, cur)
				cur = nil
				if len(groups) >= maxGroups {
					return groups
				}
			}
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(cur) > 0 {
				cur[len(cur)-1].value += " " + strings.TrimSpace(line)
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || !validKey(k) {
			continue
		}
		cur = append(cur, field{k, strings.TrimSpace(v)})
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups
}

func validKey(k string) bool {
	if k == "" || len(k) > 76 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] > '~' {
			return false
		}
	}
	return true
}

// headerFromText parses the first header block of text.
func headerFromText(text string) textproto.Header {
	var h textproto.Header
	text = strings.TrimLeft(normalizeNewlines(text), "\n")
	if g := fieldGroups(text, 1); len(g) > 0 {
		for _, f := range g[0] {
			h.Add(f.key, f.value)
		}
	}
	return h
}

var actionRank = map[string]int{"failed": 5, "delayed": 4, "delivered": 3, "relayed": 2, "expanded": 1}

type dsnRecipient struct {
	addr, action, status, diagnostic string
}

// parseDSN fills b from a message/delivery-status body (RFC 3464 §2.3).
func parseDSN(b *BounceReport, body []byte) {
	var rcpts []dsnRecipient
	for _, g := range fieldGroups(string(body), maxRecipients+1) {
		var r dsnRecipient
		var final, orig string
		isRcpt := false
		for _, f := range g {
			switch strings.ToLower(f.key) {
			case "final-recipient":
				final, isRcpt = addrType(f.value), true
			case "original-recipient":
				orig, isRcpt = addrType(f.value), true
			case "action":
				r.action = strings.ToLower(firstWord(stripComments(f.value)))
				isRcpt = true
			case "status":
				r.status = findStatus(f.value)
			case "diagnostic-code":
				r.diagnostic = clip(addrType(f.value))
			}
		}
		if !isRcpt {
			continue
		}
		r.addr = orig
		if r.addr == "" {
			r.addr = final
		}
		if r.status == "" {
			r.status = findStatus(r.diagnostic)
		}
		if _, known := actionRank[r.action]; !known {
			r.action = actionFromStatus(r.status)
		}
		rcpts = append(rcpts, r)
	}
	best := ""
	for _, r := range rcpts {
		if actionRank[r.action] > actionRank[best] {
			best = r.action
		}
	}
	b.Action = best
	for _, r := range rcpts {
		if r.action != best {
			continue
		}
		b.Recipients = appendAddr(b.Recipients, r.addr)
		if b.Status == "" {
			b.Status = r.status
		}
		if b.Diagnostic == "" {
			b.Diagnostic = r.diagnostic
		}
	}
}

// addrType drops the "rfc822;" / "smtp;" type of a DSN field value.
func addrType(v string) string {
	if t, rest, ok := strings.Cut(v, ";"); ok && !strings.ContainsAny(strings.TrimSpace(t), " \t") {
		return strings.TrimSpace(rest)
	}
	return strings.TrimSpace(v)
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

func actionFromStatus(status string) string {
	switch {
	case strings.HasPrefix(status, "5"):
		return "failed"
	case strings.HasPrefix(status, "4"):
		return "delayed"
	case strings.HasPrefix(status, "2"):
		return "delivered"
	}
	return ""
}

// findStatus returns the first enhanced status code (RFC 3463: class
// 2/4/5, subject and detail of 1-3 digits) in s.
func findStatus(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '2' && c != '4' && c != '5' || i+1 >= len(s) || s[i+1] != '.' {
			continue
		}
		if i > 0 && (isDigit(s[i-1]) || s[i-1] == '.') {
			continue
		}
		j := i + 2
		n1 := digitsAt(s, j)
		if n1 == 0 || n1 > 3 || j+n1 >= len(s) || s[j+n1] != '.' {
			continue
		}
		k := j + n1 + 1
		n2 := digitsAt(s, k)
		if n2 == 0 || n2 > 3 {
			continue
		}
		end := k + n2
		if end < len(s) && (s[end] == '.' || isDigit(s[end])) {
			continue
		}
		return s[i:end]
	}
	return ""
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitsAt(s string, i int) int {
	n := 0
	for i+n < len(s) && isDigit(s[i+n]) {
		n++
	}
	return n
}

// clip collapses whitespace and bounds the length on a rune boundary.
func clip(s string) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
	if len(s) <= maxDiagnostic {
		return s
	}
	cut := maxDiagnostic
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// appendAddr adds a cleaned, lower-cased address once.
func appendAddr(list []string, a string) []string {
	a = strings.ToLower(strings.TrimSpace(a))
	a = strings.TrimSuffix(strings.TrimPrefix(a, "<"), ">")
	a = strings.TrimSpace(a)
	if a == "" || !strings.Contains(a, "@") || strings.ContainsAny(a, " \t<>") || len(list) >= maxRecipients {
		return list
	}
	for _, x := range list {
		if x == a {
			return list
		}
	}
	return append(list, a)
}

// idNearLoopHeader finds the Message-ID in the header block that holds our
// LoopHeader, for bounces that paste the returned headers into their text.
func idNearLoopHeader(text string) string {
	i := strings.Index(lowerASCII(text), lowerASCII(LoopHeader)+":")
	if i < 0 {
		return ""
	}
	start := strings.LastIndex(text[:i], "\n\n")
	if start < 0 {
		start = 0
	}
	h := headerFromText(text[start:])
	if !h.Has(LoopHeader) {
		return ""
	}
	return firstID(h.Get("Message-Id"))
}

// firstID returns the first well-formed id in a Message-ID value, in
// thread.NormalizeID form, skipping garbage a sloppy report may carry.
func firstID(v string) string {
	if ids := thread.ParseReferences(v, ""); len(ids) > 0 {
		return ids[0]
	}
	return ""
}
