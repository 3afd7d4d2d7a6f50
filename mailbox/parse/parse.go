// Package parse turns raw RFC 5322 mail into a Message a helpdesk can show
// and thread: decoded headers, plain text and sanitized HTML bodies, the new
// part of a reply, and attachments. It is lenient by design — real mail is
// malformed in many ways — and records what it had to repair in Warnings.
// It knows nothing of tickets or storage.
package parse

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message/textproto"
	"golang.org/x/net/html"

	"github.com/jcservicedesk/servicedesk/mailbox/thread"
)

var (
	// ErrNotMail means the input has no header section that looks like mail.
	ErrNotMail = errors.New("parse: not a mail message")
	// ErrTooLarge means the input is over Limits.MaxMessageBytes.
	ErrTooLarge = errors.New("parse: message too large")
)

// Limits bound what Parse accepts; zero means no limit, except for
// MaxParts, where zero means DefaultMaxParts.
type Limits struct {
	MaxMessageBytes    int64
	MaxAttachmentBytes int64 // larger attachments are listed with Omitted set and no Data
	// MaxParts bounds the MIME parts read (forwarded messages' parts
	// included); the parts past it are not read, and PartsOmitted and a
	// warning starting with WarningPartLimit say so.
	MaxParts int
}

// DefaultMaxParts is Limits.MaxParts when zero.
const DefaultMaxParts = 1000

// Warnings other packages may act on (the intake notes them on the
// ticket). Each is the start of the warning text; details follow.
const (
	// WarningPartLimit: "mime: too many parts: 12 past the part limit of
	// 1000 not read, among them a.pdf, b.png".
	WarningPartLimit = "mime: too many parts"
	// WarningFromFallback: "header: From has no usable address, sender
	// taken from Reply-To" (or Return-Path).
	WarningFromFallback = "header: From has no usable address, sender taken from "
)

// Where Message.From was found (Message.FromSource).
const (
	FromHeader     = "From"
	FromReplyTo    = "Reply-To"
	FromReturnPath = "Return-Path"
)

// Attachment is a non-body part. Data is an owned copy of the decoded bytes.
type Attachment struct {
	Filename    string
	ContentType string // lower-case media type without parameters
	ContentID   string // without angle brackets
	Inline      bool   // referenced by a cid: URL from the HTML body
	Size        int64  // decoded size, also when Omitted
	Data        []byte
	Omitted     bool // over MaxAttachmentBytes: Data is nil
}

// Message is the parsed mail. All strings are valid UTF-8.
type Message struct {
	MessageID  string // without angle brackets; "" when missing
	InReplyTo  []string
	References []string
	Subject    string
	From       Address
	Sender     *Address
	ReplyTo    []Address
	To, Cc     []Address
	Date       time.Time // zero when missing or unparseable
	Header     textproto.Header
	// FromSource is the header From was taken from: FromHeader, or
	// FromReplyTo or FromReturnPath when the From field had no usable
	// address (a warning says so); "" when no header had one.
	FromSource string
	// PartsOmitted counts the MIME parts not read past Limits.MaxParts.
	PartsOmitted int

	Text    string // whole body as plain text
	HTML    string // sanitized HTML body; "" without an HTML part
	NewText string // Text without quoted history and signature
	NewHTML string // HTML without quote containers
	Quoted  bool   // NewText or NewHTML left something out

	HasRemoteImages bool // HTML had remote images, now under data-remote-src

	Attachments []Attachment
	Warnings    []string
}

