package web

import (
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/pelletier/go-toml/v2"
	"golang.org/x/text/language"
)

//go:embed i18n/*.toml
var i18nFS embed.FS

// The portal's languages; the first is the default when the config names
// none we have.
var languages = []language.Tag{language.BrazilianPortuguese, language.English}

// catalog holds every message of web/i18n/ (one pair of files per area:
// core.pt-BR.toml and core.en.toml, auth.*, profile.* …).
type catalog struct {
	bundle     *i18n.Bundle
	matcher    language.Matcher
	def        string
	localizers map[string]*i18n.Localizer
	missing    sync.Map // keys already logged as missing
	onMissing  func(lang, key string)
}

func loadCatalog(def string) (*catalog, error) {
	return loadCatalogFS(i18nFS, "i18n", def)
}

func loadCatalogFS(fsys fs.FS, dir, def string) (*catalog, error) {
	b := i18n.NewBundle(language.BrazilianPortuguese)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	files, err := fs.Glob(fsys, dir+"/*.toml")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if _, err := b.LoadMessageFileFS(fsys, f); err != nil {
			return nil, fmt.Errorf("web: i18n %s: %w", path.Base(f), err)
		}
	}
	c := &catalog{bundle: b, matcher: language.NewMatcher(languages), localizers: map[string]*i18n.Localizer{}}
	for _, t := range languages {
		c.localizers[t.String()] = i18n.NewLocalizer(b, t.String())
	}
	c.def = c.supported(def)
	if c.def == "" {
		c.def = languages[0].String()
	}
	return c, nil
}

// supported returns the portal's spelling of lang ("pt-BR", "en") or "".
func (c *catalog) supported(lang string) string {
	if lang == "" {
		return ""
	}
	t, err := language.Parse(lang)
	if err != nil {
		return ""
	}
	_, i, conf := c.matcher.Match(t)
	if conf < language.High {
		return ""
	}
	return languages[i].String()
}

// negotiate picks a language from an Accept-Language header, else "".
func (c *catalog) negotiate(accept string) string {
	tags, _, err := language.ParseAcceptLanguage(accept)
	if err != nil || len(tags) == 0 {
		return ""
	}
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return ""
	}
	return languages[i].String()
}

// T translates key; data fills {{.Name}} placeholders. A missing key shows
// as itself (the i18n test keeps that from shipping).
func (c *catalog) T(lang, key string, data map[string]any) string {
	l, ok := c.localizers[lang]
	if !ok {
		l = c.localizers[c.def]
	}
	msg, err := l.Localize(&i18n.LocalizeConfig{MessageID: key, TemplateData: data})
	if err != nil || msg == "" {
		if _, seen := c.missing.LoadOrStore(lang+" "+key, true); !seen && c.onMissing != nil {
			c.onMissing(lang, key)
		}
		return key
	}
	return msg
}

// language picks the request's language: the user's, else the lang
// cookie set by the footer switcher, else Accept-Language, else ui.language.
func (s *Server) language(r *http.Request, rc *reqCtx) string {
	if rc.User != nil {
		if l := s.i18n.supported(rc.User.Language); l != "" {
			return l
		}
	}
	if c, err := r.Cookie("lang"); err == nil {
		if l := s.i18n.supported(c.Value); l != "" {
			return l
		}
	}
	if l := s.i18n.negotiate(r.Header.Get("Accept-Language")); l != "" {
		return l
	}
	return s.i18n.def
}

// tArgs turns template arguments "Name", value, … into template data.
func tArgs(args []any) map[string]any {
	if len(args) == 0 {
		return nil
	}
	m := make(map[string]any, len(args)/2)
	for i := 0; i+1 < len(args); i += 2 {
		k, _ := args[i].(string)
		m[strings.TrimSpace(k)] = args[i+1]
	}
	return m
}
