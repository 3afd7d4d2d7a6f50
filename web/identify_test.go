package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

func TestLanguagePrecedence(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		req := func(accept string, cookies ...*http.Cookie) string {
			r := httptest.NewRequest("GET", "/missing", nil)
			if accept != "" {
				r.Header.Set("Accept-Language", accept)
			}
			for _, c := range cookies {
				r.AddCookie(c)
			}
			body := w.do(r).Body
			switch {
			case strings.Contains(body, `<html lang="en"`):
				return "en"
			case strings.Contains(body, `<html lang="pt-BR"`):
				return "pt-BR"
			}
			return "?"
		}
		en := &http.Cookie{Name: "lang", Value: "en"}
		pt := &http.Cookie{Name: "lang", Value: "pt-BR"}
		if got := req(""); got != "pt-BR" {
			t.Errorf("default: %s", got)
		}
		if got := req("en-US"); got != "en" {
			t.Errorf("Accept-Language en: %s", got)
		}
		if got := req("en-US", pt); got != "pt-BR" {
			t.Errorf("cookie over Accept-Language: %s", got)
		}
		if got := req("", en); got != "en" {
			t.Errorf("cookie: %s", got)
		}
		// The user's own language wins over the cookie and the header.
		if got := req("en", en, w.signIn(w.client)); got != "pt-BR" {
			t.Errorf("user's language: %s", got)
		}
		enDefault := newWorld(t, storetest.Open(t, store.SQLite), func(c *configs.Config) { c.UI.Language = "en" })
		if body := enDefault.get("/").Body; !strings.Contains(body, `<html lang="en"`) {
			t.Error("ui.language en is not the default")
		}
	})
}

// TestIPAllowList: a company's allow-list holds on every request of its
// people, and X-Forwarded-For counts only from a trusted proxy.
func TestIPAllowList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, func(c *configs.Config) { c.HTTP.TrustedProxies = []string{"10.0.0.1"} })
		maria := w.signIn(w.client)
		w.acme.AllowedIPs = []string{"198.51.100.0/24"}
		if err := st.InTx(context.Background(), func(q *store.Q) error { return q.UpdateCompany(context.Background(), w.acme) }); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name, remote, xff string
			status            int
		}{
			{"outside the list", "203.0.113.5:1000", "", 403},
			{"inside the list", "198.51.100.20:1000", "", 200},
			{"forged header from an untrusted peer", "203.0.113.5:1000", "198.51.100.20", 403},
			{"through the trusted proxy", "10.0.0.1:1000", "198.51.100.20", 200},
			{"through the proxy, from outside", "10.0.0.1:1000", "198.51.100.20, 203.0.113.5", 403},
		} {
			r := httptest.NewRequest("GET", "/lgpd", nil)
			r.RemoteAddr = tc.remote
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			r.AddCookie(maria)
			res := w.do(r)
			if res.StatusCode != tc.status {
				t.Errorf("%s: %d, want %d", tc.name, res.StatusCode, tc.status)
			}
			if tc.status == 403 && !strings.Contains(res.Body, "endereços autorizados") {
				t.Errorf("%s: the page does not explain the refusal", tc.name)
			}
		}
		// Staff without a company are not bound by it.
		r := httptest.NewRequest("GET", "/dashboard", nil)
		r.RemoteAddr = "203.0.113.5:1000"
		r.AddCookie(w.signIn(w.tech))
		if res := w.do(r); res.StatusCode != 200 {
			t.Errorf("staff: %d", res.StatusCode)
		}
	})
}

func TestAccessLevels(t *testing.T) {
	w := newWorld(t, storetest.Open(t, store.SQLite))
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, r *http.Request) error { _, err := w.Write([]byte("ok")); return err }
	w.srv.handle(mux, "GET /anon", anonymous, ok)
	w.srv.handle(mux, "GET /otp", pending, ok)
	w.srv.handle(mux, "GET /staff", staff, ok)
	w.srv.handle(mux, "GET /in", signedIn, ok)
	h := w.srv.middleware(mux)
	run := func(path string, c *http.Cookie) (int, string) {
		r := httptest.NewRequest("GET", path, nil)
		if c != nil {
			r.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code, rec.Header().Get("Location")
	}
	tech, maria := w.signIn(w.tech), w.signIn(w.client)
	for _, tc := range []struct {
		path     string
		c        *http.Cookie
		status   int
		location string
	}{
		{"/anon", nil, 200, ""},
		{"/anon", tech, 303, "/dashboard"},
		{"/otp", nil, 303, "/login"},
		{"/otp", tech, 303, "/dashboard"},
		{"/staff", nil, 303, "/login?next=%2Fstaff"},
		{"/staff", maria, 403, ""},
		{"/staff", tech, 200, ""},
		{"/in", nil, 303, "/login?next=%2Fin"},
		{"/in", tech, 200, ""},
	} {
		status, loc := run(tc.path, tc.c)
		if status != tc.status || loc != tc.location {
			t.Errorf("%s (%v): %d %q, want %d %q", tc.path, tc.c != nil, status, loc, tc.status, tc.location)
		}
	}
}

