package compose

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
)

var update = flag.Bool("update", false, "rewrite testdata/golden")

// fixture is a realistic mail for event in lang, with a fixed Date and
// Message-ID so that golden files are stable.
func fixture(event, lang string) Data {
	d := Data{
		Event: event, Lang: lang,
		From:         Address{Name: "Suporte JC", Email: "suporte@desk.example.com"},
		To:           []Address{{Name: "Maria Souza", Email: "maria@cliente.example.org"}},
		ReplyTo:      "suporte+t1abcdef@desk.example.com",
		MessageID:    "golden." + event + "." + lang + "@desk.example.com",
		InReplyTo:    "parent-1@desk.example.com",
		References:   []string{"root-1@cliente.example.org", "parent-1@desk.example.com"},
		TicketNumber: 1042, TicketSubject: "Impressora não imprime", SubjectTagPrefix: "#",
		Status: "open", Priority: "high",
		RequesterName: "Maria Souza", AssigneeName: "João Lima", ActorName: "João Lima",
		TicketURL:     "https://desk.example.com/tickets/1042",
		Brand:         Brand{CompanyName: "JC Informática", Primary: "#0f766e", PrimaryDark: "#115e59", PrimaryLight: "#ccfbf1"},
		AutoSubmitted: "auto-generated",
		LoopValue:     "desk.example.com",
		Date:          time.Date(2026, 3, 2, 9, 30, 0, 0, time.FixedZone("BRT", -3*3600)),
	}
	switch event {
	case EventCreated:
		d.AutoSubmitted = "auto-replied"
		d.InReplyTo, d.References = "root-1@cliente.example.org", []string{"root-1@cliente.example.org"}
		d.ActorName = "Maria Souza"
		d.CommentText = "Bom dia,\nA impressora do 2º andar não imprime desde ontem.\nJá reiniciei."
	case EventNewTicket:
		d.To = []Address{{Name: "Equipe de suporte", Email: "equipe@desk.example.com"}, {Email: "plantao@desk.example.com"}}
		d.ActorName = "Maria Souza"
		d.CommentText = "Bom dia,\nA impressora do 2º andar não imprime desde ontem."
	case EventCommented:
		d.AutoSubmitted = "" // a technician's words, relayed
		d.CommentText = "Olá Maria,\nreiniciei o spooler. Pode testar de novo?"
		d.CommentHTML = "<p>Olá Maria,<br>reiniciei o <b>spooler</b>. Pode testar de novo?</p>"
	case EventInternalNote:
		d.To = []Address{{Name: "Ana Reis", Email: "ana@desk.example.com"}}
		d.CommentText = "Toner trocado mês passado; suspeito do fusor."
	case EventStatusChanged:
		d.Status = "pending"
	case EventAssigned:
		d.To = []Address{{Name: "João Lima", Email: "joao@desk.example.com"}}
		d.ActorName = "Ana Reis"
	case EventResolved:
		d.Status = "resolved"
		d.CommentText = "Fusor substituído; impressão normalizada."
	case EventClosed:
		d.Status = "closed"
		d.RatingURL = "https://desk.example.com/rate?t=t1abcdef"
	case EventReopened:
		d.Status = "reopened"
		d.ActorName = "Maria Souza"
		d.CommentText = "Voltou a falhar hoje cedo."
	case EventParticipantAdded:
		d.To = []Address{{Name: "Carlos Dias", Email: "carlos@cliente.example.org"}}
	case EventSLAWarning:
		d.To = []Address{{Name: "João Lima", Email: "joao@desk.example.com"}}
		d.SLATarget, d.DueAt = "first_response", time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	case EventSLABreach:
		d.To = []Address{{Name: "Ana Reis", Email: "ana@desk.example.com"}}
		d.AssigneeName = ""
		d.SLATarget, d.DueAt = "resolution", time.Date(2026, 3, 2, 21, 0, 0, 0, time.UTC)
	case EventTest:
		d.TicketNumber, d.TicketSubject, d.TicketURL = 0, "", ""
		d.InReplyTo, d.References, d.ReplyTo = "", nil, ""
	}
	if IsAccount(event) {
		accountFixture(&d)
	}
	return d
}

