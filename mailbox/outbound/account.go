package outbound

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/compose"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// Account mails have their own per-address budgets, apart from the ticket
// notices' loop guard (Config.PerHour), which must never withhold a reset
// because the person also follows busy tickets. They are sent on a
// request in the portal, never in answer to mail, so they cannot loop with
// an auto-responder; what the cap stops is someone using the public forms
// to flood an address. Each group counts on its own (the outbox row's
// auto_kind), so what a stranger can trigger with only the address
// (resets, sign-in links, register attempts) cannot use up the budget of
// what the owner needs after a right password (the sign-in code):
//
//	account         confirm, reset, signin_link, invite   Config.AccountPerHour (default 10)
//	account-code    login_code                            Config.AccountPerHour (default 10)
//	account-notice  new_device, register_exists           3: they only inform, a fourth in
//	                                                      an hour would tell nothing new
//
// A withheld mail is logged (kind, address, count; never the token or the
// code); the caller is not told, so the answer of /forgot stays the same
// whether or not an account or a budget exists.
const (
	autoAccount       = "account"
	autoAccountCode   = "account-code"
	autoAccountNotice = "account-notice"

	accountNoticePerHour = 3
)

func (o *Outbound) accountBudget(kind string) (autoKind string, limit int) {
	switch kind {
	case ticketing.AccountLoginCode:
		return autoAccountCode, o.cfg.AccountPerHour
	case ticketing.AccountNewDevice, ticketing.AccountRegisterExists:
		return autoAccountNotice, accountNoticePerHour
	}
	return autoAccount, o.cfg.AccountPerHour
}

// accountPath is where each kind's link leads; "" for kinds without a
// token of their own.
func accountPath(kind, token string) string {
	switch kind {
	case ticketing.AccountConfirm:
		return "/confirm/" + url.PathEscape(token)
	case ticketing.AccountReset:
		return "/reset/" + url.PathEscape(token)
	case ticketing.AccountSignInLink:
		return "/login/link/" + url.PathEscape(token)
	case ticketing.AccountInvite:
		return "/register?invite=" + url.QueryEscape(token)
	}
	return ""
}

// account queues the mail of an EventAccount. It is about no ticket: no
// ticket_id, no threading headers, no reply token and no Reply-To, so a
// reply goes to the From address (the helpdesk's) and becomes an ordinary
// new ticket, and an auto-reply is dropped by the intake's loop guard.
func (o *Outbound) account(ctx context.Context, tx *ticketing.Tx, m *ticketing.AccountMail) error {
	if m == nil {
		return errors.New("event without its mail")
	}
	path := accountPath(m.Kind, m.Token)
	switch {
	case path != "" && m.Token == "":
		return fmt.Errorf("%s mail without a token", m.Kind)
	case m.Kind == ticketing.AccountLoginCode && m.Code == "":
		return errors.New("login_code mail without a code")
	}
	q := tx.MailOut()
	now := o.now()
	auto, limit := o.accountBudget(m.Kind)
	sent, err := q.CountMailTo(ctx, m.To, now.Add(-time.Hour), auto)
	if err != nil {
		return err
	}
	if sent >= limit {
		o.log.Warn("account mail not sent: per-address limit reached", "kind", m.Kind, "to", m.To, "sent", sent, "limit", limit)
		return nil
	}

	company := m.Company
	if company == nil && m.User != nil && m.User.CompanyID != nil {
		if company, err = q.Company(ctx, *m.User.CompanyID); err != nil {
			return err
		}
	}
	// The language asked for, else the person's, else the company's, else ours.
	lang := o.cfg.Lang
	if company != nil && company.Language != "" {
		lang = company.Language
	}
	to := compose.Address{Email: m.To}
	if m.User != nil {
		to.Name = m.User.Name
		if m.User.Language != "" {
			lang = m.User.Language
		}
	}
	if m.Lang != "" {
		lang = m.Lang
	}
	brand, companyID := o.cfg.Brand, int64(0)
	if company != nil {
		brand, companyID = o.brand(company), company.ID
	}
	d := compose.Data{
		Event: m.Kind, Lang: lang, From: o.cfg.From, To: []compose.Address{to},
		Brand: brand, AutoSubmitted: "auto-generated", LoopValue: o.cfg.LoopValue, Date: now, Zone: o.cfg.Zone,
		Code: m.Code, Expires: m.Expires, ClientAgent: m.Client.UserAgent,
		LoginURL: o.cfg.PublicURL + "/login", ForgotURL: o.cfg.PublicURL + "/forgot",
	}
	if path != "" {
		d.ActionURL = o.cfg.PublicURL + path
	}
	if m.Client.IP.IsValid() {
		d.ClientIP = m.Client.IP.Unmap().String()
	}

	version, err := q.EmailTemplatesVersion(ctx)
	if err != nil {
		return err
	}
	override, err := o.override(ctx, q, version, companyID, m.Kind, lang)
	if err != nil {
		return err
	}
	msg, err := o.composer.Compose(d, override)
	if err != nil {
		return err
	}
	if msg.TemplateErr != nil {
		o.log.Warn("mail template override failed; sent the default", "event", m.Kind, "lang", lang,
			"company", companyID, "err", msg.TemplateErr)
	}
	raw := msg.Raw
	if o.cfg.DKIM != nil {
		if raw, err = o.cfg.DKIM.Sign(raw); err != nil {
			return err
		}
	}
	return q.EnqueueMail(ctx, &store.OutboxMail{Event: m.Kind, AutoKind: auto, MailFrom: msg.From,
		Recipients: store.NormalizeEmail(m.To), Subject: msg.Subject, MessageID: msg.MessageID, Raw: raw})
}
