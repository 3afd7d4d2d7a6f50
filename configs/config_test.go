package configs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

const exampleFile = "servicedesk.example.yaml"

func TestLoadNothingGivesDefaults(t *testing.T) {
	c := mustLoad(t, nil)
	if !reflect.DeepEqual(plain(c), plain(Defaults())) {
		t.Errorf("got  %+v\nwant %+v", plain(c), plain(Defaults()))
	}
	if c.File != "" {
		t.Errorf("File = %q, want none", c.File)
	}
}

// The example documents the defaults; this keeps it from drifting.
func TestExampleFileEqualsDefaults(t *testing.T) {
	abs, err := filepath.Abs(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	c, err := loadOpts(t, nil, LoadOptions{ConfigFile: abs})
	if err != nil {
		t.Fatal(err)
	}
	if c.File != abs {
		t.Errorf("File = %q, want %q", c.File, abs)
	}
	if !reflect.DeepEqual(plain(c), plain(Defaults())) {
		t.Errorf("example differs from Defaults():\n got  %+v\nwant %+v", plain(c), plain(Defaults()))
	}
}

func TestExampleFileListsEveryKey(t *testing.T) {
	v := viper.New()
	v.SetConfigFile(exampleFile)
	if err := v.ReadInConfig(); err != nil {
		t.Fatal(err)
	}
	inFile := map[string]bool{}
	for _, k := range v.AllKeys() {
		inFile[k] = true
	}
	raw, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	for _, f := range fieldsOf(reflect.TypeOf(Config{}), "") {
		if !inFile[f.key] {
			t.Errorf("key %s missing from %s", f.key, exampleFile)
		}
		if !strings.Contains(text, EnvName(f.key)) {
			t.Errorf("variable %s not documented in %s", EnvName(f.key), exampleFile)
		}
	}
	// Mailbox fields live in a commented sample, since the default list is empty.
	for _, f := range fieldsOf(reflect.TypeOf(Mailbox{}), "") {
		if !strings.Contains(text, " "+f.key+": ") || !strings.Contains(text, "#") {
			t.Errorf("mailbox key %s missing from the sample in %s", f.key, exampleFile)
		}
	}
	for _, a := range flaskAliases() {
		if !strings.Contains(text, a.name) {
			t.Errorf("Flask name %s not documented in %s", a.name, exampleFile)
		}
	}
	for _, n := range imapVarNames() {
		if !strings.Contains(text, n) {
			t.Errorf("Flask name %s not documented in %s", n, exampleFile)
		}
	}
	// Every key line carries a comment.
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, "- ") || strings.HasSuffix(trimmed, ":") {
			continue
		}
		if !strings.Contains(line, " # ") {
			t.Errorf("%s:%d has no comment: %q", exampleFile, i+1, line)
		}
	}
}

// The commented mailbox sample must itself be a valid mailbox list.
func TestExampleMailboxSampleLoads(t *testing.T) {
	raw, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	var sample []string
	in := false
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "  #   - name:") {
			in = true
		}
		if in {
			if !strings.HasPrefix(line, "  #  ") {
				break
			}
			sample = append(sample, "  "+strings.TrimPrefix(line, "  #"))
		}
	}
	if len(sample) == 0 {
		t.Fatal("no mailbox sample found")
	}
	file := "mail:\n  addresses: [support@example.com]\nimap:\n  mailboxes:\n" + strings.Join(sample, "\n") + "\n"
	c, err := loadIn(t, map[string]string{"servicedesk.yaml": file})
	if err != nil {
		t.Fatalf("%v\n%s", err, file)
	}
	want := Mailbox{Name: "support", Host: "imap.example.com", Port: 993, Security: "tls", Username: "support@example.com",
		Folder: "INBOX", After: "seen", PollInterval: time.Minute, Address: "support@example.com"}
	if len(c.IMAP.Mailboxes) != 1 || c.IMAP.Mailboxes[0] != want {
		t.Errorf("sample = %+v, want %+v", c.IMAP.Mailboxes, want)
	}
}

func TestRedacted(t *testing.T) {
	secrets := []string{"sk-Secret1", "admin-Secret2", "mail-Secret3", "imap-Secret4", "imap-Secret5", "db-Secret6"}
	c := mustLoad(t, nil,
		"SECRET_KEY="+secrets[0],
		"ADMIN_PASSWORD="+secrets[1],
		"MAIL_PASSWORD="+secrets[2],
		`SERVICEDESK_IMAP_MAILBOXES=[{name: a, host: h, username: u, password: `+secrets[3]+`}, {name: b, host: h, username: u, password: `+secrets[4]+`}, {name: c, host: h, username: u}]`,
		"DATABASE_URL=postgres://sd:"+secrets[5]+"@db:5432/sd",
	)
	orig, _ := json.Marshal(c)
	r := c.Redacted()
	for _, format := range []string{"json", "yaml"} {
		var out []byte
		var err error
		if format == "json" {
			out, err = json.Marshal(r)
		} else {
			out, err = yaml.Marshal(r)
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if strings.Contains(string(out), s) {
				t.Errorf("%s of Redacted() contains %q", format, s)
			}
		}
	}
	checks := []struct {
		name, got, want string
	}{
		{"secret_key", r.Security.SecretKey, redacted},
		{"admin.password", r.Admin.Password, redacted},
		{"mail.password", r.Mail.Password, redacted},
		{"imap 0", r.IMAP.Mailboxes[0].Password, redacted},
		{"imap 1", r.IMAP.Mailboxes[1].Password, redacted},
		{"imap unset stays empty", r.IMAP.Mailboxes[2].Password, ""},
		{"database.url", r.Database.URL, "postgres://sd:********@db:5432/sd"},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %q, want %q", ck.name, ck.got, ck.want)
		}
	}
	if after, _ := json.Marshal(c); string(after) != string(orig) {
		t.Error("Redacted modified the original")
	}
}

