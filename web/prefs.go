package web

import "net/http"

// langSave is the footer's language switcher (a form, so it works without
// JavaScript). A signed-in user's language is their profile's; the cookie
// is for visitors.
func (s *Server) langSave(w http.ResponseWriter, r *http.Request) error {
	lang := s.i18n.supported(r.PostFormValue("lang"))
	if lang == "" {
		return httpError(http.StatusUnprocessableEntity, "error.invalid")
	}
	http.SetCookie(w, &http.Cookie{Name: "lang", Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		Secure: s.secure, SameSite: http.SameSiteLaxMode, HttpOnly: true})
	s.redirect(w, r, r.PostFormValue("next"))
	return nil
}

// themeSave stores light, dark or system (the toggle without JavaScript;
// app.js sets the same cookie itself).
func (s *Server) themeSave(w http.ResponseWriter, r *http.Request) error {
	c := &http.Cookie{Name: "theme", Path: "/", MaxAge: 365 * 24 * 3600, Secure: s.secure, SameSite: http.SameSiteLaxMode}
	switch t := r.PostFormValue("theme"); t {
	case "light", "dark":
		c.Value = t
	case "system":
		c.MaxAge = -1
	default:
		return httpError(http.StatusUnprocessableEntity, "error.invalid")
	}
	http.SetCookie(w, c)
	s.redirect(w, r, r.PostFormValue("next"))
	return nil
}
