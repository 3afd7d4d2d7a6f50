package web

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// sessionCookie holds the session token; the server keeps only its hash.
const sessionCookie = "sd_session"

// sessions is what the middleware needs from the accounts API
// (*ticketing.Service).
type sessions interface {
	Session(ctx context.Context, token string, c ticketing.Client) (*ticketing.SessionInfo, error)
}

// loadSession resolves the session cookie. A missing, expired or ended
// session is anonymous (the stale cookie is dropped); ErrIPNotAllowed is
// returned so the caller refuses the request.
func (s *Server) loadSession(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	si, err := s.sessions.Session(r.Context(), c.Value, rc.Client)
	switch {
	case errors.Is(err, ticketing.ErrIPNotAllowed):
		return err
	case errors.Is(err, ticketing.ErrNotFound):
		s.clearSessionCookie(w)
		return nil
	case err != nil:
		return err
	}
	rc.Session, rc.CSRF = si, si.CSRF
	if si.Stage == store.StageFull {
		rc.User, rc.Company = si.User, si.Company
	}
	return nil
}

// startSession sets the cookie of a session just created or rotated.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, si *ticketing.SessionInfo) {
	maxAge := int(si.ExpiresAt.Sub(s.now()).Seconds())
	if maxAge < 1 {
		maxAge = 1
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: si.Token, Path: "/", MaxAge: maxAge,
		Expires: si.ExpiresAt, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	rc := ctxOf(r)
	rc.Session, rc.CSRF = si, si.CSRF
	if si.Stage == store.StageFull {
		rc.User, rc.Company = si.User, si.Company
	}
}

// endSession drops the cookie (the caller has ended the session on the
// server with ticketing's Logout).
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) {
	s.clearSessionCookie(w)
	rc := ctxOf(r)
	rc.Session, rc.User, rc.Company = nil, nil, nil
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		Expires: time.Unix(1, 0), HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}
