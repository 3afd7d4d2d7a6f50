package compose

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // DecodeConfig of logos, for the width/height Outlook needs
	_ "image/jpeg"
	_ "image/png"
	"io"
	"mime"
	netmail "net/mail"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"

	"github.com/jcservicedesk/servicedesk/mailbox/classify"
	"github.com/jcservicedesk/servicedesk/mailbox/thread"
)

// Brand is the company's look in HTML mail.
type Brand struct {
	CompanyName                        string
	Primary, PrimaryDark, PrimaryLight string // "#rrggbb"; invalid values fall back to defaults
	Logo                               []byte
	LogoType                           string // image/png, image/jpeg or image/gif; "" = sniffed
}

// Address is a mailbox: display name and address.
type Address struct{ Name, Email string }

// Data is everything one outbound mail is made of.
type Data struct {
	Event, Lang string // Lang "pt-BR" (default) or "en"
	From        Address
	To          []Address
	ReplyTo     string // the signed support+token@ address; "" = none

	MessageID  string   // "" = generated on the From domain
	InReplyTo  string   // id without <>
	References []string // ids without <>, oldest first

	TicketNumber                    int64
	TicketSubject, SubjectTagPrefix string // prefix "#" (default) gives "[#1042]"

	Status, Priority, RequesterName, AssigneeName, ActorName string

	CommentText, CommentHTML string // CommentHTML sanitized by the caller; may be ""

	TicketURL, RatingURL string
	Brand                Brand

	// SLA notices: which target ("first_response" or "resolution") and
	// when it is or was due, shown in Zone (default America/Sao_Paulo).
	SLATarget string
	DueAt     time.Time
	Zone      *time.Location

	// Account mails (IsAccount(Event)): the link with its token (confirm,
	// reset, signin_link, invite) or the code (login_code); when it stops
	// working (shown as "24 horas" and as a time in Zone); who asked
	// (new_device, register_exists). ClientAgent is never shown as given:
	// only a browser and system we recognise in it, so a stranger's
	// User-Agent cannot write into the owner's mail.
	ActionURL           string
	Code                string
	Expires             time.Time
	ClientIP            string
	ClientAgent         string
	LoginURL, ForgotURL string

	AutoSubmitted string // "auto-replied" (acknowledgements), "auto-generated" (notifications), "" none
	LoopValue     string // value of classify.LoopHeader: our host name
	Date          time.Time
}

// Message is a composed mail. MessageID is without angle brackets; From and
// To are bare addresses for the SMTP envelope; Subject is decoded.
type Message struct {
	MessageID string
	From      string
	To        []string
	Subject   string
	Raw       []byte
	// TemplateErr is set when the override failed to render and the
	// default template was used instead (the caller logs it).
	TemplateErr error
}

// Composer renders mail from templates parsed once in New.
type Composer struct {
	set      templateSet
	defaults map[string]*parsed // key lang+"/"+event; never written after New
}

// New parses every default template; a broken one fails here, not at send time.
func New() (*Composer, error) {
	set, err := newTemplateSet()
	if err != nil {
		return nil, err
	}
	c := &Composer{set: set, defaults: make(map[string]*parsed)}
	for _, lang := range []string{LangPTBR, LangEN} {
		for _, ev := range Events() {
			t, ok := DefaultTemplate(ev, lang)
			if !ok {
				return nil, fmt.Errorf("compose: no default template for %s/%s", lang, ev)
			}
			p, err := set.parse(t, nil)
			if err != nil {
				return nil, fmt.Errorf("compose: default %s/%s: %w", lang, ev, err)
			}
			c.defaults[lang+"/"+ev] = p
		}
	}
	return c, nil
}

// Limits on References: RFC 5322 only asks for the parent's; we keep the
// root and the most recent ones so long threads stay threaded without
// headers growing without bound.
const maxReferences = 20

// Compose renders d with override, or with the default template of
// d.Event/d.Lang when override is nil. An override that does not parse or
// execute (a template valid when set may meet data it did not expect) is
// not a reason to lose the mail or the change that caused it: the default
// is used and Message.TemplateErr says why.
func (c *Composer) Compose(d Data, override *Template) (Message, error) {
	m, err := c.compose(d, override)
	if err != nil && override != nil && errors.Is(err, ErrTemplate) {
		tmplErr := err
		if m, err = c.compose(d, nil); err == nil {
			m.TemplateErr = tmplErr
		}
	}
	return m, err
}

