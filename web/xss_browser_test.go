package web_test

// A ticket opened by mail whose HTML, subject and sender name carry every
// usual way to run script, rendered in Chromium for the technician and
// for the requester: no payload may run, in the page or in a mail frame.
// Each payload would set a flag (window.__xss, a data-xss attribute, a
// message to the top page) if it ever ran; a listener installed before
// the page's own scripts records the CSP violations, which are reported:
// a blocked attempt is fine, execution is not.

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/jcservicedesk/servicedesk/mailbox/parse"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// xssRun is what every payload runs: it leaves a trace in its own frame
// (readable from an isolated world too) and in the top page, which
// hears the message even across origins.
const xssRun = `window.__xss=1;document.documentElement.setAttribute('data-xss','1');try{top.__xss=1}catch(e){};top.postMessage('__xss','*')`

// xssHTML is the mail's HTML: scripts, handlers, javascript: and data:
// links, style tricks, frames, SVG and the classic parser confusions.
var xssHTML = `<p id="canary">Bom dia, a impressora travou de novo.</p>
<script>` + xssRun + `</script>
<img src="x" onerror="` + xssRun + `">
<body onload="` + xssRun + `">
<a id="js-link" href="javascript:` + xssRun + `">clique aqui</a>
<a id="js-link2" href=" JaVaScRiPt:` + xssRun + `">outro</a>
<a id="data-link" href="data:text/html;base64,PHNjcmlwdD50b3AuX194c3M9MTwvc2NyaXB0Pg==">dados</a>
<a href="vbscript:msgbox(1)">vb</a>
<style>@import url("javascript:` + xssRun + `"); body{background:url("javascript:` + xssRun + `")} #canary::after{content:"";background:url(x)}</style>
<div style="background-image:url('javascript:` + xssRun + `');width:expression(alert(1))">estilo</div>
<iframe src="javascript:` + xssRun + `"></iframe>
<iframe srcdoc="<script>` + strings.ReplaceAll(xssRun, "'", "&#39;") + `</script>"></iframe>
<svg onload="` + xssRun + `"><circle r="5"/><a href="javascript:` + xssRun + `"><text y="20">svg</text></a></svg>
<math><mtext><table><mglyph><style><img src=x onerror="` + xssRun + `">
<noscript><p title="</noscript><img src=x onerror=` + xssRun + `>">
<form action="javascript:` + xssRun + `"><button formaction="javascript:` + xssRun + `">enviar</button></form>
<input autofocus onfocus="` + xssRun + `"><details open ontoggle="` + xssRun + `"><summary>x</summary></details>
<object data="javascript:` + xssRun + `"></object><embed src="javascript:` + xssRun + `">
<meta http-equiv="refresh" content="0;url=javascript:` + xssRun + `">
<base href="javascript:` + xssRun + `//">
<blockquote>citado <img src=x onerror="` + xssRun + `"></blockquote>`

// xssWatch runs in every new document before its own scripts: the top
// page's record of CSP violations, of payload messages, and of which
// mail frames have loaded.
const xssWatch = `if (window === top) {
  window.__csp = []; window.__xssMsgs = [];
  document.addEventListener("securitypolicyviolation", e => window.__csp.push(
    [e.violatedDirective, e.blockedURI, (e.sample || "").slice(0, 60), e.sourceFile].join(" | ")), true);
  window.addEventListener("message", e => window.__xssMsgs.push(String(e.data)));
  document.addEventListener("load", e => { if (e.target.tagName === "IFRAME") e.target.dataset.loaded = "1"; }, true);
}`

