package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// brandCSS serves /brand/<company|default>.<hash>.css: the colours as CSS
// custom properties (a stylesheet, since the CSP allows no inline style).
// Colours are not secret; the hash in the name makes it cacheable.
func (s *Server) brandCSS(w http.ResponseWriter, r *http.Request) error {
	file, ok := strings.CutSuffix(r.PathValue("file"), ".css")
	if !ok {
		return ticketing.ErrNotFound
	}
	ref, hash, _ := strings.Cut(file, ".")
	b := s.defaultBrand()
	if ref != "default" {
		id, err := strconv.ParseInt(ref, 10, 64)
		if err != nil {
			return ticketing.ErrNotFound
		}
		c, err := s.svc.Store().R().Company(r.Context(), id)
		if err != nil {
			return ticketing.ErrNotFound
		}
		b = s.brandOf(c)
	}
	cache := "public, max-age=31536000, immutable"
	if hash != b.hash {
		cache = "public, max-age=60"
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", cache)
	_, err := w.Write([]byte(b.css()))
	return err
}

// companyLogo serves the company's logo; it is public, as the public
// privacy page shows it.
func (s *Server) companyLogo(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return ticketing.ErrNotFound
	}
	c, err := s.svc.Store().R().Company(r.Context(), id)
	if err != nil || len(c.Logo) == 0 {
		return ticketing.ErrNotFound
	}
	ct := c.LogoType
	switch ct {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
	default:
		// Never let a stored type make the browser run something.
		ct = http.DetectContentType(c.Logo)
		if !strings.HasPrefix(ct, "image/") || strings.Contains(ct, "svg") {
			return ticketing.ErrNotFound
		}
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	_, err = w.Write(c.Logo)
	return err
}
