package configs

import (
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// get returns the value of a dotted key, so tables can name keys as users do.
func get(t *testing.T, c *Config, key string) any {
	t.Helper()
	for _, f := range fieldsOf(reflect.TypeOf(Config{}), "") {
		if f.key == key {
			return reflect.ValueOf(c).Elem().FieldByIndex(f.index).Interface()
		}
	}
	t.Fatalf("no key %q", key)
	return nil
}

func TestLoadPrecedence(t *testing.T) {
	const file = "http:\n  addr: \":5001\"\n"
	const dotenv = "SERVICEDESK_HTTP_ADDR=:5002\n"
	const env = "SERVICEDESK_HTTP_ADDR=:5003"
	tests := []struct {
		name    string
		files   map[string]string
		env     []string
		flagArg string // "" leaves the flag unchanged
		want    string
	}{
		{name: "default", want: ":4480"},
		{name: "file beats default", files: map[string]string{"servicedesk.yaml": file}, want: ":5001"},
		{name: ".env beats file", files: map[string]string{"servicedesk.yaml": file, ".env": dotenv}, want: ":5002"},
		{name: "env beats .env", files: map[string]string{"servicedesk.yaml": file, ".env": dotenv}, env: []string{env}, want: ":5003"},
		{name: "flag beats env", files: map[string]string{"servicedesk.yaml": file, ".env": dotenv}, env: []string{env}, flagArg: "--http-addr=:5004", want: ":5004"},
		{name: "unchanged flag does not override", files: map[string]string{"servicedesk.yaml": file}, env: []string{env}, want: ":5003"},
		{name: "flag beats default alone", flagArg: "--http-addr=:5004", want: ":5004"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flags := pflag.NewFlagSet("test", pflag.ContinueOnError)
			flags.String("http-addr", ":9999", "")
			var args []string
			if tt.flagArg != "" {
				args = []string{tt.flagArg}
			}
			if err := flags.Parse(args); err != nil {
				t.Fatal(err)
			}
			c, err := loadOpts(t, tt.files, LoadOptions{
				Environ: tt.env, Flags: flags, FlagKeys: map[string]string{"http-addr": "http.addr"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if c.HTTP.Addr != tt.want {
				t.Errorf("http.addr = %q, want %q", c.HTTP.Addr, tt.want)
			}
		})
	}
}

func TestLoadFlagKinds(t *testing.T) {
	flags := pflag.NewFlagSet("test", pflag.ContinueOnError)
	flags.StringSlice("address", nil, "")
	flags.Bool("jobs", false, "")
	flags.Duration("session", 0, "")
	flags.Int("port", 0, "")
	if err := flags.Parse([]string{"--address=a@x.com,b@x.com", "--jobs", "--session=2h", "--port=2525"}); err != nil {
		t.Fatal(err)
	}
	c, err := loadOpts(t, nil, LoadOptions{Flags: flags, FlagKeys: map[string]string{
		"address": "mail.addresses", "jobs": "jobs.enabled", "session": "security.session_lifetime", "port": "mail.port",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Mail.Addresses, []string{"a@x.com", "b@x.com"}) || !c.Jobs.Enabled ||
		c.Security.SessionLifetime != 2*time.Hour || c.Mail.Port != 2525 {
		t.Errorf("got addresses %v jobs %v session %v port %d", c.Mail.Addresses, c.Jobs.Enabled, c.Security.SessionLifetime, c.Mail.Port)
	}
}

func TestLoadFlagKeyErrors(t *testing.T) {
	flags := pflag.NewFlagSet("test", pflag.ContinueOnError)
	flags.String("db", "", "")
	tests := []struct {
		name string
		keys map[string]string
		want string
	}{
		{"unknown key", map[string]string{"db": "database.uri"}, "config: database.uri: unknown key (from --db)"},
		{"undefined flag", map[string]string{"nope": "database.url"}, "config: database.url: flag --nope is not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadOpts(t, nil, LoadOptions{Flags: flags, FlagKeys: tt.keys})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLoadFlaskNames(t *testing.T) {
	tests := []struct {
		env  string
		key  string
		want any
	}{
		{"DATABASE_URL=sqlite:///app.db", "database.url", "sqlite:///app.db"},
		{"SECRET_KEY=s3cr3t", "security.secret_key", "s3cr3t"},
		{"SESSION_LIFETIME_SECONDS=3600", "security.session_lifetime", time.Hour},
		{"TIMEZONE=America/Manaus", "timezone", "America/Manaus"},
		{"ADMIN_EMAIL=root@jc.com.br", "admin.email", "root@jc.com.br"},
		{"ADMIN_PASSWORD=pw", "admin.password", "pw"},
		{"MAIL_SERVER=smtp.jc.com.br", "mail.server", "smtp.jc.com.br"},
		{"MAIL_PORT=465", "mail.port", 465},
		{"MAIL_USE_TLS=0", "mail.use_tls", false},
		{"MAIL_USE_SSL=1", "mail.use_ssl", true},
		{"MAIL_USERNAME=bot", "mail.username", "bot"},
		{"MAIL_PASSWORD=mpw", "mail.password", "mpw"},
		{"MAIL_DEFAULT_SENDER=Suporte JC <suporte@jc.com.br>", "mail.default_sender", "Suporte JC <suporte@jc.com.br>"},
		{"MAIL_SUPPRESS_SEND=false", "mail.suppress_send", false},
		{"NOTIFY_TICKETS_TO=a@jc.com.br; b@jc.com.br,c@jc.com.br", "mail.notify_to", []string{"a@jc.com.br", "b@jc.com.br", "c@jc.com.br"}},
		{"BRAND_PRIMARY=#112233", "brand.primary", "#112233"},
		{"BRAND_PRIMARY_DARK=#001", "brand.primary_dark", "#001"},
		{"BRAND_PRIMARY_LIGHT=#fafafa", "brand.primary_light", "#fafafa"},
	}
	for _, tt := range tests {
		name, _, _ := strings.Cut(tt.env, "=")
		t.Run(name, func(t *testing.T) {
			for _, layer := range []string{"env", ".env"} {
				var c *Config
				if layer == "env" {
					c = mustLoad(t, nil, tt.env)
				} else {
					c = mustLoad(t, map[string]string{".env": tt.env + "\n"})
				}
				if got := get(t, c, tt.key); !reflect.DeepEqual(got, tt.want) {
					t.Errorf("%s: %s = %#v, want %#v", layer, tt.key, got, tt.want)
				}
			}
		})
	}
	// Every Flask name is covered by this table.
	covered := map[string]bool{}
	for _, tt := range tests {
		name, _, _ := strings.Cut(tt.env, "=")
		covered[name] = true
	}
	for _, a := range flaskAliases() {
		if !covered[a.name] {
			t.Errorf("Flask name %s not tested", a.name)
		}
	}
}

func TestLoadNamePriority(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		env   []string
		want  string
	}{
		{"SERVICEDESK_ wins in the environment", nil,
			[]string{"DATABASE_URL=sqlite:///flask.db", "SERVICEDESK_DATABASE_URL=sqlite:///ours.db"}, "sqlite:///ours.db"},
		{"SERVICEDESK_ wins in .env", map[string]string{".env": "SERVICEDESK_DATABASE_URL=sqlite:///ours.db\nDATABASE_URL=sqlite:///flask.db\n"},
			nil, "sqlite:///ours.db"},
		{"real Flask name beats .env SERVICEDESK_", map[string]string{".env": "SERVICEDESK_DATABASE_URL=sqlite:///ours.db\n"},
			[]string{"DATABASE_URL=sqlite:///flask.db"}, "sqlite:///flask.db"},
		{"Flask name beats file", map[string]string{"servicedesk.yaml": "database:\n  url: sqlite:///file.db\n"},
			[]string{"DATABASE_URL=sqlite:///flask.db"}, "sqlite:///flask.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, tt.files, tt.env...)
			if c.Database.URL != tt.want {
				t.Errorf("database.url = %q, want %q", c.Database.URL, tt.want)
			}
		})
	}
}

func TestLoadEveryKeyHasEnvName(t *testing.T) {
	for _, f := range fieldsOf(reflect.TypeOf(Config{}), "") {
		if f.typ == mailboxesType {
			continue // covered by TestLoadIMAP
		}
		t.Run(f.key, func(t *testing.T) {
			var val string
			var want any
			switch {
			case f.typ == durationType:
				val, want = "7m", 7*time.Minute
			case f.typ.Kind() == reflect.Bool:
				def := get(t, Defaults(), f.key).(bool)
				val, want = map[bool]string{true: "off", false: "yes"}[def], !def
			case f.typ.Kind() == reflect.Int || f.typ.Kind() == reflect.Int64:
				val = "4242"
				want = reflect.ValueOf(int64(4242)).Convert(f.typ).Interface()
			case f.typ.Kind() == reflect.Slice:
				val, want = "x1@jc.com.br, x2@jc.com.br", []string{"x1@jc.com.br", "x2@jc.com.br"}
			default:
				val, want = "v-"+f.key, "v-"+f.key
			}
			env := EnvName(f.key) + "=" + val
			// Keys that must be set together get valid companions.
			companions := []string{
				"SERVICEDESK_SMTP_TLS_CERT=c.pem", "SERVICEDESK_SMTP_TLS_KEY=k.pem",
				"SERVICEDESK_MAIL_DKIM_DOMAIN=jc.com.br", "SERVICEDESK_MAIL_DKIM_SELECTOR=s1", "SERVICEDESK_MAIL_DKIM_KEY_FILE=d.pem",
			}
			if !strings.Contains(f.key, "tls_") && !strings.Contains(f.key, "dkim_") {
				companions = nil
			}
			c, err := loadIn(t, nil, append(companions, env)...)
			if err != nil {
				// Validation may reject the dummy value; it must still be
				// about this key, proving the variable reached it.
				var e *Error
				if !errors.As(err, &e) || !strings.HasPrefix(e.Key, f.key) || e.Source != EnvName(f.key) {
					t.Fatalf("%s: %v", env, err)
				}
				return
			}
			if got := get(t, c, f.key); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: got %#v, want %#v", env, got, want)
			}
		})
	}
}

func TestLoadLists(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		env   []string
		want  []string
	}{
		{"env comma-separated", nil, []string{"SERVICEDESK_MAIL_ADDRESSES=suporte@jc.com.br, vendas@jc.com.br"},
			[]string{"suporte@jc.com.br", "vendas@jc.com.br"}},
		{"env semicolons and blanks", nil, []string{"SERVICEDESK_MAIL_ADDRESSES=;suporte@jc.com.br;;vendas@jc.com.br;"},
			[]string{"suporte@jc.com.br", "vendas@jc.com.br"}},
		{"yaml list", map[string]string{"servicedesk.yaml": "mail:\n  addresses: [suporte@jc.com.br, vendas@jc.com.br]\n"}, nil,
			[]string{"suporte@jc.com.br", "vendas@jc.com.br"}},
		{"yaml string", map[string]string{"servicedesk.yaml": "mail:\n  addresses: suporte@jc.com.br,vendas@jc.com.br\n"}, nil,
			[]string{"suporte@jc.com.br", "vendas@jc.com.br"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, tt.files, tt.env...)
			if !reflect.DeepEqual(c.Mail.Addresses, tt.want) {
				t.Errorf("addresses = %q, want %q", c.Mail.Addresses, tt.want)
			}
			if c.Mail.DefaultSender != tt.want[0] {
				t.Errorf("default_sender = %q, want the first address", c.Mail.DefaultSender)
			}
		})
	}
}

func TestLoadBooleans(t *testing.T) {
	for _, tt := range []struct {
		val  string
		want bool
	}{
		{"1", true}, {"0", false}, {"true", true}, {"False", false}, {"yes", true}, {"NO", false}, {"on", true}, {"off", false}, {" true ", true},
	} {
		c := mustLoad(t, nil, "SERVICEDESK_JOBS_ENABLED="+tt.val)
		if c.Jobs.Enabled != tt.want {
			t.Errorf("%q: jobs.enabled = %v, want %v", tt.val, c.Jobs.Enabled, tt.want)
		}
	}
}

func TestLoadDerivedDefaults(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		env   []string
		check func(c *Config) string
	}{
		{"data_dir moves database and outbox", nil, []string{"SERVICEDESK_DATA_DIR=/var/lib/servicedesk"}, func(c *Config) string {
			if c.Database.URL != "sqlite:////var/lib/servicedesk/servicedesk.db" || c.Mail.OutboxDir != "/var/lib/servicedesk/outbox" {
				return c.Database.URL + " " + c.Mail.OutboxDir
			}
			return ""
		}},
		{"explicit database.url kept", nil, []string{"SERVICEDESK_DATA_DIR=/srv", "DATABASE_URL=sqlite:///app.db"}, func(c *Config) string {
			if c.Database.URL != "sqlite:///app.db" || c.Mail.OutboxDir != "/srv/outbox" {
				return c.Database.URL + " " + c.Mail.OutboxDir
			}
			return ""
		}},
		{"server set: sending on", nil, []string{"MAIL_SERVER=smtp.jc.com.br"}, func(c *Config) string {
			if c.Mail.SuppressSend {
				return "suppress_send true"
			}
			return ""
		}},
		{"server set, suppress explicit", nil, []string{"MAIL_SERVER=smtp.jc.com.br", "MAIL_SUPPRESS_SEND=1"}, func(c *Config) string {
			if !c.Mail.SuppressSend {
				return "suppress_send false"
			}
			return ""
		}},
		{"empty suppress_send in yaml is automatic", map[string]string{"servicedesk.yaml": "mail:\n  server: smtp.jc.com.br\n  suppress_send:\n"}, nil, func(c *Config) string {
			if c.Mail.SuppressSend {
				return "suppress_send true"
			}
			return ""
		}},
		{"empty MAIL_SUPPRESS_SEND is unset", map[string]string{".env": "MAIL_SUPPRESS_SEND=\nMAIL_PORT=\n"}, nil, func(c *Config) string {
			if !c.Mail.SuppressSend || c.Mail.Port != 587 {
				return "changed"
			}
			return ""
		}},
		{"use_ssl alone turns STARTTLS off", nil, []string{"MAIL_USE_SSL=1", "MAIL_PORT=465"}, func(c *Config) string {
			if c.Mail.UseTLS || !c.Mail.UseSSL {
				return "use_tls still on"
			}
			return ""
		}},
		{"public_url trailing slash trimmed", nil, []string{"SERVICEDESK_HTTP_PUBLIC_URL=https://help.jc.com.br/"}, func(c *Config) string {
			if c.HTTP.PublicURL != "https://help.jc.com.br" {
				return c.HTTP.PublicURL
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if msg := tt.check(mustLoad(t, tt.files, tt.env...)); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func TestLoadIMAP(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		env   []string
		want  []Mailbox
	}{
		{
			name: "Flask IMAP_* make one mailbox",
			env: []string{"IMAP_HOST=imap.jc.com.br", "IMAP_PORT=993", "IMAP_SSL=1", "IMAP_USERNAME=suporte@jc.com.br",
				"IMAP_PASSWORD=ipw", "SERVICEDESK_MAIL_ADDRESSES=suporte@jc.com.br"},
			want: []Mailbox{{Name: "default", Host: "imap.jc.com.br", Port: 993, Security: "tls", Username: "suporte@jc.com.br",
				Password: "ipw", Folder: "INBOX", After: "seen", PollInterval: time.Minute, Address: "suporte@jc.com.br"}},
		},
		{
			name:  "IMAP_SSL=0 means starttls on 143, IMAP_FOLDER honoured, .env and env merged",
			files: map[string]string{".env": "IMAP_HOST=imap.jc.com.br\nIMAP_SSL=0\nIMAP_USERNAME=u\n"},
			env:   []string{"IMAP_PASSWORD=ipw", "IMAP_FOLDER=Suporte"},
			want: []Mailbox{{Name: "default", Host: "imap.jc.com.br", Port: 143, Security: "starttls", Username: "u",
				Password: "ipw", Folder: "Suporte", After: "seen", PollInterval: time.Minute, Address: "support@localhost"}},
		},
		{
			name: "IMAP_SECURITY=plain",
			env:  []string{"IMAP_HOST=localhost", "IMAP_SSL=false", "IMAP_SECURITY=plain", "IMAP_USERNAME=u"},
			want: []Mailbox{{Name: "default", Host: "localhost", Port: 143, Security: "plain", Username: "u",
				Folder: "INBOX", After: "seen", PollInterval: time.Minute, Address: "support@localhost"}},
		},
		{
			name:  "configured mailboxes win over IMAP_*",
			files: map[string]string{"servicedesk.yaml": "imap:\n  mailboxes:\n    - name: a\n      host: imap.a.com\n      username: u\n"},
			env:   []string{"IMAP_HOST=imap.jc.com.br", "IMAP_USERNAME=x"},
			want: []Mailbox{{Name: "a", Host: "imap.a.com", Port: 993, Security: "tls", Username: "u",
				Folder: "INBOX", After: "seen", PollInterval: time.Minute, Address: "support@localhost"}},
		},
		{
			name: "defaults apply to each YAML element, set fields kept",
			files: map[string]string{"servicedesk.yaml": `
mail:
  addresses: [suporte@jc.com.br, vendas@jc.com.br]
imap:
  mailboxes:
    - name: suporte
      host: imap.jc.com.br
      username: suporte@jc.com.br
    - Name: vendas
      host: imap.jc.com.br
      port: 1143
      security: starttls
      username: vendas@jc.com.br
      password: "0123"
      folder: Vendas
      after: move:Processados
      poll_interval: 5m
      address: vendas@jc.com.br
`},
			want: []Mailbox{
				{Name: "suporte", Host: "imap.jc.com.br", Port: 993, Security: "tls", Username: "suporte@jc.com.br",
					Folder: "INBOX", After: "seen", PollInterval: time.Minute, Address: "suporte@jc.com.br"},
				{Name: "vendas", Host: "imap.jc.com.br", Port: 1143, Security: "starttls", Username: "vendas@jc.com.br", Password: "0123",
					Folder: "Vendas", After: "move:Processados", PollInterval: 5 * time.Minute, Address: "vendas@jc.com.br"},
			},
		},
		{
			name: "JSON list in SERVICEDESK_IMAP_MAILBOXES",
			env:  []string{`SERVICEDESK_IMAP_MAILBOXES=[{"name":"j","host":"imap.j.com","username":"u","after":"delete"}]`},
			want: []Mailbox{{Name: "j", Host: "imap.j.com", Port: 993, Security: "tls", Username: "u",
				Folder: "INBOX", After: "delete", PollInterval: time.Minute, Address: "support@localhost"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, tt.files, tt.env...)
			if !reflect.DeepEqual(c.IMAP.Mailboxes, tt.want) {
				t.Errorf("mailboxes:\n got %+v\nwant %+v", c.IMAP.Mailboxes, tt.want)
			}
		})
	}
}

func TestLoadConfigFileSearch(t *testing.T) {
	const a, b = "http:\n  addr: \":5001\"\n", "http:\n  addr: \":5002\"\n"
	tests := []struct {
		name     string
		files    map[string]string
		explicit string
		want     string
		wantFile string
	}{
		{"none", nil, "", ":4480", ""},
		{"workdir first", map[string]string{"servicedesk.yaml": a, "configs/servicedesk.yaml": b}, "", ":5001", "servicedesk.yaml"},
		{"configs/ next", map[string]string{"configs/servicedesk.yaml": b}, "", ":5002", "configs/servicedesk.yaml"},
		{"explicit beats search", map[string]string{"servicedesk.yaml": a, "other.yml": b}, "other.yml", ":5002", "other.yml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadOpts(t, tt.files, LoadOptions{ConfigFile: tt.explicit})
			if err != nil {
				t.Fatal(err)
			}
			if c.HTTP.Addr != tt.want || !strings.HasSuffix(c.File, tt.wantFile) || (tt.wantFile == "") != (c.File == "") {
				t.Errorf("addr %q from %q, want %q from %q", c.HTTP.Addr, c.File, tt.want, tt.wantFile)
			}
		})
	}
}

func TestLoadSystemConfigFile(t *testing.T) {
	sys := t.TempDir() + "/servicedesk.yaml"
	if err := writeFile(sys, "log:\n  level: debug\n"); err != nil {
		t.Fatal(err)
	}
	c, err := load(LoadOptions{WorkDir: t.TempDir(), Environ: []string{}}, sys)
	if err != nil {
		t.Fatal(err)
	}
	if c.Log.Level != "debug" || c.File != sys {
		t.Errorf("level %q from %q, want debug from %q", c.Log.Level, c.File, sys)
	}
}

func TestLoadMissingExplicitFile(t *testing.T) {
	_, err := loadOpts(t, nil, LoadOptions{ConfigFile: "missing.yaml"})
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "missing.yaml: config file does not exist") {
		t.Fatalf("err = %v", err)
	}
	assertOneLine(t, err)
}

func TestLoadDecodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		env   []string
		want  string // the exact error
	}{
		{"int from env", nil, []string{"SERVICEDESK_MAIL_PORT=abc"},
			`config: mail.port: "abc" is not a whole number (from SERVICEDESK_MAIL_PORT)`},
		{"int from Flask name in .env", map[string]string{".env": "MAIL_PORT=abc\n"}, nil,
			`config: mail.port: "abc" is not a whole number (from MAIL_PORT in `},
		{"duration", nil, []string{"SERVICEDESK_SMTP_READ_TIMEOUT=soon"},
			`config: smtp.read_timeout: "soon" is not a duration (want a number with a unit, e.g. 90s, 15m or 12h) (from SERVICEDESK_SMTP_READ_TIMEOUT)`},
		{"duration without unit in yaml", map[string]string{"servicedesk.yaml": "smtp:\n  read_timeout: 60\n"}, nil,
			`config: smtp.read_timeout: 60 has no unit (want a number with a unit, e.g. 90s, 15m or 12h) (from `},
		{"bool", nil, []string{"SERVICEDESK_JOBS_ENABLED=maybe"},
			`config: jobs.enabled: "maybe" is not a boolean (want true/false, 1/0, yes/no or on/off) (from SERVICEDESK_JOBS_ENABLED)`},
		{"session seconds", nil, []string{"SESSION_LIFETIME_SECONDS=1h"},
			`config: security.session_lifetime: "1h" is not a whole number of seconds (from SESSION_LIFETIME_SECONDS)`},
		{"IMAP_SSL", nil, []string{"IMAP_HOST=imap.x.com", "IMAP_SSL=sim"},
			`config: imap.mailboxes[0].security: "sim" is not a boolean (want 1/0, true/false, yes/no or on/off) (from IMAP_SSL)`},
		{"IMAP_PORT", nil, []string{"IMAP_HOST=imap.x.com", "IMAP_PORT=x"},
			`config: imap.mailboxes[0].port: "x" is not a whole number (from IMAP_PORT)`},
		{"mailbox poll_interval", map[string]string{"servicedesk.yaml": "imap:\n  mailboxes:\n    - {name: a, host: h, username: u, poll_interval: often}\n"}, nil,
			`config: imap.mailboxes[0].poll_interval: "often" is not a duration`},
		{"mailbox unknown key", map[string]string{"servicedesk.yaml": "imap:\n  mailboxes:\n    - {name: a, hots: h}\n"}, nil,
			`config: imap.mailboxes[0].hots: unknown key (servicedesk.example.yaml lists every key) (from `},
		{"mailboxes not a list", map[string]string{"servicedesk.yaml": "imap:\n  mailboxes: imap.x.com\n"}, nil,
			`config: imap.mailboxes: not a YAML or JSON list of mailboxes`},
		{"mailbox not a mapping", nil, []string{"SERVICEDESK_IMAP_MAILBOXES=[a, b]"},
			`config: imap.mailboxes[0]: want a mapping with name, host, username, …, got "a" (from SERVICEDESK_IMAP_MAILBOXES)`},
		{"unknown file key", map[string]string{"servicedesk.yaml": "smtp:\n  adress: \":25\"\n"}, nil,
			`config: smtp.adress: unknown key (servicedesk.example.yaml lists every key) (from `},
		{"section not a mapping", map[string]string{"servicedesk.yaml": "mail: support@x.com\n"}, nil,
			`config: mail: want a mapping of mail.* settings, got "support@x.com" (from `},
		{"list in a text key", map[string]string{"servicedesk.yaml": "timezone: [a, b]\n"}, nil,
			`config: timezone: want text, got a list (from `},
		{"bad yaml", map[string]string{"servicedesk.yaml": "http:\n  addr: [\n"}, nil,
			`servicedesk.yaml: yaml:`},
		{"bad .env line", map[string]string{".env": "# ok\nJUST TEXT\n"}, nil,
			`.env: line 2: want NAME=value`},
		{"unterminated .env quote", map[string]string{".env": "A=\"open\n"}, nil,
			`.env: line 1: unterminated " quote`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadIn(t, tt.files, tt.env...)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q\nwant it to contain %q", err, tt.want)
			}
			assertOneLine(t, err)
		})
	}
}