func TestRedactedLeavesUnsetSecretsEmpty(t *testing.T) {
	r := Defaults().Redacted()
	if r.Security.SecretKey != "" || r.Admin.Password != "" || r.Mail.Password != "" {
		t.Errorf("unset secrets shown as set: %+v %+v", r.Security, r.Admin)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"notify_to":[]`) || !strings.Contains(string(out), `"mailboxes":[]`) {
		t.Errorf("empty lists should print as []: %s", out)
	}
}

func TestJSONAndYAMLUseKeyNames(t *testing.T) {
	out, err := json.Marshal(Defaults())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	for _, f := range fieldsOf(reflect.TypeOf(Config{}), "") {
		cur := any(m)
		for _, part := range strings.Split(f.key, ".") {
			obj, ok := cur.(map[string]any)
			if !ok {
				cur = nil
				break
			}
			cur = obj[part]
		}
		if cur == nil {
			t.Errorf("json has no %s", f.key)
		}
	}
	// Tags must agree on every field, nested ones included.
	var walk func(reflect.Type)
	walk = func(tp reflect.Type) {
		for i := 0; i < tp.NumField(); i++ {
			sf := tp.Field(i)
			if !sf.IsExported() {
				continue
			}
			ms, js, ys := sf.Tag.Get("mapstructure"), sf.Tag.Get("json"), sf.Tag.Get("yaml")
			if ms != js || ms != ys {
				t.Errorf("%s.%s: tags disagree: %q %q %q", tp.Name(), sf.Name, ms, js, ys)
			}
			if sf.Type.Kind() == reflect.Struct {
				walk(sf.Type)
			}
			if sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.Struct {
				walk(sf.Type.Elem())
			}
		}
	}
	walk(reflect.TypeOf(Config{}))
}

func TestLocation(t *testing.T) {
	tests := []struct {
		tz       string
		validate bool
		want     string
	}{
		{"America/Sao_Paulo", true, "America/Sao_Paulo"},
		{"America/Manaus", false, "America/Manaus"},
		{"Mars/Base", false, "UTC"},
	}
	for _, tt := range tests {
		c := Defaults()
		c.Timezone = tt.tz
		if tt.validate {
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
		}
		if got := c.Location().String(); got != tt.want {
			t.Errorf("%s: Location() = %s, want %s", tt.tz, got, tt.want)
		}
	}
}

func TestMailboxMoveFolder(t *testing.T) {
	tests := []struct {
		after  string
		folder string
		ok     bool
	}{
		{"move:Processed", "Processed", true},
		{"move:INBOX/Done", "INBOX/Done", true},
		{"move:", "", false},
		{"seen", "", false},
		{"delete", "", false},
	}
	for _, tt := range tests {
		folder, ok := Mailbox{After: tt.after}.MoveFolder()
		if folder != tt.folder || ok != tt.ok {
			t.Errorf("%q: got %q %v, want %q %v", tt.after, folder, ok, tt.folder, tt.ok)
		}
	}
}

func TestEnvName(t *testing.T) {
	for key, want := range map[string]string{
		"data_dir":                 "SERVICEDESK_DATA_DIR",
		"mail.port":                "SERVICEDESK_MAIL_PORT",
		"http.public_url":          "SERVICEDESK_HTTP_PUBLIC_URL",
		"mail.rate_limit_per_hour": "SERVICEDESK_MAIL_RATE_LIMIT_PER_HOUR",
		"mail.ack_limit_per_hour":  "SERVICEDESK_MAIL_ACK_LIMIT_PER_HOUR",
		"smtp.shutdown_timeout":    "SERVICEDESK_SMTP_SHUTDOWN_TIMEOUT",
		"mail.retry_base":          "SERVICEDESK_MAIL_RETRY_BASE",
		"mail.retry_max":           "SERVICEDESK_MAIL_RETRY_MAX",
		"mail.give_up_after":       "SERVICEDESK_MAIL_GIVE_UP_AFTER",
		"mail.poll_interval":       "SERVICEDESK_MAIL_POLL_INTERVAL",
	} {
		if got := EnvName(key); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", key, got, want)
		}
	}
}