// accountFixture turns d into an account mail: no ticket, no threading,
// no reply token; the link, code, expiry and client of its kind.
func accountFixture(d *Data) {
	d.TicketNumber, d.TicketSubject, d.TicketURL, d.RatingURL = 0, "", "", ""
	d.InReplyTo, d.References, d.ReplyTo = "", nil, ""
	d.Status, d.Priority, d.RequesterName, d.AssigneeName, d.ActorName = "", "", "", "", ""
	d.CommentText, d.CommentHTML = "", ""
	d.AutoSubmitted = "auto-generated"
	d.LoginURL, d.ForgotURL = "https://desk.example.com/login", "https://desk.example.com/forgot"
	ttl := map[string]time.Duration{EventConfirm: 24 * time.Hour, EventReset: 2 * time.Hour, EventLoginCode: 10 * time.Minute,
		EventSignInLink: 15 * time.Minute, EventInvite: 7 * 24 * time.Hour}[d.Event]
	if ttl > 0 {
		d.Expires = d.Date.Add(ttl - 40*time.Millisecond) // computed a moment before the mail
	}
	switch d.Event {
	case EventConfirm:
		d.ActionURL = "https://desk.example.com/confirm/c0nf1rm.t0ken"
	case EventReset:
		d.ActionURL = "https://desk.example.com/reset/r3set.t0ken"
	case EventLoginCode:
		d.Code = "046213"
	case EventSignInLink:
		d.ActionURL = "https://desk.example.com/login/link/s1gn.t0ken"
	case EventNewDevice, EventRegisterExists:
		d.ClientIP = "203.0.113.7"
		d.ClientAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
	case EventInvite:
		d.To = []Address{{Email: "novo@cliente.example.org"}}
		d.ActionURL = "https://desk.example.com/register?invite=1nv1te.t0ken"
	}
}

// parsed is a composed mail read back with go-message.
type parsedMail struct {
	header     mail.Header
	tree       []string // "path content-type", depth-first
	text, html string
	textCT     string // with params
	htmlCT     string
	imageCID   string // without <>
	imageType  string
	imageBytes []byte
}

func parseBack(t *testing.T, raw []byte) parsedMail {
	t.Helper()
	for i, l := range bytes.Split(raw, []byte("\r\n")) {
		if len(l) > 998 {
			t.Fatalf("line %d is %d octets", i+1, len(l))
		}
		if bytes.ContainsAny(l, "\r\n") {
			t.Fatalf("line %d has a bare CR or LF", i+1)
		}
	}
	var p parsedMail
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("message.Read: %v", err)
	}
	if err := e.Walk(func(path []int, e *message.Entity, err error) error {
		if err != nil {
			return err
		}
		ct, _, _ := e.Header.ContentType()
		depth := strings.Repeat("  ", len(path))
		p.tree = append(p.tree, depth+ct)
		return nil
	}); err != nil {
		t.Fatalf("walk: %v", err)
	}

	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("mail.CreateReader: %v", err)
	}
	p.header = mr.Header
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("NextPart: %v", err)
		}
		h, ok := part.Header.(*mail.InlineHeader)
		if !ok {
			t.Fatalf("unexpected attachment part")
		}
		ct, _, _ := h.ContentType()
		body, err := io.ReadAll(part.Body)
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		if strings.HasPrefix(ct, "text/") {
			body = bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n")) // quoted-printable writes CRLF
		}
		switch ct {
		case "text/plain":
			p.text, p.textCT = string(body), h.Get("Content-Type")
			if h.Get("Content-Transfer-Encoding") != "quoted-printable" {
				t.Errorf("text part encoding %q", h.Get("Content-Transfer-Encoding"))
			}
		case "text/html":
			p.html, p.htmlCT = string(body), h.Get("Content-Type")
			if h.Get("Content-Transfer-Encoding") != "quoted-printable" {
				t.Errorf("html part encoding %q", h.Get("Content-Transfer-Encoding"))
			}
		default:
			p.imageType, p.imageBytes = ct, body
			p.imageCID = strings.Trim(h.Get("Content-Id"), "<>")
		}
	}
	return p
}

func compose(t testing.TB, c *Composer, d Data) Message {
	t.Helper()
	m, err := c.Compose(d, nil)
	if err != nil {
		t.Fatalf("Compose(%s/%s): %v", d.Event, d.Lang, err)
	}
	return m
}

