package main

import (
	"strings"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/mailbox/auth"
)

// bounceAddress is the VERP base of outbound mail: bounce@ the main
// address's domain ("" without one). The SMTP receiver owns it, so
// bounces to its +token forms come in.
func bounceAddress(m configs.MailConfig) string {
	_, domain, ok := strings.Cut(m.MainAddress(), "@")
	if !ok || domain == "" {
		return ""
	}
	return "bounce@" + domain
}

// authenticator is sender authentication as configured: DNS from
// mail.dns_resolver (the system's when empty), Authentication-Results
// believed from mail.trusted_authserv_id only. Answers are cached for a
// few minutes (auth.DefaultCacheConfig).
func (a *app) authenticator() *auth.Verifier {
	return auth.New(auth.Config{
		TrustedAuthServID: a.cfg.Mail.TrustedAuthServID,
		OwnAuthServID:     a.cfg.SMTP.Hostname,
	}, auth.NewCachingResolver(auth.NewResolver(a.cfg.Mail.DNSResolver), auth.DefaultCacheConfig), a.log)
}
