package web_test

// The browser harness: a real Chromium driven through chromedp, axe-core
// injected into each page, and full-page screenshots in both themes.
// .ci/run installs both and exports their paths; elsewhere the browser
// tests skip with one line (SERVICEDESK_TEST_STRICT=1 fails instead).

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// The variables that point the tests at their peers.
const (
	envChromium = "SERVICEDESK_TEST_CHROMIUM"    // the Chromium binary (/usr/bin/chromium)
	envAxe      = "SERVICEDESK_TEST_AXE"         // axe.min.js from the axe-core npm package
	envShots    = "SERVICEDESK_TEST_SCREENSHOTS" // where screenshots go (default: a temp folder)
)

// themeCookie is the cookie the theme toggle writes ("light" or "dark").
const themeCookie = "theme"

// stepTimeout bounds one browser step. A page of this portal loads in
// milliseconds, but the test machine is shared and often loaded: only a
// step that takes longer than this is stuck.
const stepTimeout = 60 * time.Second

// Desktop and phone viewports of the screenshots.
const (
	desktopW, desktopH = 1280, 900
	phoneW, phoneH     = 360, 740
)

// browser is one Chromium with one tab, for one test.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string // http://localhost:PORT
	axe   string // the source of axe.min.js
	shots string // folder of this test's screenshots
	theme string // the theme the next shots are named after

	scriptsOff bool // noJS(true) was called
}

// browserPaths returns the Chromium binary and axe-core script, or skips.
func browserPaths(t *testing.T) (chromium, axe string) {
	t.Helper()
	chromium, axe = os.Getenv(envChromium), os.Getenv(envAxe)
	if chromium == "" || axe == "" {
		storetest.SkipOrFail(t, "browser tests need "+envChromium+" and "+envAxe+" (.ci/run sets both)")
	}
	return chromium, axe
}

// newBrowser starts Chromium for t, pointed at base. The browser stops
// when the test ends.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	chromium, axePath := browserPaths(t)
	src, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatalf("browser: read axe-core: %v", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(desktopW, desktopH),
		// Without these Chromium keeps trying to reach the network.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
		// A Brazilian browser: pt-BR is the portal's default language.
		chromedp.Flag("lang", "pt-BR"),
		chromedp.Flag("accept-lang", "pt-BR,pt"),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first call starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browser: start %s: %v", chromium, err)
	}
	shots := os.Getenv(envShots)
	if shots == "" {
		shots = t.TempDir()
	}
	shots = filepath.Join(shots, safeName(t.Name()))
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatalf("browser: screenshots folder: %v", err)
	}
	return &browser{t: t, ctx: ctx, base: strings.TrimSuffix(base, "/"), axe: string(src), shots: shots, theme: "light"}
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func safeName(s string) string { return strings.Trim(unsafeChars.ReplaceAllString(s, "-"), "-") }

// another opens a second, separate browser user in the same Chromium (a
// new browser context: its own cookies, so its own sign-in), for flows
// with several people at once. It closes with the test.
func (b *browser) another() *browser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("browser: new browser context: %v", err)
	}
	o := &browser{t: b.t, ctx: ctx, base: b.base, axe: b.axe, shots: b.shots, theme: "light"}
	o.phone(false) // a new target has no window size of its own
	return o
}

// run runs steps with a per-call timeout and fails the test on error,
// saving a screenshot of the page as it was.
func (b *browser) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := b.try(steps...); err != nil {
		b.failShot(what)
		b.t.Fatalf("browser: %s (at %s): %v", what, b.location(), err)
	}
}

// try runs steps with the per-step timeout and returns the error.
func (b *browser) try(steps ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	return chromedp.Do(ctx, steps...)
}

// value runs one action that returns a value.
func value[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.failShot(what)
		b.t.Fatalf("browser: %s (at %s): %v", what, b.location(), err)
	}
	return v
}

// location is the current URL, for messages.
func (b *browser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "?"
	}
	return loc
}

// path is the path (and query) of the current URL.
func (b *browser) path() string {
	return strings.TrimPrefix(value(b, "read location", chromedp.Location()), b.base)
}

// failShot saves what the page looked like when a step failed.
func (b *browser) failShot(what string) {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return
	}
	f := filepath.Join(b.shots, "FAILED-"+safeName(what)+".png")
	if os.WriteFile(f, png, 0o644) == nil {
		b.t.Logf("browser: the page at the failure: %s", f)
	}
}