// Parse parses raw as a mail message. It fails only with ErrTooLarge or
// ErrNotMail; every other defect is repaired and noted in Warnings.
func Parse(raw []byte, lim Limits) (*Message, error) {
	if lim.MaxMessageBytes > 0 && int64(len(raw)) > lim.MaxMessageBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(raw), lim.MaxMessageBytes)
	}
	crOnly := bytes.IndexByte(raw, '\n') < 0 && bytes.IndexByte(raw, '\r') >= 0
	if crOnly {
		// Classic Mac OS line endings: every line break is a bare CR.
		raw = bytes.ReplaceAll(raw, []byte{'\r'}, []byte{'\n'})
	}
	if !looksLikeMail(raw) {
		return nil, ErrNotMail
	}
	m := &Message{}
	w := &walker{warn: func(s string) { m.Warnings = appendWarning(m.Warnings, s) }, maxParts: lim.MaxParts}
	if w.maxParts <= 0 {
		w.maxParts = DefaultMaxParts
	}
	w.hs.hints.raw = raw
	if crOnly {
		w.warn("header: bare CR line endings read as line breaks")
	}
	m = w.message1(raw, m)
	if w.omitted > 0 {
		m.PartsOmitted = w.omitted
		msg := fmt.Sprintf("%s: %d past the part limit of %d not read", WarningPartLimit, w.omitted, w.maxParts)
		if len(w.omittedNames) > 0 {
			msg += ", among them " + strings.Join(w.omittedNames, ", ")
		}
		w.warn(msg)
	}
	w.scrubMessage(m)
	if lim.MaxAttachmentBytes > 0 {
		for i := range m.Attachments {
			if a := &m.Attachments[i]; a.Size > lim.MaxAttachmentBytes {
				a.Data, a.Omitted = nil, true
			}
		}
	}
	return m, nil
}

// looksLikeMail checks for at least one well-known field in the header
// section and no NUL bytes in it (binary files are not mail).
func looksLikeMail(raw []byte) bool {
	raw = bytes.TrimLeft(raw, "\r\n \t")
	if len(raw) == 0 {
		return false
	}
	head := raw[:headerEnd(raw)]
	if bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	// The field scan of readHeader, without building the fields.
	b := head
	first := true
	for len(b) > 0 {
		line, rest := cutLine(b)
		if len(line) == 0 {
			return false
		}
		b = rest
		if first && bytes.HasPrefix(line, []byte("From ")) {
			first = false
			continue
		}
		first = false
		if line[0] == ' ' || line[0] == '\t' {
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			continue
		}
		key := bytes.TrimRight(line[:colon], " \t")
		if len(key) == 0 || !validKey(key) {
			continue
		}
		if isKnownHeader(key) {
			return true
		}
	}
	return false
}

// headerEnd is the index of the first "\n\n" or "\r\n\r\n" in raw,
// whichever comes first, or len(raw).
func headerEnd(raw []byte) int {
	for p := 0; ; p++ {
		i := bytes.IndexByte(raw[p:], '\n')
		if i < 0 {
			return len(raw)
		}
		p += i
		if p+1 < len(raw) && raw[p+1] == '\n' {
			return p
		}
		if p > 0 && raw[p-1] == '\r' && p+2 < len(raw) && raw[p+1] == '\r' && raw[p+2] == '\n' {
			return p - 1
		}
	}
}

// message1 parses one message (top level or forwarded) into m.
func (w *walker) message1(raw []byte, m *Message) *Message {
	if trimmed := bytes.TrimLeft(raw, "\r\n"); len(trimmed) != len(raw) {
		w.warn("header: blank lines before the header skipped")
		raw = trimmed
	}
	h, body := w.hs.readHeader(raw, w.warn)
	if w.fwDepth == 0 {
		// Forwarded messages only lend their text and a few fields to the
		// body (forwardedBlock); their Header is never seen.
		m.Header = h.textprotoHeader()
	}
	m.Subject = strings.TrimSpace(decodeWords(h.str("Subject")))
	if v, ok := h.get("Message-Id"); ok {
		m.MessageID = thread.FirstID(v)
	}
	m.InReplyTo = thread.IDs(strings.Join(h.all("In-Reply-To"), " "))
	m.References = thread.IDs(strings.Join(h.all("References"), " "))
	if from := parseAddressList(h.str("From"), w.warn); len(from) > 0 && usableAddress(from[0].Email) {
		m.From, m.FromSource = from[0], FromHeader
	} else {
		if len(from) > 0 {
			m.From = Address{Name: from[0].Name} // shown, but not written to
		}
		if w.fwDepth == 0 {
			w.fromFallback(h, m)
		}
	}
	if s := parseAddressList(h.str("Sender"), w.warn); len(s) > 0 {
		m.Sender = &s[0]
	}
	m.ReplyTo = parseAddressList(h.str("Reply-To"), w.warn)
	m.To = parseAddressList(strings.Join(h.all("To"), ", "), w.warn)
	m.Cc = parseAddressList(strings.Join(h.all("Cc"), ", "), w.warn)
	if d, ok := h.get("Date"); ok {
		if t, ok := parseDate(d); ok {
			m.Date = t
		} else {
			w.warn("header: unparseable date " + truncate(d, 60))
		}
	}

	c := w.entity(h, body, 0, "text/plain", false)
	w.assemble(m, c)
	return m
}

