package compose

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"
)

// Events, named as the domain (ticketing.EventKind) names them, plus the
// staff-side notifications and the test mail.
const (
	EventCreated          = "created"           // acknowledgement to the requester
	EventNewTicket        = "new_ticket"        // staff / notify_to: a new ticket
	EventCommented        = "commented"         // public comment, to requester and followers
	EventInternalNote     = "internal_note"     // internal comment, staff only
	EventStatusChanged    = "status_changed"    //
	EventAssigned         = "assigned"          // to the new assignee
	EventResolved         = "resolved"          //
	EventClosed           = "closed"            // with the rating links
	EventReopened         = "reopened"          //
	EventParticipantAdded = "participant_added" // to the added person
	EventSLAWarning       = "sla_warning"       // to the assignee: a target is near
	EventSLABreach        = "sla_breach"        // to the assignee and supervisors: a target passed
	EventTest             = "test"              // servicedesk mail send-test
)

// Account mails: about a person's access, not a ticket (no tag, no
// threading), named as ticketing's AccountMail kinds.
const (
	EventConfirm        = "confirm"         // confirm the address: ActionURL, 24 h
	EventReset          = "reset"           // password reset: ActionURL, 2 h
	EventLoginCode      = "login_code"      // the 6-digit sign-in code: Code, 10 min
	EventSignInLink     = "signin_link"     // passwordless sign-in: ActionURL, 15 min
	EventNewDevice      = "new_device"      // a sign-in from a new device: ClientIP, ClientAgent, ForgotURL
	EventRegisterExists = "register_exists" // someone tried to register this address: LoginURL, ForgotURL
	EventInvite         = "invite"          // invitation to register: ActionURL, Expires
)

// Languages with default templates. LangPTBR is the default.
const (
	LangPTBR = "pt-BR"
	LangEN   = "en"
)

// Events lists every event with default templates.
func Events() []string {
	return []string{EventCreated, EventNewTicket, EventCommented, EventInternalNote,
		EventStatusChanged, EventAssigned, EventResolved, EventClosed, EventReopened,
		EventParticipantAdded, EventSLAWarning, EventSLABreach, EventTest,
		EventConfirm, EventReset, EventLoginCode, EventSignInLink, EventNewDevice,
		EventRegisterExists, EventInvite}
}

// AccountEvents lists the account mails (a subset of Events).
func AccountEvents() []string {
	return []string{EventConfirm, EventReset, EventLoginCode, EventSignInLink, EventNewDevice,
		EventRegisterExists, EventInvite}
}

// IsAccount reports whether event is an account mail.
func IsAccount(event string) bool {
	switch event {
	case EventConfirm, EventReset, EventLoginCode, EventSignInLink, EventNewDevice,
		EventRegisterExists, EventInvite:
		return true
	}
	return false
}

// ErrTemplate marks a template that does not parse or execute.
var ErrTemplate = errors.New("compose: bad template")

// Template is one event's mail: Subject and Text are text/template, HTML is
// html/template (the body inside the branded frame). In an override, an
// empty Subject keeps the default subject; a Text without HTML is the one
// source of both parts (the HTML body is that text, escaped, in paragraphs,
// inside the branded frame), so the HTML part never keeps the default's
// wording behind the admin's text; an HTML without Text keeps the default
// text.
type Template struct{ Subject, Text, HTML string }

//go:embed templates
var templateFS embed.FS

// DefaultTemplate returns the built-in template for event in lang ("en",
// "pt-BR"; anything else falls back to pt-BR). false for an unknown event.
func DefaultTemplate(event, lang string) (Template, bool) {
	lang = normalizeLang(lang)
	base := "templates/" + lang + "/" + event
	subj, err1 := templateFS.ReadFile(base + ".subject.txt")
	text, err2 := templateFS.ReadFile(base + ".text.txt")
	html, err3 := templateFS.ReadFile(base + ".html")
	if err1 != nil || err2 != nil || err3 != nil {
		return Template{}, false
	}
	return Template{Subject: string(subj), Text: string(text), HTML: string(html)}, true
}

func normalizeLang(lang string) string {
	l := strings.ToLower(strings.TrimSpace(lang))
	if l == "en" || strings.HasPrefix(l, "en-") || strings.HasPrefix(l, "en_") {
		return LangEN
	}
	return LangPTBR
}