func TestLoadDoesNotTouchProcessEnv(t *testing.T) {
	t.Setenv("SERVICEDESK_HTTP_ADDR", ":1") // would fail the test if read
	c := mustLoad(t, map[string]string{".env": "SERVICEDESK_LOG_LEVEL=debug\n"})
	if c.HTTP.Addr != ":4480" {
		t.Errorf("process environment leaked: http.addr = %q", c.HTTP.Addr)
	}
	if v, ok := lookupProcessEnv("SERVICEDESK_LOG_LEVEL"); ok {
		t.Errorf(".env leaked into the process: %q", v)
	}
}

func TestLoadYAMLScalars(t *testing.T) {
	c := mustLoad(t, map[string]string{"servicedesk.yaml": `
admin:
  password: 1234          # a number in YAML, text in Go
jobs:
  enabled: yes            # YAML 1.2 keeps this a string
mail:
  port: "2525"            # quoted number
smtp:
  max_message_bytes: 1048576
  addr: ""                # empty disables
`})
	if c.Admin.Password != "1234" || !c.Jobs.Enabled || c.Mail.Port != 2525 || c.SMTP.MaxMessageBytes != 1<<20 || c.SMTP.Addr != "" {
		t.Errorf("got password %q jobs %v port %d max %d addr %q", c.Admin.Password, c.Jobs.Enabled, c.Mail.Port, c.SMTP.MaxMessageBytes, c.SMTP.Addr)
	}
}

func TestLoadNilEnvironUsesProcess(t *testing.T) {
	t.Setenv("SERVICEDESK_LOG_LEVEL", "debug")
	dir := t.TempDir()
	c, err := load(LoadOptions{WorkDir: dir}, dir+"/none.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Log.Level != "debug" {
		t.Errorf("log.level = %q, want the process value debug", c.Log.Level)
	}
}
