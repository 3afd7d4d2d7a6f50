package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// profileSave changes name, language and time zone.
func (a *accountUI) profileSave(w http.ResponseWriter, r *http.Request) error {
	u := ctxOf(r).User
	in := ticketing.ProfileInput{Name: strings.TrimSpace(r.PostFormValue("name")), Language: r.PostFormValue("language"),
		TimeZone: r.PostFormValue("time_zone")}
	if in.Language != "en" {
		in.Language = "pt-BR"
	}
	errs := map[string]string{}
	if in.Name == "" {
		errs["name"] = "auth.error.name_required"
	}
	if ticketing.ValidTimeZone(in.TimeZone) != nil {
		errs["time_zone"] = "profile.error.zone_invalid"
	}
	if len(errs) > 0 {
		return a.renderProfile(w, r, http.StatusUnprocessableEntity, errs)
	}
	if _, err := a.svc.UpdateProfile(r.Context(), u, in); err != nil {
		if errors.Is(err, ticketing.ErrInvalid) {
			return a.renderProfile(w, r, http.StatusUnprocessableEntity, map[string]string{"name": "auth.error.invalid"})
		}
		return err
	}
	a.flash(w, r, "success", "profile.flash.saved")
	a.redirect(w, r, "/meu-perfil#perfil")
	return nil
}

// profileNotices saves which notices the person gets: every kind shown is
// sent as "kinds", the checked ones as "on".
func (a *accountUI) profileNotices(w http.ResponseWriter, r *http.Request) error {
	u := ctxOf(r).User
	if err := r.ParseForm(); err != nil {
		return httpError(http.StatusBadRequest, "error.invalid")
	}
	on := r.PostForm["on"]
	in := ticketing.ProfileInput{Name: u.Name, Language: u.Language, TimeZone: u.TimeZone}
	for _, k := range r.PostForm["kinds"] {
		if !slices.Contains(ticketing.NoticeKinds, k) {
			return httpError(http.StatusUnprocessableEntity, "error.invalid")
		}
		if slices.Contains(on, k) {
			in.NotifyOn = append(in.NotifyOn, k)
		} else {
			in.NotifyOff = append(in.NotifyOff, k)
		}
	}
	if _, err := a.svc.UpdateProfile(r.Context(), u, in); err != nil {
		return err
	}
	a.flash(w, r, "success", "profile.flash.notices_saved")
	a.redirect(w, r, "/meu-perfil#notificacoes")
	return nil
}
