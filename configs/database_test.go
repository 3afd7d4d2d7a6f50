package configs

import (
	"errors"
	"strings"
	"testing"
)

func TestParseDatabaseURL(t *testing.T) {
	tests := []struct {
		raw    string
		driver string
		dsn    string
	}{
		{"sqlite:///app.db", "sqlite", "app.db"},
		{"sqlite:///instance/app.db", "sqlite", "instance/app.db"},
		{"sqlite:////var/lib/sd/app.db", "sqlite", "/var/lib/sd/app.db"},
		{"sqlite://./data/x.db", "sqlite", "./data/x.db"},
		{"sqlite://../x.db", "sqlite", "../x.db"},
		{"sqlite:x.db", "sqlite", "x.db"},
		{"sqlite:/abs/x.db", "sqlite", "/abs/x.db"},
		{"SQLite:x.db", "sqlite", "x.db"},
		{"file:x.db", "sqlite", "x.db"},
		{"file:./data/x.db", "sqlite", "./data/x.db"},
		{"file:///abs/x.db", "sqlite", "/abs/x.db"},
		{"sqlite::memory:", "sqlite", ":memory:"},
		{"sqlite://:memory:", "sqlite", ":memory:"},
		{"sqlite:///:memory:", "sqlite", ":memory:"},
		{"sqlite://", "sqlite", ":memory:"},
		{"file::memory:", "sqlite", ":memory:"},
		{"  sqlite:///app.db \n", "sqlite", "app.db"},
		{"postgres://sd:pw@127.0.0.1:5432/sd?sslmode=disable", "postgres", "postgres://sd:pw@127.0.0.1:5432/sd?sslmode=disable"},
		{"postgresql://sd@db/sd", "postgres", "postgresql://sd@db/sd"},
		{"postgresql+psycopg2://sd:pw@db/sd", "postgres", "postgresql://sd:pw@db/sd"},
		{"postgres:///sd?host=/var/run/postgresql", "postgres", "postgres:///sd?host=/var/run/postgresql"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := ParseDatabaseURL(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if got.Driver != tt.driver || got.DSN != tt.dsn {
				t.Errorf("got %+v, want {%s %s}", got, tt.driver, tt.dsn)
			}
			if got.InMemory() != (tt.dsn == SQLiteMemory) {
				t.Errorf("InMemory = %v", got.InMemory())
			}
		})
	}
}

func TestParseDatabaseURLErrors(t *testing.T) {
	tests := []struct {
		raw  string
		want string
	}{
		{"", "config: database.url: empty (want sqlite:, file: or postgres://)"},
		{"mysql://u:secret@h/db", `config: database.url: unsupported scheme "mysql" (want sqlite:, file: or postgres://)`},
		{"./data/x.db", "config: database.url: missing scheme (want sqlite:, file: or postgres://)"},
		{"1sqlite:x", "config: database.url: missing scheme (want sqlite:, file: or postgres://)"},
		{"sqlite:", "config: database.url: missing sqlite file path (want e.g. sqlite://./data/servicedesk.db)"},
		{"sqlite:///", "config: database.url: missing sqlite file path (want e.g. sqlite://./data/servicedesk.db)"},
		{"sqlite:///app.db?mode=ro", "config: database.url: sqlite URL takes no query or fragment (want a plain file path)"},
		{"postgres:db", "config: database.url: invalid postgres URL (want postgres://user:password@host:5432/dbname)"},
		{"postgres://u:secret@h:port/db", "config: database.url: invalid postgres URL (want postgres://user:password@host:5432/dbname)"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			_, err := ParseDatabaseURL(tt.raw)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v\nwant %q", err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Key != "database.url" {
				t.Errorf("not an *Error for database.url: %#v", err)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestDefaultDatabaseURLRoundTrip(t *testing.T) {
	tests := []struct{ dataDir, url, path string }{
		{"./data", "sqlite://./data/servicedesk.db", "./data/servicedesk.db"},
		{"data/", "sqlite://./data/servicedesk.db", "./data/servicedesk.db"},
		{"../shared", "sqlite://../shared/servicedesk.db", "../shared/servicedesk.db"},
		{"/var/lib/servicedesk", "sqlite:////var/lib/servicedesk/servicedesk.db", "/var/lib/servicedesk/servicedesk.db"},
	}
	for _, tt := range tests {
		t.Run(tt.dataDir, func(t *testing.T) {
			u := defaultDatabaseURL(tt.dataDir)
			if u != tt.url {
				t.Errorf("url = %q, want %q", u, tt.url)
			}
			target, err := ParseDatabaseURL(u)
			if err != nil || target.DSN != tt.path {
				t.Errorf("parse(%q) = %+v, %v; want path %q", u, target, err, tt.path)
			}
		})
	}
}

func TestRedactDatabaseURL(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"sqlite:///app.db", "sqlite:///app.db"},
		{"postgres://sd@db/sd", "postgres://sd@db/sd"},
		{"postgres://sd:s3cr3t@db:5432/sd?sslmode=disable", "postgres://sd:********@db:5432/sd?sslmode=disable"},
		{"postgres://db/sd?user=sd&password=s3cr3t", "postgres://db/sd?password=********&user=sd"},
		{"postgres://sd:s3cr3t@db:port/sd", "********"},
	}
	for _, tt := range tests {
		if got := redactDatabaseURL(tt.raw); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}
