package classify

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/textproto"

	"github.com/jcservicedesk/servicedesk/mailbox/thread"
)

// BounceReport is what a delivery report says about a message we sent.
// (Named so because Bounce is already the Kind.)
type BounceReport struct {
	// Action is the RFC 3464 action: failed, delayed, delivered, relayed or
	// expanded. With several recipients the most severe one wins (failed
	// over delayed over the rest). Only "failed" is a failure: "delayed"
	// is worth a note and nothing more, "delivered", "relayed" and
	// "expanded" are success notices.
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
	// ReasonCode names the cause in sisimai's vocabulary (userunknown,
	// mailboxfull, hostunknown, ...; see reasons.go), Reason says it in
	// English for a ticket note.
	ReasonCode string
	Reason     string
	// Family is the software whose report was read: the name of one of
	// Families() when its text was recognised, else "rfc3464" (a standard
	// delivery-status part alone) or "x-failed-recipients" (that header
	// alone).
	Family string
	// Delivery lists every recipient of every delivery-status part (and of
	// a text report), whatever its action, in report order.
	Delivery []RecipientStatus
	// OriginalMessageID is the Message-ID of the returned message,
	// normalized with thread.NormalizeID (no <>, lower-case).
	OriginalMessageID string
	// OriginalHeaders is the header of the returned message, when the
	// report carries one (text/rfc822-headers, message/rfc822 or inline).
	OriginalHeaders textproto.Header
}

// RecipientStatus is one recipient of a report.
type RecipientStatus struct {
	Recipient  string // lower-cased
	Action     string
	Status     string
	Diagnostic string
	ReasonCode string
}

// Failed reports whether the report is about a failed delivery; delays and
// success notices are not.
func (b *BounceReport) Failed() bool { return b.Action == "failed" }

