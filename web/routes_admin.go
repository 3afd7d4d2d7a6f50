package web

import "net/http"

// adminRoutes registers admin pages (quarantine, assets) and the staff dashboard's data.
// Staff reach them; ticketing decides which staff (admins, for the
// quarantine) and answers 403 to the others.
func (s *Server) adminRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET /admin/quarantine", staff, s.quarantineList)
	s.handle(mux, "GET /admin/quarantine/{id}", staff, s.quarantineShow)
	s.handle(mux, "POST /admin/quarantine/{id}/reprocess", staff, s.quarantineReprocess)
	s.handle(mux, "GET /admin/quarantine/{id}/delete", staff, s.quarantineDeleteConfirm)
	s.handle(mux, "POST /admin/quarantine/{id}/delete", staff, s.quarantineDelete)
	s.handle(mux, "GET /admin/assets", staff, s.assetList)
	s.handle(mux, "POST /admin/assets", staff, s.assetCreate)
	s.handle(mux, "GET /admin/assets/{id}", staff, s.assetEdit)
	s.handle(mux, "POST /admin/assets/{id}", staff, s.assetUpdate)
	s.handle(mux, "POST /admin/assets/{id}/delete", staff, s.assetDelete)
}
