package web

import (
	"bufio"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// middleware wraps the mux, outermost first: request id, security
// headers, access log and panic recovery; gzip; who is asking (IP,
// session, language); CSRF; the cross-origin check.
func (s *Server) middleware(mux http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, httpError(http.StatusForbidden, "error.csrf"))
	}))
	h := cop.Handler(mux)
	h = s.checkCSRF(h)
	h = s.identify(h)
	h = gzipHandler(h)
	return s.base(h)
}

// statusWriter remembers the status and counts the bytes for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush goes through whatever wraps the connection (cmd's metrics
// writer has no Flush of its own, only Unwrap): SSE depends on it.
func (w *statusWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// base gives the request its id and nonce, sets the security headers,
// recovers panics into a 500 page and writes the access log line.
func (s *Server) base(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rc := &reqCtx{ID: newRequestID(), Nonce: randomString(18), Lang: s.i18n.def, Loc: s.cfg.Location(), Path: r.URL.Path}
		r = withCtx(r, rc)
		sw := &statusWriter{ResponseWriter: w}
		s.securityHeaders(sw.Header(), rc.Nonce)
		sw.Header().Set("X-Request-Id", rc.ID)
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic", "request_id", rc.ID, "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				if sw.status == 0 {
					s.fail(sw, r, errors.New("panic"))
				}
			}
			// The path only: a query can carry a token, and cookies and
			// tokens in paths (/reset/<token>) are cut to their route.
			s.log.Info("http", "method", r.Method, "path", logPath(r.URL.Path), "status", sw.status, "bytes", sw.bytes,
				"duration", time.Since(start).Round(time.Microsecond), "request_id", rc.ID, "ip", rc.IP.String())
		}()
		next.ServeHTTP(sw, r)
	})
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// logPath hides the token of token URLs (/confirm/<t>, /reset/<t>,
// /login/link/<t>) from the log.
func logPath(p string) string {
	for _, pre := range []string{"/confirm/", "/reset/", "/auth/reset/", "/login/link/"} {
		if strings.HasPrefix(p, pre) && len(p) > len(pre) {
			return pre + "…"
		}
	}
	return p
}

// securityHeaders: a strict CSP with this response's nonce, and the rest.
func (s *Server) securityHeaders(h http.Header, nonce string) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"' 'strict-dynamic'; style-src 'self'; "+
		"img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; frame-src 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()")
	if s.secure {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// identify fills the request context: client IP, session, language, time
// zone, theme and brand. A session refused by the company's IP allow-list
// stops the request with a 403 page.
func (s *Server) identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := ctxOf(r)
		rc.IP = s.proxies.clientIP(r)
		rc.Client.IP, rc.Client.UserAgent = rc.IP, r.UserAgent()
		if c, err := r.Cookie("theme"); err == nil && (c.Value == "light" || c.Value == "dark") {
			rc.Theme = c.Value
		}
		if strings.HasPrefix(r.URL.Path, "/static/") {
			next.ServeHTTP(w, r)
			return
		}
		err := s.loadSession(w, r, rc)
		rc.Lang = s.language(r, rc)
		rc.Loc = s.zone(rc)
		rc.brand = s.brandOf(rc.Company)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if rc.Session == nil {
			rc.CSRF = s.anonCSRF(w, r)
		}
		next.ServeHTTP(w, r)
	})
}

// gzip: for compressible responses to clients that take it; never for
// server-sent events or what is already encoded.

var gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(io.Discard, gzip.DefaultCompression); return w }}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

func compressible(ctype string) bool {
	ct, _, _ := strings.Cut(ctype, ";")
	switch strings.TrimSpace(ct) {
	case "text/html", "text/css", "text/plain", "text/javascript", "application/javascript", "application/json", "image/svg+xml":
		return true
	}
	return false
}

func gzipHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !acceptsGzip(r) || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Add("Vary", "Accept-Encoding")
		gw := &gzipWriter{ResponseWriter: w}
		defer gw.close()
		next.ServeHTTP(gw, r)
	})
}

type gzipWriter struct {
	http.ResponseWriter
	zw      *gzip.Writer
	decided bool
}

func (w *gzipWriter) WriteHeader(code int) {
	if !w.decided {
		w.decided = true
		h := w.Header()
		if code != http.StatusNoContent && code != http.StatusNotModified && h.Get("Content-Encoding") == "" &&
			compressible(h.Get("Content-Type")) {
			h.Set("Content-Encoding", "gzip")
			h.Del("Content-Length")
			w.zw = gzipPool.Get().(*gzip.Writer)
			w.zw.Reset(w.ResponseWriter)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *gzipWriter) Write(b []byte) (int, error) {
	if !w.decided {
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", http.DetectContentType(b))
		}
		w.WriteHeader(http.StatusOK)
	}
	if w.zw != nil {
		return w.zw.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (w *gzipWriter) Flush() {
	if w.zw != nil {
		_ = w.zw.Flush()
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *gzipWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *gzipWriter) close() {
	if w.zw != nil {
		_ = w.zw.Close()
		gzipPool.Put(w.zw)
		w.zw = nil
	}
}

// Hijack lets a later WebSocket or similar take the connection.
func (w *gzipWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}