func checkGolden(t *testing.T, name string, raw []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".eml")
	if *update {
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(raw, want) {
		t.Errorf("%s differs from the golden file (run with -update and review the diff)", path)
	}
}

func TestGolden(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{LangPTBR, LangEN} {
		for _, ev := range Events() {
			t.Run(ev+"-"+lang, func(t *testing.T) {
				d := fixture(ev, lang)
				m := compose(t, c, d)
				checkGolden(t, ev+"-"+lang, m.Raw)
				p := parseBack(t, m.Raw)

				wantTree := []string{"multipart/alternative", "  text/plain", "  text/html"}
				if strings.Join(p.tree, "|") != strings.Join(wantTree, "|") {
					t.Errorf("structure %q, want %q", p.tree, wantTree)
				}
				for _, ct := range []string{p.textCT, p.htmlCT} {
					if !strings.Contains(ct, "charset=utf-8") {
						t.Errorf("content type %q without utf-8", ct)
					}
				}
				checkHeaders(t, p.header, d, m)

				if d.TicketNumber > 0 {
					if !strings.Contains(p.text, "#1042") || !strings.Contains(p.html, "#1042") {
						t.Errorf("ticket number missing from text or html")
					}
					if !strings.Contains(p.html, `href="https://desk.example.com/tickets/1042"`) {
						t.Errorf("html has no link to the ticket")
					}
				}
				if d.CommentText != "" {
					first := strings.SplitN(d.CommentText, "\n", 2)[0]
					if !strings.Contains(p.text, first) {
						t.Errorf("text part lacks the comment %q:\n%s", first, p.text)
					}
				}
				if d.CommentHTML != "" && !strings.Contains(p.html, d.CommentHTML) {
					t.Errorf("html part lacks the sanitized comment HTML")
				}
				if strings.Contains(p.text, "<p") || strings.Contains(p.text, "&ndash;") {
					t.Errorf("text part has HTML in it:\n%s", p.text)
				}
				if strings.Contains(p.html, "ZgotmplZ") {
					t.Errorf("html/template rejected a value:\n%s", p.html)
				}
				if !strings.Contains(p.html, "JC Informática") || !strings.Contains(p.html, "#0f766e") {
					t.Errorf("html lacks the company name header or brand color")
				}
				if IsAccount(ev) {
					checkAccount(t, d, m, p)
				}
				if ev == EventClosed {
					for n := '1'; n <= '5'; n++ {
						link := d.RatingURL + "&r=" + string(n)
						if !strings.Contains(p.text, link) {
							t.Errorf("text lacks rating link %s", link)
						}
						if !strings.Contains(p.html, `href="`+strings.ReplaceAll(link, "&", "&amp;")+`"`) {
							t.Errorf("html lacks rating link %s", link)
						}
					}
				}
			})
		}
	}
}

