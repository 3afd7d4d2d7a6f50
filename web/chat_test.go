package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// chatWorld is the portal with a requester's ticket and someone of
// another company.
type chatWorld struct {
	*world
	tk       *store.Ticket
	outsider *store.User
}

func newChatWorld(t *testing.T) *chatWorld {
	t.Helper()
	w := &chatWorld{world: newWorld(t, storetest.Open(t, store.SQLite))}
	ctx := context.Background()
	var err error
	w.tk, err = w.svc.Create(ctx, w.client, ticketing.CreateInput{Requester: w.client, Subject: "VPN caiu",
		Body: "Veja https://exemplo.com/erro. E <script>alert(1)</script>"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := w.svc.CreateCompany(ctx, w.admin, ticketing.CompanyInput{Name: "Globex", Domains: []string{"globex.example"}})
	if err != nil {
		t.Fatal(err)
	}
	w.outsider, err = w.svc.CreateUser(ctx, w.admin, ticketing.UserInput{Email: "eve@globex.example", Name: "Eve", Password: testPassword, Role: store.RoleClient, CompanyID: &other.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []*store.User{w.client, w.outsider} { // the privacy policy in force, accepted
		if need, cur, err := w.svc.NeedsConsent(ctx, u); err == nil && need {
			if _, err := w.svc.Accept(ctx, u, cur.ID, "127.0.0.1", "web"); err != nil {
				t.Fatal(err)
			}
		}
	}
	return w
}

// postAs posts form as the session of c with its CSRF token (and JSON
// wanted when json is set).
func (w *chatWorld) postAs(c *http.Cookie, path string, form url.Values, asJSON bool) resp {
	form.Set("csrf_token", w.csrf[c.Value])
	r := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if asJSON {
		r.Header.Set("Accept", "application/json")
	}
	r.AddCookie(c)
	return w.do(r)
}

func (w *chatWorld) comments(t *testing.T) []*store.Comment {
	t.Helper()
	cs, err := w.st.R().Comments(context.Background(), w.tk.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestChatPages(t *testing.T) {
	w := newChatWorld(t)
	num := strconv.FormatInt(w.tk.Number, 10)
	maria, tech, eve := w.signIn(w.client), w.signIn(w.tech), w.signIn(w.outsider)

	page := w.get("/chat", maria)
	if page.StatusCode != 200 || !strings.Contains(page.Body, `href="/chat?ticket=`+num+`"`) {
		t.Fatalf("GET /chat: %d\n%s", page.StatusCode, page.Body)
	}
	for _, want := range []string{`<a href="https://exemplo.com/erro" rel="noopener noreferrer nofollow" target="_blank">https://exemplo.com/erro</a>.`,
		`&lt;script&gt;alert(1)&lt;/script&gt;`, `data-topics="chat:` + strconv.FormatInt(w.tk.ID, 10) + `"`, `data-presence="` + num + `"`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the chat lacks %s", want)
		}
	}
	if strings.Contains(page.Body, `name="internal"`) {
		t.Error("the requester's chat offers the internal box")
	}
	if r := w.get("/chat?ticket="+num, eve); r.StatusCode != http.StatusNotFound {
		t.Errorf("another company's ticket on the chat: %d", r.StatusCode)
	}

	// Sending: CSRF, the form's redirect, the script's JSON.
	noToken := w.post("/chat/send", url.Values{"ticket": {num}, "text": {"oi"}}, maria)
	if noToken.StatusCode != http.StatusForbidden || len(w.comments(t)) != 0 {
		t.Fatalf("a send without the CSRF token: %d", noToken.StatusCode)
	}
	r := w.postAs(maria, "/chat/send", url.Values{"ticket": {num}, "text": {"Alguém aí?"}}, false)
	cs := w.comments(t)
	if r.StatusCode != http.StatusSeeOther || len(cs) != 1 || cs[0].Source != store.SourceChat ||
		r.Header.Get("Location") != "/chat?ticket="+num+"#m"+strconv.FormatInt(cs[0].ID, 10) {
		t.Fatalf("send: %d %s, %d comments", r.StatusCode, r.Header.Get("Location"), len(cs))
	}
	r = w.postAs(tech, "/chat/send", url.Values{"ticket": {num}, "text": {"Estou vendo."}}, true)
	var sent chatSent
	if err := json.Unmarshal([]byte(r.Body), &sent); err != nil || r.StatusCode != 200 || sent.Ticket != w.tk.Number || sent.Comment == 0 {
		t.Fatalf("JSON send: %d %s", r.StatusCode, r.Body)
	}

	// Internal: staff only, and never shown to the requester.
	if r := w.postAs(maria, "/chat/send", url.Values{"ticket": {num}, "text": {"segredo"}, "internal": {"1"}}, false); r.StatusCode != http.StatusNotFound {
		t.Errorf("a requester's internal message: %d", r.StatusCode)
	}
	if r := w.postAs(tech, "/chat/send", url.Values{"ticket": {num}, "text": {"nota da equipe"}, "internal": {"1"}}, false); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("staff internal message: %d", r.StatusCode)
	}
	if cs := w.comments(t); len(cs) != 3 || !cs[2].Internal {
		t.Fatalf("%d comments after the internal one", len(cs))
	}
	if strings.Contains(w.get("/chat?ticket="+num, maria).Body, "nota da equipe") {
		t.Error("the requester's chat shows the internal message")
	}
	if staffPage := w.get("/chat?ticket="+num, tech).Body; !strings.Contains(staffPage, "nota da equipe") || !strings.Contains(staffPage, `name="internal"`) {
		t.Error("the staff chat lacks the internal message or its box")
	}

	// A bad message comes back with the text and why.
	long := strings.Repeat("x", ticketing.MaxChatText+1)
	r = w.postAs(maria, "/chat/send", url.Values{"ticket": {num}, "text": {long}}, false)
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "não pôde ser enviada") || !strings.Contains(r.Body, long) {
		t.Errorf("a too long message: %d", r.StatusCode)
	}

	// No ticket: the message opens one.
	r = w.postAs(maria, "/chat/send", url.Values{"text": {"Monitor pisca"}}, false)
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/chat?ticket=") {
		t.Fatalf("a new conversation: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if opened := w.get(r.Header.Get("Location"), maria); !strings.Contains(opened.Body, "Monitor pisca") {
		t.Error("the opened ticket is not on the chat")
	}
}

func TestChatStreamAndPresenceRefusals(t *testing.T) {
	w := newChatWorld(t)
	num := strconv.FormatInt(w.tk.Number, 10)
	maria, eve := w.signIn(w.client), w.signIn(w.outsider)

	poll := w.get("/chat/poll?ticket="+num, maria)
	var ans struct {
		Events []json.RawMessage `json:"events"`
		Last   int64             `json:"last"`
	}
	if err := json.Unmarshal([]byte(poll.Body), &ans); err != nil || poll.StatusCode != 200 {
		t.Fatalf("chat poll: %d %s", poll.StatusCode, poll.Body)
	}
	for _, path := range []string{"/chat/poll?ticket=" + num, "/chat/stream?ticket=" + num, "/chat/poll", "/chat/poll?ticket=abc"} {
		if r := w.get(path, eve); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s for another company: %d", path, r.StatusCode)
		}
	}

	beat := func(c *http.Cookie, form url.Values, header bool) resp {
		r := httptest.NewRequest("POST", "/notify/presence", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Accept", "application/json")
		if header {
			r.Header.Set("X-CSRF-Token", w.csrf[c.Value])
		}
		r.AddCookie(c)
		return w.do(r)
	}
	ok := url.Values{"ticket": {num}, "tab": {"t1"}, "state": {"viewing"}}
	if r := beat(maria, ok, false); r.StatusCode != http.StatusForbidden {
		t.Errorf("a heartbeat without the CSRF header: %d", r.StatusCode)
	}
	r := beat(maria, ok, true)
	var p livePresence
	if err := json.Unmarshal([]byte(r.Body), &p); err != nil || r.StatusCode != 200 || len(p.Presence.Users) != 1 ||
		p.Presence.Users[0].Name != "Maria Silva" || p.Topic != "ticket:"+strconv.FormatInt(w.tk.ID, 10) {
		t.Fatalf("heartbeat: %d %s", r.StatusCode, r.Body)
	}
	if r := beat(eve, ok, true); r.StatusCode != http.StatusNotFound {
		t.Errorf("a heartbeat on another company's ticket: %d", r.StatusCode)
	}
	for _, bad := range []url.Values{
		{"ticket": {num}, "tab": {"t1"}, "state": {"dancing"}},
		{"ticket": {num}, "tab": {"<x>"}, "state": {"viewing"}},
		{"tab": {"t1"}, "state": {"viewing"}},
	} {
		if r := beat(maria, bad, true); r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("heartbeat %v: %d", bad, r.StatusCode)
		}
	}
	r = beat(maria, url.Values{"ticket": {num}, "tab": {"t1"}, "state": {"left"}}, true)
	if err := json.Unmarshal([]byte(r.Body), &p); err != nil || len(p.Presence.Users) != 0 {
		t.Errorf("after leaving: %s", r.Body)
	}
}

func TestLinkParts(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []textPart
	}{
		{"sem links", []textPart{{Text: "sem links"}}},
		{"veja https://a.example/x.", []textPart{{Text: "veja "}, {Text: "https://a.example/x", Href: "https://a.example/x"}, {Text: "."}}},
		{"(http://a.example/p?q=1)", []textPart{{Text: "("}, {Text: "http://a.example/p?q=1", Href: "http://a.example/p?q=1"}, {Text: ")"}}},
		{"javascript:alert(1) ftp://a.example", []textPart{{Text: "javascript:alert(1) ftp://a.example"}}},
		{"https:// vazio", []textPart{{Text: "https:// vazio"}}},
		{"<a href=https://x.example>", []textPart{{Text: "<a href="}, {Text: "https://x.example", Href: "https://x.example"}, {Text: ">"}}},
		{"HTTPS://A.EXAMPLE e https://b.example", []textPart{{Text: "HTTPS://A.EXAMPLE", Href: "HTTPS://A.EXAMPLE"}, {Text: " e "}, {Text: "https://b.example", Href: "https://b.example"}}},
	} {
		got := linkParts(c.in)
		if len(got) != len(c.want) {
			t.Errorf("%q: %+v", c.in, got)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q part %d: %+v, want %+v", c.in, i, got[i], c.want[i])
			}
		}
	}
}

