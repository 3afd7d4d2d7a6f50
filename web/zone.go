package web

import "time"

// zone is where shown times are: the user's zone, else their company's,
// else the configured one.
func (s *Server) zone(rc *reqCtx) *time.Location {
	for _, name := range []string{userZone(rc.User), companyZone(rc.Company)} {
		if name == "" {
			continue
		}
		if loc, err := time.LoadLocation(name); err == nil {
			return loc
		}
	}
	return s.cfg.Location()
}