// parsed is a Template ready to execute.
type parsed struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template // nil when htmlFromText
	// htmlFromText: the HTML body is the rendered text (an override with
	// Text and no HTML).
	htmlFromText bool
}

// templateSet holds what every HTML body may call ({{template "comment" .}}
// …) and the frame around it. partials is never executed, only cloned: an
// executed html/template cannot be cloned.
type templateSet struct {
	partials *htmltemplate.Template
	layout   *htmltemplate.Template
}

func newTemplateSet() (templateSet, error) {
	p, err := htmltemplate.ParseFS(templateFS, "templates/partials.html")
	if err != nil {
		return templateSet{}, fmt.Errorf("compose: parse partials: %w", err)
	}
	l, err := htmltemplate.ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return templateSet{}, fmt.Errorf("compose: parse layout: %w", err)
	}
	return templateSet{partials: p, layout: l}, nil
}

// parse parses t; a part left empty is taken from def (which may be nil
// only when t is complete).
func (s templateSet) parse(t Template, def *parsed) (*parsed, error) {
	out := &parsed{}
	var err error
	if strings.TrimSpace(t.Subject) != "" {
		if out.subject, err = texttemplate.New("subject").Option("missingkey=error").Parse(t.Subject); err != nil {
			return nil, fmt.Errorf("%w: subject: %w", ErrTemplate, err)
		}
	} else if def != nil {
		out.subject = def.subject
	}
	if strings.TrimSpace(t.Text) != "" {
		if out.text, err = texttemplate.New("text").Option("missingkey=error").Parse(t.Text); err != nil {
			return nil, fmt.Errorf("%w: text: %w", ErrTemplate, err)
		}
	} else if def != nil {
		out.text = def.text
	}
	switch {
	case strings.TrimSpace(t.HTML) == "" && strings.TrimSpace(t.Text) != "":
		out.htmlFromText = true
	case strings.TrimSpace(t.HTML) != "":
		h, err := s.partials.Clone()
		if err != nil {
			return nil, fmt.Errorf("compose: clone partials: %w", err)
		}
		if out.html, err = h.New("body").Parse(t.HTML); err != nil {
			return nil, fmt.Errorf("%w: html: %w", ErrTemplate, err)
		}
	case def != nil:
		out.html = def.html
	}
	if out.subject == nil || out.text == nil || (out.html == nil && !out.htmlFromText) {
		return nil, fmt.Errorf("%w: subject, text and html are all required", ErrTemplate)
	}
	return out, nil
}

// Validate parses t and executes it against sample data of every event, so
// that a template an admin sets is refused then, never at send time. Empty
// parts are allowed (they keep the default).
func Validate(t Template) error {
	set, err := newTemplateSet()
	if err != nil {
		return err
	}
	def, err := set.parse(Template{Subject: "x", Text: "x", HTML: "x"}, nil)
	if err != nil {
		return err
	}
	p, err := set.parse(t, def)
	if err != nil {
		return err
	}
	for _, lang := range []string{LangPTBR, LangEN} {
		// A ticket mail and an account mail: an override is not told which
		// event it is for, and each has fields the other leaves empty.
		for _, ev := range []string{EventClosed, EventNewDevice} {
			d := SampleData(ev, lang)
			if _, err := render(p, set, newView(&d, nil)); err != nil {
				return err
			}
		}
	}
	return nil
}