// usableAddress reports an address one can write back to: a local part,
// "@" and a domain.
func usableAddress(a string) bool {
	at := strings.LastIndexByte(a, '@')
	return at > 0 && at < len(a)-1 && !strings.ContainsAny(a, " <>")
}

// fromFallback takes the sender from Reply-To, then Return-Path, when the
// From field has no usable address.
func (w *walker) fromFallback(h fields, m *Message) {
	for _, src := range []string{FromReplyTo, FromReturnPath} {
		v := h.str(src)
		if src == FromReturnPath {
			v = strings.TrimSpace(v)
			if v == "" || v == "<>" || strings.HasPrefix(strings.ToLower(strings.Trim(v, "<>")), "mailer-daemon@") {
				continue // a null or daemon return path names no person
			}
		}
		for _, a := range parseAddressList(v, func(string) {}) {
			if usableAddress(a.Email) {
				if a.Name == "" && src == FromReturnPath {
					a.Name = m.From.Name
				}
				m.From, m.FromSource = a, src
				w.warn(WarningFromFallback + src)
				return
			}
		}
	}
}

// assemble builds the bodies and attachment list from the walked content.
func (w *walker) assemble(m *Message, c content) {
	rawHTML := strings.Join(c.html, "\n")
	fromHTML := false
	// doc is the parse of rawHTML, shared by the text and the quote cut. It
	// is only made when rawHTML is valid UTF-8 (as decodeCharset makes it),
	// so HTMLToText's repair would not change the input.
	var doc *html.Node
	docErr := false
	if len(c.plain) == 0 && rawHTML == "" && len(c.namedText) > 0 {
		// Only inline text parts with a file name: the first is the body
		// (it stays an attachment as well).
		c.plain = c.namedText[:1]
		w.warn("mime: inline text part with a file name used as the body")
	}
	if len(c.plain) > 0 {
		m.Text = strings.TrimSpace(strings.Join(c.plain, "\n\n"))
	} else if rawHTML != "" {
		if utf8.ValidString(rawHTML) {
			d, err := html.Parse(strings.NewReader(rawHTML))
			if err != nil {
				docErr = true
			} else {
				doc = d
				m.Text = docText(doc)
			}
		} else {
			m.Text = HTMLToText(rawHTML)
		}
		fromHTML = true
	}
	if strings.TrimSpace(m.Text) == "" && len(c.fwds) > 0 {
		var blocks []string
		for _, f := range c.fwds {
			blocks = append(blocks, forwardedBlock(f))
		}
		m.Text = strings.Join(blocks, "\n\n")
		fromHTML = false
	}
	m.Text = strings.ToValidUTF8(m.Text, "\uFFFD")

	m.Attachments = c.atts
	if rawHTML != "" {
		m.HTML, m.HasRemoteImages = sanitize(rawHTML, false)
		var newRaw string
		var cut bool
		switch {
		case docErr || !mayHaveQuoteContainer(rawHTML):
			newRaw = rawHTML
		case doc != nil:
			newRaw, cut = cutQuoteContainers(doc, rawHTML)
		default:
			newRaw, cut = removeQuoteContainers(rawHTML)
		}
		if cut {
			m.NewHTML, _ = sanitize(newRaw, false)
			m.Quoted = true
		} else {
			m.NewHTML = m.HTML
		}
		if fromHTML && cut {
			m.NewText, _ = StripQuotes(HTMLToText(newRaw))
		}
		w.linkCIDs(m, rawHTML)
	}
	if m.NewText == "" {
		var q bool
		m.NewText, q = StripQuotes(m.Text)
		m.Quoted = m.Quoted || q
	}
}

