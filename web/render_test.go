package web

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

func TestTemplateFailureStopsNew(t *testing.T) {
	w := newWorld(t, storetest.Open(t, store.SQLite))
	layout, _ := templateFS.ReadFile("templates/layout.html")
	partials, _ := templateFS.ReadFile("templates/partials.html")
	errPage, _ := templateFS.ReadFile("templates/error.html")
	good := func() fstest.MapFS {
		return fstest.MapFS{
			"templates/layout.html":   {Data: layout},
			"templates/partials.html": {Data: partials},
			"templates/error.html":    {Data: errPage},
		}
	}
	if _, err := w.srv.parseTemplates(good()); err != nil {
		t.Fatalf("good set: %v", err)
	}
	for name, page := range map[string]string{
		"syntax":       `{{define "title"}}x{{end}}{{define "main"}}{{if}}{{end}}`,
		"unknown func": `{{define "title"}}x{{end}}{{define "main"}}{{nosuch}}{{end}}`,
		"no main":      `{{define "title"}}x{{end}}`,
		"bad escaping": `{{define "title"}}x{{end}}{{define "main"}}<a href="{{.R.ID}}{{end}}`,
	} {
		fsys := good()
		fsys["templates/broken.html"] = &fstest.MapFile{Data: []byte(page)}
		if _, err := w.srv.parseTemplates(fsys); err == nil || !strings.Contains(err.Error(), "broken") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestStatic(t *testing.T) {
	w := newWorld(t, storetest.Open(t, store.SQLite))
	home := w.get("/")
	css := regexp.MustCompile(`href="(/static/[0-9a-f]{12}/app\.css)"`).FindStringSubmatch(home.Body)
	if css == nil {
		t.Fatalf("no hashed app.css link in\n%s", home.Body)
	}
	res := w.get(css[1])
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
		!strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") || !strings.Contains(res.Body, "--surface") {
		t.Fatalf("hashed css: %d %v", res.StatusCode, res.Header)
	}
	if res := w.get("/static/app.css"); res.StatusCode != 200 || res.Header.Get("Cache-Control") != "public, max-age=300" {
		t.Fatalf("plain css: %d %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	if res := w.get("/static/000000000000/app.css"); res.StatusCode != 200 || strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("old hash: %d %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	if res := w.get("/static/nope.css"); res.StatusCode != 404 {
		t.Fatalf("missing file: %d", res.StatusCode)
	}
	r := httptest.NewRequest("GET", css[1], nil)
	r.Header.Set("If-None-Match", res.Header.Get("ETag"))
	r.Header.Set("If-None-Match", `"`+w.srv.static.files["app.css"].hash+`"`)
	if res := w.do(r); res.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", res.StatusCode)
	}
	// The hash is the file's content.
	if !strings.Contains(css[1], w.srv.static.files["app.css"].hash) {
		t.Fatal("hash mismatch")
	}
	for _, name := range []string{"app.js", "favicon.svg"} {
		if !strings.Contains(home.Body, w.srv.static.url(name)) {
			t.Errorf("page does not use %s", w.srv.static.url(name))
		}
	}
}

func TestGzip(t *testing.T) {
	w := newWorld(t, storetest.Open(t, store.SQLite))
	plain := w.get("/")
	if plain.Header.Get("Content-Encoding") != "" {
		t.Fatal("gzip without Accept-Encoding")
	}
	for _, path := range []string{"/", "/static/app.css", "/missing"} {
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("Accept-Encoding", "br, gzip")
		res := w.do(r)
		if res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
			t.Fatalf("%s: %v", path, res.Header)
		}
		zr, err := gzip.NewReader(strings.NewReader(res.Body))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: gunzip: %v", path, err)
		}
	}
	// Not for what does not compress, nor when refused.
	r := httptest.NewRequest("GET", "/favicon.ico", nil)
	r.Header.Set("Accept-Encoding", "gzip;q=0")
	if res := w.do(r); res.Header.Get("Content-Encoding") != "" {
		t.Fatal("gzip with q=0")
	}
	h := gzipHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", r.URL.Query().Get("type"))
		_, _ = w.Write(bytes.Repeat([]byte("data: x\n\n"), 100))
	}))
	for ctype, want := range map[string]string{"text/event-stream": "", "image/png": "", "application/json": "gzip"} {
		r := httptest.NewRequest("GET", "/?type="+ctype, nil)
		r.Header.Set("Accept-Encoding", "gzip")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if got := rec.Header().Get("Content-Encoding"); got != want {
			t.Errorf("%s: Content-Encoding %q, want %q", ctype, got, want)
		}
	}
}