func checkHeaders(t *testing.T, h mail.Header, d Data, m Message) {
	t.Helper()
	id, err := h.MessageID()
	if err != nil || id != d.MessageID || m.MessageID != d.MessageID {
		t.Errorf("Message-ID %q (%v), Message.MessageID %q, want %q", id, err, m.MessageID, d.MessageID)
	}
	irt, _ := h.MsgIDList("In-Reply-To")
	refs, _ := h.MsgIDList("References")
	if d.InReplyTo != "" {
		if len(irt) != 1 || irt[0] != d.InReplyTo {
			t.Errorf("In-Reply-To %q, want %q", irt, d.InReplyTo)
		}
		if len(refs) == 0 || refs[len(refs)-1] != d.InReplyTo || refs[0] != d.References[0] {
			t.Errorf("References %q: want root first and the parent last", refs)
		}
	} else if h.Has("In-Reply-To") || h.Has("References") {
		t.Errorf("threading headers on a mail that starts no thread")
	}
	if got := h.Get("Auto-Submitted"); got != d.AutoSubmitted {
		t.Errorf("Auto-Submitted %q, want %q", got, d.AutoSubmitted)
	}
	wantPrec := ""
	if d.AutoSubmitted == "auto-generated" && !IsAccount(d.Event) {
		wantPrec = "bulk"
	}
	if got := h.Get("Precedence"); got != wantPrec {
		t.Errorf("Precedence %q, want %q", got, wantPrec)
	}
	if h.Get("X-Auto-Response-Suppress") != "All" || h.Get("X-JCServiceDesk-Loop") != d.LoopValue {
		t.Errorf("X-Auto-Response-Suppress %q, loop %q", h.Get("X-Auto-Response-Suppress"), h.Get("X-JCServiceDesk-Loop"))
	}
	if h.Get("MIME-Version") != "1.0" {
		t.Errorf("MIME-Version %q", h.Get("MIME-Version"))
	}
	if date, err := h.Date(); err != nil || !date.Equal(d.Date) {
		t.Errorf("Date %v (%v), want %v", date, err, d.Date)
	}
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Address != d.From.Email || from[0].Name != d.From.Name {
		t.Errorf("From %v (%v)", from, err)
	}
	to, err := h.AddressList("To")
	if err != nil || len(to) != len(d.To) || len(m.To) != len(d.To) {
		t.Fatalf("To %v (%v), Message.To %v", to, err, m.To)
	}
	for i := range to {
		if to[i].Address != d.To[i].Email || to[i].Name != d.To[i].Name || m.To[i] != d.To[i].Email {
			t.Errorf("To[%d] = %v, want %v", i, to[i], d.To[i])
		}
	}
	rt, _ := h.AddressList("Reply-To")
	if d.ReplyTo != "" && (len(rt) != 1 || rt[0].Address != d.ReplyTo) {
		t.Errorf("Reply-To %v, want %s", rt, d.ReplyTo)
	}
	if d.ReplyTo == "" && h.Has("Reply-To") {
		t.Errorf("Reply-To set though none was given")
	}
	subj, err := h.Subject()
	if err != nil || subj != m.Subject {
		t.Errorf("Subject %q (%v), Message.Subject %q", subj, err, m.Subject)
	}
	if d.TicketNumber > 0 && subj != "[#1042] "+d.TicketSubject {
		t.Errorf("Subject %q, want the tag then the ticket subject", subj)
	}
}

// checkAccount checks what every account mail must have: its link (or
// code) in both parts, no ticket tag, the code never in the subject, the
// account footer instead of the ticket one.
func checkAccount(t *testing.T, d Data, m Message, p parsedMail) {
	t.Helper()
	if strings.Contains(m.Subject, "[#") || strings.Contains(p.html, "Ver chamado") || strings.Contains(p.html, "View ticket") {
		t.Errorf("account mail looks like a ticket mail: subject %q", m.Subject)
	}
	links := map[string][]string{EventLoginCode: {d.ForgotURL}, EventNewDevice: {d.ForgotURL},
		EventRegisterExists: {d.LoginURL, d.ForgotURL}}[d.Event]
	if d.ActionURL != "" {
		links = []string{d.ActionURL}
	}
	if len(links) == 0 {
		t.Errorf("no link expected in %s", d.Event)
	}
	for _, u := range links {
		esc := strings.ReplaceAll(u, "&", "&amp;")
		if !strings.Contains(p.text, u) || !strings.Contains(p.html, `href="`+esc+`"`) {
			t.Errorf("link %s missing from text or html", u)
		}
	}
	if d.Code != "" {
		if !strings.Contains(p.text, d.Code) || !strings.Contains(p.html, ">"+d.Code+"<") {
			t.Errorf("code %s missing from text or html", d.Code)
		}
		if strings.Contains(m.Subject, d.Code) {
			t.Errorf("code in the subject %q", m.Subject)
		}
	}
	if want := map[string]string{EventConfirm: "24 ", EventReset: "2 ", EventLoginCode: "10 ", EventSignInLink: "15 ", EventInvite: "7 "}[d.Event]; want != "" {
		unit := map[string]string{EventConfirm: "hor", EventReset: "hor", EventLoginCode: "min", EventSignInLink: "min", EventInvite: "d"}[d.Event]
		if d.Lang == LangEN {
			unit = map[string]string{"hor": "hours", "min": "minutes", "d": "days"}[unit]
		}
		if !strings.Contains(p.text, want+unit) || !strings.Contains(p.html, want+unit) {
			t.Errorf("validity %q%s… missing:\n%s", want, unit, p.text)
		}
	}
	if d.ClientAgent != "" {
		if !strings.Contains(p.text, "Firefox") || !strings.Contains(p.html, "203.0.113.7") || strings.Contains(p.text, "Gecko") {
			t.Errorf("device facts wrong:\n%s", p.text)
		}
	}
	if strings.Contains(p.html, "participa deste chamado") || strings.Contains(p.html, "take part in this ticket") {
		t.Errorf("ticket footer on an account mail")
	}
}

