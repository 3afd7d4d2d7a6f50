package web

import "net/http"

// routes is the table of contents of the portal. The old app's paths are
// kept so bookmarks and mailed links work.
func (s *Server) routes(mux *http.ServeMux) {
	// Static files and brand colours: no session needed.
	mux.HandleFunc("GET /static/{hash}/{name}", s.staticHashed)
	mux.HandleFunc("GET /static/{name}", s.staticPlain)
	mux.HandleFunc("GET /favicon.ico", s.favicon)
	s.handle(mux, "GET /brand/{file}", public, s.brandCSS)
	s.handle(mux, "GET /company/{id}/logo", public, s.companyLogo)

	s.handle(mux, "GET /{$}", public, s.landing)
	s.handle(mux, "GET /dashboard", signedIn, s.dashboard)
	s.handle(mux, "GET /lgpd", signedIn, s.lgpdShow)
	s.handle(mux, "POST /lgpd", signedIn, s.lgpdAccept)
	s.handle(mux, "GET /lgpd/public/{company}", public, s.lgpdPublic)

	// Preferences that work without JavaScript: small form POSTs.
	s.handle(mux, "POST /lang", public, s.langSave)
	s.handle(mux, "POST /theme", public, s.themeSave)

	s.authRoutes(mux)
	s.ticketRoutes(mux) // routes_tickets.go: requesters' tickets and the ticket page
	s.staffRoutes(mux)  // routes_staff.go: the queue, search and staff actions
	s.adminRoutes(mux)  // routes_admin.go: staff dashboard data and admin pages
	s.notifyRoutes(mux) // routes_notify.go: notifications and the live stream

	// Anything else is our 404 page, not the mux's plain text.
	s.handle(mux, "/", public, func(w http.ResponseWriter, r *http.Request) error {
		return httpError(http.StatusNotFound, "error.not_found")
	})
}