// FuzzLinkParts: the parts put back together are the text, and every link
// is an http(s) address without spaces or markup characters.
func FuzzLinkParts(f *testing.F) {
	for _, s := range []string{"veja https://a.example/x.", "http://", "https://a.example/<b>", "x https://é.example/ç?"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b strings.Builder
		for _, p := range linkParts(s) {
			b.WriteString(p.Text)
			if p.Href == "" {
				continue
			}
			low := strings.ToLower(p.Href)
			if p.Href != p.Text || !(strings.HasPrefix(low, "http://") || strings.HasPrefix(low, "https://")) || strings.ContainsAny(p.Href, " \t\n<>\"") {
				t.Fatalf("bad link %q in %q", p.Href, s)
			}
		}
		if b.String() != s {
			t.Fatalf("parts of %q make %q", s, b.String())
		}
		if utf8.ValidString(s) && !utf8.ValidString(b.String()) {
			t.Fatal("the parts broke UTF-8")
		}
	})
}

// BenchmarkPresenceBeat is one heartbeat on a ticket with 20 people on it
// (the table, its copy for the broadcast and the comparison).
func BenchmarkPresenceBeat(b *testing.B) {
	st := storetest.Open(b, store.SQLite)
	p := newPresence(st, nopHub{}, time.Now, slog.New(slog.DiscardHandler))
	defer p.close()
	ctx := context.Background()
	for u := int64(1); u <= 20; u++ {
		p.local(ctx, presenceMsg{Kind: presenceBeat, Ticket: 1, User: u, Name: "Pessoa " + strconv.FormatInt(u, 10), Tab: "t", State: stateViewing})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.local(ctx, presenceMsg{Kind: presenceBeat, Ticket: 1, User: int64(i%20 + 1), Name: "Pessoa", Tab: "t", State: stateViewing})
	}
}

type nopHub struct{}

func (nopHub) Broadcast(string, string, any) {}
