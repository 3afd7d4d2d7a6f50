// Package classify decides what kind of inbound mail a message is (a
// person, an auto-reply, bulk/list mail, a bounce, a spam complaint, or our
// own mail coming back) and reads delivery reports and ARF complaints. It
// is pure: a header (and, for ClassifyMessage, the raw message) in, a
// verdict out.
package classify

import (
	"strings"

	"github.com/emersion/go-message/textproto"
)

// Kind is the class of an inbound message.
type Kind string

const (
	Human     Kind = "human"
	AutoReply Kind = "auto-reply"
	Bulk      Kind = "bulk"
	Bounce    Kind = "bounce"
	Loop      Kind = "loop" // our own outbound mail coming back
	// Complaint is an ARF feedback report: the recipient marked our mail
	// as spam. Read it with ParseComplaint; it opens no ticket.
	Complaint Kind = "complaint"
)

// LoopHeader is set on every outbound mail, with our instance/host id as
// value, so that our own mail returning to an inbox we read is recognised.
const LoopHeader = "X-JCServiceDesk-Loop"

// Result is a classification and the rule that decided it.
type Result struct {
	Kind Kind
	// Reason names the header or rule that decided, e.g.
	// "Auto-Submitted: auto-replied"; "" for Human.
	Reason string
}

// Automated reports whether the mail was not written by a person for us,
// i.e. whether we must not auto-respond to it (RFC 3834 section 2).
func (r Result) Automated() bool {
	return r.Kind != Human && r.Kind != ""
}

// Classify is ClassifyWithLoop without instance ids: any LoopHeader counts.
// mailFrom is the SMTP envelope sender ("" when unknown or null);
// nullSender is true when the envelope sender was "<>".
func Classify(h textproto.Header, mailFrom string, nullSender bool) Result {
	return ClassifyWithLoop(h, mailFrom, nullSender, nil)
}

// ClassifyWithLoop classifies a message by its header. Rules run in this
// order and the first that matches decides:
//
//  1. Loop: LoopHeader present (with a value in loopValues, when given).
//     Complaint: multipart/report; report-type=feedback-report (ARF).
//  2. Bounce: a multipart/report delivery-status from anyone, or a null
//     sender / mailer-daemon From with a bounce subject.
//  3. AutoReply by header: Auto-Submitted (not "no"), X-Autoreply,
//     X-Autorespond, X-Autoresponse, X-Auto-Submitted, Precedence or
//     X-Precedence auto_reply, X-Auto-Response-Suppress with
//     All/OOF/AutoReply, a read receipt (disposition-notification report).
//  4. Bulk by header: Precedence bulk/list/junk, RFC 2369/2919 List-*
//     headers, mass-mailer campaign headers.
//  5. AutoReply by subject ("Automatic reply:", "Out of Office"… in en,
//     pt-BR, es, fr, de) — only when no header decided.
//  6. AutoReply for any other null envelope sender: people never send
//     with "<>", and RFC 3834 has responders do so.
//  7. Human.
func ClassifyWithLoop(h textproto.Header, mailFrom string, nullSender bool, loopValues []string) Result {
	return classify(h, mailFrom, nullSender, loopValues, nil)
}

// ClassifyMessage is ClassifyWithLoop that also reads the body raw (the
// whole message, a leading mbox "From " line allowed), for what only the
// body shows. After the loop rule:
//
//   - Complaint: an ARF feedback report (a message/feedback-report part,
//     or multipart/report; report-type=feedback-report).
//   - Bounce: the header rule of ClassifyWithLoop; else a
//     message/delivery-status part anywhere (a report inside
//     multipart/mixed); else the text report of one of Families() or an
//     X-Failed-Recipients header, together with a sign of delivery
//     software: a null sender, a daemon or unusable From, a bounce
//     subject, X-Failed-Recipients or Auto-Submitted.
//
// Bounce evidence so outranks Precedence and List-* headers. The other
// rules follow as in ClassifyWithLoop.
func ClassifyMessage(raw []byte, h textproto.Header, mailFrom string, nullSender bool, loopValues []string) Result {
	if raw == nil {
		raw = []byte{}
	}
	return classify(h, mailFrom, nullSender, loopValues, raw)
}