func (c *Composer) compose(d Data, override *Template) (Message, error) {
	def, err := c.defaultFor(&d)
	if err != nil {
		return Message{}, err
	}
	p := def
	if override != nil {
		if p, err = c.set.parse(*override, def); err != nil {
			return Message{}, err
		}
	}
	hd, err := checkHead(&d)
	if err != nil {
		return Message{}, err
	}
	from, to, toList, replyTo, msgID, date, domain := hd.from, hd.to, hd.toList, hd.replyTo, hd.msgID, d.Date, hd.domain

	// Boundaries and the logo's Content-ID derive from the Message-ID: unique
	// per message, yet stable for golden files. "=_" cannot occur in
	// quoted-printable or base64 bodies, so no part can contain a boundary.
	sum := sha256.Sum256([]byte(msgID))
	seed := hex.EncodeToString(sum[:12])

	logo := logoOf(d.Brand, seed, domain)
	out, err := render(p, c.set, newView(&d, logo))
	if err != nil {
		return Message{}, err
	}
	subject := subjectLine(out.subject, tagOf(&d))

	var h headerList
	h.add("Date", date.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	h.raw("Message-ID", "<"+msgID+">")
	if irt := strings.Trim(strings.TrimSpace(d.InReplyTo), "<>"); irt != "" && thread.WritableID(irt) {
		h.raw("In-Reply-To", "<"+irt+">")
	}
	if refs := references(d.References, d.InReplyTo); len(refs) > 0 {
		h.add("References", "<"+strings.Join(refs, "> <")+">")
	}
	h.add("From", (&mail.Address{Name: oneLine(d.From.Name), Address: from}).String())
	h.add("To", formatList(toList))
	if replyTo != "" {
		h.add("Reply-To", (&mail.Address{Name: oneLine(d.From.Name), Address: replyTo}).String())
	}
	h.add("Subject", encodeSubject(subject))
	if d.AutoSubmitted != "" {
		h.raw("Auto-Submitted", d.AutoSubmitted)
	}
	if d.AutoSubmitted == "auto-generated" && !IsAccount(d.Event) {
		h.raw("Precedence", "bulk")
	}
	h.raw("X-Auto-Response-Suppress", "All")
	if lv := oneLine(d.LoopValue); lv != "" && len(lv) < 200 {
		h.raw(classify.LoopHeader, lv)
	}
	h.raw("MIME-Version", "1.0")

	var raw bytes.Buffer
	// Quoted-printable adds ~10-20% to UTF-8 text and HTML (=3D), base64 37% + CRLFs.
	raw.Grow((len(out.text)+len(out.html))*5/4 + len(d.Brand.Logo)*140/100 + 2048)
	if err := writeBody(&raw, h, out, logo, seed); err != nil {
		return Message{}, fmt.Errorf("compose: write: %w", err)
	}
	return Message{MessageID: msgID, From: from, To: to, Subject: subject, Raw: raw.Bytes()}, nil
}

// defaultFor normalises d.Lang and returns the default template of its
// event.
func (c *Composer) defaultFor(d *Data) (*parsed, error) {
	d.Lang = normalizeLang(d.Lang)
	def := c.defaults[d.Lang+"/"+d.Event]
	if def == nil {
		return nil, fmt.Errorf("compose: unknown event %q", d.Event)
	}
	return def, nil
}

// head is d's envelope and identity, checked.
type head struct {
	from, replyTo, msgID, domain string
	to                           []string
	toList                       []*mail.Address
}

// checkHead checks the addresses, Auto-Submitted and the Message-ID of d
// (generating one when d has none) and defaults d.Date to now.
func checkHead(d *Data) (head, error) {
	var h head
	var err error
	if h.from, err = checkAddr(d.From.Email); err != nil {
		return head{}, fmt.Errorf("compose: from: %w", err)
	}
	if len(d.To) == 0 {
		return head{}, errors.New("compose: no recipients")
	}
	h.to = make([]string, 0, len(d.To))
	h.toList = make([]*mail.Address, 0, len(d.To))
	for _, a := range d.To {
		e, err := checkAddr(a.Email)
		if err != nil {
			return head{}, fmt.Errorf("compose: to: %w", err)
		}
		h.to = append(h.to, e)
		h.toList = append(h.toList, &mail.Address{Name: oneLine(a.Name), Address: e})
	}
	if d.ReplyTo != "" {
		if h.replyTo, err = checkAddr(d.ReplyTo); err != nil {
			return head{}, fmt.Errorf("compose: reply-to: %w", err)
		}
	}
	switch d.AutoSubmitted {
	case "", "no", "auto-replied", "auto-generated":
	default:
		return head{}, fmt.Errorf("compose: auto-submitted %q: want auto-replied or auto-generated", d.AutoSubmitted)
	}
	h.domain = h.from[strings.LastIndexByte(h.from, '@')+1:]
	h.msgID = strings.Trim(strings.TrimSpace(d.MessageID), "<>")
	if h.msgID == "" {
		h.msgID = MessageIDFor(h.from)
	} else if !thread.WritableID(h.msgID) {
		return head{}, fmt.Errorf("compose: message-id %q is not id@domain", d.MessageID)
	}
	if d.Date.IsZero() {
		d.Date = time.Now() // account mails count their expiry from it
	}
	return h, nil
}

// MessageIDFor returns a new Message-ID (without angle brackets) on the
// domain of the From address from: the one Compose makes for Data with no
// MessageID. A caller that must know the id before composing (the outbox
// row is written before the mail is rendered) makes it here and passes it
// in Data.MessageID.
func MessageIDFor(from string) string {
	from = strings.TrimSpace(from)
	return strings.Trim(thread.NewMessageID(from[strings.LastIndexByte(from, '@')+1:]), "<>")
}

// Subject returns the subject line Compose gives d with override (tag
// first), rendering the subject template only, so that it is cheap enough
// to decide inside a transaction. It checks d as Compose does (addresses,
// Message-ID); an override whose subject fails gives the default's, as in
// Compose. When the override's other parts fail at Compose, its fallback to
// the default wording may change the subject: Message.Subject is what went
// out.
func (c *Composer) Subject(d Data, override *Template) (string, error) {
	def, err := c.defaultFor(&d)
	if err != nil {
		return "", err
	}
	if _, err := checkHead(&d); err != nil {
		return "", err
	}
	v := newView(&d, nil) // no logo: a subject has no use for it
	subj := ""
	if override != nil && strings.TrimSpace(override.Subject) != "" {
		t, err := texttemplate.New("subject").Option("missingkey=error").Parse(override.Subject)
		if err == nil {
			subj, err = executeSubject(t, v)
		}
		if err != nil {
			override = nil
		}
	} else {
		override = nil
	}
	if override == nil {
		if subj, err = executeSubject(def.subject, v); err != nil {
			return "", err
		}
	}
	return subjectLine(subj, tagOf(&d)), nil
}

// writeBody writes multipart/alternative (text, html), wrapped in
// multipart/related with the logo when there is one.
func writeBody(w io.Writer, h headerList, out rendered, logo *logoInfo, seed string) error {
	altType := map[string]string{"boundary": "=_alt_" + seed}
	var root *message.Writer
	var alt *message.Writer
	var err error
	if logo != nil {
		h.add("Content-Type", mime.FormatMediaType("multipart/related",
			map[string]string{"type": "multipart/alternative", "boundary": "=_rel_" + seed}))
		if root, err = message.CreateWriter(w, h.header()); err != nil {
			return err
		}
		var ah message.Header
		ah.SetContentType("multipart/alternative", altType)
		if alt, err = root.CreatePart(ah); err != nil {
			return err
		}
	} else {
		h.add("Content-Type", mime.FormatMediaType("multipart/alternative", altType))
		if alt, err = message.CreateWriter(w, h.header()); err != nil {
			return err
		}
	}
	for _, part := range []struct{ typ, body string }{{"text/plain", out.text}, {"text/html", out.html}} {
		var ph message.Header
		ph.SetContentType(part.typ, map[string]string{"charset": "utf-8"})
		ph.Set("Content-Transfer-Encoding", "quoted-printable")
		pw, err := alt.CreatePart(ph)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(pw, part.body); err != nil {
			return err
		}
		if err := pw.Close(); err != nil {
			return err
		}
	}
	if err := alt.Close(); err != nil {
		return err
	}
	if root == nil {
		return nil
	}
	var ih message.Header
	ih.SetContentType(logo.typ, map[string]string{"name": logo.filename})
	ih.Set("Content-Id", "<"+logo.cid+">")
	ih.SetContentDisposition("inline", map[string]string{"filename": logo.filename})
	ih.Set("Content-Transfer-Encoding", "base64")
	iw, err := root.CreatePart(ih)
	if err != nil {
		return err
	}
	if _, err := iw.Write(logo.data); err != nil {
		return err
	}
	if err := iw.Close(); err != nil {
		return err
	}
	return root.Close()
}

// headerList keeps header fields in the order we want them written
// (go-message writes the last added first).
type headerList struct{ f []headerField }

type headerField struct {
	k, v string
	raw  bool // written as is: keeps "Message-ID", "MIME-Version" spelled so
}

// add is for values that may need folding (addresses, References, Subject).
func (h *headerList) add(k, v string) { h.f = append(h.f, headerField{k: k, v: v}) }

// raw is for short values whose field name should keep its spelling.
func (h *headerList) raw(k, v string) { h.f = append(h.f, headerField{k: k, v: v, raw: true}) }

func (h *headerList) header() message.Header {
	var out message.Header
	for i := len(h.f) - 1; i >= 0; i-- {
		f := h.f[i]
		if f.raw {
			out.AddRaw([]byte(f.k + ": " + f.v + "\r\n"))
		} else {
			out.Add(f.k, f.v)
		}
	}
	return out
}

type logoInfo struct {
	data          []byte
	typ, filename string
	cid           string
	width, height int // display size; 0 when the image could not be read
}

// logoHeight is the display height of the logo in the header, in CSS pixels.
const logoHeight = 48

func logoOf(b Brand, seed, domain string) *logoInfo {
	if len(b.Logo) == 0 {
		return nil
	}
	typ := strings.ToLower(strings.TrimSpace(b.LogoType))
	if typ == "" {
		typ = sniffImage(b.Logo)
	}
	ext := map[string]string{"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}[typ]
	if ext == "" {
		return nil // SVG and the like do not display in Gmail/Outlook: fall back to the name
	}
	l := &logoInfo{data: b.Logo, typ: typ, filename: "logo." + ext, cid: "logo." + seed[:16] + "@" + domain}
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(b.Logo)); err == nil && cfg.Height > 0 {
		l.height = logoHeight
		l.width = cfg.Width * logoHeight / cfg.Height
		if l.width > 240 { // wide logos: cap the width, keep the ratio
			l.width = 240
			l.height = max(1, cfg.Height*240/cfg.Width)
		}
	}
	return l
}

func sniffImage(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		return "image/jpeg"
	case bytes.HasPrefix(b, []byte("GIF8")):
		return "image/gif"
	}
	return ""
}