// Summary is a one-line English account for a ticket note, e.g. "Mail to
// a@x.example could not be delivered: the mailbox does not exist (5.1.1:
// 550 User unknown)".
func (b *BounceReport) Summary() string {
	to := strings.Join(b.Recipients, ", ")
	if to == "" {
		to = "a recipient"
	}
	var what string
	switch b.Action {
	case "failed":
		what = "could not be delivered"
		if !b.Permanent {
			what = "could not be delivered for now"
		}
	case "delayed":
		what = "is delayed (the server keeps trying; nothing was marked)"
	case "delivered", "relayed", "expanded":
		what = "was " + b.Action + " (a success notice, not a failure)"
	default:
		what = "got a delivery report"
	}
	s := "Mail to " + to + " " + what
	if b.Reason != "" && b.Action != "delivered" && b.Action != "relayed" && b.Action != "expanded" {
		s += ": " + b.Reason
	}
	detail := b.Status
	if b.Diagnostic != "" && detail != "" {
		detail += ": " + b.Diagnostic
	} else if b.Diagnostic != "" {
		detail = b.Diagnostic
	}
	if detail != "" {
		s += " (" + detail + ")"
	}
	return s
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

// reportScan is what the walk over a message collects.
type reportScan struct {
	top       textproto.Header
	topType   string
	topParams map[string]string
	dsns      [][]byte
	feedback  []byte     // message/feedback-report (ARF)
	jmrp      bool       // a returned message with X-HmXmrOriginalRecipient
	texts     []textPart // text/plain parts, decoded by text() when needed
	htmls     []textPart
	returned  *textproto.Header
	parts     int
}

// textPart is a text part as found; decoding waits until a rule needs it.
type textPart struct {
	body         []byte
	cte, charset string
}

// text is the report's human-readable text: its plain parts, else its
// HTML parts as text.
func (s *reportScan) text() string {
	parts, html := s.texts, false
	if len(parts) == 0 {
		parts, html = s.htmls, true
	}
	var sb strings.Builder
	for i, p := range parts {
		if i > 0 {
			sb.WriteByte('\n')
		}
		sb.WriteString(normalizeNewlines(decodeText(decodeBody(p.body, p.cte), p.charset)))
	}
	if html {
		return htmlText(sb.String())
	}
	return sb.String()
}

// scanReport reads raw (after a leading mbox "From " line) into a reportScan.
func scanReport(raw []byte) *reportScan {
	if bytes.IndexByte(raw, '\n') < 0 && bytes.IndexByte(raw, '\r') >= 0 {
		raw = bytes.ReplaceAll(raw, []byte{'\r'}, []byte{'\n'}) // bare CR line endings
	}
	h, body := readEntity(stripEnvelope(raw))
	s := &reportScan{top: h}
	s.topType, s.topParams = mediaType(h.Get("Content-Type"))
	s.walk(h, body, 0)
	return s
}

// ParseBounce reads a delivery report: RFC 3464 message/delivery-status
// parts anywhere in the message (also inside multipart/mixed), or the
// human-readable report of one of Families(). It returns false when raw is
// not a report it recognises. It never panics on any input.
func ParseBounce(raw []byte) (*BounceReport, bool) {
	return parseBounce(scanReport(raw))
}

func parseBounce(s *reportScan) (*BounceReport, bool) {
	b := &BounceReport{}
	recognised := false
	for _, d := range s.dsns {
		if parseDSN(b, d) {
			recognised = true
			b.Family = "rfc3464"
		}
	}
	text := s.text()
	ns, ok := parseNonStandard(&s.top, text)
	if ok {
		b.Family, recognised = ns.family, true
		if len(b.Delivery) == 0 {
			b.Delivery = ns.delivery
		} else {
			fillDiagnostics(b.Delivery, ns.delivery)
		}
		if s.returned == nil && ns.returned != nil {
			s.returned = ns.returned
		}
	}
	failed := failedRecipients(&s.top)
	if !recognised && len(failed) > 0 {
		// Exim's X-Failed-Recipients alone, with a text we cannot read.
		recognised, b.Family = true, "x-failed-recipients"
	}
	if !recognised {
		return nil, false
	}
	if len(b.Delivery) == 0 {
		st := lineWithStatus(text)
		for _, a := range failed {
			b.Delivery = append(b.Delivery, RecipientStatus{Recipient: a, Action: "failed", Status: findStatus(st), Diagnostic: clip(st)})
		}
	}
	summarize(b)
	if b.Action == "" && ok {
		b.Action = ns.action // a family's report that names no address
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

// fillDiagnostics lends the text report's diagnostics to DSN recipients
// that have none (Exchange puts the remote's words only in the text).
func fillDiagnostics(dst, from []RecipientStatus) {
	for i := range dst {
		if dst[i].Diagnostic != "" {
			continue
		}
		for _, f := range from {
			if f.Recipient == dst[i].Recipient || len(from) == 1 {
				dst[i].Diagnostic = f.Diagnostic
				if dst[i].Status == "" {
					dst[i].Status = f.Status
				}
				break
			}
		}
	}
}

// summarize sets the report-wide fields from Delivery: the most severe
// action, its recipients, and the first status, diagnostic and reason among
// them.
func summarize(b *BounceReport) {
	b.Action = ""
	for i := range b.Delivery {
		r := &b.Delivery[i]
		if r.Status == "" {
			r.Status = findStatus(r.Diagnostic)
		}
		if _, known := actionRank[r.Action]; !known {
			r.Action = actionFromStatus(r.Status)
			if r.Action == "" {
				r.Action = "failed" // a report that names an address and no outcome
			}
		}
		if r.Action == "failed" || r.Action == "delayed" {
			r.ReasonCode = reasonCode(r.Status, r.Diagnostic)
			if r.Status == "" && r.Action == "failed" {
				// No enhanced code: the cause's, else the reply's class.
				if r.Status = reasonStatus[r.ReasonCode]; r.Status == "" {
					r.Status = statusFromReply(r.Diagnostic)
				}
			}
		}
		if actionRank[r.Action] > actionRank[b.Action] {
			b.Action = r.Action
		}
	}
	b.Recipients, b.Status, b.Diagnostic, b.ReasonCode = nil, "", "", ""
	for _, r := range b.Delivery {
		if r.Action != b.Action {
			continue
		}
		b.Recipients = appendAddr(b.Recipients, r.Recipient)
		if b.Status == "" {
			b.Status = r.Status
		}
		if b.Diagnostic == "" {
			b.Diagnostic = r.Diagnostic
		}
		if b.ReasonCode == "" {
			b.ReasonCode = r.ReasonCode
		}
	}
	if b.Action == "delayed" && b.ReasonCode == "" {
		b.ReasonCode = "delayed"
	}
	b.Reason = reasonText[b.ReasonCode]
}

// failedRecipients reads Exim's X-Failed-Recipients header.
func failedRecipients(h *textproto.Header) []string {
	var out []string
	for _, v := range h.Values("X-Failed-Recipients") {
		for _, a := range strings.Split(v, ",") {
			out = appendAddr(out, a)
		}
	}
	return out
}

// walk collects the report's parts; it does not descend into a returned
// message, whose own structure is irrelevant here. A malformed part is
// skipped on its own.
func (s *reportScan) walk(h textproto.Header, body []byte, depth int) {
	s.parts++
	if s.parts > maxParts || depth > maxDepth {
		return
	}
	mt, params := mediaType(h.Get("Content-Type"))
	if len(body) > maxPartBytes && !strings.HasPrefix(mt, "multipart/") {
		body = body[:maxPartBytes]
	}
	cte := h.Get("Content-Transfer-Encoding")
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		if params["boundary"] == "" {
			// A multipart without boundary: its text may still be a report.
			s.texts = append(s.texts, textPart{body: body})
			return
		}
		for _, p := range splitParts(body, params["boundary"], maxParts) {
			ch, cb := readEntity(p)
			s.walk(ch, cb, depth+1)
			if s.parts > maxParts {
				return
			}
		}
	case mt == "message/delivery-status" || mt == "message/global-delivery-status":
		s.dsns = append(s.dsns, decodeBody(body, cte))
	case mt == "message/feedback-report":
		if s.feedback == nil {
			s.feedback = decodeBody(body, cte)
		}
	case mt == "text/rfc822-headers" || mt == "text/rfc822-header" || mt == "message/global-headers",
		mt == "message/rfc822" || mt == "message/global":
		if s.returned == nil {
			b := decodeBody(body, cte)
			if len(b) > maxReturnedBytes {
				b = b[:maxReturnedBytes]
			}
			rh, _ := readEntity(stripEnvelope(b))
			if rh.Len() > 0 {
				s.returned = &rh
				// Microsoft's junk mail reporting (JMRP) returns the
				// message with this header instead of an ARF part.
				s.jmrp = rh.Has("X-Hmxmroriginalrecipient")
			}
		}
	case mt == "" || mt == "text/plain" || mt == "text":
		if !isAttachment(h) || depth == 0 {
			s.texts = append(s.texts, textPart{body, cte, params["charset"]})
		}
	case mt == "text/html":
		if !isAttachment(h) {
			s.htmls = append(s.htmls, textPart{body, cte, params["charset"]})
		}
	}
}

func isAttachment(h textproto.Header) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(h.Get("Content-Disposition"))), "attachment")
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

// parseDSN appends the recipients of a message/delivery-status body (RFC
// 3464 §2.3) to b.Delivery and reports whether it named any.
func parseDSN(b *BounceReport, body []byte) bool {
	found := false
	for _, g := range fieldGroups(string(body), maxRecipients+1) {
		var r RecipientStatus
		var final, orig string
		isRcpt := false
		for _, f := range g {
			switch strings.ToLower(f.key) {
			case "final-recipient":
				final, isRcpt = addrType(f.value), true
			case "original-recipient":
				orig, isRcpt = addrType(f.value), true
			case "action":
				r.Action = strings.ToLower(firstWord(stripComments(f.value)))
				isRcpt = true
			case "status":
				r.Status = findStatus(f.value)
			case "diagnostic-code":
				r.Diagnostic = clip(addrType(f.value))
			}
		}
		if !isRcpt || len(b.Delivery) >= maxRecipients {
			continue
		}
		found = true
		for _, a := range []string{orig, final} {
			if l := appendAddr(nil, a); len(l) == 1 {
				r.Recipient = l[0]
				break
			}
		}
		b.Delivery = append(b.Delivery, r)
	}
	return found
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