func classify(h textproto.Header, mailFrom string, nullSender bool, loopValues []string, raw []byte) Result {
	if r, ok := loopRule(&h, loopValues); ok {
		return r
	}
	null := nullSender || isNullReturnPath(h.Get("Return-Path"))
	if mt, params := mediaType(h.Get("Content-Type")); mt == "multipart/report" && strings.EqualFold(params["report-type"], "feedback-report") {
		return Result{Complaint, "Content-Type: multipart/report; report-type=feedback-report"}
	}
	var scan *reportScan
	if raw != nil {
		// Reports come in multipart bodies, or (text bounces) from delivery
		// software: other mail is not read.
		mt, _ := mediaType(h.Get("Content-Type"))
		if strings.HasPrefix(mt, "multipart/") || bounceSign(&h, mailFrom, null) != "" {
			scan = scanReport(raw)
		}
		if scan != nil && isFeedbackReport(scan) {
			if scan.feedback == nil && scan.jmrp {
				return Result{Complaint, "JMRP complaint (X-HmXmrOriginalRecipient)"}
			}
			return Result{Complaint, "ARF feedback report (message/feedback-report)"}
		}
	}
	if r, ok := bounceRule(&h, mailFrom, null); ok {
		return r
	}
	if scan != nil {
		if r, ok := bodyBounceRule(&h, scan, mailFrom, null); ok {
			return r
		}
	}
	if r, ok := autoReplyHeaderRule(&h); ok {
		return r
	}
	if r, ok := bulkRule(&h); ok {
		return r
	}
	if p := autoReplySubject(decodeHeader(h.Get("Subject"))); p != "" {
		return Result{AutoReply, "Subject: " + p}
	}
	if null {
		return Result{AutoReply, "null return path"}
	}
	return Result{Kind: Human}
}

func loopRule(h *textproto.Header, loopValues []string) (Result, bool) {
	vals := h.Values(LoopHeader)
	if len(vals) == 0 {
		return Result{}, false
	}
	if len(loopValues) == 0 {
		return Result{Loop, LoopHeader}, true
	}
	for _, v := range vals {
		v = strings.TrimSpace(v)
		for _, own := range loopValues {
			if strings.EqualFold(v, strings.TrimSpace(own)) {
				return Result{Loop, LoopHeader + ": " + v}, true
			}
		}
	}
	// Another instance's mail: not a loop of ours; later rules still see
	// its Auto-Submitted header.
	return Result{}, false
}

func isNullReturnPath(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return false
	}
	inner := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">"))
	return inner == "" && strings.HasPrefix(v, "<")
}

// daemonLocals are From/envelope local parts used by delivery software.
var daemonLocals = []string{"mailer-daemon", "postmaster", "mail-daemon", "maildaemon"}

// isDaemon reports whether From or the envelope sender is delivery software.
func isDaemon(from, mailFrom string) (string, bool) {
	lf := strings.ToLower(decodeHeader(from))
	if strings.Contains(lf, "mail delivery subsystem") || strings.Contains(lf, "mail delivery system") {
		return "From: Mail Delivery Subsystem", true
	}
	for _, a := range []struct{ name, v string }{{"From", lf}, {"MAIL FROM", strings.ToLower(mailFrom)}} {
		local := localPart(a.v)
		for _, d := range daemonLocals {
			if local == d {
				return a.name + ": " + d, true
			}
		}
	}
	return "", false
}

// localPart returns the lower-case local part of the (last) address in v.
func localPart(v string) string {
	if i := strings.LastIndexByte(v, '<'); i >= 0 {
		v = v[i+1:]
		if j := strings.IndexByte(v, '>'); j >= 0 {
			v = v[:j]
		}
	}
	v = strings.TrimSpace(v)
	if at := strings.LastIndexByte(v, '@'); at >= 0 {
		v = v[:at]
	}
	return strings.Trim(strings.ToLower(v), `"`)
}

func bounceRule(h *textproto.Header, mailFrom string, null bool) (Result, bool) {
	mt, params := mediaType(h.Get("Content-Type"))
	if mt == "multipart/report" && strings.EqualFold(params["report-type"], "delivery-status") {
		return Result{Bounce, "Content-Type: multipart/report; report-type=delivery-status"}, true
	}
	who, daemon := isDaemon(h.Get("From"), mailFrom)
	if !daemon && !null && !usableFrom(h.Get("From")) {
		who, daemon = "no usable From", true
	}
	if !null && !daemon {
		return Result{}, false
	}
	subj := bounceSubject(decodeHeader(h.Get("Subject")))
	if subj == "" {
		return Result{}, false
	}
	if !daemon {
		who = "null return path"
	}
	return Result{Bounce, who + " + Subject: " + subj}, true
}

// usableFrom reports whether a From value holds an address at all.
func usableFrom(v string) bool {
	_, ok := extractEmail(decodeHeader(v))
	return ok
}

// bodyBounceRule finds a bounce by its body when the header did not tell.
func bodyBounceRule(h *textproto.Header, scan *reportScan, mailFrom string, null bool) (Result, bool) {
	if len(scan.dsns) > 0 {
		return Result{Bounce, "message/delivery-status part"}, true
	}
	sign := bounceSign(h, mailFrom, null)
	if sign == "" {
		return Result{}, false
	}
	if f, _ := identify(&scan.top, lowerASCII(scan.text())); f != nil {
		return Result{Bounce, f.name + " report + " + sign}, true
	}
	if h.Has("X-Failed-Recipients") && sign != "X-Failed-Recipients" {
		return Result{Bounce, "X-Failed-Recipients + " + sign}, true
	}
	return Result{}, false
}

