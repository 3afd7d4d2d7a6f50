package configs

import (
	"fmt"
	"net/url"
	"path"
	"strings"
)

// Database drivers named by DatabaseTarget.Driver.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// SQLiteMemory is the DSN of an in-memory SQLite database.
const SQLiteMemory = ":memory:"

// DatabaseTarget is a parsed database.url.
type DatabaseTarget struct {
	Driver string // DriverSQLite or DriverPostgres
	// DSN is, for postgres, the URL as given (a SQLAlchemy "+driver" suffix
	// in the scheme removed); for sqlite, the file path or SQLiteMemory.
	DSN string
}

// InMemory reports whether the target is an in-memory SQLite database.
func (t DatabaseTarget) InMemory() bool {
	return t.Driver == DriverSQLite && t.DSN == SQLiteMemory
}

const databaseKey = "database.url"

// ParseDatabaseURL parses database.url. Accepted forms:
//
//	sqlite:///app.db             relative path app.db (SQLAlchemy: three slashes)
//	sqlite:////var/lib/app.db    absolute path /var/lib/app.db (four slashes)
//	sqlite://./data/app.db       relative path ./data/app.db
//	sqlite:app.db, file:app.db   relative path app.db
//	file:///var/lib/app.db       absolute path (standard file URL)
//	sqlite::memory:, sqlite://:memory:, sqlite:///:memory:, sqlite://   in memory
//	postgres://…, postgresql://…, postgresql+psycopg2://…
//
// SQLite paths take no query string: the store sets its own pragmas. Errors
// name the key and never echo the URL, which may hold a password.
func ParseDatabaseURL(raw string) (DatabaseTarget, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return DatabaseTarget{}, dbError("empty")
	}
	i := strings.IndexByte(raw, ':')
	if i <= 0 || !validScheme(raw[:i]) {
		return DatabaseTarget{}, dbError("missing scheme")
	}
	scheme, rest := strings.ToLower(raw[:i]), raw[i+1:]
	base, _, _ := strings.Cut(scheme, "+")
	switch {
	case scheme == "sqlite" || scheme == "file":
		return parseSQLite(scheme, rest)
	case base == "postgres" || base == "postgresql":
		return parsePostgres(base, rest)
	default:
		return DatabaseTarget{}, dbError(fmt.Sprintf("unsupported scheme %q", scheme))
	}
}

func parseSQLite(scheme, rest string) (DatabaseTarget, error) {
	switch rest {
	case SQLiteMemory, "//" + SQLiteMemory, "///" + SQLiteMemory, "//":
		return DatabaseTarget{Driver: DriverSQLite, DSN: SQLiteMemory}, nil
	}
	p := rest
	switch {
	case scheme == "sqlite" && strings.HasPrefix(p, "///"):
		// SQLAlchemy: the path follows the third slash, so a fourth
		// slash makes it absolute.
		p = p[3:]
	case strings.HasPrefix(p, "//"):
		// sqlite://./x.db, file:///abs/x.db: what follows "//" is the path.
		p = p[2:]
	}
	if p == "" {
		return DatabaseTarget{}, &Error{Key: databaseKey, Msg: "missing sqlite file path (want e.g. sqlite://./data/servicedesk.db)"}
	}
	if strings.ContainsAny(p, "?#") {
		return DatabaseTarget{}, &Error{Key: databaseKey, Msg: "sqlite URL takes no query or fragment (want a plain file path)"}
	}
	return DatabaseTarget{Driver: DriverSQLite, DSN: p}, nil
}

func parsePostgres(base, rest string) (DatabaseTarget, error) {
	dsn := base + ":" + rest
	if _, err := url.Parse(dsn); err != nil || !strings.HasPrefix(rest, "//") {
		// url's error quotes the whole URL, password included: say less.
		return DatabaseTarget{}, &Error{Key: databaseKey, Msg: "invalid postgres URL (want postgres://user:password@host:5432/dbname)"}
	}
	return DatabaseTarget{Driver: DriverPostgres, DSN: dsn}, nil
}

func dbError(what string) error {
	return &Error{Key: databaseKey, Msg: what + " (want sqlite:, file: or postgres://)"}
}

// validScheme follows RFC 3986: a letter, then letters, digits, + - or '.'.
func validScheme(s string) bool {
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}

// defaultDatabaseURL is the SQLite file under dataDir, written so that
// ParseDatabaseURL gives back that path.
func defaultDatabaseURL(dataDir string) string {
	p := underDir(dataDir, "servicedesk.db")
	if path.IsAbs(p) {
		return "sqlite:///" + p
	}
	return "sqlite://" + p
}

func defaultOutboxDir(dataDir string) string {
	return underDir(dataDir, "outbox")
}

// underDir joins dir and name, keeping a relative result visibly relative
// ("./data/outbox", not "data/outbox").
func underDir(dir, name string) string {
	p := path.Join(dir, name)
	if path.IsAbs(p) || strings.HasPrefix(p, "../") {
		return p
	}
	return "./" + p
}

// redactDatabaseURL hides the password in the userinfo or a password query
// parameter of a database URL.
func redactDatabaseURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if strings.Contains(raw, "@") {
			return redacted
		}
		return raw
	}
	// url would percent-encode the asterisks; substitute them afterwards.
	const placeholder = "REDACTEDxPASSWORD"
	changed := false
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), placeholder)
			changed = true
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if strings.EqualFold(k, "password") {
				q.Set(k, placeholder)
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	if !changed {
		return raw
	}
	return strings.ReplaceAll(u.String(), placeholder, redacted)
}
