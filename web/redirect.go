package web

import (
	"net/http"
	"net/url"
	"strings"
)

// redirect answers 303 See Other to a local path (anything else goes to /).
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, safeNext(to), http.StatusSeeOther)
}

// safeNext returns next when it is a path on this site, else "/". It
// refuses what a browser could read as another host: "//evil", "/\evil",
// schemes, encoded slashes or backslashes at the start, control bytes.
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || next[0] != '/' {
		return "/"
	}
	for _, c := range []byte(next) {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	if strings.HasPrefix(next, "//") {
		return "/"
	}
	// "/%2F%2Fevil.com" decodes to "//evil.com" in some routers and
	// proxies: refuse any encoded slash or backslash in the path.
	path, _, _ := strings.Cut(next, "?")
	low := strings.ToLower(path)
	if strings.Contains(low, "%2f") || strings.Contains(low, "%5c") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}
