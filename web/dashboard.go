package web

import "net/http"

// dashboardView: the ticket work of part 2 fills it with counts and lists.
type dashboardView struct {
	FirstName string
	Inactive  bool // the company is switched off (no such column yet)
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) error {
	u := ctxOf(r).User
	return s.render(w, r, http.StatusOK, "dashboard", dashboardView{FirstName: firstName(u.Name, u.Email)})
}

func firstName(name, email string) string {
	for i, c := range name {
		if c == ' ' {
			return name[:i]
		}
	}
	if name != "" {
		return name
	}
	for i, c := range email {
		if c == '@' {
			return email[:i]
		}
	}
	return email
}