func TestAccountMailEscaping(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range AccountEvents() {
		d := fixture(ev, LangPTBR)
		d.To = []Address{{Name: "<b>Ana</b> & \"Bia\"\r\nBcc: x@evil.example", Email: "ana@cliente.example.org"}}
		d.Brand.CompanyName = `Ótica <script>alert(1)</script>`
		d.ClientAgent = "Mozilla/5.0 visit https://evil.example/reset now <img src=x>"
		m := compose(t, c, d)
		p := parseBack(t, m.Raw)
		if strings.Contains(p.html, "<b>Ana") || strings.Contains(p.html, "<script>") || strings.Contains(p.html, "<img src=x>") {
			t.Errorf("%s: unescaped user text in html", ev)
		}
		if strings.Contains(p.text, "evil.example/reset") || strings.Contains(p.html, "evil.example/reset") {
			t.Errorf("%s: raw User-Agent copied into the mail", ev)
		}
		if p.header.Get("Bcc") != "" || strings.Contains(string(m.Raw), "\r\nBcc:") {
			t.Errorf("%s: header injection through the name", ev)
		}
	}
}

func TestValidFor(t *testing.T) {
	for _, c := range []struct {
		d      time.Duration
		pt, en string
	}{
		{24*time.Hour - time.Second, "24 horas", "24 hours"},
		{2 * time.Hour, "2 horas", "2 hours"},
		{time.Hour, "1 hora", "1 hour"},
		{10*time.Minute + 20*time.Second, "10 minutos", "10 minutes"},
		{90 * time.Minute, "90 minutos", "90 minutes"},
		{7 * 24 * time.Hour, "7 dias", "7 days"},
		{0, "", ""},
		{-time.Hour, "", ""},
	} {
		if got := validFor(LangPTBR, c.d); got != c.pt {
			t.Errorf("validFor(pt-BR, %v) = %q, want %q", c.d, got, c.pt)
		}
		if got := validFor(LangEN, c.d); got != c.en {
			t.Errorf("validFor(en, %v) = %q, want %q", c.d, got, c.en)
		}
	}
}

func TestBrowserOf(t *testing.T) {
	for _, c := range []struct{ ua, want string }{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on Windows"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on Windows"},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Linux"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36", "Chrome on Android"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Safari on iOS"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Safari on macOS"},
		{"curl/8.5.0", "an unknown browser"},
		{"Windows https://evil.example", "a browser on Windows"},
		{"", ""},
	} {
		if got := browserOf(LangEN, c.ua); got != c.want {
			t.Errorf("browserOf(%q) = %q, want %q", c.ua, got, c.want)
		}
	}
	if got := browserOf(LangPTBR, "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"); got != "Firefox em Linux" {
		t.Errorf("pt-BR: %q", got)
	}
}

