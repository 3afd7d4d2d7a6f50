package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// registerPage is the two-step form: the address first, then (once
// ticketing has told which company it belongs to, and whether consent is
// asked) the rest. Companies are never listed.
type registerPage struct {
	Email, Name, Language, Invite string
	Company                       *store.Company
	Revision                      *store.LGPDRevision
	Errs                          map[string]string // field -> i18n key
	Error                         string
}

func (a *accountUI) registerShow(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	p := registerPage{Invite: q.Get("invite"), Email: strings.TrimSpace(q.Get("email")), Language: ctxOf(r).Lang}
	if p.Invite != "" {
		// An invitation names the company: straight to the second step.
		company, rev, err := a.svc.RegistrationNeeds(r.Context(), "", p.Invite)
		switch {
		case errors.Is(err, ticketing.ErrBadToken), errors.Is(err, ticketing.ErrNotFound), errors.Is(err, ticketing.ErrInvalid):
			p.Invite, p.Error = "", "auth.error.bad_invite"
			return a.render(w, r, http.StatusGone, "auth_register", p)
		case err != nil:
			return err
		}
		p.Company, p.Revision = company, rev
	}
	return a.render(w, r, http.StatusOK, "auth_register", p)
}

// registerSave takes step 1 (the address) or step 2 (the account). The
// success page is the same whether or not the address already had an
// account (ticketing mails its owner instead).
func (a *accountUI) registerSave(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	if !a.limit.allow("register", rc.IP) {
		return a.tooMany()
	}
	p := registerPage{Email: formEmail(r), Name: strings.TrimSpace(r.PostFormValue("name")),
		Language: r.PostFormValue("language"), Invite: strings.TrimSpace(r.PostFormValue("invite")), Errs: map[string]string{}}
	if p.Language != "en" {
		p.Language = "pt-BR"
	}
	if !validEmail(p.Email) {
		p.Errs["email"] = "auth.error.email_invalid"
		return a.render(w, r, http.StatusUnprocessableEntity, "auth_register", p)
	}
	company, rev, err := a.svc.RegistrationNeeds(r.Context(), p.Email, p.Invite)
	switch {
	case errors.Is(err, ticketing.ErrBadToken):
		p.Invite, p.Error = "", "auth.error.bad_invite"
		return a.render(w, r, http.StatusGone, "auth_register", p)
	case p.Invite != "" && errors.Is(err, ticketing.ErrInvalid):
		p.Errs["email"] = "auth.error.invite_other"
		return a.render(w, r, http.StatusUnprocessableEntity, "auth_register", p)
	case errors.Is(err, ticketing.ErrNotFound), errors.Is(err, ticketing.ErrInvalid):
		p.Errs["email"] = "auth.error.no_company"
		return a.render(w, r, http.StatusUnprocessableEntity, "auth_register", p)
	case err != nil:
		return err
	}
	p.Company, p.Revision = company, rev
	if r.PostFormValue("step") != "2" {
		return a.render(w, r, http.StatusOK, "auth_register", p)
	}

	pw, confirm := r.PostFormValue("password"), r.PostFormValue("confirm")
	if p.Name == "" {
		p.Errs["name"] = "auth.error.name_required"
	}
	if pw != confirm {
		p.Errs["confirm"] = "auth.error.password_mismatch"
	} else if err := ticketing.CheckNewPassword(pw); err != nil {
		p.Errs["password"] = "auth.error.weak_password"
	}
	in := ticketing.RegisterInput{Email: p.Email, Name: p.Name, Password: pw, Language: p.Language, Invite: p.Invite}
	if rev != nil {
		// Consent counts only for the revision shown: a policy published
		// between the two steps is shown again.
		shown, _ := strconv.ParseInt(r.PostFormValue("revision"), 10, 64)
		if r.PostFormValue("consent") == "" || shown != rev.ID {
			p.Errs["consent"] = "auth.error.consent_required"
		} else {
			id := rev.ID
			in.ConsentRevisionID = &id
		}
	}
	if len(p.Errs) > 0 {
		return a.render(w, r, http.StatusUnprocessableEntity, "auth_register", p)
	}
	err = a.svc.Register(r.Context(), in, rc.Client)
	switch {
	case errors.Is(err, ticketing.ErrWeakPassword):
		p.Errs["password"] = "auth.error.weak_password"
		return a.render(w, r, http.StatusUnprocessableEntity, "auth_register", p)
	case errors.Is(err, ticketing.ErrInvalid), errors.Is(err, ticketing.ErrBadToken):
		p.Error = "auth.error.invalid"
		return a.render(w, r, http.StatusUnprocessableEntity, "auth_register", p)
	case err != nil:
		return err
	}
	return a.render(w, r, http.StatusOK, "auth_notice", noticePage{Title: "auth.notice.register_title",
		Body: "auth.notice.register", Hint: "auth.notice.register_hint"})
}
