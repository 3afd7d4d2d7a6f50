package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

//go:embed static
var staticFS embed.FS

// asset is one embedded static file, hashed and gzipped once at start.
type asset struct {
	name, hash, ctype string
	body, gz          []byte
}

type assets struct{ files map[string]*asset }

func loadAssets() (*assets, error) {
	a := &assets{files: map[string]*asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		name := strings.TrimPrefix(p, "static/")
		f := &asset{name: name, hash: hex.EncodeToString(sum[:6]), body: body, ctype: mime.TypeByExtension(path.Ext(name))}
		if f.ctype == "" {
			f.ctype = "application/octet-stream"
		}
		if compressible(f.ctype) {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			_, _ = zw.Write(body)
			_ = zw.Close()
			if buf.Len() < len(body) {
				f.gz = buf.Bytes()
			}
		}
		a.files[name] = f
		return nil
	})
	return a, err
}

// url is the hashed, immutable URL of a static file (templates: asset).
func (a *assets) url(name string) string {
	f := a.files[name]
	if f == nil {
		return "/static/" + name // shows as a 404 in the page, and the test of templates catches it
	}
	return "/static/" + f.hash + "/" + name
}

// staticHashed serves /static/<hash>/<name>: cached for a year when the
// hash is today's; an old hash (a page from before a deploy) gets today's
// file with a short cache.
func (s *Server) staticHashed(w http.ResponseWriter, r *http.Request) {
	f := s.static.files[r.PathValue("name")]
	if f == nil {
		s.fail(w, r, httpError(http.StatusNotFound, "error.not_found"))
		return
	}
	cache := "public, max-age=31536000, immutable"
	if r.PathValue("hash") != f.hash {
		cache = "public, max-age=300"
	}
	s.serveAsset(w, r, f, cache)
}

func (s *Server) staticPlain(w http.ResponseWriter, r *http.Request) {
	f := s.static.files[r.PathValue("name")]
	if f == nil {
		s.fail(w, r, httpError(http.StatusNotFound, "error.not_found"))
		return
	}
	s.serveAsset(w, r, f, "public, max-age=300")
}

func (s *Server) favicon(w http.ResponseWriter, r *http.Request) {
	s.serveAsset(w, r, s.static.files["favicon.svg"], "public, max-age=86400")
}

func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request, f *asset, cache string) {
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", cache)
	h.Set("ETag", `"`+f.hash+`"`)
	h.Add("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, `"`+f.hash+`"`) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.body
	if f.gz != nil && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