func TestBrandedLogoNonASCII(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	logo, err := os.ReadFile("testdata/logo.png")
	if err != nil {
		t.Fatal(err)
	}
	d := fixture(EventCommented, LangPTBR)
	d.From.Name = "Ótica São João"
	d.TicketSubject = "Impressora não imprime — urgente"
	d.Brand = Brand{CompanyName: "Ótica São João", Primary: "#b91c1c", Logo: logo, LogoType: "image/png"}
	d.MessageID = "golden.branded@desk.example.com"
	m := compose(t, c, d)
	checkGolden(t, "commented-pt-BR-logo-nonascii", m.Raw)
	p := parseBack(t, m.Raw)

	want := []string{"multipart/related", "  multipart/alternative", "    text/plain", "    text/html", "  image/png"}
	if strings.Join(p.tree, "|") != strings.Join(want, "|") {
		t.Fatalf("structure %q, want %q", p.tree, want)
	}
	if _, params, _ := p.header.ContentType(); params["type"] != "multipart/alternative" {
		t.Errorf("multipart/related without type=multipart/alternative: %v", params)
	}
	if p.imageCID == "" || !strings.Contains(p.html, `src="cid:`+p.imageCID+`"`) {
		t.Errorf("html does not reference the image Content-ID %q", p.imageCID)
	}
	if !strings.Contains(p.html, `alt="Ótica São João"`) {
		t.Errorf("logo without alt text")
	}
	if !bytes.Equal(p.imageBytes, logo) || p.imageType != "image/png" {
		t.Errorf("image part: %s, %d bytes", p.imageType, len(p.imageBytes))
	}
	subj, _ := p.header.Subject()
	if subj != "[#1042] Impressora não imprime — urgente" {
		t.Errorf("Subject decodes to %q", subj)
	}
	if raw := p.header.Get("Subject"); !strings.HasPrefix(raw, "[#1042] ") || !strings.Contains(raw, "=?utf-8?") {
		t.Errorf("raw Subject %q: want the ASCII tag in clear first, then encoded words", raw)
	}
	from, _ := p.header.AddressList("From")
	if len(from) != 1 || from[0].Name != "Ótica São João" {
		t.Errorf("From %v", from)
	}
	if !strings.Contains(string(m.Raw), "From: =?utf-8?") {
		t.Errorf("non-ASCII From name not RFC 2047 encoded")
	}
}

func TestCommentEscaping(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	d := fixture(EventCommented, LangEN)
	d.CommentHTML = ""
	d.CommentText = "<script>alert(1)</script>\nsecond line"
	d.ActorName = `<img src=x onerror="alert(2)">`
	d.TicketSubject = `"><b>bold</b>`
	p := parseBack(t, compose(t, c, d).Raw)
	if strings.Contains(p.html, "<script>") || strings.Contains(p.html, "<img src=x") || strings.Contains(p.html, "<b>bold") {
		t.Errorf("user input reached the HTML unescaped:\n%s", p.html)
	}
	if !strings.Contains(p.html, "&lt;script&gt;alert(1)&lt;/script&gt;<br>") {
		t.Errorf("escaped comment missing from the HTML:\n%s", p.html)
	}
	if !strings.Contains(p.text, "<script>alert(1)</script>\nsecond line") {
		t.Errorf("text part should carry the comment verbatim:\n%s", p.text)
	}
	d.TicketURL = "javascript:alert(3)"
	p = parseBack(t, compose(t, c, d).Raw)
	if strings.Contains(p.html, "javascript:") {
		t.Errorf("javascript: URL reached an href")
	}
}

func TestHeaderInjection(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	d := fixture(EventCommented, LangPTBR)
	d.TicketSubject = "Oi\r\nBcc: victim@example.net"
	d.To[0].Name = "Maria\r\nBcc: x@example.net"
	d.LoopValue = "host\r\nBcc: y@example.net"
	m := compose(t, c, d)
	p := parseBack(t, m.Raw)
	if p.header.Has("Bcc") {
		t.Fatalf("a Bcc header was injected:\n%s", m.Raw)
	}
	if m.Subject != "[#1042] Oi Bcc: victim@example.net" {
		t.Errorf("Subject %q", m.Subject)
	}
}

