package web

import (
	"context"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// reqCtx is what one request knows about itself; the middleware fills it
// and every handler and template reads it (templates as .R).
type reqCtx struct {
	ID      string                 // request id, also in the access log and on error pages
	Nonce   string                 // CSP nonce for this response's scripts
	Lang    string                 // "pt-BR" or "en"
	Loc     *time.Location         // zone shown times are in
	Session *ticketing.SessionInfo // nil when anonymous
	User    *store.User            // Session.User when the session is full, else nil
	Company *store.Company         // the user's company, nil for anonymous and staff without one
	IP      netip.Addr
	Client  ticketing.Client
	CSRF    string // the token forms carry: the session's, or the anonymous cookie's
	Theme   string // "light", "dark" or "" (follow the system)
	Path    string // the request path (nav highlighting, login ?next=)

	brand *brand    // the colours and name shown, company or default
	flash *flashMsg // set during this request by s.flash
	bell  *bellView // the header's bell (notify_list.go), loaded by render
}

type ctxKey struct{}

// ctxOf returns the request's context; outside the middleware (tests of a
// lone handler) an empty one.
func ctxOf(r *http.Request) *reqCtx {
	if rc, ok := r.Context().Value(ctxKey{}).(*reqCtx); ok {
		return rc
	}
	return &reqCtx{Loc: time.UTC, Lang: "pt-BR"}
}

func withCtx(r *http.Request, rc *reqCtx) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), ctxKey{}, rc))
}

// SignedIn reports a full session (templates: {{if .R.SignedIn}}).
func (rc *reqCtx) SignedIn() bool { return rc.User != nil }

// Staff reports a signed-in technician, supervisor or admin.
func (rc *reqCtx) Staff() bool { return rc.User.IsStaff() }

// Admin reports a signed-in admin.
func (rc *reqCtx) Admin() bool { return rc.User != nil && rc.User.Role == store.RoleAdmin }

// Brand is the name, logo and colours the page shows.
func (rc *reqCtx) Brand() *brand { return rc.brand }

// LogoURL is the company logo's address, "" when it has none.
func (b *brand) LogoURL() string {
	if !b.HasLogo || b.CompanyID == 0 {
		return ""
	}
	return "/company/" + strconv.FormatInt(b.CompanyID, 10) + "/logo?v=" + b.hash
}
