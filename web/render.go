package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed templates/*.html templates/partials/*.html
var templateFS embed.FS

// page is one parsed page (layout + partials + the page's file). The
// pristine copy is never executed; each request borrows an executed clone
// from the pool whose functions read that request's state, so templates
// say {{t "key"}} and {{csrf}} without threading the request through, and
// escaping is done once per clone, not per request.
type page struct {
	name     string
	pristine *template.Template
	pool     sync.Pool // of *instance
}

type instance struct {
	t  *template.Template
	st *renderState
}

// renderState is what the functions of one instance read while it runs.
type renderState struct {
	s  *Server
	rc *reqCtx
}

// view is the data every template gets.
type view struct {
	R     *reqCtx
	D     any
	Flash *flashMsg
}

// placeholder functions: the names parse; instances bind the real ones.
var funcNames = template.FuncMap{
	"t": func(string, ...any) string { return "" }, "csrf": func() template.HTML { return "" },
	"nonce": func() string { return "" }, "asset": func(string) string { return "" },
	"fmtTime": func(any) string { return "" }, "fmtDate": func(any) string { return "" },
	"brandURL": func() string { return "" }, "safeNext": safeNext, "initial": initial,
}

func (st *renderState) funcs() template.FuncMap {
	s := st.s
	return template.FuncMap{
		"t": func(key string, args ...any) string { return s.i18n.T(st.rc.Lang, key, tArgs(args)) },
		"csrf": func() template.HTML {
			return template.HTML(`<input type="hidden" name="csrf_token" value="` + template.HTMLEscapeString(st.rc.CSRF) + `">`)
		},
		"nonce":    func() string { return st.rc.Nonce },
		"asset":    s.static.url,
		"fmtTime":  func(v any) string { return s.fmtTime(st.rc, v, false) },
		"fmtDate":  func(v any) string { return s.fmtTime(st.rc, v, true) },
		"brandURL": func() string { return st.rc.brand.url() },
		"safeNext": safeNext,
		"initial":  initial,
	}
}

// parseTemplates parses layout.html and partials.html once, then every
// other file as a page over them.
func (s *Server) parseTemplates(fsys fs.FS) (map[string]*page, error) {
	base, err := template.New("layout").Funcs(funcNames).ParseFS(fsys, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	// Shared pieces of one area (templates/partials/*.html), available to
	// every page: the ticket page's staff panel, say.
	if more, err := fs.Glob(fsys, "templates/partials/*.html"); err != nil {
		return nil, err
	} else if len(more) > 0 {
		if base, err = base.ParseFS(fsys, more...); err != nil {
			return nil, fmt.Errorf("web: templates: %w", err)
		}
	}
	files, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*page{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		t, err := template.Must(base.Clone()).Parse(string(b))
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		for _, part := range []string{"title", "main"} {
			if t.Lookup(part) == nil {
				return nil, fmt.Errorf("web: template %s: no {{define %q}}", name, part)
			}
		}
		p := &page{name: name, pristine: t}
		// Escape now: an escaping error (say, an action inside a
		// <script> attribute) fails start-up, not the first request.
		inst, err := p.newInstance(s)
		if err != nil {
			return nil, err
		}
		var escErr *template.Error
		err = inst.t.ExecuteTemplate(io.Discard, "layout", view{R: &reqCtx{Loc: time.UTC, brand: s.defaultBrand()}})
		if errors.As(err, &escErr) {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		p.pool.Put(inst)
		pages[name] = p
	}
	for _, need := range []string{"error"} {
		if pages[need] == nil {
			return nil, fmt.Errorf("web: templates: no %s.html", need)
		}
	}
	return pages, nil
}

func (p *page) newInstance(s *Server) (*instance, error) {
	t, err := p.pristine.Clone()
	if err != nil {
		return nil, fmt.Errorf("web: template %s: %w", p.name, err)
	}
	st := &renderState{s: s}
	t.Funcs(st.funcs())
	return &instance{t: t, st: st}, nil
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render writes page name inside the layout with status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) error {
	p := s.pages[name]
	if p == nil {
		return fmt.Errorf("web: no template %q", name)
	}
	inst, _ := p.pool.Get().(*instance)
	if inst == nil {
		var err error
		if inst, err = p.newInstance(s); err != nil {
			return err
		}
	}
	rc := ctxOf(r)
	if rc.brand == nil {
		rc.brand = s.defaultBrand()
	}
	s.loadBell(r, rc)
	inst.st.rc = rc
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	err := inst.t.ExecuteTemplate(buf, "layout", view{R: rc, D: data, Flash: s.takeFlash(w, r)})
	inst.st.rc = nil
	p.pool.Put(inst)
	if err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err = w.Write(buf.Bytes())
	return err
}

// fmtTime formats a time (time.Time or *time.Time) in the request's zone
// and the locale's format; a nil or zero time is "".
func (s *Server) fmtTime(rc *reqCtx, v any, dateOnly bool) string {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x != nil {
			t = *x
		}
	}
	if t.IsZero() {
		return ""
	}
	loc := rc.Loc
	if loc == nil {
		loc = s.cfg.Location()
	}
	layout := "02/01/2006 15:04"
	if dateOnly {
		layout = "02/01/2006"
	}
	if rc.Lang == "en" {
		layout = "Jan 2, 2006 3:04 PM"
		if dateOnly {
			layout = "Jan 2, 2006"
		}
	}
	return t.In(loc).Format(layout)
}

// initial is the letter on an avatar without a picture.
func initial(name, email string) string {
	for _, s := range []string{strings.TrimSpace(name), email} {
		for _, r := range s {
			return strings.ToUpper(string(r))
		}
	}
	return "?"
}