func TestBrowserXSS(t *testing.T) {
	browserPaths(t)
	st := storetest.Open(t, store.SQLite)
	p := startPortal(t, st)
	ctx := context.Background()
	co := p.company("Cliente Exemplo", "cliente.example")
	const email = "ze@cliente.example"
	evilName := `Zé <img src=x onerror="` + xssRun + `"><script>` + xssRun + `</script>`
	ze := p.user(co, email, evilName)
	tech := p.staffUser("teo@helpdesk.example", "Téo Técnico")
	subject := `Impressora <script>` + xssRun + `</script><svg onload="` + xssRun + `">`
	// The ticket as the mail intake stores it: the HTML through the
	// intake's sanitizer, the text part as it came.
	tk, err := p.svc.Create(ctx, ze, ticketing.CreateInput{Requester: ze, Subject: subject, Source: store.SourceEmail,
		Body: parse.HTMLToText(xssHTML), BodyHTML: parse.SanitizeHTML(xssHTML, false)})
	if err != nil {
		t.Fatal(err)
	}
	// A reply by mail whose HTML skipped the sanitizer: the sandbox and
	// the frame's CSP alone must hold (defence in depth).
	if _, err := p.svc.Comment(ctx, ze, tk.Number, ticketing.CommentInput{Body: "resposta " + xssHTML, BodyHTML: xssHTML, Source: store.SourceEmail}); err != nil {
		t.Fatal(err)
	}
	path := "/tickets/" + itoa(tk.Number)

	for _, who := range []struct {
		name, email string
		staff       bool
	}{{"requester", email, false}, {"tech", tech.Email, true}} {
		t.Run(who.name, func(t *testing.T) {
			b := newBrowser(t, p.base)
			b.watchXSS()
			b.login(who.email, testPassword)
			if !who.staff {
				b.acceptPolicy()
			}
			b.open(path)
			// The subject and the name show as text.
			b.waitText("h1", "<script>")
			b.waitText(".ticket-side", `Zé <img src=x onerror=`)
			b.loadMailFrames()
			b.noXSS("ticket page")
			b.checkMailFrames()
			b.page("xss-ticket-"+who.name, true)
			b.noXSS("ticket page, after the shots")

			// The lists that show the subject and the name.
			if who.staff {
				b.open("/tickets/")
				b.waitText(".staff-queue", "<script>")
				b.noXSS("queue")
				b.open("/search?q=impressora")
				b.waitText(".staff-hits", "<script>")
				b.noXSS("search")
				b.page("xss-search", false)
				b.open("/dashboard")
				b.noXSS("dashboard")
			} else {
				b.open("/tickets")
				b.waitText("main", "<script>")
				b.noXSS("my tickets")
				b.page("xss-requester-tickets", false)
			}
		})
	}

	// The quarantine shows a held raw mail to staff, as text.
	t.Run("quarantine", func(t *testing.T) {
		raw := "From: " + evilName + " <" + email + ">\r\nTo: support@localhost\r\nSubject: " + subject + "\r\n" +
			"Message-ID: <xss1@cliente.example>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + xssHTML + "\r\n"
		held := &store.Quarantined{Reason: "test_reason", Source: "smtp", Envelope: `{"source":"smtp","mail_from":"` + email + `"}`,
			ContentHash: "xss1", FromAddr: email, Subject: subject, RawSize: int64(len(raw)), RawGz: store.Gzip([]byte(raw))}
		if err := st.InTx(ctx, func(q *store.Q) error { return q.Quarantine(ctx, held) }); err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t, p.base)
		b.watchXSS()
		b.login(p.admin.Email, p.adminPassword)
		b.open("/admin/quarantine")
		b.waitText("main", "<script>")
		b.noXSS("quarantine list")
		b.page("quarantine", true)
		b.open("/admin/quarantine/" + itoa(held.ID))
		b.waitText("main", "onerror")
		b.noXSS("quarantined mail")
		b.page("quarantine-show", true)
	})
}

// watchXSS installs xssWatch for every page this tab opens from now on.
func (b *browser) watchXSS() {
	b.t.Helper()
	b.run("install the XSS watch", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: xssWatch})
		return err
	}))
}

// loadMailFrames opens the quoted-text toggles and waits until every mail
// frame has loaded (they load lazily), so a payload had its chance to run.
func (b *browser) loadMailFrames() {
	b.t.Helper()
	b.run("mail frames", chromedp.WaitVisible(chromedp.CSS("iframe.mail-frame")))
	value(b, "open the quoted text", chromedp.Evaluate[int](`(() => {
		const ds = [...document.querySelectorAll("details.quoted")];
		ds.forEach(d => d.open = true);
		document.querySelectorAll("iframe.mail-frame").forEach(f => f.loading = "eager");
		return ds.length; })()`))
	value(b, "mail frames loaded", chromedp.Poll[bool](`(() => {
		const fs = [...document.querySelectorAll("iframe.mail-frame")];
		fs.forEach(f => { if (!f.dataset.loaded) f.scrollIntoView(); });
		return fs.length > 0 && fs.every(f => f.dataset.loaded === "1"); })()`, chromedp.WithPollingInterval(100*time.Millisecond)))
}

