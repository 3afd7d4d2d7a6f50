package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// statusError is an error with the status and message the visitor sees.
type statusError struct {
	Status int
	Key    string // i18n key of the message
}

func (e *statusError) Error() string { return http.StatusText(e.Status) + " (" + e.Key + ")" }

// httpError is a refusal decided by the web itself (a bad form, a CSRF
// failure); rules about people and data come from ticketing's errors.
func httpError(status int, key string) error { return &statusError{Status: status, Key: key} }

// classify maps an error to the status and message key shown.
func classify(err error) (int, string) {
	var se *statusError
	switch {
	case errors.As(err, &se):
		return se.Status, se.Key
	case errors.Is(err, ticketing.ErrIPNotAllowed):
		return http.StatusForbidden, "error.ip_not_allowed"
	case errors.Is(err, ticketing.ErrNotAllowed):
		return http.StatusForbidden, "error.forbidden"
	case errors.Is(err, ticketing.ErrNotFound):
		return http.StatusNotFound, "error.not_found"
	case errors.Is(err, ticketing.ErrConflict):
		return http.StatusConflict, "error.conflict"
	case errors.Is(err, ticketing.ErrWeakPassword):
		return http.StatusUnprocessableEntity, "error.weak_password"
	case errors.Is(err, ticketing.ErrInvalid):
		return http.StatusUnprocessableEntity, "error.invalid"
	case errors.Is(err, ticketing.ErrBadToken):
		return http.StatusGone, "error.bad_token"
	case errors.Is(err, ticketing.ErrBadLogin), errors.Is(err, ticketing.ErrBadCode), errors.Is(err, ticketing.ErrUnconfirmed):
		// Forms show these next to the field; a raw one is a plain refusal.
		return http.StatusUnprocessableEntity, "error.invalid"
	case errors.Is(err, ticketing.ErrRateLimited):
		return http.StatusTooManyRequests, "error.rate_limited"
	}
	return http.StatusInternalServerError, "error.internal"
}

type errorView struct {
	Status int
	Title  string // i18n key
	Key    string // i18n key of the message
}

// fail is the one error path: it logs what the visitor must not see and
// renders a translated page (or JSON for scripts).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	rc := ctxOf(r)
	status, key := classify(err)
	if status >= 500 {
		s.log.Error("request failed", "request_id", rc.ID, "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		s.log.Debug("request refused", "request_id", rc.ID, "status", status, "err", err)
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "60")
	}
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"error":` + jsonString(s.i18n.T(rc.Lang, key, nil)) + `,"request_id":` + jsonString(rc.ID) + `}` + "\n"))
		return
	}
	v := errorView{Status: status, Title: "error.title." + titleOf(status), Key: key}
	if rerr := s.render(w, r, status, "error", v); rerr != nil {
		s.log.Error("error page failed", "request_id", rc.ID, "err", rerr)
		http.Error(w, http.StatusText(status)+" — "+rc.ID, status)
	}
}

// titleOf picks the error page's heading: one per status we answer.
func titleOf(status int) string {
	switch status {
	case 400, 403, 404, 409, 410, 422, 429:
		return strconv.Itoa(status)
	}
	if status >= 500 {
		return "500"
	}
	return "400"
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// wantsJSON: fetch() calls of app.js and the JSON endpoints.
func wantsJSON(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "application/json") && !strings.Contains(a, "text/html")
}