func forwardedBlock(f *Message) string {
	var sb strings.Builder
	sb.WriteString("---------- Forwarded message ----------\n")
	if f.From.Email != "" {
		sb.WriteString("From: " + formatAddress(f.From) + "\n")
	}
	if !f.Date.IsZero() {
		sb.WriteString("Date: " + f.Date.Format(time.RFC1123Z) + "\n")
	}
	if f.Subject != "" {
		sb.WriteString("Subject: " + f.Subject + "\n")
	}
	if len(f.To) > 0 {
		var l []string
		for _, a := range f.To {
			l = append(l, formatAddress(a))
		}
		sb.WriteString("To: " + strings.Join(l, ", ") + "\n")
	}
	sb.WriteString("\n")
	sb.WriteString(f.Text)
	return strings.TrimSpace(sb.String())
}

func formatAddress(a Address) string {
	if a.Name == "" {
		return a.Email
	}
	return a.Name + " <" + a.Email + ">"
}

var cidRef = regexp.MustCompile(`(?i)["'(\s=]cid:([^"'\s>)]+)`)

// linkCIDs marks attachments referenced from the HTML as inline. A part
// without Content-ID whose filename matches a referenced cid gets that cid,
// since some clients reference images by name only.
func (w *walker) linkCIDs(m *Message, rawHTML string) {
	if !containsCID(rawHTML) {
		return // cidRef cannot match
	}
	refs := map[string]bool{}
	var order []string // as written, for ids assigned by filename
	for _, sm := range cidRef.FindAllStringSubmatch(rawHTML, -1) {
		id := strings.ToValidUTF8(string(pctDecode(sm[1])), "")
		if len(order) >= 500 {
			break // bounds the matching below on hostile HTML
		}
		if !refs[strings.ToLower(id)] {
			refs[strings.ToLower(id)] = true
			order = append(order, id)
		}
	}
	matched := map[string]bool{}
	for i := range m.Attachments {
		a := &m.Attachments[i]
		if a.ContentID != "" && refs[strings.ToLower(a.ContentID)] {
			a.Inline = true
			matched[strings.ToLower(a.ContentID)] = true
		}
	}
	for _, id := range order {
		if matched[strings.ToLower(id)] {
			continue
		}
		local, _, _ := strings.Cut(strings.ToLower(id), "@")
		found := false
		for i := range m.Attachments {
			a := &m.Attachments[i]
			if a.Inline || !strings.HasPrefix(a.ContentType, "image/") {
				continue
			}
			name := strings.ToLower(a.Filename)
			if name == strings.ToLower(id) || name == local {
				a.ContentID, a.Inline, found = id, true, true
				w.warn("mime: cid:" + truncate(id, 60) + " matched to a part by filename")
				break
			}
		}
		if !found {
			w.warn("mime: cid:" + truncate(id, 60) + " referenced but no such part")
		}
	}
}

func appendWarning(ws []string, s string) []string {
	s, _ = scrubControls(strings.ToValidUTF8(s, "\uFFFD"))
	for _, w := range ws {
		if w == s {
			return ws
		}
	}
	if len(ws) >= 50 {
		return ws
	}
	return append(ws, s)
}

// containsCID reports whether s contains "cid:" in any ASCII case, the
// literal part of cidRef (whose (?i) folds c, i and d only to ASCII).
func containsCID(s string) bool {
	for {
		i := strings.IndexByte(s, ':')
		if i < 0 {
			return false
		}
		if i >= 3 && s[i-3]|0x20 == 'c' && s[i-2]|0x20 == 'i' && s[i-1]|0x20 == 'd' {
			return true
		}
		s = s[i+1:]
	}
}
