package web

import (
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// SessionInfo is the accounts API's session (contract §1).
type SessionInfo = ticketing.SessionInfo

// The accounts API's errors, under the names the web used before they
// were on main.
var (
	errIPNotAllowed = ticketing.ErrIPNotAllowed
	errBadToken     = ticketing.ErrBadToken
	errRateLimited  = ticketing.ErrRateLimited
	errWeakPassword = ticketing.ErrWeakPassword
)

// userZone and companyZone read the time-zone columns of acct's migration.
func userZone(u *store.User) string {
	if u == nil {
		return ""
	}
	return u.TimeZone
}

func companyZone(c *store.Company) string {
	if c == nil {
		return ""
	}
	return c.TimeZone
}
