package web

import (
	"mime"
	"net/http"
	"strconv"
)

// ticketAttachment serves an attachment after ticketing.Attachment has
// checked, on this request, that the viewer may see it (an internal note's
// file only for staff). It is a download, except that ?inline=1 shows
// the safe image types in the browser.
func (s *Server) ticketAttachment(w http.ResponseWriter, r *http.Request) error {
	return s.serveAttachment(w, r, r.URL.Query().Get("inline") == "1")
}

// ticketAttachmentView is the old app's /attachments/<id>/view.
func (s *Server) ticketAttachmentView(w http.ResponseWriter, r *http.Request) error {
	return s.serveAttachment(w, r, true)
}

func (s *Server) serveAttachment(w http.ResponseWriter, r *http.Request, inline bool) error {
	n, id, err := ticketAndID(r)
	if err != nil {
		return err
	}
	a, data, err := s.svc.Attachment(r.Context(), ctxOf(r).User, n, id)
	if err != nil {
		return hideRefusal(err)
	}
	ct := a.ContentType
	disp := "attachment"
	if inline && safeImage(ct) && http.DetectContentType(data) == ct {
		disp = "inline"
	} else {
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	cd := mime.FormatMediaType(disp, map[string]string{"filename": a.Filename})
	if cd == "" {
		cd = disp
	}
	h.Set("Content-Disposition", cd)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	_, err = w.Write(data)
	return err
}
