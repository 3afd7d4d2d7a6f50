package web

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// dataExport downloads the person's own data (LGPD art. 18), the same
// export the CLI makes for an admin.
func (a *accountUI) dataExport(w http.ResponseWriter, r *http.Request) error {
	u := ctxOf(r).User
	x, err := a.svc.Export(r.Context(), u, u.ID)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="meus-dados.json"`)
	h.Set("Cache-Control", "no-store")
	_, err = w.Write(append(b, '\n'))
	return err
}

// dataErasure files an erasure request for oneself, after a confirmation
// step.
func (a *accountUI) dataErasure(w http.ResponseWriter, r *http.Request) error {
	if r.PostFormValue("confirm") != "1" {
		return a.render(w, r, http.StatusOK, "profile_erasure", nil)
	}
	u := ctxOf(r).User
	note := strings.TrimSpace(r.PostFormValue("note"))
	if len(note) > 2000 {
		return httpError(http.StatusUnprocessableEntity, "error.invalid")
	}
	in := ticketing.RequestInput{Email: u.Email, Kind: store.RequestErasure, Note: note}
	if _, err := a.svc.AddRequest(r.Context(), u, in); err != nil {
		return err
	}
	a.flash(w, r, "success", "profile.flash.erasure_filed")
	a.redirect(w, r, "/meu-perfil#dados")
	return nil
}