func TestReferences(t *testing.T) {
	var refs []string
	for i := range 40 {
		refs = append(refs, "id"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@x.example")
	}
	refs = append(refs, "<IDAA@X.EXAMPLE>", "bad id", "")
	got := references(refs, "parent@x.example")
	if len(got) != maxReferences {
		t.Fatalf("%d references, want %d", len(got), maxReferences)
	}
	if got[0] != "idaa@x.example" || got[len(got)-1] != "parent@x.example" || got[len(got)-2] != refs[39] {
		t.Errorf("want root first, newest last: %q", got)
	}
	if got := references([]string{"a@x", "b@x"}, "b@x"); strings.Join(got, " ") != "a@x b@x" {
		t.Errorf("duplicate In-Reply-To: %q", got)
	}
}

func TestComposeGeneratesMessageID(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	d := fixture(EventCreated, LangPTBR)
	d.MessageID, d.Date = "", time.Time{}
	a, b := compose(t, c, d), compose(t, c, d)
	if a.MessageID == b.MessageID || !strings.HasSuffix(a.MessageID, "@desk.example.com") || strings.ContainsAny(a.MessageID, "<>") {
		t.Errorf("generated ids %q, %q", a.MessageID, b.MessageID)
	}
	h := parseBack(t, a.Raw).header
	if id, _ := h.MessageID(); id != a.MessageID {
		t.Errorf("header id %q, Message.MessageID %q", id, a.MessageID)
	}
	if date, _ := h.Date(); time.Since(date) > time.Minute {
		t.Errorf("Date %v, want now", date)
	}
}

func TestComposeErrors(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*Data){
		"unknown event":  func(d *Data) { d.Event = "nope" },
		"no recipients":  func(d *Data) { d.To = nil },
		"bad from":       func(d *Data) { d.From.Email = "not an address" },
		"bad to":         func(d *Data) { d.To[0].Email = "x@" },
		"auto-submitted": func(d *Data) { d.AutoSubmitted = "yes" },
		"message-id":     func(d *Data) { d.MessageID = "no-domain" },
	} {
		d := fixture(EventCommented, LangPTBR)
		mutate(&d)
		if _, err := c.Compose(d, nil); err == nil {
			t.Errorf("%s: Compose succeeded", name)
		}
	}
}

func TestOverride(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	d := fixture(EventCommented, LangPTBR)
	o := &Template{Subject: "Novidade no seu chamado: {{.TicketSubject}}", Text: "Comentário de {{.ActorName}}:\n{{.Comment}}\n"}
	m, err := c.Compose(d, o)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "[#1042] Novidade no seu chamado: Impressora não imprime" {
		t.Errorf("Subject %q: the tag must come first even when a template omits it", m.Subject)
	}
	p := parseBack(t, m.Raw)
	if !strings.HasPrefix(p.text, "Comentário de João Lima:\nOlá Maria") {
		t.Errorf("override text not used:\n%s", p.text)
	}
	// One text source: the HTML part says what the admin wrote, in the
	// branded frame, and nothing of the default's wording.
	if !strings.Contains(p.html, `<p style="margin:0 0 16px 0;">Comentário de João Lima:<br>`) || !strings.Contains(p.html, "spooler") {
		t.Errorf("HTML part is not the override's text:\n%s", p.html)
	}
	if strings.Contains(p.html, "adicionou") || strings.Contains(p.html, "Responda a este e-mail para responder") {
		t.Errorf("HTML part keeps the default wording:\n%s", p.html)
	}
	if !strings.Contains(p.html, "Ver chamado #1042") || !strings.Contains(p.html, "JC Informática &middot; Chamado [#1042]") {
		t.Errorf("HTML part lost the branded frame:\n%s", p.html)
	}
}

// TestOverrideTextEscapedAndLinked: the text of a text-only template is
// escaped in the HTML part, its links clickable.
func TestOverrideTextEscapedAndLinked(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	d := fixture(EventCreated, LangEN)
	m, err := c.Compose(d, &Template{Text: "Hello <b>{{.RecipientName}}</b> & co\n\nSee https://status.example.com/x?a=1&b=2 now.\n"})
	if err != nil {
		t.Fatal(err)
	}
	p := parseBack(t, m.Raw)
	for _, want := range []string{
		`<p style="margin:0 0 16px 0;">Hello &lt;b&gt;Maria Souza&lt;/b&gt; &amp; co</p>`,
		`<a href="https://status.example.com/x?a=1&amp;b=2" target="_blank">https://status.example.com/x?a=1&amp;b=2</a> now.`,
	} {
		if !strings.Contains(p.html, want) {
			t.Errorf("HTML part lacks %s:\n%s", want, p.html)
		}
	}
}