// open loads path and waits for the page's main landmark.
func (b *browser) open(path string) {
	b.t.Helper()
	b.run("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("body")))
}

// submit clicks sel (a submit button or link) and waits for the page it
// leads to to load.
func (b *browser) submit(sel string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel))))
	if err == nil {
		err = chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS("body")))
	}
	if err != nil {
		b.failShot("submit " + sel)
		b.t.Fatalf("browser: submit %s (at %s): %v", sel, b.location(), err)
	}
}

// submitStatus is submit that returns the HTTP status of the page the
// click leads to.
func (b *browser) submitStatus(sel string) int64 {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err == nil {
		err = chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS("body")))
	}
	if err != nil {
		b.failShot("submit " + sel)
		b.t.Fatalf("browser: submit %s (at %s): %v", sel, b.location(), err)
	}
	return res.Status
}

// openStatus is open that returns the HTTP status of the page.
func (b *browser) openStatus(path string) int64 {
	b.t.Helper()
	res := value(b, "open "+path, chromedp.NavigateResponse(b.base+path))
	b.run("open "+path, chromedp.WaitReady(chromedp.CSS("body")))
	return res.Status
}

// fill sets the form fields by selector (in map order does not matter:
// each is independent), clearing what was there.
func (b *browser) fill(fields map[string]string) {
	b.t.Helper()
	var steps []chromedp.Action[chromedp.Void]
	for sel, v := range fields {
		steps = append(steps, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), v))
	}
	b.run("fill form", steps...)
}

// check ticks a checkbox or picks a radio button, with a click.
func (b *browser) check(sel string) {
	b.t.Helper()
	if value(b, "checked "+sel, chromedp.Evaluate[bool]("document.querySelector("+jsString(sel)+").checked")) {
		return
	}
	b.run("check "+sel, chromedp.Click(chromedp.CSS(sel)), chromedp.WaitReady(chromedp.CSS(sel+":checked")))
}

// text returns the visible text of the first element matching sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return value(b, "text of "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// waitText waits until the element sel shows want (a positive signal).
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.innerText.includes(%q); })()`, sel, want)
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingMutation())); err != nil {
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q)||{innerText:"(none)"}).innerText`, sel)))
		b.failShot("wait text " + want)
		b.t.Fatalf("browser: %s should show %q at %s; it shows %q (%v)", sel, want, b.location(), got, err)
	}
}

// wantPath fails unless the browser is at path (ignoring the query).
func (b *browser) wantPath(path string) {
	b.t.Helper()
	got := b.path()
	if p, _, _ := strings.Cut(got, "?"); p != path {
		b.failShot("want path " + path)
		b.t.Fatalf("browser: at %s, want %s", got, path)
	}
}

// --- accessibility ---------------------------------------------------------

// axeResult is the part of axe.run()'s answer the tests read.
type axeResult struct {
	Violations []struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		Nodes  []struct {
			Target  []any  `json:"target"`
			Summary string `json:"failureSummary"`
		} `json:"nodes"`
	} `json:"violations"`
	Passes int `json:"passes"`
}

// axe injects axe-core into the current page and runs it; any serious or
// critical violation fails the test, the rest are logged. DevTools'
// evaluate is not subject to the page's CSP, so the strict policy stays on.
func (b *browser) axeCheck(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](b.axe)); err != nil {
		b.t.Fatalf("axe: inject into %s: %v", name, err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => ({violations: r.violations, passes: r.passes.length}))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("axe: run on %s: %v", name, err)
	}
	var res axeResult
	if err := json.Unmarshal(raw, &res); err != nil {
		b.t.Fatalf("axe: result of %s: %v", name, err)
	}
	for _, v := range res.Violations {
		var targets []string
		for _, n := range v.Nodes {
			targets = append(targets, fmt.Sprint(n.Target...))
		}
		line := fmt.Sprintf("axe %s [%s, %s theme]: %s (%s): %s, on %s", name, b.path(), b.theme, v.ID, v.Impact, v.Help, strings.Join(targets, ", "))
		if len(v.Nodes) > 0 {
			// The first node's reason: the measured ratio and colours.
			line += " — " + strings.Join(strings.Fields(v.Nodes[0].Summary), " ")
		}
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Error(line)
		} else {
			b.t.Log(line)
		}
	}
}