// noXSS fails if any payload ran in the top page or told it so.
func (b *browser) noXSS(where string) {
	b.t.Helper()
	got := value(b, "xss flags", chromedp.Evaluate[string](`JSON.stringify({flag: window.__xss || 0, csp: window.__csp || [],
		attr: document.documentElement.getAttribute("data-xss"), msgs: window.__xssMsgs || null,
		jsLinks: [...document.querySelectorAll("[href],[src],[action],[formaction]")].map(e =>
			e.getAttribute("href") || e.getAttribute("src") || e.getAttribute("action") || e.getAttribute("formaction"))
			.filter(u => /^\s*(javascript|vbscript|data:text)/i.test(u)).length})`))
	var res struct {
		Flag    int      `json:"flag"`
		CSP     []string `json:"csp"`
		Attr    *string  `json:"attr"`
		Msgs    []string `json:"msgs"`
		JSLinks int      `json:"jsLinks"`
	}
	if err := json.Unmarshal([]byte(got), &res); err != nil {
		b.t.Fatalf("xss flags: %v (%s)", err, got)
	}
	if res.Msgs == nil {
		b.t.Fatalf("%s: the XSS watch is not installed", where)
	}
	// Violations are fine (a blocked attempt); report them.
	b.t.Logf("%s (%s): %d CSP violations recorded", where, b.path(), len(res.CSP))
	for _, v := range res.CSP {
		b.t.Logf("  CSP: %s", v)
	}
	if res.Flag != 0 || res.Attr != nil || len(res.Msgs) > 0 {
		b.failShot("xss " + where)
		b.t.Errorf("%s: a payload ran: %s", where, got)
	}
	if res.JSLinks > 0 {
		b.t.Errorf("%s: %d javascript:/data: links or sources in the page", where, res.JSLinks)
	}
}

// checkMailFrames checks each mail frame from the top page (its sandbox
// and its CSP) and from inside, through an isolated world: the content
// is there, no payload ran, and no link or form there is javascript:.
func (b *browser) checkMailFrames() {
	b.t.Helper()
	frames := value(b, "frame attributes", chromedp.Evaluate[[]string](`[...document.querySelectorAll("iframe")].map(f =>
		[f.getAttribute("sandbox"), f.srcdoc.includes("Content-Security-Policy") && f.srcdoc.includes("default-src 'none'")].join(" | "))`))
	for _, f := range frames {
		sandbox, csp, _ := strings.Cut(f, " | ")
		if strings.Contains(sandbox, "allow-scripts") || strings.Contains(sandbox, "allow-same-origin") || csp != "true" {
			b.t.Errorf("a frame without a strict sandbox or its CSP: sandbox=%q csp=%s", sandbox, csp)
		}
	}
	// The mail frames are sandboxed, so Chromium runs them out of the
	// page's process: each is a target of its own, reached by attaching.
	targets, err := chromedp.Targets(b.ctx)
	if err != nil {
		b.t.Fatalf("targets: %v", err)
	}
	seen := map[bool]bool{} // raw or sanitized, with the mail's text
	for _, tg := range targets {
		if tg.Type != "iframe" {
			continue
		}
		fctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(tg.TargetID), chromedp.WithDetachOnCancel())
		sctx, stop := context.WithTimeout(fctx, stepTimeout)
		// A frame whose HTML skipped the sanitizer still has its
		// javascript: links: click them all, then look for traces.
		inside, err := chromedp.Run(sctx, chromedp.Evaluate[string](`[...document.querySelectorAll("a[href]")].filter(a => /^(javascript|vbscript):/i.test(a.protocol)).forEach(a => a.click()),
			JSON.stringify({url: location.href, flag: window.__xss || 0, raw: !!document.querySelector("script"),
			canary: !!document.getElementById("canary"), attr: document.documentElement.getAttribute("data-xss"),
			jsLinks: [...document.querySelectorAll("[href],[src],[action],[formaction],[data]")].map(e =>
				e.getAttribute("href") || e.getAttribute("src") || e.getAttribute("action") || e.getAttribute("formaction") || e.getAttribute("data"))
				.filter(u => /^\s*(javascript|vbscript):/i.test(u)).length,
			clickable: [...document.links].filter(a => /^(javascript|vbscript|data):/i.test(a.protocol)).length})`))
		stop()
		cancel()
		if err != nil {
			b.t.Logf("frame %s: not reachable: %v", tg.URL, err)
			continue
		}
		b.t.Logf("inside the frame: %s", inside)
		var res struct {
			URL       string  `json:"url"`
			Raw       bool    `json:"raw"` // the unsanitized reply
			Flag      int     `json:"flag"`
			Canary    bool    `json:"canary"`
			Attr      *string `json:"attr"`
			JSLinks   int     `json:"jsLinks"`
			Clickable int     `json:"clickable"`
		}
		if err := json.Unmarshal([]byte(inside), &res); err != nil {
			b.t.Fatalf("frame check: %v (%s)", err, inside)
		}
		if res.Flag != 0 || res.Attr != nil {
			b.t.Errorf("a payload ran inside a mail frame: %s", inside)
		}
		if !res.Raw && (res.JSLinks > 0 || res.Clickable > 0) {
			b.t.Errorf("the sanitized mail keeps javascript: links: %s", inside)
		}
		if res.Canary {
			seen[res.Raw] = true
		}
	}
	if !seen[true] || !seen[false] {
		b.t.Errorf("the sanitized and the raw mail frames were not both checked from inside (%v)", seen)
	}
}
