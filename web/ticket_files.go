package web

import (
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// formFiles reads the uploaded files of field "files" (several), checking
// each against attachments.max_bytes and attachments.extensions. A refusal
// is a statusError whose key the form shows.
func (s *Server) formFiles(r *http.Request) ([]ticketing.FileInput, error) {
	if r.MultipartForm == nil {
		if err := r.ParseMultipartForm(8 << 20); err != nil && err != http.ErrNotMultipart {
			return nil, httpError(http.StatusRequestEntityTooLarge, "tickets.error.too_large")
		}
	}
	if r.MultipartForm == nil {
		return nil, nil
	}
	var out []ticketing.FileInput
	for _, fh := range r.MultipartForm.File["files"] {
		if fh.Filename == "" && fh.Size == 0 {
			continue // the empty input of a form sent without a file
		}
		if fh.Size > s.cfg.Attachments.MaxBytes {
			return nil, httpError(http.StatusRequestEntityTooLarge, "tickets.error.too_large")
		}
		name := ticketing.CleanFileName(fh.Filename)
		ext := strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
		if !s.allowedExt(ext) {
			return nil, httpError(http.StatusUnprocessableEntity, "tickets.error.file_type")
		}
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(io.LimitReader(f, s.cfg.Attachments.MaxBytes+1))
		f.Close()
		if err != nil {
			return nil, err
		}
		if int64(len(data)) > s.cfg.Attachments.MaxBytes {
			return nil, httpError(http.StatusRequestEntityTooLarge, "tickets.error.too_large")
		}
		out = append(out, ticketing.FileInput{Name: name, ContentType: fileType(ext, data), Data: data})
	}
	return out, nil
}

func (s *Server) allowedExt(ext string) bool {
	if ext == "" {
		return false
	}
	list := s.cfg.Attachments.Extensions
	if len(list) == 0 {
		return true
	}
	return slices.ContainsFunc(list, func(e string) bool { return strings.EqualFold(strings.TrimPrefix(e, "."), ext) })
}

// fileType is the type stored: the extension's, except that an "image"
// whose bytes are not that image is stored as opaque bytes (it will never
// be shown inline).
func fileType(ext string, data []byte) string {
	ct := mime.TypeByExtension("." + ext)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if ct == "" {
		return "application/octet-stream"
	}
	if strings.HasPrefix(ct, "image/") && http.DetectContentType(data) != ct {
		return "application/octet-stream"
	}
	return ct
}

// safeImage: the only types ever served inline.
func safeImage(ct string) bool {
	switch ct {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return true
	}
	return false
}
