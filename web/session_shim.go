package web

import (
	"errors"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
)

// SessionInfo mirrors contract §1's ticketing.SessionInfo until acct's
// accounts API is on main; then this file becomes
// `type SessionInfo = ticketing.SessionInfo` and nothing else changes.
type SessionInfo struct {
	ID                               string
	Token                            string
	User                             *store.User
	Company                          *store.Company
	Stage                            string
	Methods                          []string
	CSRF                             string
	IP, UserAgent                    string
	Remember                         bool
	CreatedAt, LastUsedAt, ExpiresAt time.Time
	MustChangePassword               bool
}

// The accounts API's errors (contract §1), until they are on main; then
// each becomes the ticketing sentinel of the same name.
var (
	errIPNotAllowed = errors.New("address not allowed")
	errBadToken     = errors.New("link invalid or expired")
	errRateLimited  = errors.New("too many attempts")
	errWeakPassword = errors.New("password too weak")
	errBadLogin     = errors.New("wrong e-mail or password")
	errBadCode      = errors.New("code invalid")
	errUnconfirmed  = errors.New("e-mail not confirmed")
)

// userZone and companyZone read the time-zone columns acct's migration
// adds (users.time_zone, companies.time_zone); until then none is set.
func userZone(u *store.User) string       { return "" }
func companyZone(c *store.Company) string { return "" }
