package configs

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Error is one configuration problem. Its message is a single line naming
// the key, what is wrong and what is expected.
type Error struct {
	Key    string // e.g. "smtp.addr", "imap.mailboxes[0].after"
	Msg    string
	Source string // where the value came from when known: a file, a variable, a flag
}

func (e *Error) Error() string {
	s := "config: " + e.Key + ": " + e.Msg
	if e.Source != "" {
		s += " (from " + e.Source + ")"
	}
	return oneLine(s)
}

// oneLine keeps messages from third-party parsers on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Allowed values, in the order error messages list them.
var (
	roles          = []string{RoleClient, RoleTech, RoleSupervisor, RoleAdmin}
	unknownSenders = []string{UnknownSenderCreate, UnknownSenderQuarantine, UnknownSenderReject}
	securities     = []string{SecurityTLS, SecuritySTARTTLS, SecurityPlain}
	languages      = []string{"pt-BR", "en"}
	logLevels      = []string{"debug", "info", "warn", "error"}
	logFormats     = []string{"text", "json"}

	hexColor      = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)
	mailboxName   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	dnsLabelChars = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$`)
)

// Validate checks every value and returns the first problem as an *Error.
// It also caches the parsed time zone returned by Location.
func (c *Config) Validate() error {
	checks := []func() *Error{
		c.checkGeneral,
		c.checkHTTP,
		c.checkSecurity,
		c.checkAdmin,
		c.checkSMTP,
		c.checkMail,
		c.checkIMAP,
		c.checkLook,
		c.checkMetrics,
		c.checkJobs,
		c.checkNotifications,
		c.checkLive,
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) checkGeneral() *Error {
	if strings.TrimSpace(c.DataDir) == "" {
		return &Error{Key: "data_dir", Msg: "empty (want a directory, e.g. ./data)"}
	}
	if c.Timezone == "" {
		return &Error{Key: "timezone", Msg: "empty (want an IANA zone, e.g. America/Sao_Paulo)"}
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return &Error{Key: "timezone", Msg: fmt.Sprintf("unknown time zone %q (want an IANA zone, e.g. America/Sao_Paulo)", c.Timezone)}
	}
	c.location = loc
	if _, err := ParseDatabaseURL(c.Database.URL); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return e
		}
		return &Error{Key: databaseKey, Msg: err.Error()}
	}
	if c.Database.MaxOpenConns < 1 {
		return &Error{Key: "database.max_open_conns", Msg: fmt.Sprintf("%d is too small (want at least 1)", c.Database.MaxOpenConns)}
	}
	if c.Attachments.MaxBytes < 1 {
		return positive("attachments.max_bytes", c.Attachments.MaxBytes)
	}
	if c.Tickets.RatingTTL < time.Hour {
		return &Error{Key: "tickets.rating_ttl", Msg: fmt.Sprintf("%s is too short (want at least 1h, e.g. 720h for 30 days)", c.Tickets.RatingTTL)}
	}
	return nil
}

func (c *Config) checkHTTP() *Error {
	if c.HTTP.Addr == "" {
		return &Error{Key: "http.addr", Msg: "empty (want host:port, e.g. :4480 or 127.0.0.1:4480)"}
	}
	if err := checkHostPort("http.addr", c.HTTP.Addr); err != nil {
		return err
	}
	u, err := url.Parse(c.HTTP.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return &Error{Key: "http.public_url", Msg: fmt.Sprintf("%q is not an absolute http(s) URL (want e.g. https://help.example.com)", c.HTTP.PublicURL)}
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return &Error{Key: "http.public_url", Msg: fmt.Sprintf("%q has a query or fragment (want the site root, e.g. https://help.example.com)", c.HTTP.PublicURL)}
	}
	if p := u.Port(); p != "" {
		if err := checkPortString("http.public_url", p); err != nil {
			return err
		}
	}
	for i, p := range c.HTTP.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(p); err != nil {
			return &Error{Key: fmt.Sprintf("http.trusted_proxies[%d]", i), Msg: fmt.Sprintf("%q is not an IP address or CIDR (want e.g. 10.0.0.0/8 or 127.0.0.1)", p)}
		}
	}
	return nil
}

func (c *Config) checkSecurity() *Error {
	sec := c.Security
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"security.session_lifetime", sec.SessionLifetime}, {"security.remember_lifetime", sec.RememberLifetime}, {"security.idle_timeout", sec.IdleTimeout}} {
		if d.v <= 0 {
			return &Error{Key: d.key, Msg: fmt.Sprintf("%s is not positive (want e.g. 12h)", d.v)}
		}
	}
	for i, r := range sec.Require2FARoles {
		if err := oneOf(fmt.Sprintf("security.require_2fa_roles[%d]", i), "role", r, roles); err != nil {
			return err
		}
	}
	if sec.PasswordHashConcurrency < 1 || sec.PasswordHashConcurrency > 64 {
		return &Error{Key: "security.password_hash_concurrency", Msg: fmt.Sprintf("%d is out of range (want 1 to 64)", sec.PasswordHashConcurrency)}
	}
	if sec.LoginRatePerIP < 1 {
		return &Error{Key: "security.login_rate_per_ip", Msg: fmt.Sprintf("%d is not positive (want e.g. 30)", sec.LoginRatePerIP)}
	}
	return nil
}

func (c *Config) checkAdmin() *Error {
	if err := checkAddress("admin.email", c.Admin.Email, true); err != nil {
		return err
	}
	if strings.TrimSpace(c.Admin.Name) == "" {
		return &Error{Key: "admin.name", Msg: "empty (want a display name, e.g. Administrator)"}
	}
	if strings.TrimSpace(c.Admin.Company) == "" {
		return &Error{Key: "admin.company", Msg: "empty (want a company name, e.g. Default)"}
	}
	return oneOf("users.default_role", "role", c.Users.DefaultRole, roles)
}

func (c *Config) checkSMTP() *Error {
	s := c.SMTP
	if s.Addr != "" {
		if err := checkHostPort("smtp.addr", s.Addr); err != nil {
			return err
		}
	}
	if !dnsLabelChars.MatchString(s.Hostname) {
		return &Error{Key: "smtp.hostname", Msg: fmt.Sprintf("%q is not a host name (want e.g. mail.example.com)", s.Hostname)}
	}
	if s.MaxMessageBytes < 1 {
		return positive("smtp.max_message_bytes", s.MaxMessageBytes)
	}
	if s.MaxRecipients < 1 {
		return positive("smtp.max_recipients", int64(s.MaxRecipients))
	}
	if s.ReadTimeout <= 0 {
		return &Error{Key: "smtp.read_timeout", Msg: fmt.Sprintf("%s is not positive (want e.g. 60s)", s.ReadTimeout)}
	}
	if s.WriteTimeout <= 0 {
		return &Error{Key: "smtp.write_timeout", Msg: fmt.Sprintf("%s is not positive (want e.g. 60s)", s.WriteTimeout)}
	}
	if s.ShutdownTimeout <= 0 {
		return &Error{Key: "smtp.shutdown_timeout", Msg: fmt.Sprintf("%s is not positive (want e.g. 30s)", s.ShutdownTimeout)}
	}
	if s.MemoryBudget < s.MaxMessageBytes {
		return &Error{Key: "smtp.memory_budget", Msg: fmt.Sprintf("%d is below smtp.max_message_bytes %d (want at least one whole message, e.g. 67108864)", s.MemoryBudget, s.MaxMessageBytes)}
	}
	if s.MaxConnsPerIP < 1 {
		return positive("smtp.max_conns_per_ip", int64(s.MaxConnsPerIP))
	}
	if s.IdleTimeout <= 0 {
		return &Error{Key: "smtp.idle_timeout", Msg: fmt.Sprintf("%s is not positive (want e.g. 60s)", s.IdleTimeout)}
	}
	if s.MaxCommands < 1 {
		return positive("smtp.max_commands", int64(s.MaxCommands))
	}
	if s.SpoolMaxBytes != 0 && s.SpoolMaxBytes < s.MaxMessageBytes {
		return &Error{Key: "smtp.spool_max_bytes", Msg: fmt.Sprintf("%d is below smtp.max_message_bytes %d (want 0 for no limit, or at least one whole message, e.g. 2147483648)", s.SpoolMaxBytes, s.MaxMessageBytes)}
	}
	if (s.TLSCert == "") != (s.TLSKey == "") {
		key := "smtp.tls_key"
		if s.TLSCert == "" {
			key = "smtp.tls_cert"
		}
		return &Error{Key: key, Msg: "missing (set smtp.tls_cert and smtp.tls_key together, or neither)"}
	}
	return nil
}

func (c *Config) checkMail() *Error {
	m := c.Mail
	if len(m.Addresses) == 0 {
		return &Error{Key: "mail.addresses", Msg: "empty (want at least one address, e.g. support@example.com)"}
	}
	seen := map[string]bool{}
	for i, a := range m.Addresses {
		key := fmt.Sprintf("mail.addresses[%d]", i)
		if err := checkAddress(key, a, true); err != nil {
			return err
		}
		if seen[strings.ToLower(a)] {
			return &Error{Key: key, Msg: fmt.Sprintf("duplicate address %q", a)}
		}
		seen[strings.ToLower(a)] = true
	}
	if m.CommentAddress != "" {
		if err := checkAddress("mail.comment_address", m.CommentAddress, true); err != nil {
			return err
		}
		if seen[strings.ToLower(m.CommentAddress)] {
			return &Error{Key: "mail.comment_address", Msg: fmt.Sprintf("%q is also in mail.addresses (want a separate address)", m.CommentAddress)}
		}
	}
	if err := oneOf("mail.unknown_sender", "policy", m.UnknownSender, unknownSenders); err != nil {
		return err
	}
	if m.MaxAttempts < 1 {
		return positive("mail.max_attempts", int64(m.MaxAttempts))
	}
	if m.PostmasterAddress != "" {
		if err := checkAddress("mail.postmaster_address", m.PostmasterAddress, true); err != nil {
			return err
		}
	}
	if m.ReopenDays < 0 {
		return &Error{Key: "mail.reopen_days", Msg: fmt.Sprintf("%d is negative (want 0 to never reopen, or a number of days)", m.ReopenDays)}
	}
	if p := m.SubjectTagPrefix; p == "" || len(p) > 16 || strings.ContainsAny(p, "[]0123456789 \t") {
		return &Error{Key: "mail.subject_tag_prefix", Msg: fmt.Sprintf("%q not usable (want 1-16 characters without spaces, brackets or digits, e.g. #)", p)}
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"mail.retry_base", m.RetryBase}, {"mail.retry_max", m.RetryMax}, {"mail.give_up_after", m.GiveUpAfter}, {"mail.poll_interval", m.PollInterval}} {
		if d.v <= 0 {
			return &Error{Key: d.key, Msg: fmt.Sprintf("%s is not positive (want a duration such as 30s or 1h)", d.v)}
		}
	}
	if m.RetryMax < m.RetryBase {
		return &Error{Key: "mail.retry_max", Msg: fmt.Sprintf("%s is shorter than mail.retry_base %s", m.RetryMax, m.RetryBase)}
	}
	if m.RateLimitPerHour < 0 {
		return &Error{Key: "mail.rate_limit_per_hour", Msg: fmt.Sprintf("%d is negative (want 0 for no limit, or mails per hour)", m.RateLimitPerHour)}
	}
	if m.AckLimitPerHour < 1 || m.AckLimitPerHour > 1000 {
		return &Error{Key: "mail.ack_limit_per_hour", Msg: fmt.Sprintf("%d is out of range (want 1 to 1000 acknowledgements per address per hour, e.g. 3)", m.AckLimitPerHour)}
	}
	if err := validateSenderAuth(m); err != nil {
		return err
	}
	if m.Server != "" && !dnsLabelChars.MatchString(m.Server) && net.ParseIP(m.Server) == nil {
		return &Error{Key: "mail.server", Msg: fmt.Sprintf("%q is not a host name (want e.g. smtp.example.com; the port goes in mail.port)", m.Server)}
	}
	if err := checkPort("mail.port", m.Port); err != nil {
		return err
	}
	if m.UseTLS && m.UseSSL {
		return &Error{Key: "mail.use_ssl", Msg: "cannot be combined with mail.use_tls (want use_ssl for implicit TLS, port 465, or use_tls for STARTTLS, port 587)"}
	}
	if err := checkAddress("mail.default_sender", m.DefaultSender, false); err != nil {
		return err
	}
	if strings.TrimSpace(m.OutboxDir) == "" {
		return &Error{Key: "mail.outbox_dir", Msg: "empty (want a directory, e.g. ./data/outbox)"}
	}
	for i, a := range m.NotifyTo {
		if err := checkAddress(fmt.Sprintf("mail.notify_to[%d]", i), a, false); err != nil {
			return err
		}
	}
	dkim := []struct{ key, val string }{
		{"mail.dkim_domain", m.DKIMDomain}, {"mail.dkim_selector", m.DKIMSelector}, {"mail.dkim_key_file", m.DKIMKeyFile},
	}
	if m.DKIMDomain != "" || m.DKIMSelector != "" || m.DKIMKeyFile != "" {
		for _, d := range dkim {
			if d.val == "" {
				return &Error{Key: d.key, Msg: "missing (set mail.dkim_domain, mail.dkim_selector and mail.dkim_key_file together, or none)"}
			}
		}
		for _, d := range dkim[:2] {
			if !dnsLabelChars.MatchString(d.val) {
				return &Error{Key: d.key, Msg: fmt.Sprintf("%q is not a DNS name (want e.g. example.com or mail2024)", d.val)}
			}
		}
	}
	return nil
}

func (c *Config) checkIMAP() *Error {
	names := map[string]bool{}
	for i, b := range c.IMAP.Mailboxes {
		key := func(field string) string { return fmt.Sprintf("imap.mailboxes[%d].%s", i, field) }
		if !mailboxName.MatchString(b.Name) {
			return &Error{Key: key("name"), Msg: fmt.Sprintf("%q not usable (want 1-64 letters, digits, '.', '_' or '-')", b.Name)}
		}
		if names[b.Name] {
			return &Error{Key: key("name"), Msg: fmt.Sprintf("duplicate mailbox name %q", b.Name)}
		}
		names[b.Name] = true
		if !dnsLabelChars.MatchString(b.Host) && net.ParseIP(b.Host) == nil {
			return &Error{Key: key("host"), Msg: fmt.Sprintf("%q is not a host name (want e.g. imap.example.com)", b.Host)}
		}
		if err := checkPort(key("port"), b.Port); err != nil {
			return err
		}
		if err := oneOf(key("security"), "security", b.Security, securities); err != nil {
			return err
		}
		if b.Username == "" {
			return &Error{Key: key("username"), Msg: "empty (want the IMAP login)"}
		}
		if b.Folder == "" {
			return &Error{Key: key("folder"), Msg: "empty (want a folder, e.g. INBOX)"}
		}
		if folder, ok := b.MoveFolder(); ok {
			if folder == b.Folder {
				return &Error{Key: key("after"), Msg: fmt.Sprintf("moves to the polled folder %q (want another folder)", folder)}
			}
		} else if b.After != AfterSeen && b.After != AfterDelete {
			return &Error{Key: key("after"), Msg: fmt.Sprintf("unknown action %q (want seen, delete or move:<folder>)", b.After)}
		}
		if b.PollInterval < time.Second {
			return &Error{Key: key("poll_interval"), Msg: fmt.Sprintf("%s is too short (want at least 1s, e.g. 60s)", b.PollInterval)}
		}
		if !strings.EqualFold(b.Address, c.Mail.CommentAddress) && !containsFold(c.Mail.Addresses, b.Address) {
			return &Error{Key: key("address"), Msg: fmt.Sprintf("%q is not one of mail.addresses or mail.comment_address", b.Address)}
		}
	}
	return nil
}

func (c *Config) checkLook() *Error {
	colors := []struct{ key, val string }{
		{"brand.primary", c.Brand.Primary}, {"brand.primary_dark", c.Brand.PrimaryDark}, {"brand.primary_light", c.Brand.PrimaryLight},
	}
	for _, col := range colors {
		if !hexColor.MatchString(col.val) {
			return &Error{Key: col.key, Msg: fmt.Sprintf("%q is not a CSS hex colour (want #rrggbb or #rgb, e.g. #0b5cad)", col.val)}
		}
	}
	if err := oneOf("ui.language", "language", c.UI.Language, languages); err != nil {
		return err
	}
	if err := oneOf("log.level", "level", c.Log.Level, logLevels); err != nil {
		return err
	}
	return oneOf("log.format", "format", c.Log.Format, logFormats)
}

// checkHostPort accepts host:port with an optional host and a numeric port.
func checkHostPort(key, addr string) *Error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return &Error{Key: key, Msg: fmt.Sprintf("%q is not host:port (want e.g. :4480 or 127.0.0.1:4480)", addr)}
	}
	return checkPortString(key, port)
}

func checkPortString(key, port string) *Error {
	n, err := strconv.Atoi(port)
	if err != nil {
		return &Error{Key: key, Msg: fmt.Sprintf("port %q is not a number (want 1-65535)", port)}
	}
	return checkPort(key, n)
}

func checkPort(key string, port int) *Error {
	if port < 1 || port > 65535 {
		return &Error{Key: key, Msg: fmt.Sprintf("port %d out of range 1-65535", port)}
	}
	return nil
}

// checkAddress accepts an RFC 5322 address; bare rejects a display name,
// because the value is matched against recipients.
func checkAddress(key, s string, bare bool) *Error {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return &Error{Key: key, Msg: fmt.Sprintf("invalid address %q (want e.g. support@example.com)", s)}
	}
	if bare && (a.Name != "" || a.Address != s) {
		return &Error{Key: key, Msg: fmt.Sprintf("invalid address %q (want a bare address such as support@example.com, without display name)", s)}
	}
	return nil
}

func oneOf(key, noun, val string, allowed []string) *Error {
	for _, a := range allowed {
		if val == a {
			return nil
		}
	}
	return &Error{Key: key, Msg: fmt.Sprintf("unknown %s %q (want %s)", noun, val, joinOr(allowed))}
}

func positive(key string, n int64) *Error {
	return &Error{Key: key, Msg: fmt.Sprintf("%d is not positive (want at least 1)", n)}
}

// joinOr renders a, b, c or d.
func joinOr(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func (c *Config) checkJobs() *Error {
	if c.Jobs.SLACheckInterval < time.Second {
		return &Error{Key: "jobs.sla_check_interval", Msg: fmt.Sprintf("%s is too short (want at least 1s, e.g. 1m)", c.Jobs.SLACheckInterval)}
	}
	if _, _, err := ParseTimeOfDay(c.Jobs.RetentionAt); err != nil {
		return &Error{Key: "jobs.retention_at", Msg: fmt.Sprintf("%q is not a time of day (want HH:MM, e.g. 03:30)", c.Jobs.RetentionAt)}
	}
	days := []struct {
		key string
		n   int
	}{
		{"retention.closed_ticket_days", c.Retention.ClosedTicketDays}, {"retention.audit_days", c.Retention.AuditDays},
		{"retention.quarantine_days", c.Retention.QuarantineDays}, {"retention.outbox_days", c.Retention.OutboxDays},
	}
	for _, d := range days {
		if d.n < 0 {
			return &Error{Key: d.key, Msg: fmt.Sprintf("%d is negative (want days, or 0 to keep forever)", d.n)}
		}
	}
	if c.Retention.LeaseTTL < time.Second {
		return &Error{Key: "retention.lease_ttl", Msg: fmt.Sprintf("%s is too short (want at least 1s, e.g. 2m)", c.Retention.LeaseTTL)}
	}
	return nil
}

// ParseTimeOfDay reads "HH:MM" (24-hour).
func ParseTimeOfDay(s string) (hour, minute int, err error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, 0, fmt.Errorf("configs: %q is not HH:MM", s)
	}
	return t.Hour(), t.Minute(), nil
}

// validateSenderAuth checks the sender-authentication keys of mail.
func validateSenderAuth(m MailConfig) *Error {
	if err := oneOf("mail.sender_policy", "policy", m.SenderPolicy, []string{SenderPolicyFlag, SenderPolicyQuarantine, SenderPolicyReject}); err != nil {
		return err
	}
	if m.DNSResolver != "" {
		host, port, err := net.SplitHostPort(m.DNSResolver)
		if err != nil || host == "" || port == "" {
			return &Error{Key: "mail.dns_resolver", Msg: fmt.Sprintf("%q is not host:port (want e.g. 127.0.0.1:53)", m.DNSResolver)}
		}
	}
	if id := m.TrustedAuthServID; id != "" && !dnsLabelChars.MatchString(id) {
		return &Error{Key: "mail.trusted_authserv_id", Msg: fmt.Sprintf("%q is not a host name (want the authserv-id of the receiving host, e.g. mx.example.com)", id)}
	}
	if m.AckRatePerHour < 0 {
		return &Error{Key: "mail.ack_rate_per_hour", Msg: fmt.Sprintf("%d is negative (want 0 for no global limit, or acknowledgements per hour)", m.AckRatePerHour)}
	}
	if m.MaxParts < 1 {
		return positive("mail.max_parts", int64(m.MaxParts))
	}
	return nil
}