// references returns the References ids: oldest first, In-Reply-To last
// when missing, duplicates (compared normalized) and malformed ids dropped,
// and capped to the root plus the newest maxReferences-1.
func references(refs []string, inReplyTo string) []string {
	seen := make(map[string]bool, len(refs)+1)
	out := make([]string, 0, len(refs)+1)
	for _, r := range append(refs[:len(refs):len(refs)], inReplyTo) {
		r = strings.Trim(strings.TrimSpace(r), "<>")
		if r == "" || !thread.WritableID(r) {
			continue
		}
		n := thread.NormalizeID(r)
		if seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, r)
	}
	if len(out) > maxReferences {
		out = append(out[:1], out[len(out)-(maxReferences-1):]...)
	}
	return out
}

func checkAddr(email string) (string, error) {
	email = strings.TrimSpace(email)
	a, err := netmail.ParseAddress("<" + email + ">")
	if err != nil || a.Address != email {
		return "", fmt.Errorf("bad address %q", email)
	}
	return email, nil
}

func formatList(l []*mail.Address) string {
	s := make([]string, len(l))
	for i, a := range l {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// oneLine collapses whitespace, CR and LF included, so no user-supplied
// text can start a new header field.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// subjectLine puts the tag first whatever the template did with it.
func subjectLine(s, tag string) string {
	s = oneLine(s)
	if tag == "" || strings.HasPrefix(s, tag) {
		return s
	}
	return oneLine(tag + " " + strings.ReplaceAll(s, tag, ""))
}

// encodeSubject RFC 2047-encodes from the first word that needs it on, so
// the ASCII tag in front stays readable to filters that do not decode.
func encodeSubject(s string) string {
	if strings.Contains(s, "=?") {
		return mime.QEncoding.Encode("utf-8", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			cut := strings.LastIndexByte(s[:i], ' ') + 1
			return s[:cut] + mime.QEncoding.Encode("utf-8", s[cut:])
		}
	}
	return s
}
