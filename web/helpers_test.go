package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// world is a portal over a real database with a few people in it.
type world struct {
	t      testing.TB
	st     *store.Store
	svc    *ticketing.Service
	srv    *Server
	h      http.Handler
	acme   *store.Company
	admin  *store.User
	tech   *store.User
	client *store.User
	logs   *strings.Builder
	csrf   map[string]string // session token → its CSRF token
}

const testPassword = "correct horse battery"

func newWorld(t testing.TB, st *store.Store, edit ...func(*configs.Config)) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{t: t, st: st, logs: &strings.Builder{}, csrf: map[string]string{}}
	w.svc = ticketing.NewService(st)
	err := st.InTx(ctx, func(q *store.Q) error {
		w.acme = &store.Company{Name: "Acme", Domains: []string{"acme.example"}}
		if err := q.CreateCompany(ctx, w.acme); err != nil {
			return err
		}
		hash, err := ticketing.HashPassword(testPassword)
		if err != nil {
			return err
		}
		now := time.Now()
		mk := func(email, name, role string, c *store.Company) *store.User {
			u := &store.User{Email: email, Role: role, Name: name, Language: "pt-BR", PasswordHash: hash, ConfirmedAt: &now}
			if c != nil {
				id := c.ID
				u.CompanyID = &id
			}
			if err := q.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			return u
		}
		w.admin = mk("admin@helpdesk.example", "Ana Admin", store.RoleAdmin, nil)
		w.tech = mk("tech@helpdesk.example", "Téo Técnico", store.RoleTech, nil)
		w.client = mk("maria@acme.example", "Maria Silva", store.RoleClient, w.acme)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := configs.Defaults()
	for _, e := range edit {
		e(cfg)
	}
	w.srv, err = New(Deps{Cfg: cfg, Svc: w.svc, Log: slog.New(slog.NewTextHandler(syncWriter{w.logs}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	w.h = w.srv.Handler()
	return w
}

type syncWriter struct{ b *strings.Builder }

func (s syncWriter) Write(p []byte) (int, error) { return s.b.Write(p) }

// signIn signs u in through the accounts API and returns the cookie.
func (w *world) signIn(u *store.User) *http.Cookie {
	w.t.Helper()
	si, err := w.svc.Login(context.Background(), u.Email, testPassword, false, ticketing.Client{})
	if err != nil || si.Stage != store.StageFull {
		w.t.Fatalf("login %s: %v %+v", u.Email, err, si)
	}
	w.csrf[si.Token] = si.CSRF
	return &http.Cookie{Name: sessionCookie, Value: si.Token}
}

// resp is a recorded response with its body read.
type resp struct {
	*http.Response
	Body string
}

func (w *world) do(r *http.Request) resp {
	w.t.Helper()
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, r)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return resp{res, string(b)}
}

func (w *world) get(path string, cookies ...*http.Cookie) resp {
	r := httptest.NewRequest("GET", path, nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return w.do(r)
}

func (w *world) post(path string, form url.Values, cookies ...*http.Cookie) resp {
	r := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return w.do(r)
}

// anonToken gets the anonymous CSRF cookie and its form value.
func (w *world) anonToken() (*http.Cookie, string) {
	w.t.Helper()
	res := w.get("/")
	for _, c := range res.Cookies() {
		if c.Name == anonCookie {
			return c, c.Value
		}
	}
	w.t.Fatal("no anonymous CSRF cookie on /")
	return nil, ""
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func formToken(t testing.TB, body string) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf_token in the page:\n%s", body)
	}
	return m[1]
}

func newReq(method, path string) *http.Request { return httptest.NewRequest(method, path, nil) }

func cookieNamed(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func regexpFind(t testing.TB, body, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in\n%s", re, body)
	}
	return m[1]
}

func itoaID(id int64) string { return strconv.FormatInt(id, 10) }
