package web

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

func TestProfilePage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		ctx := context.Background()
		b := aw.browser()
		expect(t, "anonymous", b.get("/meu-perfil"), http.StatusSeeOther, "/login?next=%2Fmeu-perfil")
		b.mustLogin("maria@acme.example")
		res := b.get("/meu-perfil")
		for _, anchor := range []string{"perfil", "senha", "avatar", "notificacoes", "seguranca", "sessoes", "dados"} {
			if !strings.Contains(res.Body, `id="`+anchor+`"`) {
				t.Errorf("no section #%s", anchor)
			}
		}
		expect(t, "profile", res, 200, "", `<option value="America/Sao_Paulo"`, "esta sessão", "Chrome em Linux",
			`href="/meu-perfil/dados.json"`)
		// The first zone offered after "the company's" is São Paulo.
		if i, j := strings.Index(res.Body, `value="America/Sao_Paulo"`), strings.Index(res.Body, `value="UTC"`); i < 0 || i > j {
			t.Error("America/Sao_Paulo is not first")
		}

		// Name, language, zone: the page then speaks English.
		res = b.post("/meu-perfil", url.Values{"name": {"Maria S."}, "language": {"en"}, "time_zone": {"America/Manaus"}})
		expect(t, "save", res, http.StatusSeeOther, "/meu-perfil#perfil")
		expect(t, "in English", b.follow(res), 200, "", "My profile", "Profile saved.", `value="America/Manaus" selected`)
		expect(t, "bad zone", b.post("/meu-perfil", url.Values{"name": {"Maria"}, "time_zone": {"Mars/Olympus"}}),
			http.StatusUnprocessableEntity, "", "Unknown time zone")
		u, _ := st.R().UserByEmail(ctx, store.AllCompanies(), "maria@acme.example")
		if u.Name != "Maria S." || u.Language != "en" || u.TimeZone != "America/Manaus" {
			t.Fatalf("saved: %q %q %q", u.Name, u.Language, u.TimeZone)
		}

		// Notices: unchecked kinds are turned off.
		b.get("/meu-perfil")
		res = b.post("/meu-perfil/notificacoes", url.Values{"kinds": {ticketing.NoticeCommented, ticketing.NoticeClosed},
			"on": {ticketing.NoticeClosed}})
		expect(t, "notices", res, http.StatusSeeOther, "/meu-perfil#notificacoes")
		u, _ = st.R().UserByEmail(ctx, store.AllCompanies(), "maria@acme.example")
		if ticketing.WantsNotice(u, ticketing.NoticeCommented) || !ticketing.WantsNotice(u, ticketing.NoticeClosed) || u.Name != "Maria S." {
			t.Fatalf("notices %s, name %q", u.NotifyPrefs, u.Name)
		}
		expect(t, "unknown kind", b.post("/meu-perfil/notificacoes", url.Values{"kinds": {"bogus"}}), http.StatusUnprocessableEntity, "")
	})
}

func TestProfilePassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		b := aw.browser()
		b.mustLogin("maria@acme.example")
		other := aw.browser()
		other.remote = "203.0.113.20:1"
		other.mustLogin("maria@acme.example")

		before := b.session()
		expect(t, "wrong current", b.post("/meu-perfil/senha", url.Values{"current": {"nope"}, "password": {"brand new password"},
			"confirm": {"brand new password"}}), http.StatusUnprocessableEntity, "", "Senha atual incorreta")
		expect(t, "weak", b.post("/meu-perfil/senha", url.Values{"current": {testPassword}, "password": {"password"},
			"confirm": {"password"}}), http.StatusUnprocessableEntity, "", "Senha fraca")
		res := b.post("/meu-perfil/senha", url.Values{"current": {testPassword}, "password": {"brand new password"},
			"confirm": {"brand new password"}})
		expect(t, "change", res, http.StatusSeeOther, "/meu-perfil#senha")
		if b.session() == before || b.session() == "" {
			t.Fatal("the session was not rotated")
		}
		expect(t, "still signed in", b.get("/meu-perfil"), 200, "", "Senha alterada")
		stale := aw.browser()
		stale.cookies[sessionCookie] = before
		expect(t, "old cookie", stale.get("/meu-perfil"), http.StatusSeeOther, "")
		expect(t, "other session ended", other.get("/meu-perfil"), http.StatusSeeOther, "")
		expect(t, "new password", aw.browser().login("maria@acme.example", "brand new password"), http.StatusSeeOther, "/dashboard")
	})
}

