package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/pelletier/go-toml/v2"
)

// catalogKeys reads every web/i18n/<area>.<lang>.toml into lang → keys.
func catalogKeys(t *testing.T) map[string]map[string]bool {
	t.Helper()
	files, err := fs.Glob(i18nFS, "i18n/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no catalogs: %v", err)
	}
	keys := map[string]map[string]bool{}
	for _, f := range files {
		b, _ := i18nFS.ReadFile(f)
		mf, err := i18n.ParseMessageFileBytes(b, f, map[string]i18n.UnmarshalFunc{"toml": toml.Unmarshal})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		lang := mf.Tag.String()
		if keys[lang] == nil {
			keys[lang] = map[string]bool{}
		}
		for _, m := range mf.Messages {
			if strings.TrimSpace(m.Other) == "" {
				t.Errorf("%s: %s is empty", f, m.ID)
			}
			keys[lang][m.ID] = true
		}
	}
	return keys
}

// TestCatalogsComplete fails when a key exists in one language only.
func TestCatalogsComplete(t *testing.T) {
	keys := catalogKeys(t)
	for _, l := range languages {
		if len(keys[l.String()]) == 0 {
			t.Fatalf("no messages in %s", l)
		}
	}
	for a, ka := range keys {
		for b, kb := range keys {
			var missing []string
			for k := range ka {
				if !kb[k] {
					missing = append(missing, k)
				}
			}
			sort.Strings(missing)
			if len(missing) > 0 {
				t.Errorf("in %s but not in %s: %s", a, b, strings.Join(missing, ", "))
			}
		}
	}
}

// TestTemplatesUseKnownKeys scans every template for {{t "key"}} (also
// inside parentheses and pipelines) and fails on a key no catalog has.
// Keys built at run time (error titles, flash keys) are checked by the
// code that names them: see TestErrorKeysExist.
func TestTemplatesUseKnownKeys(t *testing.T) {
	keys := catalogKeys(t)
	files, _ := filepath.Glob("templates/*.html")
	re := regexp.MustCompile(`[{(]\s*t\s+"([^"]+)"`)
	used := 0
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			used++
			for _, l := range languages {
				if !keys[l.String()][m[1]] {
					t.Errorf("%s uses %q, missing in %s", f, m[1], l)
				}
			}
		}
	}
	if used < 20 {
		t.Fatalf("only %d keys found in the templates: is the scanner broken?", used)
	}
}

// TestErrorKeysExist covers the keys the error path builds.
func TestErrorKeysExist(t *testing.T) {
	keys := catalogKeys(t)
	var want []string
	for _, st := range []int{400, 403, 404, 409, 410, 422, 429, 500, 502} {
		want = append(want, "error.title."+titleOf(st))
	}
	for _, err := range []error{errForTest{}, httpError(403, "error.csrf")} {
		_, k := classify(err)
		want = append(want, k)
	}
	want = append(want, "error.forbidden", "error.not_found", "error.conflict", "error.invalid", "error.weak_password",
		"error.bad_token", "error.rate_limited", "error.ip_not_allowed", "error.request_id", "lgpd.accepted")
	for _, k := range want {
		for _, l := range languages {
			if !keys[l.String()][k] {
				t.Errorf("%s missing in %s", k, l)
			}
		}
	}
}

type errForTest struct{}

func (errForTest) Error() string { return "x" }

func TestLanguage(t *testing.T) {
	c, err := loadCatalog("pt-BR")
	if err != nil {
		t.Fatal(err)
	}
	for accept, want := range map[string]string{
		"":                         "",
		"en":                       "en",
		"en-GB,en;q=0.9":           "en",
		"pt-BR,pt;q=0.9,en;q=0.8":  "pt-BR",
		"pt":                       "pt-BR",
		"pt-PT":                    "pt-BR",
		"fr-FR,fr;q=0.9":           "",
		"fr-FR,fr;q=0.9,en;q=0.5":  "en",
		"de, pt-BR;q=0.2":          "pt-BR",
		"*":                        "",
		"garbage;;;":               "",
		"en;q=0.1, pt-BR;q=0.9":    "pt-BR",
		"es-419,es;q=0.9,en;q=0.8": "en",
	} {
		if got := c.negotiate(accept); got != want {
			t.Errorf("negotiate(%q) = %q, want %q", accept, got, want)
		}
	}
	for in, want := range map[string]string{"pt-BR": "pt-BR", "pt-br": "pt-BR", "en": "en", "en-US": "en", "fr": "", "": "", "xx-!!": ""} {
		if got := c.supported(in); got != want {
			t.Errorf("supported(%q) = %q, want %q", in, got, want)
		}
	}
	if en, _ := loadCatalog("en"); en.def != "en" {
		t.Errorf("ui.language en: default %q", en.def)
	}
	if bad, _ := loadCatalog("fr"); bad.def != "pt-BR" {
		t.Errorf("ui.language fr: default %q", bad.def)
	}
	if got := c.T("en", "dashboard.greeting", map[string]any{"Name": "Ana"}); got != "Hello, Ana!" {
		t.Errorf("T with data: %q", got)
	}
	if got := c.T("pt-BR", "no.such.key", nil); got != "no.such.key" {
		t.Errorf("missing key: %q", got)
	}
}
