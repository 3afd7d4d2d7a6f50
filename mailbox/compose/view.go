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

	// Account mails.
	ValidFor  string // how long the link or code works: "24 horas", "10 minutes"
	ExpiresAt string // when it stops working, in Zone
	When      string // Date in Zone (new_device: when the sign-in happened)
	Browser   string // "Firefox em Linux", from ClientAgent; never the raw header

	// Layout only.
	Title      string  // the HTML <title>; "" = tag and ticket subject
	Preheader  string  // hidden text that inboxes show as the preview
	Button     *button // the one call to action under the body; nil = none
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
	When, IPAddress, Browser, CopyLink                     string
}

type colors struct{ Primary, PrimaryDark, PrimaryLight string }

// button is the frame's call to action. Fallback adds the URL as text
// under it, for clients that do not show the button (and to be copied).
type button struct {
	URL, Label string
	Fallback   bool
}

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
	if IsAccount(d.Event) {
		v.account(lang)
	} else if d.TicketURL != "" {
		label := v.L.ViewTicket
		if d.TicketNumber != 0 {
			label += " #" + strconv.FormatInt(d.TicketNumber, 10)
		}
		v.Button = &button{URL: d.TicketURL, Label: label}
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
			RatingPoor: "poor", RatingGreat: "excellent",
			When: "When", IPAddress: "IP address", Browser: "Browser",
			CopyLink: "If the button does not work, copy this address into your browser:"}
	}
	return Labels{Ticket: "Chamado", Subject: "Assunto", Status: "Status", Priority: "Prioridade",
		Requester: "Solicitante", Assignee: "Responsável", ViewTicket: "Ver chamado",
		Footer:     "Você recebeu esta mensagem porque participa deste chamado.",
		RatingPoor: "ruim", RatingGreat: "excelente",
		When: "Quando", IPAddress: "Endereço IP", Browser: "Navegador",
		CopyLink: "Se o botão não funcionar, copie este endereço no navegador:"}
}

// account fills the view of an account mail: the footer says why the
// person got it (there is no ticket they take part in), the button is
// the mail's one action, and expiry and device are written out.
func (v *view) account(lang string) {
	d, en := v.Data, lang == LangEN
	v.L.Footer = pick(en, "An automatic message about access to your account at "+v.Company+".",
		"Mensagem automática sobre o acesso à sua conta em "+v.Company+".")
	if !d.Expires.IsZero() {
		v.ValidFor = validFor(lang, d.Expires.Sub(d.Date))
		// To the nearest minute, as ValidFor: "até 10:30", not 10:29.
		v.ExpiresAt = dueLabel(lang, d.Expires.Round(time.Minute), d.Zone)
	}
	v.When = dueLabel(lang, d.Date, d.Zone)
	v.Browser = browserOf(lang, d.ClientAgent)
	switch d.Event {
	case EventConfirm:
		v.Button = &button{URL: d.ActionURL, Label: pick(en, "Confirm my email", "Confirmar meu e-mail"), Fallback: true}
	case EventReset:
		v.Button = &button{URL: d.ActionURL, Label: pick(en, "Choose a new password", "Criar uma nova senha"), Fallback: true}
	case EventSignInLink:
		v.Button = &button{URL: d.ActionURL, Label: pick(en, "Sign in", "Entrar"), Fallback: true}
	case EventInvite:
		v.Button = &button{URL: d.ActionURL, Label: pick(en, "Create my account", "Criar minha conta"), Fallback: true}
		v.L.Footer = pick(en, "You received this invitation because someone at "+v.Company+" entered this address.",
			"Você recebeu este convite porque alguém em "+v.Company+" informou este endereço.")
	case EventNewDevice:
		v.Button = &button{URL: d.ForgotURL, Label: pick(en, "Change my password", "Trocar minha senha")}
	case EventRegisterExists:
		v.Button = &button{URL: d.LoginURL, Label: pick(en, "Sign in", "Entrar")}
	case EventLoginCode:
		// In the inbox preview, not the subject: subjects are stored in
		// the outbox's subject column, listed by `outbox list` and logged.
		if d.Code != "" {
			v.Preheader = pick(en, "Your code: ", "Seu código: ") + d.Code
		}
	}
	if v.Button != nil && v.Button.URL == "" {
		v.Button = nil
	}
}

// validFor writes a lifetime the way people say it: "24 horas", "15
// minutos", "7 dias". Rounded to the minute: the expiry was computed a
// moment before the mail.
func validFor(lang string, d time.Duration) string {
	d = d.Round(time.Minute)
	en := lang == LangEN
	unit := func(n int64, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.FormatInt(n, 10) + " " + many
	}
	switch {
	case d <= 0:
		return ""
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return unit(int64(d/(24*time.Hour)), pick(en, "day", "dia"), pick(en, "days", "dias"))
	case d%time.Hour == 0:
		return unit(int64(d/time.Hour), pick(en, "hour", "hora"), pick(en, "hours", "horas"))
	}
	return unit(int64(d/time.Minute), pick(en, "minute", "minuto"), pick(en, "minutes", "minutos"))
}

// browserOf names the browser and system of a User-Agent from a fixed
// list: the header is whatever the client sent (in register_exists, a
// stranger), so it is never copied into the mail. "" for no header.
func browserOf(lang, ua string) string {
	if strings.TrimSpace(ua) == "" {
		return ""
	}
	en := lang == LangEN
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(ua, s) {
				return true
			}
		}
		return false
	}
	var b, sys string
	switch { // most specific first: every Chromium says Chrome and Safari
	case has("Edg/", "EdgA/", "EdgiOS/"):
		b = "Edge"
	case has("OPR/", "Opera"):
		b = "Opera"
	case has("SamsungBrowser/"):
		b = "Samsung Internet"
	case has("Firefox/", "FxiOS/"):
		b = "Firefox"
	case has("Chrome/", "CriOS/", "Chromium/"):
		b = "Chrome"
	case has("Safari/"):
		b = "Safari"
	}
	switch { // Android says Linux, iOS says Mac OS X
	case has("Android"):
		sys = "Android"
	case has("iPhone", "iPad", "iPod"):
		sys = "iOS"
	case has("CrOS"):
		sys = "ChromeOS"
	case has("Windows"):
		sys = "Windows"
	case has("Macintosh", "Mac OS X"):
		sys = "macOS"
	case has("Linux"):
		sys = "Linux"
	}
	switch {
	case b != "" && sys != "":
		return b + pick(en, " on ", " em ") + sys
	case b != "":
		return b
	case sys != "":
		return pick(en, "a browser on ", "um navegador em ") + sys
	}
	return pick(en, "an unknown browser", "um navegador desconhecido")
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