func TestProfileAvatar(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		b := aw.browser()
		b.mustLogin("maria@acme.example")

		img := image.NewRGBA(image.Rect(0, 0, 300, 200))
		for x := 0; x < 300; x++ {
			img.Set(x, 100, color.RGBA{200, 10, 10, 255})
		}
		var pic bytes.Buffer
		_ = png.Encode(&pic, img)
		expect(t, "upload", b.upload("/meu-perfil/avatar", "avatar", "me.png", pic.Bytes()), http.StatusSeeOther, "/meu-perfil#avatar")
		expect(t, "not a picture", b.upload("/meu-perfil/avatar", "avatar", "x.png", []byte("hello")), http.StatusUnprocessableEntity, "",
			"Não foi possível ler a imagem")
		expect(t, "too big", b.upload("/meu-perfil/avatar", "avatar", "big.png", bytes.Repeat([]byte{1}, maxAvatarUpload+1)),
			http.StatusRequestEntityTooLarge, "", "passa de 2 MiB")

		path := "/avatar/" + strconv.FormatInt(aw.client.ID, 10)
		res := b.get(path)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" || res.Header.Get("Cache-Control") != "private, max-age=300" {
			t.Fatalf("avatar: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
		}
		cfg, err := png.DecodeConfig(strings.NewReader(res.Body))
		if err != nil || cfg.Width != 128 || cfg.Height != 128 {
			t.Fatalf("avatar %dx%d %v", cfg.Width, cfg.Height, err)
		}
		expect(t, "profile shows it", b.get("/meu-perfil"), 200, "", `src="`+path+`"`)
		expect(t, "anonymous", aw.browser().get(path), http.StatusSeeOther, "")
		tech := aw.browser()
		tech.mustLogin("tech@helpdesk.example")
		expect(t, "staff", tech.get(path), 200, "")
		expect(t, "nobody's", b.get("/avatar/999999"), http.StatusNotFound, "")
	})
}

func TestProfileSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		b := aw.browser()
		b.mustLogin("maria@acme.example")
		phone := aw.browser()
		phone.remote = "203.0.113.50:1"
		phone.header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
		phone.mustLogin("maria@acme.example")
		tablet := aw.browser()
		tablet.remote = "203.0.113.51:1"
		tablet.mustLogin("maria@acme.example")

		res := b.get("/meu-perfil")
		expect(t, "list", res, 200, "", "Safari em iOS", "203.0.113.50", "esta sessão", "Encerrar todas as outras")
		if n := strings.Count(res.Body, `/encerrar"`); n != 2 {
			t.Fatalf("%d end buttons, want 2 (not this session)", n)
		}
		sessions, err := aw.svc.Sessions(context.Background(), aw.client, aw.client.Email)
		if err != nil {
			t.Fatal(err)
		}
		var phoneID string
		for _, si := range sessions {
			if si.IP == "203.0.113.50" {
				phoneID = si.ID
			}
		}
		expect(t, "end one", b.post("/meu-perfil/sessoes/"+phoneID+"/encerrar", nil), http.StatusSeeOther, "/meu-perfil#sessoes")
		expect(t, "phone signed out", phone.get("/meu-perfil"), http.StatusSeeOther, "")
		expect(t, "tablet still in", tablet.get("/meu-perfil"), 200, "")

		// Someone else's session id: refused, nothing ended.
		tech := aw.browser()
		tech.mustLogin("tech@helpdesk.example")
		techSessions, _ := aw.svc.Sessions(context.Background(), aw.tech, aw.tech.Email)
		b.get("/meu-perfil")
		res = b.post("/meu-perfil/sessoes/"+techSessions[0].ID+"/encerrar", nil)
		if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusForbidden {
			t.Fatalf("ending another's session: %d", res.StatusCode)
		}
		expect(t, "tech still in", tech.get("/meu-perfil"), 200, "")

		b.get("/meu-perfil")
		expect(t, "end others", b.post("/meu-perfil/sessoes/encerrar-outras", nil), http.StatusSeeOther, "/meu-perfil#sessoes")
		expect(t, "tablet signed out", tablet.get("/meu-perfil"), http.StatusSeeOther, "")
		expect(t, "this one stays", b.get("/meu-perfil"), 200, "")
	})
}

func TestProfileData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		ctx := context.Background()
		b := aw.browser()
		b.mustLogin("maria@acme.example")
		res := b.get("/meu-perfil/dados.json")
		if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("export: %d %s", res.StatusCode, res.Body)
		}
		var x struct {
			Profile struct {
				Email string `json:"email"`
			} `json:"profile"`
		}
		if err := json.Unmarshal([]byte(res.Body), &x); err != nil || x.Profile.Email != "maria@acme.example" {
			t.Fatalf("export: %v %s", err, res.Body[:min(200, len(res.Body))])
		}

		// Erasure: a confirmation step, then the request.
		res = b.post("/meu-perfil/dados/apagar", nil)
		expect(t, "confirm step", res, 200, "", `name="confirm" value="1"`)
		reqs, _ := aw.svc.Requests(ctx, aw.admin, ticketing.RequestListFilter{})
		if len(reqs) != 0 {
			t.Fatal("a request filed before the confirmation")
		}
		res = b.post("/meu-perfil/dados/apagar", url.Values{"confirm": {"1"}, "note": {"Por favor"}})
		expect(t, "filed", res, http.StatusSeeOther, "/meu-perfil#dados")
		reqs, _ = aw.svc.Requests(ctx, aw.admin, ticketing.RequestListFilter{})
		if len(reqs) != 1 || reqs[0].Kind != store.RequestErasure || reqs[0].UserID != aw.client.ID {
			t.Fatalf("requests: %+v", reqs)
		}
	})
}

// upload posts a multipart form with one file and the page's CSRF token.
func (b *browser) upload(path, field, name string, data []byte) resp {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf_token", b.csrf)
	fw, _ := mw.CreateFormFile(field, name)
	_, _ = fw.Write(data)
	_ = mw.Close()
	return b.do("POST", path, &body, mw.FormDataContentType())
}
