package web

import "time"

// zone is where shown times are: the user's zone, else their company's,
// else the configured one.
func (s *Server) zone(rc *reqCtx) *time.Location {
	var names [2]string
	if rc.User != nil {
		names[0] = rc.User.TimeZone
	}
	if rc.Company != nil {
		names[1] = rc.Company.TimeZone
	}
	for _, name := range names {
		if name == "" {
			continue
		}
		if loc, err := time.LoadLocation(name); err == nil {
			return loc
		}
	}
	return s.cfg.Location()
}
