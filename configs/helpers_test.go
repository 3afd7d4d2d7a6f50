package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadIn runs load in a fresh directory with the given files (name →
// content) and environment, never consulting /etc or the process.
func loadIn(t *testing.T, files map[string]string, env ...string) (*Config, error) {
	t.Helper()
	return loadOpts(t, files, LoadOptions{Environ: append([]string{}, env...)})
}

func loadOpts(t *testing.T, files map[string]string, opts LoadOptions) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	opts.WorkDir = dir
	if opts.Environ == nil {
		opts.Environ = []string{}
	}
	if opts.ConfigFile != "" && !filepath.IsAbs(opts.ConfigFile) {
		opts.ConfigFile = filepath.Join(dir, opts.ConfigFile)
	}
	return load(opts, filepath.Join(dir, "no-system-config.yaml"))
}

func mustLoad(t *testing.T, files map[string]string, env ...string) *Config {
	t.Helper()
	c, err := loadIn(t, files, env...)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return c
}

// plain drops what Validate caches and Load records, so configs compare.
func plain(c *Config) Config {
	p := *c
	p.location = nil
	p.File = ""
	return p
}

func assertOneLine(t *testing.T, err error) {
	t.Helper()
	if strings.ContainsAny(err.Error(), "\r\n") {
		t.Errorf("error spans lines: %q", err)
	}
}

func writeFile(path, content string) error {
	return os.WriteFile(path, []byte(content), 0o644)
}

func lookupProcessEnv(name string) (string, bool) { return os.LookupEnv(name) }
