package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

func TestRoutesAnonymous(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		acme := strconv.FormatInt(w.acme.ID, 10)
		for _, tc := range []struct {
			path     string
			status   int
			location string // for redirects
			contains string
		}{
			{"/", 200, "", "Seu suporte organizado"},
			{"/dashboard", 303, "/login?next=%2Fdashboard", ""},
			{"/lgpd", 303, "/login?next=%2Flgpd", ""},
			{"/lgpd?x=1", 303, "/login?next=%2Flgpd%3Fx%3D1", ""},
			{"/lgpd/public/" + acme, 200, "", "Política de privacidade — Acme"},
			{"/lgpd/public/9999", 404, "", "Página não encontrada"},
			{"/lgpd/public/acme", 404, "", "Página não encontrada"},
			{"/no/such/page", 404, "", "Página não encontrada"},
			{"/brand/default." + w.srv.defaultBrand().hash + ".css", 200, "", "--brand:"},
			{"/company/" + acme + "/logo", 404, "", ""},
		} {
			res := w.get(tc.path)
			if res.StatusCode != tc.status {
				t.Errorf("GET %s: %d, want %d\n%s", tc.path, res.StatusCode, tc.status, res.Body)
				continue
			}
			if tc.location != "" && res.Header.Get("Location") != tc.location {
				t.Errorf("GET %s: Location %q, want %q", tc.path, res.Header.Get("Location"), tc.location)
			}
			if !strings.Contains(res.Body, tc.contains) {
				t.Errorf("GET %s: no %q in\n%s", tc.path, tc.contains, res.Body)
			}
		}
	})
}

func TestRoutesSignedIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)

		// Staff are never held back by the privacy policy.
		tech := w.signIn(w.tech)
		res := w.get("/dashboard", tech)
		if res.StatusCode != 200 || !strings.Contains(res.Body, "Olá, Téo!") || !strings.Contains(res.Body, `action="/logout"`) {
			t.Fatalf("tech dashboard: %d\n%s", res.StatusCode, res.Body)
		}
		if !strings.Contains(res.Body, ">Chamados<") {
			t.Error("staff nav does not say Chamados")
		}
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("signed-in page Cache-Control %q", res.Header.Get("Cache-Control"))
		}

		// A requester who has not accepted the policy in force is sent to
		// read it, and comes back after accepting.
		maria := w.signIn(w.client)
		res = w.get("/dashboard", maria)
		if res.StatusCode != 303 || res.Header.Get("Location") != "/lgpd?next=%2Fdashboard" {
			t.Fatalf("requester without consent: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		res = w.get("/lgpd?next=%2Fdashboard", maria)
		if res.StatusCode != 200 || !strings.Contains(res.Body, "Li e aceito") {
			t.Fatalf("/lgpd: %d\n%s", res.StatusCode, res.Body)
		}
		tok := formToken(t, res.Body)
		rev := regexpFind(t, res.Body, `name="revision" value="(\d+)"`)
		res = w.post("/lgpd", url.Values{"csrf_token": {tok}, "revision": {rev}, "next": {"/dashboard"}}, maria)
		if res.StatusCode != 303 || res.Header.Get("Location") != "/dashboard" {
			t.Fatalf("accept: %d %q\n%s", res.StatusCode, res.Header.Get("Location"), res.Body)
		}
		flash := cookieNamed(res.Cookies(), flashCookie)
		res = w.get("/dashboard", maria, flash)
		if res.StatusCode != 200 || !strings.Contains(res.Body, "Olá, Maria!") || !strings.Contains(res.Body, "Seu aceite foi registrado") {
			t.Fatalf("dashboard after consent: %d\n%s", res.StatusCode, res.Body)
		}
		res = w.get("/lgpd", maria)
		if !strings.Contains(res.Body, "Você aceitou esta versão em") {
			t.Fatalf("/lgpd after consent:\n%s", res.Body)
		}

		// Anonymous-only pages send a signed-in user to the dashboard;
		// public ones show to everyone.
		if res := w.get("/", maria); res.StatusCode != 200 || !strings.Contains(res.Body, "Ir para o painel") {
			t.Fatalf("landing signed in: %d", res.StatusCode)
		}

		// A wrong revision id is refused with 422 and records nothing.
		res = w.post("/lgpd", url.Values{"csrf_token": {w.csrf[maria.Value]}, "revision": {"999999"}}, maria)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("accept a wrong revision: %d", res.StatusCode)
		}
		// A stale session cookie is anonymous and dropped.
		res = w.get("/dashboard", &http.Cookie{Name: sessionCookie, Value: "gone"})
		if res.StatusCode != 303 || cookieNamed(res.Cookies(), sessionCookie) == nil {
			t.Fatalf("stale cookie: %d %v", res.StatusCode, res.Cookies())
		}
	})
}

func TestErrorPages(t *testing.T) {
	w := newWorld(t, storetest.Open(t, store.SQLite))
	r := w.get("/missing")
	if r.StatusCode != 404 || !strings.Contains(r.Body, `<html lang="pt-BR"`) {
		t.Fatalf("404: %d", r.StatusCode)
	}
	req := newReq("GET", "/missing")
	req.Header.Set("Accept-Language", "en-US,en;q=0.9")
	if r := w.do(req); !strings.Contains(r.Body, "Page not found") {
		t.Fatalf("English 404:\n%s", r.Body)
	}
	req = newReq("GET", "/missing")
	req.Header.Set("Accept", "application/json")
	if r := w.do(req); r.StatusCode != 404 || !strings.HasPrefix(r.Body, `{"error":`) {
		t.Fatalf("JSON 404: %d %s", r.StatusCode, r.Body)
	}
}
