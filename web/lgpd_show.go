package web

import (
	"errors"
	"html/template"
	"net/http"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// lgpdView is the privacy policy in force, for reading and accepting.
type lgpdView struct {
	Company    *store.Company
	Revision   *store.LGPDRevision // nil: none published, the default text shows
	Body       template.HTML       // the revision's sanitized HTML (ticketing.RenderPolicy)
	AcceptedAt *time.Time          // when the user accepted this revision
	Need       bool                // the user must accept before going on
	Next       string
}

// lgpdShow: the signed-in user's policy, when they accepted it, and the
// accept button while they have not.
func (s *Server) lgpdShow(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	need, rev, err := s.svc.NeedsConsent(r.Context(), rc.User)
	if err != nil && !errors.Is(err, ticketing.ErrNotFound) {
		return err
	}
	v := lgpdView{Company: rc.Company, Revision: rev, Need: need, Next: safeNext(r.URL.Query().Get("next"))}
	if rev != nil {
		v.Body = policyHTML(rev)
		if !need && rc.User.LGPDRevisionID != nil && *rc.User.LGPDRevisionID == rev.ID {
			v.AcceptedAt = rc.User.LGPDConsentAt
		}
	}
	return s.render(w, r, http.StatusOK, "lgpd", v)
}

// lgpdAccept records the acceptance of the revision shown (channel web).
func (s *Server) lgpdAccept(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	id, err := formInt(r, "revision")
	if err != nil {
		return err
	}
	if _, err := s.svc.Accept(r.Context(), rc.User, id, rc.IP.String(), store.ChannelWeb); err != nil {
		return err
	}
	s.flash(w, r, "success", "lgpd.accepted")
	next := safeNext(r.PostFormValue("next"))
	if next == "/" {
		next = "/lgpd"
	}
	s.redirect(w, r, next)
	return nil
}

// policyHTML is the revision's HTML as ticketing rendered and sanitized
// it when the revision was written; an old row without it is rendered now.
func policyHTML(rev *store.LGPDRevision) template.HTML {
	h := rev.BodyHTML
	if h == "" {
		var err error
		if h, err = ticketing.RenderPolicy(rev.Body); err != nil {
			h = template.HTMLEscapeString(rev.Body)
		}
	}
	return template.HTML(h) // #nosec: sanitized by ticketing.RenderPolicy
}