// --- screenshots and themes ------------------------------------------------

// shot saves a full-page screenshot named after the page and theme.
func (b *browser) shot(name string) string {
	b.t.Helper()
	// From the top: a page scrolled by a click would show the sticky
	// header in the middle of the shot.
	if !b.scriptsOff {
		value(b, "scroll to the top", chromedp.Evaluate[bool](`window.scrollTo(0, 0), true`))
	}
	png := value(b, "screenshot "+name, chromedp.FullScreenshot(100))
	f := filepath.Join(b.shots, safeName(name)+"-"+b.theme+".png")
	if err := os.WriteFile(f, png, 0o644); err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	return f
}

// setTheme switches the theme with the header's toggle, as a visitor
// does (app.js sets the cookie and the page's data-theme at once, without
// a reload that would post a form again). With scripts off, or on a page
// without the toggle, it sets the same cookie and attribute through the
// protocol. The system preference follows too, for a page that reads it.
func (b *browser) setTheme(theme string) {
	b.t.Helper()
	b.theme = theme
	b.run("theme "+theme, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			// Reduced motion: the stylesheet then has no transitions, so
			// axe and the shots see the theme's final colours at once.
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: theme}, {Name: "prefers-reduced-motion", Value: "reduce"}},
		})
		return err
	}))
	toggle := `[data-theme-toggle] button[value="` + theme + `"]`
	if !b.scriptsOff && b.exists(toggle) {
		b.run("theme toggle "+theme, chromedp.Click(chromedp.CSS(toggle)),
			chromedp.WaitReady(chromedp.CSS(`html[data-theme="`+theme+`"]`)))
		b.settled()
		return
	}
	b.run("theme "+theme, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.SetCookie, network.SetCookieParams{Name: themeCookie, Value: theme, URL: b.base + "/", Path: "/"})
		return err
	}), chromedp.SetAttributeValue(chromedp.CSS("html"), "data-theme", theme))
	b.settled()
}

// settled waits until any CSS transition left (a theme change fades the
// colours) has finished, so axe and the screenshots see the final colours.
func (b *browser) settled() {
	b.t.Helper()
	if b.scriptsOff {
		return // no script runs, so nothing to ask; and nothing animates from script
	}
	value(b, "transitions end", chromedp.Evaluate[bool](`Promise.all(document.getAnimations()
		.filter(a => a instanceof CSSTransition)
		.map(a => a.finished.catch(() => null))).then(() => true)`, chromedp.EvalAwaitPromise))
}

// exists reports whether sel matches an element now.
func (b *browser) exists(sel string) bool {
	b.t.Helper()
	return value(b, "query "+sel, chromedp.Evaluate[bool]("document.querySelector("+jsString(sel)+") !== null"))
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// phone switches to a phone viewport (or back to the desktop one).
func (b *browser) phone(on bool) {
	b.t.Helper()
	if on {
		b.run("phone viewport", chromedp.EmulateViewport(phoneW, phoneH, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait))
		return
	}
	b.run("desktop viewport", chromedp.EmulateViewport(desktopW, desktopH))
}

// page checks the page the browser is on: axe in the light and the dark
// theme, a full-page screenshot of each, and with phone also a phone shot
// (light). It leaves the browser in the light theme on the same page.
func (b *browser) page(name string, phone bool) {
	b.t.Helper()
	for _, theme := range []string{"dark", "light"} {
		b.setTheme(theme)
		b.axeCheck(name)
		b.shot(name)
	}
	if phone {
		b.phone(true)
		// Nothing may widen the page past a phone's screen (the browser
		// would zoom the whole page out).
		if w := value(b, "page width", chromedp.Evaluate[int]("document.documentElement.scrollWidth")); w > phoneW {
			b.t.Errorf("%s is %d px wide on a %d px phone", name, w, phoneW)
		}
		b.theme = "phone"
		b.shot(name)
		b.theme = "light"
		b.phone(false)
	}
}

// noJS turns script execution off (or back on) for this tab.
func (b *browser) noJS(off bool) {
	b.t.Helper()
	b.scriptsOff = off
	b.run("script execution", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: off})
		return err
	}))
}