func TestBrand(t *testing.T) {
	white, black, dark := rgb{1, 1, 1}, rgb{}, mustHex(darkSurface)
	// Derived colours pass AA both ways for every hue the ids give.
	for id := int64(1); id <= 400; id++ {
		p, d, l := derivedColours(id)
		pc, _ := parseHex(p)
		if c := contrast(white, pc); c < 4.5 {
			t.Fatalf("company %d: white on %s is %.2f:1", id, p, c)
		}
		if _, ok := parseHex(d); !ok {
			t.Fatalf("company %d: dark %q", id, d)
		}
		if _, ok := parseHex(l); !ok {
			t.Fatalf("company %d: light %q", id, l)
		}
		b := newBrand(id, "x", false, p, d, l)
		if c := contrast(mustHex(b.OnDark), dark); c < 4.5 {
			t.Fatalf("company %d: brand text on dark %.2f:1", id, c)
		}
	}
	for _, tc := range []struct {
		a, b string
		want float64
	}{
		{"#ffffff", "#000000", 21},
		{"#000", "#fff", 21},
		{"#777777", "#ffffff", 4.48},
		{"#0b5cad", "#ffffff", 6.67},
		{"#ffffff", "#ffffff", 1},
	} {
		a, _ := parseHex(tc.a)
		b, _ := parseHex(tc.b)
		if got := contrast(a, b); got < tc.want-0.05 || got > tc.want+0.05 {
			t.Errorf("contrast(%s, %s) = %.2f, want %.2f", tc.a, tc.b, got, tc.want)
		}
	}
	for _, tc := range []struct {
		primary   string
		onPrimary string // text on the buttons
	}{
		{"#0b5cad", "#ffffff"},
		{"#ffeb3b", "#121212"}, // yellow: dark text
		{"#2563eb", "#ffffff"},
		{"not a colour", "#ffffff"}, // falls back to the default blue
	} {
		b := newBrand(1, "x", false, tc.primary, "", "")
		if b.OnPrimary != tc.onPrimary {
			t.Errorf("%s: text %s, want %s", tc.primary, b.OnPrimary, tc.onPrimary)
		}
		if c := contrast(mustHex(b.OnPrimary), mustHex(b.Primary)); c < 4.5 {
			t.Errorf("%s: button text %.2f:1", tc.primary, c)
		}
		if c := contrast(mustHex(b.OnLight), white); c < 4.5 {
			t.Errorf("%s: link colour on white %.2f:1", tc.primary, c)
		}
		if c := contrast(mustHex(b.OnDark), dark); c < 4.5 {
			t.Errorf("%s: link colour on dark %.2f:1", tc.primary, c)
		}
	}
	_ = black
	// The old formula's hue: (id × 53) mod 360.
	if p, _, _ := derivedColours(2); p != hsl(106, 0.85, lightnessFor(106)).hex() {
		t.Errorf("company 2's hue is not 106: %s", p)
	}
}

// lightnessFor repeats derivedColours' search for the test.
func lightnessFor(h float64) float64 {
	l := 0.52
	for l > 0.05 && contrast(rgb{1, 1, 1}, hsl(h, 0.85, l)) < 4.5 {
		l -= 0.01
	}
	return l
}

func TestBrandStylesheet(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		maria := w.signIn(w.client)
		page := w.get("/lgpd", maria).Body
		b := w.srv.brandOf(w.acme)
		if !strings.Contains(page, `href="`+b.url()+`"`) {
			t.Fatalf("the page does not link %s", b.url())
		}
		res := w.get(b.url())
		if res.StatusCode != 200 || !strings.Contains(res.Body, "--brand:"+b.Primary) ||
			!strings.Contains(res.Header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") {
			t.Fatalf("brand css: %d %v\n%s", res.StatusCode, res.Header, res.Body)
		}
		if res := w.get("/brand/999.abc.css"); res.StatusCode != 404 {
			t.Fatalf("unknown company: %d", res.StatusCode)
		}
		// The logo, with a text fallback.
		if !strings.Contains(page, `class="brand-name">Acme<`) {
			t.Error("no text brand without a logo")
		}
		png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
		w.acme.Logo, w.acme.LogoType = png, "image/png"
		if err := st.InTx(context.Background(), func(q *store.Q) error { return q.UpdateCompany(context.Background(), w.acme) }); err != nil {
			t.Fatal(err)
		}
		page = w.get("/lgpd/public/" + itoaID(w.acme.ID)).Body
		if !strings.Contains(page, `<img class="brand-logo" src="/company/`+itoaID(w.acme.ID)+`/logo?v=`) {
			t.Fatalf("no logo in the public page:\n%s", page)
		}
		res = w.get("/company/" + itoaID(w.acme.ID) + "/logo")
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" || res.Body != string(png) {
			t.Fatalf("logo: %d %v", res.StatusCode, res.Header)
		}
	})
}