func TestPanicIs500WithID(t *testing.T) {
	w := newWorld(t, storetest.Open(t, store.SQLite))
	mux := http.NewServeMux()
	w.srv.handle(mux, "GET /boom", public, func(http.ResponseWriter, *http.Request) error { panic("kaboom") })
	w.srv.handle(mux, "GET /fail", public, func(http.ResponseWriter, *http.Request) error {
		return errors.New("database password is hunter2")
	})
	h := w.srv.middleware(mux)
	for _, path := range []string{"/boom", "/fail"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		id := rec.Header().Get("X-Request-Id")
		body := rec.Body.String()
		if rec.Code != 500 || id == "" || !strings.Contains(body, id) || !strings.Contains(body, "Erro interno") {
			t.Fatalf("%s: %d id %q\n%s", path, rec.Code, id, body)
		}
		if strings.Contains(body, "kaboom") || strings.Contains(body, "hunter2") {
			t.Fatalf("%s: the page shows the error", path)
		}
		if !strings.Contains(w.logs.String(), "request_id="+id) {
			t.Fatalf("%s: not logged with its id:\n%s", path, w.logs.String())
		}
	}
	if !strings.Contains(w.logs.String(), "kaboom") || !strings.Contains(w.logs.String(), "goroutine") {
		t.Fatalf("panic logged without its stack:\n%s", w.logs.String())
	}
}

func TestAccessLogHidesSecrets(t *testing.T) {
	w := newWorld(t, storetest.Open(t, store.SQLite))
	r := httptest.NewRequest("GET", "/reset/SECRETTOKEN?next=/x&token=SECRET2", nil)
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: "SECRETCOOKIE"})
	w.do(r)
	log := w.logs.String()
	for _, secret := range []string{"SECRETTOKEN", "SECRET2", "SECRETCOOKIE"} {
		if strings.Contains(log, secret) {
			t.Errorf("access log shows %s:\n%s", secret, log)
		}
	}
	if !strings.Contains(log, "path=/reset/…") || !strings.Contains(log, "status=200") || !strings.Contains(log, "duration=") {
		t.Errorf("access log line:\n%s", log)
	}
}

func TestFmtTime(t *testing.T) {
	w := newWorld(t, storetest.Open(t, store.SQLite))
	at := time.Date(2026, 3, 5, 18, 4, 0, 0, time.UTC) // 15:04 in São Paulo
	sp := w.srv.cfg.Location()
	for _, tc := range []struct {
		lang string
		date bool
		want string
	}{
		{"pt-BR", false, "05/03/2026 15:04"},
		{"pt-BR", true, "05/03/2026"},
		{"en", false, "Mar 5, 2026 3:04 PM"},
		{"en", true, "Mar 5, 2026"},
	} {
		if got := w.srv.fmtTime(&reqCtx{Lang: tc.lang, Loc: sp}, at, tc.date); got != tc.want {
			t.Errorf("%s date=%v: %q, want %q", tc.lang, tc.date, got, tc.want)
		}
	}
	if got := w.srv.fmtTime(&reqCtx{Lang: "pt-BR", Loc: sp}, (*time.Time)(nil), false); got != "" {
		t.Errorf("nil time: %q", got)
	}
}

// TestTemplatesUseNoInlineStyle keeps the CSP honest at the source.
func TestTemplatesUseNoInlineStyle(t *testing.T) {
	files, _ := filepath.Glob("templates/*.html")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if m := regexp.MustCompile(`(?i)\s(style|on[a-z]+)\s*=|<style`).FindString(string(b)); m != "" {
			t.Errorf("%s: %q (the CSP forbids inline style and handlers)", f, m)
		}
		for _, tag := range regexp.MustCompile(`(?i)<script[^>]*>`).FindAllString(string(b), -1) {
			if !strings.Contains(tag, `nonce="{{nonce}}"`) || !strings.Contains(tag, "src=") {
				t.Errorf("%s: %s (scripts are files loaded with the nonce)", f, tag)
			}
		}
	}
}

func TestZone(t *testing.T) {
	w := newWorld(t, storetest.Open(t, store.SQLite))
	cfgZone := w.srv.cfg.Location()
	for _, tc := range []struct {
		user, company, want string
	}{
		{"", "", cfgZone.String()},
		{"", "Europe/Lisbon", "Europe/Lisbon"},
		{"Asia/Tokyo", "Europe/Lisbon", "Asia/Tokyo"},
		{"Not/AZone", "Europe/Lisbon", "Europe/Lisbon"},
	} {
		rc := &reqCtx{User: &store.User{TimeZone: tc.user}, Company: &store.Company{TimeZone: tc.company}}
		if got := w.srv.zone(rc).String(); got != tc.want {
			t.Errorf("user %q company %q: %s, want %s", tc.user, tc.company, got, tc.want)
		}
	}
}
