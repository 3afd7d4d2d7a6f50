// Package configs holds the typed configuration of JC Service Desk and the
// code that loads it (defaults, YAML file, .env file, environment, flags) and
// validates it. Other packages import it for its types only; cmd calls Load
// once and passes each service its sub-struct.
package configs

import (
	"slices"
	"time"
	// Embeds the IANA database so that timezone validation works on
	// machines without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// Config is the whole configuration. Every field carries the same snake_case
// name in its mapstructure, json and yaml tags; that name is the YAML key and,
// upper-cased with dots turned into underscores and prefixed SERVICEDESK_,
// the environment variable.
type Config struct {
	DataDir     string            `mapstructure:"data_dir" json:"data_dir" yaml:"data_dir"`
	Timezone    string            `mapstructure:"timezone" json:"timezone" yaml:"timezone"`
	Database    DatabaseConfig    `mapstructure:"database" json:"database" yaml:"database"`
	HTTP        HTTPConfig        `mapstructure:"http" json:"http" yaml:"http"`
	Security    SecurityConfig    `mapstructure:"security" json:"security" yaml:"security"`
	Admin       AdminConfig       `mapstructure:"admin" json:"admin" yaml:"admin"`
	Users       UsersConfig       `mapstructure:"users" json:"users" yaml:"users"`
	Attachments AttachmentsConfig `mapstructure:"attachments" json:"attachments" yaml:"attachments"`
	Tickets     TicketsConfig     `mapstructure:"tickets" json:"tickets" yaml:"tickets"`
	SMTP        SMTPConfig        `mapstructure:"smtp" json:"smtp" yaml:"smtp"`
	Mail        MailConfig        `mapstructure:"mail" json:"mail" yaml:"mail"`
	IMAP        IMAPConfig        `mapstructure:"imap" json:"imap" yaml:"imap"`
	Brand       BrandConfig       `mapstructure:"brand" json:"brand" yaml:"brand"`
	UI          UIConfig          `mapstructure:"ui" json:"ui" yaml:"ui"`
	Log         LogConfig         `mapstructure:"log" json:"log" yaml:"log"`
	Jobs        JobsConfig        `mapstructure:"jobs" json:"jobs" yaml:"jobs"`
	Metrics     MetricsConfig     `mapstructure:"metrics" json:"metrics" yaml:"metrics"`
	Retention   RetentionConfig   `mapstructure:"retention" json:"retention" yaml:"retention"`
	// Notifications: how long the bell's rows are kept (configs/notifications.go).
	Notifications NotificationsConfig `mapstructure:"notifications" json:"notifications" yaml:"notifications"`
	// Live: the limits of the live pages' streams (configs/live.go).
	Live LiveConfig `mapstructure:"live" json:"live" yaml:"live"`

	// File is the configuration file Load read, "" when none was found.
	// It is not a setting, so it is never printed or decoded.
	File string `mapstructure:"-" json:"-" yaml:"-"`

	// location caches the parsed Timezone; Validate fills it.
	location *time.Location
}

// DatabaseConfig selects the database; see ParseDatabaseURL for URL forms.
type DatabaseConfig struct {
	URL          string `mapstructure:"url" json:"url" yaml:"url"`
	MaxOpenConns int    `mapstructure:"max_open_conns" json:"max_open_conns" yaml:"max_open_conns"`
}

// HTTPConfig is the web portal listener.
type HTTPConfig struct {
	Addr      string `mapstructure:"addr" json:"addr" yaml:"addr"`
	PublicURL string `mapstructure:"public_url" json:"public_url" yaml:"public_url"`
	// TrustedProxies are the IPs and CIDRs whose X-Forwarded-For is
	// believed; from anyone else the header is ignored.
	TrustedProxies []string `mapstructure:"trusted_proxies" json:"trusted_proxies" yaml:"trusted_proxies"`
}

// SecurityConfig holds the session settings.
type SecurityConfig struct {
	// SecretKey signs sessions and reply tokens. Empty means cmd generates
	// one and keeps it in the database.
	SecretKey       string        `mapstructure:"secret_key" json:"secret_key" yaml:"secret_key"`
	SessionLifetime time.Duration `mapstructure:"session_lifetime" json:"session_lifetime" yaml:"session_lifetime"`
	// RememberLifetime is the length of a "remember me" session.
	RememberLifetime time.Duration `mapstructure:"remember_lifetime" json:"remember_lifetime" yaml:"remember_lifetime"`
	// IdleTimeout ends a session (not a remembered one) unused this long.
	IdleTimeout time.Duration `mapstructure:"idle_timeout" json:"idle_timeout" yaml:"idle_timeout"`
	// Require2FARoles are the roles whose users must use a second factor.
	Require2FARoles []string `mapstructure:"require_2fa_roles" json:"require_2fa_roles" yaml:"require_2fa_roles"`
	// PasswordHashConcurrency caps the argon2id hashes computed at once
	// (64 MiB each), so a burst of logins cannot exhaust memory.
	PasswordHashConcurrency int `mapstructure:"password_hash_concurrency" json:"password_hash_concurrency" yaml:"password_hash_concurrency"`
	// LoginRatePerIP is how many sign-in attempts one client IP may make
	// in 15 minutes, whatever the accounts.
	LoginRatePerIP int `mapstructure:"login_rate_per_ip" json:"login_rate_per_ip" yaml:"login_rate_per_ip"`
}

// AdminConfig is the account created at first start.
type AdminConfig struct {
	Email string `mapstructure:"email" json:"email" yaml:"email"`
	// Password empty means cmd generates one and prints it once.
	Password string `mapstructure:"password" json:"password" yaml:"password"`
	Name     string `mapstructure:"name" json:"name" yaml:"name"`
	Company  string `mapstructure:"company" json:"company" yaml:"company"`
}

// Roles a user may hold, lowest first.
const (
	RoleClient     = "client"
	RoleTech       = "tech"
	RoleSupervisor = "supervisor"
	RoleAdmin      = "admin"
)

// UsersConfig holds user defaults.
type UsersConfig struct {
	// DefaultRole is given to users created from inbound mail.
	DefaultRole string `mapstructure:"default_role" json:"default_role" yaml:"default_role"`
}

// AttachmentsConfig limits stored attachments.
type AttachmentsConfig struct {
	MaxBytes int64 `mapstructure:"max_bytes" json:"max_bytes" yaml:"max_bytes"`
	// Extensions are the file types the portal accepts for upload
	// (lower case, without the dot). Mail keeps every attachment.
	Extensions []string `mapstructure:"extensions" json:"extensions" yaml:"extensions"`
}

// TicketsConfig is the ticket workflow.
type TicketsConfig struct {
	// RatingTTL is how long the rating link of a closing mail works.
	RatingTTL time.Duration `mapstructure:"rating_ttl" json:"rating_ttl" yaml:"rating_ttl"`
}

// SMTPConfig is the inbound SMTP receiver.
type SMTPConfig struct {
	// Addr empty disables the receiver.
	Addr            string        `mapstructure:"addr" json:"addr" yaml:"addr"`
	Hostname        string        `mapstructure:"hostname" json:"hostname" yaml:"hostname"`
	MaxMessageBytes int64         `mapstructure:"max_message_bytes" json:"max_message_bytes" yaml:"max_message_bytes"`
	MaxRecipients   int           `mapstructure:"max_recipients" json:"max_recipients" yaml:"max_recipients"`
	ReadTimeout     time.Duration `mapstructure:"read_timeout" json:"read_timeout" yaml:"read_timeout"`
	WriteTimeout    time.Duration `mapstructure:"write_timeout" json:"write_timeout" yaml:"write_timeout"`
	// ShutdownTimeout bounds the drain on SIGTERM: messages being received
	// finish and commit, new commands get 421.
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout" json:"shutdown_timeout" yaml:"shutdown_timeout"`
	// TLSCert and TLSKey are file paths, both set (STARTTLS offered) or neither.
	TLSCert string `mapstructure:"tls_cert" json:"tls_cert" yaml:"tls_cert"`
	TLSKey  string `mapstructure:"tls_key" json:"tls_key" yaml:"tls_key"`
	// MemoryBudget bounds the message bytes held in memory by all
	// uploads together; beyond it uploads spool to a temporary file.
	MemoryBudget int64 `mapstructure:"memory_budget" json:"memory_budget" yaml:"memory_budget"`
	// MaxConnsPerIP bounds one client address's share of the connections.
	MaxConnsPerIP int `mapstructure:"max_conns_per_ip" json:"max_conns_per_ip" yaml:"max_conns_per_ip"`
	// IdleTimeout is how long a session may wait before its next command.
	IdleTimeout time.Duration `mapstructure:"idle_timeout" json:"idle_timeout" yaml:"idle_timeout"`
	// MaxCommands bounds the commands between two delivered messages (a
	// NOOP loop is cut off).
	MaxCommands int `mapstructure:"max_commands" json:"max_commands" yaml:"max_commands"`
	// SpoolMaxBytes bounds the bytes all spool files hold together (the
	// uploads beyond MemoryBudget); an upload that would exceed it gets
	// 451 4.3.1. 0 is no limit.
	SpoolMaxBytes int64 `mapstructure:"spool_max_bytes" json:"spool_max_bytes" yaml:"spool_max_bytes"`
}

// Values of MailConfig.UnknownSender.
const (
	UnknownSenderCreate     = "create"
	UnknownSenderQuarantine = "quarantine"
	UnknownSenderReject     = "reject"
)

// MailConfig covers the helpdesk addresses, inbound policy and the outbound
// relay.
type MailConfig struct {
	// Addresses are the helpdesk addresses; the first is the main one.
	Addresses []string `mapstructure:"addresses" json:"addresses" yaml:"addresses"`
	// CommentAddress, when set, receives internal comments from staff.
	CommentAddress string `mapstructure:"comment_address" json:"comment_address" yaml:"comment_address"`
	// UnknownSender is create, quarantine or reject.
	UnknownSender string `mapstructure:"unknown_sender" json:"unknown_sender" yaml:"unknown_sender"`
	// ReopenDays: a reply this many days after closing reopens the ticket;
	// later replies open a new one. 0 never reopens.
	ReopenDays       int    `mapstructure:"reopen_days" json:"reopen_days" yaml:"reopen_days"`
	SubjectTagPrefix string `mapstructure:"subject_tag_prefix" json:"subject_tag_prefix" yaml:"subject_tag_prefix"`
	// RateLimitPerHour is the per-sender inbound limit before mail is
	// quarantined as a loop; 0 disables it.
	RateLimitPerHour int `mapstructure:"rate_limit_per_hour" json:"rate_limit_per_hour" yaml:"rate_limit_per_hour"`
	// AckLimitPerHour caps the acknowledgements of new tickets sent to one
	// address per hour (the guard against auto-responder loops); a ticket
	// whose acknowledgement is withheld gets an internal note saying so.
	AckLimitPerHour int `mapstructure:"ack_limit_per_hour" json:"ack_limit_per_hour" yaml:"ack_limit_per_hour"`

	// Outbound relay.
	Server        string `mapstructure:"server" json:"server" yaml:"server"`
	Port          int    `mapstructure:"port" json:"port" yaml:"port"`
	UseTLS        bool   `mapstructure:"use_tls" json:"use_tls" yaml:"use_tls"` // STARTTLS
	UseSSL        bool   `mapstructure:"use_ssl" json:"use_ssl" yaml:"use_ssl"` // implicit TLS
	Username      string `mapstructure:"username" json:"username" yaml:"username"`
	Password      string `mapstructure:"password" json:"password" yaml:"password"`
	DefaultSender string `mapstructure:"default_sender" json:"default_sender" yaml:"default_sender"`
	// SuppressSend writes outbound mail to OutboxDir instead of sending it.
	// Unless set, it is true exactly when Server is empty.
	SuppressSend bool     `mapstructure:"suppress_send" json:"suppress_send" yaml:"suppress_send"`
	OutboxDir    string   `mapstructure:"outbox_dir" json:"outbox_dir" yaml:"outbox_dir"`
	NotifyTo     []string `mapstructure:"notify_to" json:"notify_to" yaml:"notify_to"`
	DKIMDomain   string   `mapstructure:"dkim_domain" json:"dkim_domain" yaml:"dkim_domain"`
	DKIMSelector string   `mapstructure:"dkim_selector" json:"dkim_selector" yaml:"dkim_selector"`
	DKIMKeyFile  string   `mapstructure:"dkim_key_file" json:"dkim_key_file" yaml:"dkim_key_file"`
	// Delivery: the first retry after a temporary failure waits RetryBase,
	// doubling up to RetryMax; a mail still undelivered after GiveUpAfter
	// is marked failed. PollInterval is how often the outbox is checked
	// for mail queued by other processes (the CLI, other servers).
	RetryBase    time.Duration `mapstructure:"retry_base" json:"retry_base" yaml:"retry_base"`
	RetryMax     time.Duration `mapstructure:"retry_max" json:"retry_max" yaml:"retry_max"`
	GiveUpAfter  time.Duration `mapstructure:"give_up_after" json:"give_up_after" yaml:"give_up_after"`
	PollInterval time.Duration `mapstructure:"poll_interval" json:"poll_interval" yaml:"poll_interval"`
	// MaxAttempts: a message that fails this many times (not counting a
	// database that is unavailable) is quarantined instead of retried.
	MaxAttempts int `mapstructure:"max_attempts" json:"max_attempts" yaml:"max_attempts"`
	// PostmasterAddress receives the mail for postmaster@ and abuse@ at the
	// helpdesk's domains, forwarded; "" = admin.email.
	PostmasterAddress string `mapstructure:"postmaster_address" json:"postmaster_address" yaml:"postmaster_address"`

	// Sender authentication of inbound mail (mailbox/auth).
	// DNSResolver is the DNS server (host:port) asked for SPF, DKIM and
	// DMARC records; "" uses the system's resolver.
	DNSResolver string `mapstructure:"dns_resolver" json:"dns_resolver" yaml:"dns_resolver"`
	// TrustedAuthServID names the receiving host (its authserv-id) whose
	// Authentication-Results headers are believed: the MX in front of an
	// IMAP mailbox or the pipe. "" trusts none.
	TrustedAuthServID string `mapstructure:"trusted_authserv_id" json:"trusted_authserv_id" yaml:"trusted_authserv_id"`
	// SenderPolicy is what a definite authentication fail does to mail
	// from a requester: flag (accept and mark), quarantine or reject.
	// Staff mail must always pass.
	SenderPolicy string `mapstructure:"sender_policy" json:"sender_policy" yaml:"sender_policy"`
	// AckRatePerHour caps acknowledgements of new tickets to everyone
	// together per hour; 0 = no global limit.
	AckRatePerHour int `mapstructure:"ack_rate_per_hour" json:"ack_rate_per_hour" yaml:"ack_rate_per_hour"`
	// MaxParts caps the MIME parts read from one message; the rest are
	// left out with a note on the ticket (parse.Limits.MaxParts).
	MaxParts int `mapstructure:"max_parts" json:"max_parts" yaml:"max_parts"`
}

// Values of MailConfig.SenderPolicy.
const (
	SenderPolicyFlag       = "flag"
	SenderPolicyQuarantine = "quarantine"
	SenderPolicyReject     = "reject"
)

// MainAddress is the first helpdesk address, "" when there is none.
func (m MailConfig) MainAddress() string {
	if len(m.Addresses) == 0 {
		return ""
	}
	return m.Addresses[0]
}

// IMAPConfig lists the mailboxes the poller reads.
type IMAPConfig struct {
	Mailboxes []Mailbox `mapstructure:"mailboxes" json:"mailboxes" yaml:"mailboxes"`
}

// Values of Mailbox.Security.
const (
	SecurityTLS      = "tls"
	SecuritySTARTTLS = "starttls"
	SecurityPlain    = "plain"
)

// Values of Mailbox.After; a move is AfterMovePrefix followed by a folder.
const (
	AfterSeen       = "seen"
	AfterDelete     = "delete"
	AfterMovePrefix = "move:"
)

// Mailbox is one IMAP mailbox polled for inbound mail. Load fills every
// empty field with its default.
type Mailbox struct {
	Name string `mapstructure:"name" json:"name" yaml:"name"`
	Host string `mapstructure:"host" json:"host" yaml:"host"`
	// Port defaults to 993 for tls and 143 otherwise.
	Port int `mapstructure:"port" json:"port" yaml:"port"`
	// Security is tls (default), starttls or plain.
	Security string `mapstructure:"security" json:"security" yaml:"security"`
	Username string `mapstructure:"username" json:"username" yaml:"username"`
	Password string `mapstructure:"password" json:"password" yaml:"password"`
	Folder   string `mapstructure:"folder" json:"folder" yaml:"folder"`
	// After is what happens to a fetched message: seen (default), delete or
	// move:<folder>.
	After        string        `mapstructure:"after" json:"after" yaml:"after"`
	PollInterval time.Duration `mapstructure:"poll_interval" json:"poll_interval" yaml:"poll_interval"`
	// Address is the helpdesk address this mailbox receives for; it
	// defaults to the main address.
	Address string `mapstructure:"address" json:"address" yaml:"address"`
}

// MoveFolder returns the target folder when After is move:<folder>.
func (m Mailbox) MoveFolder() (string, bool) {
	if len(m.After) > len(AfterMovePrefix) && m.After[:len(AfterMovePrefix)] == AfterMovePrefix {
		return m.After[len(AfterMovePrefix):], true
	}
	return "", false
}

// BrandConfig holds the portal and mail colours as CSS hex colours.
type BrandConfig struct {
	Primary      string `mapstructure:"primary" json:"primary" yaml:"primary"`
	PrimaryDark  string `mapstructure:"primary_dark" json:"primary_dark" yaml:"primary_dark"`
	PrimaryLight string `mapstructure:"primary_light" json:"primary_light" yaml:"primary_light"`
}

// UIConfig holds portal defaults.
type UIConfig struct {
	Language string `mapstructure:"language" json:"language" yaml:"language"` // pt-BR or en
}

// LogConfig selects the slog level and handler.
type LogConfig struct {
	Level  string `mapstructure:"level" json:"level" yaml:"level"`    // debug, info, warn, error
	Format string `mapstructure:"format" json:"format" yaml:"format"` // text or json
}

// JobsConfig enables the in-process scheduler.
type JobsConfig struct {
	// Enabled runs SLA checks and retention inside serve; by default cron
	// runs them (see servicedesk.cron.example).
	Enabled bool `mapstructure:"enabled" json:"enabled" yaml:"enabled"`
	// SLACheckInterval is how often serve runs sla check.
	SLACheckInterval time.Duration `mapstructure:"sla_check_interval" json:"sla_check_interval" yaml:"sla_check_interval"`
	// RetentionAt is the time of day (HH:MM, in timezone) serve runs
	// retention.
	RetentionAt string `mapstructure:"retention_at" json:"retention_at" yaml:"retention_at"`
}

// RetentionConfig holds the retention periods in days; 0 keeps forever.
type RetentionConfig struct {
	// ClosedTicketDays: closed tickets older than this lose their personal
	// data, unless their company sets its own period.
	ClosedTicketDays int `mapstructure:"closed_ticket_days" json:"closed_ticket_days" yaml:"closed_ticket_days"`
	AuditDays        int `mapstructure:"audit_days" json:"audit_days" yaml:"audit_days"`
	QuarantineDays   int `mapstructure:"quarantine_days" json:"quarantine_days" yaml:"quarantine_days"`
	OutboxDays       int `mapstructure:"outbox_days" json:"outbox_days" yaml:"outbox_days"` // sent mail
	// LeaseTTL is how long a run that died keeps the next one waiting.
	LeaseTTL time.Duration `mapstructure:"lease_ttl" json:"lease_ttl" yaml:"lease_ttl"`
}

// Default values that other defaults are derived from.
const (
	defaultDataDir        = "./data"
	defaultMailAddress    = "support@localhost"
	defaultIMAPFolder     = "INBOX"
	defaultIMAPPoll       = 60 * time.Second
	defaultIMAPPortTLS    = 993
	defaultIMAPPortPlain  = 143
	defaultMailServerPort = 587
	mib                   = 1 << 20
)

// Defaults returns the configuration used when nothing is set, with the
// derived defaults (database.url, mail.outbox_dir, mail.default_sender,
// mail.suppress_send) already resolved.
func Defaults() *Config {
	c := &Config{
		DataDir:  defaultDataDir,
		Timezone: "America/Sao_Paulo",
		Database: DatabaseConfig{
			URL:          defaultDatabaseURL(defaultDataDir),
			MaxOpenConns: 10,
		},
		HTTP: HTTPConfig{
			Addr:           ":4480",
			PublicURL:      "http://localhost:4480",
			TrustedProxies: []string{},
		},
		Security: SecurityConfig{SessionLifetime: 8 * time.Hour, RememberLifetime: 30 * 24 * time.Hour,
			IdleTimeout: 2 * time.Hour, Require2FARoles: []string{}, PasswordHashConcurrency: 4, LoginRatePerIP: 30},
		Admin: AdminConfig{
			Email:   "admin@example.com",
			Name:    "Administrator",
			Company: "Default",
		},
		Users: UsersConfig{DefaultRole: RoleClient},
		Attachments: AttachmentsConfig{MaxBytes: 20 * mib, Extensions: []string{"jpg", "jpeg", "png", "gif", "webp",
			"pdf", "txt", "log", "csv", "xlsx", "xls", "docx", "doc", "odt", "ods", "zip", "eml"}},
		Tickets: TicketsConfig{RatingTTL: 30 * 24 * time.Hour},
		SMTP: SMTPConfig{
			Addr:            ":2525",
			Hostname:        "localhost",
			MaxMessageBytes: 25 * mib,
			MaxRecipients:   50,
			ReadTimeout:     60 * time.Second,
			WriteTimeout:    60 * time.Second,
			ShutdownTimeout: 30 * time.Second,
			MemoryBudget:    64 * mib,
			MaxConnsPerIP:   20,
			IdleTimeout:     60 * time.Second,
			MaxCommands:     250,
			SpoolMaxBytes:   2 << 30,
		},
		Mail: MailConfig{
			Addresses:        []string{defaultMailAddress},
			UnknownSender:    UnknownSenderQuarantine,
			ReopenDays:       14,
			SubjectTagPrefix: "#",
			RateLimitPerHour: 30,
			AckLimitPerHour:  3,
			SenderPolicy:     SenderPolicyFlag,
			AckRatePerHour:   100,
			MaxParts:         1000,
			Port:             defaultMailServerPort,
			UseTLS:           true,
			DefaultSender:    defaultMailAddress,
			SuppressSend:     true,
			OutboxDir:        defaultOutboxDir(defaultDataDir),
			NotifyTo:         []string{},
			RetryBase:        time.Minute,
			RetryMax:         time.Hour,
			GiveUpAfter:      48 * time.Hour,
			PollInterval:     2 * time.Second,
			MaxAttempts:      3,
		},
		IMAP: IMAPConfig{Mailboxes: []Mailbox{}},
		Brand: BrandConfig{
			Primary:      "#0b5cad",
			PrimaryDark:  "#083f78",
			PrimaryLight: "#e6f0fa",
		},
		UI:      UIConfig{Language: "pt-BR"},
		Log:     LogConfig{Level: "info", Format: "text"},
		Metrics: defaultMetrics(),
		Jobs:    JobsConfig{SLACheckInterval: time.Minute, RetentionAt: "03:30"},
		Retention: RetentionConfig{ClosedTicketDays: 365, AuditDays: 730, QuarantineDays: 90, OutboxDays: 30,
			LeaseTTL: 2 * time.Minute},
		Notifications: defaultNotifications(),
		Live:          defaultLive(),
	}
	return c
}

// Location returns the parsed Timezone. Validate caches it; on a Config that
// was never validated it is parsed on each call, and an invalid zone yields
// UTC.
func (c *Config) Location() *time.Location {
	if c.location != nil {
		return c.location
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// applyDefaults fills the empty fields of m; main is the main helpdesk
// address.
func (m *Mailbox) applyDefaults(main string) {
	if m.Security == "" {
		m.Security = SecurityTLS
	}
	if m.Port == 0 {
		m.Port = defaultIMAPPortPlain
		if m.Security == SecurityTLS {
			m.Port = defaultIMAPPortTLS
		}
	}
	if m.Folder == "" {
		m.Folder = defaultIMAPFolder
	}
	if m.After == "" {
		m.After = AfterSeen
	}
	if m.PollInterval == 0 {
		m.PollInterval = defaultIMAPPoll
	}
	if m.Address == "" {
		m.Address = main
	}
}

// redacted replaces secrets in Redacted output.
const redacted = "********"

// Redacted returns a copy fit for printing: every secret that is set
// (security.secret_key, admin.password, mail.password, the IMAP passwords,
// the password in database.url) reads "********". c is not modified.
func (c *Config) Redacted() *Config {
	r := *c
	hide := func(s *string) {
		if *s != "" {
			*s = redacted
		}
	}
	hide(&r.Security.SecretKey)
	hide(&r.Admin.Password)
	hide(&r.Mail.Password)
	hide(&r.Metrics.Token)
	r.Metrics.AllowedNetworks = slices.Clone(c.Metrics.AllowedNetworks)
	r.Database.URL = redactDatabaseURL(c.Database.URL)
	r.Mail.Addresses = slices.Clone(c.Mail.Addresses)
	r.Mail.NotifyTo = slices.Clone(c.Mail.NotifyTo)
	r.IMAP.Mailboxes = slices.Clone(c.IMAP.Mailboxes)
	for i := range r.IMAP.Mailboxes {
		hide(&r.IMAP.Mailboxes[i].Password)
	}
	return &r
}