// bounceSign names a header sign of delivery software, "" when none.
func bounceSign(h *textproto.Header, mailFrom string, null bool) string {
	if who, daemon := isDaemon(h.Get("From"), mailFrom); daemon {
		return who
	}
	sign := ""
	for _, c := range []struct {
		ok   bool
		name string
	}{
		{null, "null return path"},
		{!usableFrom(h.Get("From")), "no usable From"},
		{h.Has("X-Failed-Recipients"), "X-Failed-Recipients"},
		{bounceSubject(decodeHeader(h.Get("Subject"))) != "", "Subject: " + bounceSubject(decodeHeader(h.Get("Subject")))},
		{autoSubmitted(h), "Auto-Submitted"},
	} {
		if sign == "" && c.ok {
			sign = c.name
		}
	}
	return sign
}

// autoSubmitted reports an Auto-Submitted value other than "no".
func autoSubmitted(h *textproto.Header) bool {
	for _, v := range h.Values("Auto-Submitted") {
		kw, _, _ := strings.Cut(v, ";")
		if kw = strings.ToLower(strings.TrimSpace(stripComments(kw))); kw != "" && kw != "no" {
			return true
		}
	}
	return false
}

// autoValue reports whether an X-Autoreply-style flag is set: any value
// except an explicit negative.
func autoValue(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	return v != "" && v != "no" && v != "false" && v != "0" && v != "off"
}

func autoReplyHeaderRule(h *textproto.Header) (Result, bool) {
	for _, key := range []string{"Auto-Submitted", "X-Auto-Submitted"} {
		for _, v := range h.Values(key) {
			// RFC 3834: keyword, then optional parameters after ';'.
			kw, _, _ := strings.Cut(v, ";")
			kw = strings.ToLower(strings.TrimSpace(stripComments(kw)))
			if kw != "" && kw != "no" {
				return Result{AutoReply, key + ": " + kw}, true
			}
		}
	}
	for _, key := range []string{"X-Autoreply", "X-Autorespond", "X-Autoresponse", "X-Autogenerated"} {
		for _, v := range h.Values(key) {
			if autoValue(v) {
				return Result{AutoReply, key + ": " + strings.TrimSpace(v)}, true
			}
		}
	}
	for _, key := range []string{"Precedence", "X-Precedence"} {
		for _, v := range h.Values(key) {
			if p := strings.ToLower(strings.TrimSpace(v)); p == "auto_reply" || p == "auto-reply" {
				return Result{AutoReply, key + ": " + p}, true
			}
		}
	}
	for _, v := range h.Values("X-Auto-Response-Suppress") {
		for _, f := range strings.Split(v, ",") {
			switch f = strings.TrimSpace(f); strings.ToLower(f) {
			case "all", "oof", "autoreply":
				return Result{AutoReply, "X-Auto-Response-Suppress: " + f}, true
			}
		}
	}
	mt, params := mediaType(h.Get("Content-Type"))
	if mt == "multipart/report" && strings.EqualFold(params["report-type"], "disposition-notification") {
		return Result{AutoReply, "Content-Type: multipart/report; report-type=disposition-notification"}, true
	}
	return Result{}, false
}

// bulkHeaders mark list or mass mail. Feedback-ID alone is not here: big
// senders put it on transactional one-to-one mail too.
var bulkHeaders = []string{
	"List-Id", "List-Unsubscribe", "List-Post", "List-Help", "List-Subscribe",
	"List-Owner", "List-Archive",
	"X-MC-User",           // Mailchimp / Mandrill campaigns
	"X-Campaign",          // several ESPs
	"X-CampaignID",        // several ESPs
	"X-Listmonk-Campaign", // listmonk
}

func bulkRule(h *textproto.Header) (Result, bool) {
	for _, key := range []string{"Precedence", "X-Precedence"} {
		for _, v := range h.Values(key) {
			switch p := strings.ToLower(strings.TrimSpace(v)); p {
			case "bulk", "list", "junk":
				return Result{Bulk, key + ": " + p}, true
			}
		}
	}
	for _, key := range bulkHeaders {
		if h.Has(key) {
			return Result{Bulk, key}, true
		}
	}
	for f := h.Fields(); f.Next(); {
		if strings.HasPrefix(strings.ToLower(f.Key()), "x-mailchimp-") {
			return Result{Bulk, f.Key()}, true
		}
	}
	return Result{}, false
}

// stripComments removes RFC 5322 comments, e.g. "auto-replied (vacation)".
func stripComments(s string) string {
	if !strings.Contains(s, "(") {
		return s
	}
	var b strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// mediaType is a lenient Content-Type parse that never fails on the broken
// values bounces and robots send. The type and parameter names are
// lower-cased, values are not (a boundary is case-sensitive).
func mediaType(v string) (string, map[string]string) {
	parts := strings.Split(v, ";")
	mt := strings.ToLower(strings.TrimSpace(stripComments(parts[0])))
	params := map[string]string{}
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = strings.TrimSpace(val)
		val = strings.Trim(val, `"`)
		if _, dup := params[k]; !dup {
			params[k] = val
		}
	}
	return mt, params
}
