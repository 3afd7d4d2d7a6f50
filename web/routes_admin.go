package web

import "net/http"

// adminRoutes registers admin pages (quarantine) and the staff dashboard's data.
// Staff reach them; ticketing decides which staff (admins, for the
// quarantine) and answers 403 to the others.
func (s *Server) adminRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET /admin/quarantine", staff, s.quarantineList)
	s.handle(mux, "GET /admin/quarantine/{id}", staff, s.quarantineShow)
	s.handle(mux, "POST /admin/quarantine/{id}/reprocess", staff, s.quarantineReprocess)
	s.handle(mux, "GET /admin/quarantine/{id}/delete", staff, s.quarantineDeleteConfirm)
	s.handle(mux, "POST /admin/quarantine/{id}/delete", staff, s.quarantineDelete)
}
