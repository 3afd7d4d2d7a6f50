package configs

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidateDefaults(t *testing.T) {
	c := Defaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Location().String() != "America/Sao_Paulo" {
		t.Errorf("location = %v", c.Location())
	}
}

func TestValidateErrors(t *testing.T) {
	box := func(mod func(*Mailbox)) func(*Config) {
		return func(c *Config) {
			b := Mailbox{Name: "suporte", Host: "imap.jc.com.br", Port: 993, Security: "tls", Username: "u",
				Folder: "INBOX", After: "seen", PollInterval: time.Minute, Address: "support@localhost"}
			mod(&b)
			c.IMAP.Mailboxes = []Mailbox{b}
		}
	}
	tests := []struct {
		name string
		mod  func(*Config)
		key  string
		want string
	}{
		{"data_dir", func(c *Config) { c.DataDir = " " }, "data_dir", "empty (want a directory, e.g. ./data)"},
		{"timezone unknown", func(c *Config) { c.Timezone = "Mars/Base" }, "timezone", `unknown time zone "Mars/Base" (want an IANA zone, e.g. America/Sao_Paulo)`},
		{"timezone empty", func(c *Config) { c.Timezone = "" }, "timezone", "empty (want an IANA zone, e.g. America/Sao_Paulo)"},
		{"database scheme", func(c *Config) { c.Database.URL = "mysql://u:p@h/db" }, "database.url", `unsupported scheme "mysql" (want sqlite:, file: or postgres://)`},
		{"database conns", func(c *Config) { c.Database.MaxOpenConns = 0 }, "database.max_open_conns", "0 is too small (want at least 1)"},
		{"attachments", func(c *Config) { c.Attachments.MaxBytes = 0 }, "attachments.max_bytes", "0 is not positive (want at least 1)"},
		{"http.addr empty", func(c *Config) { c.HTTP.Addr = "" }, "http.addr", "empty (want host:port, e.g. :4480 or 127.0.0.1:4480)"},
		{"http.addr no port", func(c *Config) { c.HTTP.Addr = "localhost" }, "http.addr", `"localhost" is not host:port (want e.g. :4480 or 127.0.0.1:4480)`},
		{"http.addr named port", func(c *Config) { c.HTTP.Addr = ":http" }, "http.addr", `port "http" is not a number (want 1-65535)`},
		{"public_url relative", func(c *Config) { c.HTTP.PublicURL = "help.jc.com.br" }, "http.public_url", `"help.jc.com.br" is not an absolute http(s) URL (want e.g. https://help.example.com)`},
		{"public_url scheme", func(c *Config) { c.HTTP.PublicURL = "ftp://x" }, "http.public_url", `"ftp://x" is not an absolute http(s) URL (want e.g. https://help.example.com)`},
		{"public_url query", func(c *Config) { c.HTTP.PublicURL = "https://x/?a=1" }, "http.public_url", `"https://x/?a=1" has a query or fragment (want the site root, e.g. https://help.example.com)`},
		{"public_url port", func(c *Config) { c.HTTP.PublicURL = "https://x:99999" }, "http.public_url", "port 99999 out of range 1-65535"},
		{"session", func(c *Config) { c.Security.SessionLifetime = 0 }, "security.session_lifetime", "0s is not positive (want e.g. 12h)"},
		{"remember", func(c *Config) { c.Security.RememberLifetime = -time.Hour }, "security.remember_lifetime", "-1h0m0s is not positive (want e.g. 12h)"},
		{"idle", func(c *Config) { c.Security.IdleTimeout = 0 }, "security.idle_timeout", "0s is not positive (want e.g. 12h)"},
		{"2fa role", func(c *Config) { c.Security.Require2FARoles = []string{"admin", "boss"} }, "security.require_2fa_roles[1]", `unknown role "boss" (want client, tech, supervisor or admin)`},
		{"hash concurrency", func(c *Config) { c.Security.PasswordHashConcurrency = 0 }, "security.password_hash_concurrency", "0 is out of range (want 1 to 64)"},
		{"login rate", func(c *Config) { c.Security.LoginRatePerIP = 0 }, "security.login_rate_per_ip", "0 is not positive (want e.g. 30)"},
		{"trusted proxy", func(c *Config) { c.HTTP.TrustedProxies = []string{"10.0.0.0/8", "proxy.example"} }, "http.trusted_proxies[1]", `"proxy.example" is not an IP address or CIDR (want e.g. 10.0.0.0/8 or 127.0.0.1)`},
		{"admin.email", func(c *Config) { c.Admin.Email = "admin" }, "admin.email", `invalid address "admin" (want e.g. support@example.com)`},
		{"admin.email display name", func(c *Config) { c.Admin.Email = "Admin <a@x.com>" }, "admin.email", `invalid address "Admin <a@x.com>" (want a bare address such as support@example.com, without display name)`},
		{"admin.name", func(c *Config) { c.Admin.Name = "" }, "admin.name", "empty (want a display name, e.g. Administrator)"},
		{"admin.company", func(c *Config) { c.Admin.Company = "" }, "admin.company", "empty (want a company name, e.g. Default)"},
		{"role", func(c *Config) { c.Users.DefaultRole = "boss" }, "users.default_role", `unknown role "boss" (want client, tech, supervisor or admin)`},
		{"smtp.addr range", func(c *Config) { c.SMTP.Addr = ":70000" }, "smtp.addr", "port 70000 out of range 1-65535"},
		{"smtp.addr zero", func(c *Config) { c.SMTP.Addr = "0.0.0.0:0" }, "smtp.addr", "port 0 out of range 1-65535"},
		{"smtp.hostname", func(c *Config) { c.SMTP.Hostname = "mail host" }, "smtp.hostname", `"mail host" is not a host name (want e.g. mail.example.com)`},
		{"smtp.max_message_bytes", func(c *Config) { c.SMTP.MaxMessageBytes = -1 }, "smtp.max_message_bytes", "-1 is not positive (want at least 1)"},
		{"smtp.max_recipients", func(c *Config) { c.SMTP.MaxRecipients = 0 }, "smtp.max_recipients", "0 is not positive (want at least 1)"},
		{"smtp.read_timeout", func(c *Config) { c.SMTP.ReadTimeout = -time.Second }, "smtp.read_timeout", "-1s is not positive (want e.g. 60s)"},
		{"smtp.write_timeout", func(c *Config) { c.SMTP.WriteTimeout = 0 }, "smtp.write_timeout", "0s is not positive (want e.g. 60s)"},
		{"smtp.shutdown_timeout", func(c *Config) { c.SMTP.ShutdownTimeout = -time.Second }, "smtp.shutdown_timeout", "-1s is not positive (want e.g. 30s)"},
		{"smtp.tls_key missing", func(c *Config) { c.SMTP.TLSCert = "c.pem" }, "smtp.tls_key", "missing (set smtp.tls_cert and smtp.tls_key together, or neither)"},
		{"smtp.tls_cert missing", func(c *Config) { c.SMTP.TLSKey = "k.pem" }, "smtp.tls_cert", "missing (set smtp.tls_cert and smtp.tls_key together, or neither)"},
		{"addresses empty", func(c *Config) { c.Mail.Addresses = nil }, "mail.addresses", "empty (want at least one address, e.g. support@example.com)"},
		{"address invalid", func(c *Config) { c.Mail.Addresses = []string{"a@x.com", "b@"} }, "mail.addresses[1]", `invalid address "b@" (want e.g. support@example.com)`},
		{"address duplicate", func(c *Config) { c.Mail.Addresses = []string{"a@x.com", "A@x.com"} }, "mail.addresses[1]", `duplicate address "A@x.com"`},
		{"comment_address invalid", func(c *Config) { c.Mail.CommentAddress = "x" }, "mail.comment_address", `invalid address "x" (want e.g. support@example.com)`},
		{"comment_address reused", func(c *Config) { c.Mail.CommentAddress = "support@localhost" }, "mail.comment_address", `"support@localhost" is also in mail.addresses (want a separate address)`},
		{"unknown_sender", func(c *Config) { c.Mail.UnknownSender = "ignore" }, "mail.unknown_sender", `unknown policy "ignore" (want create, quarantine or reject)`},
		{"rating_ttl", func(c *Config) { c.Tickets.RatingTTL = 0 }, "tickets.rating_ttl", "0s is too short (want at least 1h, e.g. 720h for 30 days)"},
		{"reopen_days", func(c *Config) { c.Mail.ReopenDays = -1 }, "mail.reopen_days", "-1 is negative (want 0 to never reopen, or a number of days)"},
		{"subject_tag_prefix empty", func(c *Config) { c.Mail.SubjectTagPrefix = "" }, "mail.subject_tag_prefix", `"" not usable (want 1-16 characters without spaces, brackets or digits, e.g. #)`},
		{"subject_tag_prefix digit", func(c *Config) { c.Mail.SubjectTagPrefix = "JC2" }, "mail.subject_tag_prefix", `"JC2" not usable (want 1-16 characters without spaces, brackets or digits, e.g. #)`},
		{"rate_limit", func(c *Config) { c.Mail.RateLimitPerHour = -5 }, "mail.rate_limit_per_hour", "-5 is negative (want 0 for no limit, or mails per hour)"},
		{"ack_limit zero", func(c *Config) { c.Mail.AckLimitPerHour = 0 }, "mail.ack_limit_per_hour", "0 is out of range (want 1 to 1000 acknowledgements per address per hour, e.g. 3)"},
		{"ack_limit huge", func(c *Config) { c.Mail.AckLimitPerHour = 5000 }, "mail.ack_limit_per_hour", "5000 is out of range (want 1 to 1000 acknowledgements per address per hour, e.g. 3)"},
		{"sender_policy", func(c *Config) { c.Mail.SenderPolicy = "drop" }, "mail.sender_policy", `unknown policy "drop" (want flag, quarantine or reject)`},
		{"dns_resolver without port", func(c *Config) { c.Mail.DNSResolver = "127.0.0.1" }, "mail.dns_resolver", `"127.0.0.1" is not host:port (want e.g. 127.0.0.1:53)`},
		{"trusted_authserv_id", func(c *Config) { c.Mail.TrustedAuthServID = "mx example" }, "mail.trusted_authserv_id", `"mx example" is not a host name (want the authserv-id of the receiving host, e.g. mx.example.com)`},
		{"ack_rate negative", func(c *Config) { c.Mail.AckRatePerHour = -1 }, "mail.ack_rate_per_hour", "-1 is negative (want 0 for no global limit, or acknowledgements per hour)"},
		{"max_parts", func(c *Config) { c.Mail.MaxParts = 0 }, "mail.max_parts", "0 is not positive (want at least 1)"},
		{"retry_base", func(c *Config) { c.Mail.RetryBase = 0 }, "mail.retry_base", "0s is not positive (want a duration such as 30s or 1h)"},
		{"retry_max", func(c *Config) { c.Mail.RetryMax = time.Second }, "mail.retry_max", "1s is shorter than mail.retry_base 1m0s"},
		{"mail.server with port", func(c *Config) { c.Mail.Server = "smtp.x.com:587" }, "mail.server", `"smtp.x.com:587" is not a host name (want e.g. smtp.example.com; the port goes in mail.port)`},
		{"mail.port", func(c *Config) { c.Mail.Port = 0 }, "mail.port", "port 0 out of range 1-65535"},
		{"tls and ssl", func(c *Config) { c.Mail.UseSSL = true }, "mail.use_ssl", "cannot be combined with mail.use_tls (want use_ssl for implicit TLS, port 465, or use_tls for STARTTLS, port 587)"},
		{"default_sender", func(c *Config) { c.Mail.DefaultSender = "Suporte" }, "mail.default_sender", `invalid address "Suporte" (want e.g. support@example.com)`},
		{"outbox_dir", func(c *Config) { c.Mail.OutboxDir = "" }, "mail.outbox_dir", "empty (want a directory, e.g. ./data/outbox)"},
		{"notify_to", func(c *Config) { c.Mail.NotifyTo = []string{"ok@x.com", "nope"} }, "mail.notify_to[1]", `invalid address "nope" (want e.g. support@example.com)`},
		{"dkim partial", func(c *Config) { c.Mail.DKIMDomain = "jc.com.br" }, "mail.dkim_selector", "missing (set mail.dkim_domain, mail.dkim_selector and mail.dkim_key_file together, or none)"},
		{"dkim selector", func(c *Config) {
			c.Mail.DKIMDomain, c.Mail.DKIMSelector, c.Mail.DKIMKeyFile = "jc.com.br", "bad selector", "k.pem"
		}, "mail.dkim_selector", `"bad selector" is not a DNS name (want e.g. example.com or mail2024)`},
		{"mailbox name", box(func(b *Mailbox) { b.Name = "my box" }), "imap.mailboxes[0].name", `"my box" not usable (want 1-64 letters, digits, '.', '_' or '-')`},
		{"mailbox duplicate", func(c *Config) {
			box(func(*Mailbox) {})(c)
			c.IMAP.Mailboxes = append(c.IMAP.Mailboxes, c.IMAP.Mailboxes[0])
		}, "imap.mailboxes[1].name", `duplicate mailbox name "suporte"`},
		{"mailbox host", box(func(b *Mailbox) { b.Host = "" }), "imap.mailboxes[0].host", `"" is not a host name (want e.g. imap.example.com)`},
		{"mailbox port", box(func(b *Mailbox) { b.Port = 99999 }), "imap.mailboxes[0].port", "port 99999 out of range 1-65535"},
		{"mailbox security", box(func(b *Mailbox) { b.Security = "ssl" }), "imap.mailboxes[0].security", `unknown security "ssl" (want tls, starttls or plain)`},
		{"mailbox username", box(func(b *Mailbox) { b.Username = "" }), "imap.mailboxes[0].username", "empty (want the IMAP login)"},
		{"mailbox folder", box(func(b *Mailbox) { b.Folder = "" }), "imap.mailboxes[0].folder", "empty (want a folder, e.g. INBOX)"},
		{"mailbox after", box(func(b *Mailbox) { b.After = "archive" }), "imap.mailboxes[0].after", `unknown action "archive" (want seen, delete or move:<folder>)`},
		{"mailbox after move:", box(func(b *Mailbox) { b.After = "move:" }), "imap.mailboxes[0].after", `unknown action "move:" (want seen, delete or move:<folder>)`},
		{"mailbox after same folder", box(func(b *Mailbox) { b.After = "move:INBOX" }), "imap.mailboxes[0].after", `moves to the polled folder "INBOX" (want another folder)`},
		{"mailbox poll", box(func(b *Mailbox) { b.PollInterval = time.Millisecond }), "imap.mailboxes[0].poll_interval", "1ms is too short (want at least 1s, e.g. 60s)"},
		{"mailbox address", box(func(b *Mailbox) { b.Address = "other@x.com" }), "imap.mailboxes[0].address", `"other@x.com" is not one of mail.addresses or mail.comment_address`},
		{"brand.primary", func(c *Config) { c.Brand.Primary = "blue" }, "brand.primary", `"blue" is not a CSS hex colour (want #rrggbb or #rgb, e.g. #0b5cad)`},
		{"brand.primary_dark", func(c *Config) { c.Brand.PrimaryDark = "#12345" }, "brand.primary_dark", `"#12345" is not a CSS hex colour (want #rrggbb or #rgb, e.g. #0b5cad)`},
		{"brand.primary_light", func(c *Config) { c.Brand.PrimaryLight = "e6f0fa" }, "brand.primary_light", `"e6f0fa" is not a CSS hex colour (want #rrggbb or #rgb, e.g. #0b5cad)`},
		{"ui.language", func(c *Config) { c.UI.Language = "pt" }, "ui.language", `unknown language "pt" (want pt-BR or en)`},
		{"log.level", func(c *Config) { c.Log.Level = "trace" }, "log.level", `unknown level "trace" (want debug, info, warn or error)`},
		{"log.format", func(c *Config) { c.Log.Format = "xml" }, "log.format", `unknown format "xml" (want text or json)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults()
			tt.mod(c)
			err := c.Validate()
			if err == nil {
				t.Fatal("no error")
			}
			var e *Error
			if !errors.As(err, &e) || e.Key != tt.key {
				t.Fatalf("err = %v, want key %q", err, tt.key)
			}
			if want := "config: " + tt.key + ": " + tt.want; err.Error() != want {
				t.Errorf("err = %q\nwant  %q", err, want)
			}
			assertOneLine(t, err)
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"smtp disabled", func(c *Config) { c.SMTP.Addr = "" }},
		{"host and port", func(c *Config) { c.HTTP.Addr = "127.0.0.1:8080"; c.SMTP.Addr = "[::1]:25" }},
		{"short colour", func(c *Config) { c.Brand.Primary = "#ABC" }},
		{"named sender", func(c *Config) { c.Mail.DefaultSender = "Suporte JC <suporte@jc.com.br>" }},
		{"ssl only", func(c *Config) { c.Mail.UseSSL, c.Mail.UseTLS, c.Mail.Port = true, false, 465 }},
		{"postgres", func(c *Config) { c.Database.URL = "postgres://sd:pw@127.0.0.1:5432/sd?sslmode=disable" }},
		{"mailbox for comment address", func(c *Config) {
			c.Mail.CommentAddress = "notas@jc.com.br"
			c.IMAP.Mailboxes = []Mailbox{{Name: "n", Host: "::1", Port: 143, Security: "plain", Username: "u",
				Folder: "INBOX", After: "move:Done", PollInterval: time.Second, Address: "NOTAS@jc.com.br"}}
		}},
		{"all dkim", func(c *Config) {
			c.Mail.DKIMDomain, c.Mail.DKIMSelector, c.Mail.DKIMKeyFile = "jc.com.br", "s2024", "/etc/dkim.pem"
		}},
		{"english", func(c *Config) { c.UI.Language = "en"; c.Log.Format = "json"; c.Log.Level = "debug" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults()
			tt.mod(c)
			if err := c.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}

// Load names where a bad value came from, so the operator knows which of
// file, .env, environment or flag to fix.
func TestLoadValidationSource(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		env   []string
		want  string
	}{
		{"env", nil, []string{"SERVICEDESK_SMTP_ADDR=:70000"}, "config: smtp.addr: port 70000 out of range 1-65535 (from SERVICEDESK_SMTP_ADDR)"},
		{"flask env", nil, []string{"TIMEZONE=Mars/Base"}, `config: timezone: unknown time zone "Mars/Base" (want an IANA zone, e.g. America/Sao_Paulo) (from TIMEZONE)`},
		{"file list element", map[string]string{"servicedesk.yaml": "mail:\n  addresses: [a@x.com, nope]\n"}, nil, `config: mail.addresses[1]: invalid address "nope" (want e.g. support@example.com) (from `},
		{"IMAP_* mailbox", nil, []string{"IMAP_HOST=imap.x.com"}, `config: imap.mailboxes[0].username: empty (want the IMAP login) (from IMAP_HOST)`},
		{"default", map[string]string{"servicedesk.yaml": "mail:\n  use_tls: true\n  use_ssl: true\n"}, nil, `config: mail.use_ssl: cannot be combined`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadIn(t, tt.files, tt.env...)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v\nwant prefix %q", err, tt.want)
			}
			assertOneLine(t, err)
		})
	}
}