// SampleData returns Data with every field filled, for previews in the admin
// UI and for Validate.
func SampleData(event, lang string) Data {
	d := Data{
		Event: event, Lang: normalizeLang(lang),
		From:         Address{Name: "Suporte Ótica São João", Email: "suporte@example.com"},
		To:           []Address{{Name: "Maria Souza", Email: "maria@example.org"}},
		ReplyTo:      "suporte+t1abc@example.com",
		MessageID:    "sample@example.com",
		InReplyTo:    "parent@example.com",
		References:   []string{"root@example.com", "parent@example.com"},
		TicketNumber: 1042, TicketSubject: "Impressora não imprime", SubjectTagPrefix: "#",
		Status: "open", Priority: "high",
		RequesterName: "Maria Souza", AssigneeName: "João Lima", ActorName: "João Lima",
		CommentText: "Bom dia,\nreiniciei o spooler; pode testar?",
		TicketURL:   "https://desk.example.com/tickets/1042",
		RatingURL:   "https://desk.example.com/rate?t=abc",
		Brand:       Brand{CompanyName: "Ótica São João"},
		LoopValue:   "desk.example.com",
		Date:        time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC),

		ActionURL: "https://desk.example.com/confirm/sample-token",
		Code:      "246810",
		Expires:   time.Date(2026, 3, 3, 9, 30, 0, 0, time.UTC),
		ClientIP:  "203.0.113.7", ClientAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
		LoginURL: "https://desk.example.com/login", ForgotURL: "https://desk.example.com/forgot",
	}
	if IsAccount(event) {
		// About an account, not a ticket.
		d.ReplyTo, d.InReplyTo, d.References = "", "", nil
		d.TicketNumber, d.TicketSubject, d.TicketURL, d.RatingURL = 0, "", "", ""
		d.Status, d.Priority, d.RequesterName, d.AssigneeName, d.ActorName, d.CommentText = "", "", "", "", "", ""
		d.AutoSubmitted = "auto-generated"
	}
	return d
}

// rendered is the output of one template execution.
type rendered struct{ subject, text, html string }

func render(p *parsed, set templateSet, v view) (rendered, error) {
	var out rendered
	var b bytes.Buffer
	subject, err := executeSubject(p.subject, v)
	if err != nil {
		return out, err
	}
	out.subject = subject
	v.Comment = v.Data.CommentText
	if IsAccount(v.Data.Event) {
		v.Title = oneLine(out.subject) // no ticket subject to show
	}
	b.Reset()
	if err := p.text.Execute(&b, v); err != nil {
		return out, fmt.Errorf("%w: text: %w", ErrTemplate, err)
	}
	out.text = tidyText(b.String())
	b.Reset()
	if p.htmlFromText {
		v.Body = textToHTML(out.text)
	} else {
		v.Comment = v.commentHTML
		if err := p.html.ExecuteTemplate(&b, "body", v); err != nil {
			return out, fmt.Errorf("%w: html: %w", ErrTemplate, err)
		}
		v.Body = htmltemplate.HTML(b.String()) // output of html/template: already escaped
		b.Reset()
	}
	if err := set.layout.Execute(&b, v); err != nil {
		return out, fmt.Errorf("compose: layout: %w", err)
	}
	out.html = b.String()
	return out, nil
}

// executeSubject renders the subject template (before subjectLine).
func executeSubject(t *texttemplate.Template, v view) (string, error) {
	var b strings.Builder
	v.Comment = v.Data.CommentText
	if err := t.Execute(&b, v); err != nil {
		return "", fmt.Errorf("%w: subject: %w", ErrTemplate, err)
	}
	return b.String(), nil
}

// tidyText removes what conditional template blocks leave behind: trailing
// spaces and runs of blank lines.
func tidyText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	var b strings.Builder
	b.Grow(len(s))
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		if l == "" {
			blank++
			continue
		}
		if b.Len() > 0 && blank > 0 {
			b.WriteString("\n")
		}
		blank = 0
		b.WriteString(l)
		b.WriteString("\n")
	}
	return b.String()
}

// textToHTML is the HTML body of a text-only template: each paragraph (lines
// between blank lines) escaped into a <p> styled like the defaults', line
// breaks kept, links made clickable.
func textToHTML(text string) htmltemplate.HTML {
	var b strings.Builder
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		para = strings.Trim(para, "\n")
		if para == "" {
			continue
		}
		b.WriteString(`<p style="margin:0 0 16px 0;">`)
		for i, line := range strings.Split(para, "\n") {
			if i > 0 {
				b.WriteString("<br>\n")
			}
			b.WriteString(linkify(line))
		}
		b.WriteString("</p>\n")
	}
	return htmltemplate.HTML(b.String()) // every piece escaped by linkify
}

// linkify escapes line, making http(s) URLs links.
func linkify(line string) string {
	var b strings.Builder
	for _, w := range strings.SplitAfter(line, " ") {
		word := strings.TrimRight(w, " ")
		if u, err := url.Parse(word); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			esc := htmltemplate.HTMLEscapeString(word)
			b.WriteString(`<a href="` + esc + `" target="_blank">` + esc + `</a>` + w[len(word):])
			continue
		}
		b.WriteString(htmltemplate.HTMLEscapeString(w))
	}
	return b.String()
}
