package configs

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzParseDotEnv: any input parses or fails with a line number, never
// echoing a value (a .env holds passwords); every name parsed is a valid
// variable name; a parsed value written back single-quoted reads the same.
func FuzzParseDotEnv(f *testing.F) {
	f.Add("A=1\nexport B='two words'\nC=\"x\\n${A}\"\n# c\nD=${NOPE:-def} # trailing\n")
	f.Add("MULTI=\"line1\nline2\"\nX=${MULTI}")
	f.Add("BAD LINE\n")
	f.Add("Q='unterminated\n")
	f.Add("SECRET_KEY=s3cr3t-value\r\nDATABASE_URL=postgres://u:p@h/db\r\n")
	f.Fuzz(func(t *testing.T, data string) {
		env := map[string]string{"HOME": "/home/x"}
		vars, err := parseDotEnv(data, env)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "line ") {
				t.Fatalf("error without a line number: %q", msg)
			}
			for _, line := range strings.Split(data, "\n") {
				if _, val, ok := strings.Cut(line, "="); ok && len(strings.TrimSpace(val)) >= 6 && strings.Contains(msg, strings.TrimSpace(val)) {
					t.Fatalf("error %q echoes a value", msg)
				}
			}
			return
		}
		for name, val := range vars {
			if !envVarName.MatchString(name) {
				t.Fatalf("parsed invalid name %q", name)
			}
			if strings.Contains(val, "'") {
				continue
			}
			back, err := parseDotEnv(name+"='"+val+"'\n", nil)
			if err != nil || back[name] != val {
				t.Fatalf("%s=%q does not read back single-quoted: %q, %v", name, val, back[name], err)
			}
		}
	})
}

// FuzzParseDatabaseURL: any input parses to a usable target or fails with
// an error that never shows the URL's password; the redacted form never
// shows it either.
func FuzzParseDatabaseURL(f *testing.F) {
	for _, s := range []string{
		"sqlite:///app.db", "sqlite:////var/lib/app.db", "sqlite://./data/app.db", "sqlite:app.db", "file:app.db",
		"file:///var/lib/app.db", "sqlite::memory:", "sqlite://", "postgres://u:pw@h:5432/db?sslmode=disable",
		"postgresql+psycopg2://u:hunter22@h/db", "mysql://u:pw@h/db", "postgres:pw@h", "sqlite:///x.db?mode=ro",
		"postgres://u:p%zzword@h/db", "://", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		password := ""
		if u, err := url.Parse(strings.TrimSpace(raw)); err == nil && u.User != nil {
			password, _ = u.User.Password()
		}
		secret := len(password) >= 4
		// (a password that also occurs elsewhere in the URL, say as the
		// host, may survive there)
		if red := redactDatabaseURL(raw); secret && strings.Count(raw, password) == 1 && strings.Contains(red, password) {
			t.Fatalf("redacted %q still shows the password", red)
		}
		target, err := ParseDatabaseURL(raw)
		if err != nil {
			if !strings.Contains(err.Error(), databaseKey) {
				t.Fatalf("error does not name the key: %q", err)
			}
			if secret && strings.Contains(err.Error(), password) {
				t.Fatalf("error %q shows the password", err)
			}
			return
		}
		switch target.Driver {
		case DriverSQLite:
			if target.DSN == "" || (!target.InMemory() && strings.ContainsAny(target.DSN, "?#")) {
				t.Fatalf("sqlite target %+v from %q", target, raw)
			}
		case DriverPostgres:
			if _, err := url.Parse(target.DSN); err != nil || !strings.HasPrefix(target.DSN, "postgres") {
				t.Fatalf("postgres target %q from %q does not parse: %v", target.DSN, raw, err)
			}
		default:
			t.Fatalf("driver %q from %q", target.Driver, raw)
		}
	})
}
