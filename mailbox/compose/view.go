package compose

import (
	"html"
	htmltemplate "html/template"
	"strconv"
	"strings"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/thread"
)

// view is what templates execute against: Data plus derived fields.
type view struct {
	*Data
	Tag           string
	Company       string
	RecipientName string
	StatusLabel   string
	PriorityLabel string
	Comment       any // string in Subject/Text, template.HTML in HTML
	RatingLinks   []RatingLink
	L             Labels
	SLATarget     string // "primeira resposta" / "first response"
	Due           string // the due time in the company's zone

	// Layout only.
	Body       htmltemplate.HTML
	LogoSrc    htmltemplate.URL
	LogoWidth  int
	LogoHeight int
	Colors     colors

	commentHTML htmltemplate.HTML
}

// RatingLink is one of the 1–5 links of the closed mail.
type RatingLink struct {
	N   int
	URL string
}

// Labels are the translated words of the frame and the partials.
type Labels struct {
	Ticket, Subject, Status, Priority, Requester, Assignee string
	ViewTicket, Footer, RatingPoor, RatingGreat            string
}

type colors struct{ Primary, PrimaryDark, PrimaryLight string }

const defaultCompany = "JC Service Desk"

func newView(d *Data, logo *logoInfo) view {
	lang := normalizeLang(d.Lang)
	v := view{
		Data:          d,
		Company:       strings.TrimSpace(d.Brand.CompanyName),
		StatusLabel:   statusLabel(lang, d.Status),
		PriorityLabel: priorityLabel(lang, d.Priority),
		L:             labels(lang),
		Colors: colors{
			Primary:      color(d.Brand.Primary, "#1a56db"),
			PrimaryDark:  color(d.Brand.PrimaryDark, "#1e429f"),
			PrimaryLight: color(d.Brand.PrimaryLight, "#ebf2fe"),
		},
	}
	if p := color(d.Brand.Primary, ""); p != "" {
		// Only the primary given: do not pair it with our default blues.
		v.Colors.PrimaryDark = color(d.Brand.PrimaryDark, p)
		v.Colors.PrimaryLight = color(d.Brand.PrimaryLight, "#f3f4f6")
	}
	if v.Company == "" {
		v.Company = defaultCompany
	}
	v.Tag = tagOf(d)
	if d.SLATarget != "" {
		v.SLATarget = slaTargetLabel(lang, d.SLATarget)
		v.Due = dueLabel(lang, d.DueAt, d.Zone)
	}
	if len(d.To) == 1 {
		v.RecipientName = oneLine(d.To[0].Name)
	}
	if d.CommentHTML != "" {
		// Sanitized by the caller (bluemonday in the intake/portal).
		v.commentHTML = htmltemplate.HTML(d.CommentHTML)
	} else if d.CommentText != "" {
		s := html.EscapeString(strings.TrimSpace(d.CommentText))
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "<br>\n")
		v.commentHTML = htmltemplate.HTML(s)
	}
	if d.RatingURL != "" {
		sep := "?"
		if strings.Contains(d.RatingURL, "?") {
			sep = "&"
		}
		for n := 1; n <= 5; n++ {
			v.RatingLinks = append(v.RatingLinks, RatingLink{N: n, URL: d.RatingURL + sep + "r=" + strconv.Itoa(n)})
		}
	}
	if logo != nil {
		v.LogoSrc = htmltemplate.URL("cid:" + logo.cid) // our own id; html/template would reject the cid: scheme
		v.LogoWidth, v.LogoHeight = logo.width, logo.height
	}
	return v
}

// tagOf is the subject tag, "" for mail about no ticket (the test mail).
func tagOf(d *Data) string {
	if d.TicketNumber <= 0 {
		return ""
	}
	prefix := strings.TrimSpace(d.SubjectTagPrefix)
	if prefix == "" {
		prefix = "#"
	}
	return thread.SubjectTag(prefix, d.TicketNumber)
}

// color accepts only #rgb and #rrggbb: the value lands in style attributes.
func color(c, def string) string {
	c = strings.TrimSpace(c)
	if (len(c) != 4 && len(c) != 7) || c[0] != '#' {
		return def
	}
	for _, r := range c[1:] {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return def
		}
	}
	return c
}

func labels(lang string) Labels {
	if lang == LangEN {
		return Labels{Ticket: "Ticket", Subject: "Subject", Status: "Status", Priority: "Priority",
			Requester: "Requester", Assignee: "Assignee", ViewTicket: "View ticket",
			Footer:     "You received this message because you take part in this ticket.",
			RatingPoor: "poor", RatingGreat: "excellent"}
	}
	return Labels{Ticket: "Chamado", Subject: "Assunto", Status: "Status", Priority: "Prioridade",
		Requester: "Solicitante", Assignee: "Responsável", ViewTicket: "Ver chamado",
		Footer:     "Você recebeu esta mensagem porque participa deste chamado.",
		RatingPoor: "ruim", RatingGreat: "excelente"}
}

// statusLabel translates the store's status values; unknown ones pass as is.
func statusLabel(lang, s string) string {
	en := lang == LangEN
	switch s {
	case "new":
		return pick(en, "New", "Novo")
	case "open":
		return pick(en, "Open", "Em andamento")
	case "pending":
		return pick(en, "Waiting for you", "Aguardando retorno")
	case "resolved":
		return pick(en, "Resolved", "Resolvido")
	case "closed":
		return pick(en, "Closed", "Encerrado")
	case "reopened":
		return pick(en, "Reopened", "Reaberto")
	}
	return s
}

func priorityLabel(lang, p string) string {
	en := lang == LangEN
	switch p {
	case "low":
		return pick(en, "Low", "Baixa")
	case "normal":
		return pick(en, "Normal", "Normal")
	case "high":
		return pick(en, "High", "Alta")
	case "urgent":
		return pick(en, "Urgent", "Urgente")
	}
	return p
}

func pick(en bool, a, b string) string {
	if en {
		return a
	}
	return b
}

func slaTargetLabel(lang, target string) string {
	en := lang == LangEN
	if target == "first_response" {
		return pick(en, "first response", "primeira resposta")
	}
	return pick(en, "resolution", "resolução")
}

// dueLabel writes t in zone the way each language reads dates.
func dueLabel(lang string, t time.Time, zone *time.Location) string {
	if t.IsZero() {
		return ""
	}
	if zone == nil {
		if z, err := time.LoadLocation("America/Sao_Paulo"); err == nil {
			zone = z
		} else {
			zone = time.UTC
		}
	}
	t = t.In(zone)
	if lang == LangEN {
		return t.Format("Jan 2, 2006 3:04 PM MST")
	}
	return t.Format("02/01/2006 15:04") + " (" + zone.String() + ")"
}