// TestBrokenOverrideFallsBack: an override that fails at send time (valid
// when set, it meets data it did not expect) gives the default mail and
// says why, instead of an error that would abort the ticket change.
func TestBrokenOverrideFallsBack(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	d := fixture(EventCommented, LangPTBR)
	def, err := c.Compose(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, o := range map[string]*Template{
		"exec":  {Text: "{{.Nope}}"},
		"parse": {Subject: "{{.TicketSubject"},
		"html":  {HTML: "{{template \"nope\" .}}"},
	} {
		m, err := c.Compose(d, o)
		if err != nil {
			t.Errorf("%s: Compose: %v, want the default mail", name, err)
			continue
		}
		if !errors.Is(m.TemplateErr, ErrTemplate) {
			t.Errorf("%s: TemplateErr %v, want ErrTemplate", name, m.TemplateErr)
		}
		if m.Subject != def.Subject || parseBack(t, m.Raw).text != parseBack(t, def.Raw).text {
			t.Errorf("%s: not the default mail: %q", name, m.Subject)
		}
	}
	if m, err := c.Compose(d, nil); err != nil || m.TemplateErr != nil {
		t.Errorf("default: %v %v", err, m.TemplateErr)
	}
}

func TestValidate(t *testing.T) {
	for _, ev := range Events() {
		for _, lang := range []string{LangPTBR, LangEN} {
			tpl, ok := DefaultTemplate(ev, lang)
			if !ok {
				t.Fatalf("no default for %s/%s", ev, lang)
			}
			if err := Validate(tpl); err != nil {
				t.Errorf("default %s/%s: %v", ev, lang, err)
			}
		}
	}
	if _, ok := DefaultTemplate("nope", LangEN); ok {
		t.Errorf("DefaultTemplate of an unknown event")
	}
	for name, tpl := range map[string]Template{
		"subject syntax": {Subject: "{{.TicketSubject"},
		"text syntax":    {Text: "{{if .Tag}}x"},
		"html syntax":    {HTML: "<p>{{end}}</p>"},
		"unknown field":  {Text: "Olá {{.Requester.Name}}"},
		"unknown html":   {HTML: "<p>{{.Nope}}</p>"},
		"unknown func":   {Subject: "{{upper .Tag}}"},
		"bad partial":    {HTML: `{{template "nope" .}}`},
	} {
		if err := Validate(tpl); !errors.Is(err, ErrTemplate) {
			t.Errorf("%s: Validate = %v, want ErrTemplate", name, err)
		}
	}
	if err := Validate(Template{HTML: `<p>{{.ActorName}}: {{template "comment" .}}</p>`}); err != nil {
		t.Errorf("valid partial override: %v", err)
	}
}

// Composer is shared by the outbox workers: run with -race.
func TestComposeConcurrent(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	o := &Template{HTML: `<p>{{.ActorName}}</p>{{template "comment" .}}`}
	done := make(chan error)
	for i := range 4 {
		go func() {
			var err error
			for j := 0; j < 20 && err == nil; j++ {
				d := fixture(Events()[(i+j)%len(Events())], LangEN)
				d.MessageID = ""
				var over *Template
				if j%2 == 0 {
					over = o
				}
				_, err = c.Compose(d, over)
			}
			done <- err
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestValidateAccountOverride: an override of an account mail may use the
// account fields and partials; a field that does not exist is refused.
func TestValidateAccountOverride(t *testing.T) {
	ok := Template{Subject: "Acesso – {{.Company}}", Text: "{{.ActionURL}} {{.Code}} {{.ValidFor}} {{.ExpiresAt}} {{.Browser}} {{.ClientIP}} {{.ForgotURL}}",
		HTML: `<p>{{.RecipientName}}</p>{{template "code" .}}{{template "device" .}}`}
	if err := Validate(ok); err != nil {
		t.Errorf("Validate(account override): %v", err)
	}
	if err := Validate(Template{Text: "{{.Token}}"}); !errors.Is(err, ErrTemplate) {
		t.Errorf("Validate({{.Token}}) = %v, want ErrTemplate", err)
	}
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	d := fixture(EventReset, LangPTBR)
	m, err := c.Compose(d, &ok)
	if err != nil || m.TemplateErr != nil {
		t.Fatalf("Compose with override: %v %v", err, m.TemplateErr)
	}
	p := parseBack(t, m.Raw)
	if !strings.Contains(p.text, d.ActionURL+" ") || !strings.Contains(p.html, `href="`+d.ActionURL+`"`) {
		t.Errorf("override lost the link or the frame's button:\n%s", p.html)
	}
}
