package web

import (
	"sync"
	"time"
)

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
		if loc := loadZone(name); loc != nil {
			return loc
		}
	}
	return s.cfg.Location()
}

// zones caches parsed zones: LoadLocation reads a file on every call.
var zones sync.Map // name → *time.Location (nil for an unknown name)

func loadZone(name string) *time.Location {
	if v, ok := zones.Load(name); ok {
		return v.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = nil
	}
	zones.Store(name, loc)
	return loc
}
