// Package outbound turns ticket events into queued mail: for each person
// the ticketing rules say should be told, it decides a templated,
// threaded message (recipient, Message-ID, subject, threading, template)
// and writes it to the outbox in the transaction of the change. The
// sender loop (mailbox/sender) renders and signs it after commit (Render)
// and delivers it.
package outbound

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/compose"
	"github.com/jcservicedesk/servicedesk/mailbox/thread"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

var outboxStage = pprof.Labels("stage", "outbox")

// Config is what composing and queueing need of the configuration.
type Config struct {
	From      compose.Address // mail.default_sender
	ReplyBase string          // the main helpdesk address; replies go to its +token form
	// CommentAddress, when set, is where replies to internal notes go, so
	// a reply stays internal whatever the client does.
	CommentAddress string
	PublicURL      string        // http.public_url, for links to tickets
	TagPrefix      string        // mail.subject_tag_prefix
	Secret         []byte        // signs reply and rating tokens
	LoopValue      string        // value of our loop header
	NotifyTo       []string      // told about every new ticket
	Lang           string        // ui.language: the default language
	Brand          compose.Brand // brand.* defaults; a company's own colors win
	AckPerHour     int           // mail.ack_limit_per_hour: acknowledgements to one address per hour (loop guard); default 3
	AckRatePerHour int           // mail.ack_rate_per_hour: acknowledgements to everyone per hour; 0 = no global limit (ack.go)
	PerHour        int           // automatic mails to one address per hour (loop guard)
	AccountPerHour int           // account mails of one group to one address per hour (see account.go); default 10
	DKIM           *compose.DKIMSigner
	Zone           *time.Location // times in mail (SLA due times)
}

// Outbound is a ticketing.TxHook that queues mail.
type Outbound struct {
	cfg      Config
	composer *compose.Composer
	log      *slog.Logger
	now      func() time.Time

	mu     sync.Mutex
	wakeFn func()

	templates templateCache
}

// templateCache holds the overrides (nil: none, the default applies) per
// company, event and language, as of one store.EmailTemplatesVersion.
type templateCache struct {
	mu      sync.Mutex
	version string
	m       map[templateKey]*compose.Template
}

type templateKey struct {
	company     int64
	event, lang string
}

// Invalidate drops the cached template overrides. Setting or resetting a
// template needs no call: the cache is keyed on the templates' version,
// read in each change's transaction, so a change made by another process
// (the CLI, another serve) is seen too. It is for callers that want the
// memory back, or tests.
func (o *Outbound) Invalidate() {
	o.templates.mu.Lock()
	o.templates.version, o.templates.m = "", nil
	o.templates.mu.Unlock()
}

// override returns the company's override of event in lang, through the
// cache; version is the templates' version in this transaction.
func (o *Outbound) override(ctx context.Context, q ticketing.MailOut, version string, companyID int64, event, lang string) (*compose.Template, error) {
	k := templateKey{companyID, event, lang}
	c := &o.templates
	c.mu.Lock()
	if c.version != version {
		c.version, c.m = version, map[templateKey]*compose.Template{}
	}
	t, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return t, nil
	}
	et, err := q.EmailTemplateFor(ctx, companyID, event, lang)
	if err != nil {
		return nil, err
	}
	if et != nil {
		t = &compose.Template{Subject: et.Subject, Text: et.BodyText, HTML: et.BodyHTML}
	}
	c.mu.Lock()
	if c.version == version {
		c.m[k] = t
	}
	c.mu.Unlock()
	return t, nil
}

// New returns an Outbound.
func New(cfg Config, c *compose.Composer, log *slog.Logger) *Outbound {
	if cfg.AckPerHour <= 0 {
		cfg.AckPerHour = 3
	}
	if cfg.PerHour <= 0 {
		cfg.PerHour = 30
	}
	if cfg.AccountPerHour <= 0 {
		cfg.AccountPerHour = 10
	}
	if cfg.TagPrefix == "" {
		cfg.TagPrefix = "#"
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	return &Outbound{cfg: cfg, composer: c, log: log, now: time.Now}
}

// OnQueued sets what to call after a change that queued mail committed
// (the sender's Wake).
func (o *Outbound) OnQueued(fn func()) {
	o.mu.Lock()
	o.wakeFn = fn
	o.mu.Unlock()
}

// Listener wakes the sender after each committed change that may have
// queued mail (an account mail too: it has no Ticket, and nothing here
// needs one).
func (o *Outbound) Listener(ev ticketing.Event) {
	o.mu.Lock()
	fn := o.wakeFn
	o.mu.Unlock()
	if fn != nil && !ev.Automated && ev.MayHaveQueuedMail() {
		fn()
	}
}

// Hook is the ticketing.TxHook: it queues the mails ev causes, in the
// transaction of the change.
func (o *Outbound) Hook(ctx context.Context, tx *ticketing.Tx, ev ticketing.Event) error {
	if ev.Automated {
		return nil // no mail about it (the note below, for one)
	}
	if ev.Kind == ticketing.EventAccount {
		if err := o.account(ctx, tx, ev.Account); err != nil {
			return fmt.Errorf("outbound: account mail: %w", err)
		}
		return nil
	}
	notices, err := tx.Notices(ctx, ev, ticketing.NotifyConfig{NotifyTo: o.cfg.NotifyTo})
	if err != nil || len(notices) == 0 {
		return err
	}
	q := tx.MailOut()
	t := ev.Ticket
	company, err := q.Company(ctx, t.CompanyID)
	if err != nil {
		return err
	}
	refs, err := q.MessageIDsOfTicket(ctx, t.ID)
	if err != nil {
		return err
	}
	version, err := q.EmailTemplatesVersion(ctx)
	if err != nil {
		return err
	}
	for _, n := range notices {
		if n.Kind == ticketing.NoticeAck {
			note, withheld, err := o.ackWithheld(ctx, q, n)
			if err != nil {
				return fmt.Errorf("outbound: acknowledgement to %s: %w", n.Address, err)
			}
			if note != "" {
				if err := o.noteWithheld(ctx, tx, t, note); err != nil {
					return err
				}
			}
			if withheld {
				continue
			}
		}
		withheld, err := o.queue(ctx, q, ev, n, company, refs, version)
		if err != nil {
			return fmt.Errorf("outbound: %s to %s: %w", n.Kind, n.Address, err)
		}
		var note string
		switch {
		case withheld == 0:
		case n.Kind == ticketing.NoticeAck:
			// Staff see why the requester heard nothing.
			note = fmt.Sprintf("Acknowledgement to %s not sent: %d automatic replies to this address in the last hour (limit mail.ack_limit_per_hour = %d).",
				n.Address, withheld, o.cfg.AckPerHour)
		case o.bare(n):
			// Whoever typed the Cc sees it was not mailed.
			note = fmt.Sprintf("Reply to %s (a Cc with no account) not sent: %d mails to this address in the last hour (limit mail.ack_limit_per_hour = %d).",
				n.Address, withheld, o.cfg.AckPerHour)
		}
		if note != "" {
			if err := o.noteWithheld(ctx, tx, t, note); err != nil {
				return err
			}
		}
	}
	return nil
}

// queue decides and queues one notice; Render makes its bytes later. When the per-recipient limit
// withholds it, it returns the count of automatic mails that reached it.
func (o *Outbound) queue(ctx context.Context, q ticketing.MailOut, ev ticketing.Event, n ticketing.Notice, company *store.Company, refs []string, version string) (withheld int, err error) {
	t := ev.Ticket
	auto, counted := "auto-generated", "auto-generated"
	limit := o.cfg.PerHour
	switch {
	case n.Kind == ticketing.NoticeAck:
		auto, counted, limit = "auto-replied", "auto-replied", o.cfg.AckPerHour
	case o.bare(n):
		// An address typed as a Cc: nobody proved it, so it gets the
		// acknowledgements' budget, counting every mail it had from us.
		counted, limit = "", o.cfg.AckPerHour
	}
	// The loop guard: however badly an auto-responder behaves, one address
	// gets a bounded number of automatic mails from us.
	// Staff and notify_to addresses are ours: they are never an
	// auto-responder on the other side, and must not miss notices.
	capped := n.Kind == ticketing.NoticeAck || (n.User != nil && !n.User.IsStaff()) || o.bare(n)
	sent := 0
	if capped {
		if sent, err = q.CountMailTo(ctx, n.Address, o.now().Add(-time.Hour), counted); err != nil {
			return 0, err
		}
	}
	if capped && sent >= limit {
		o.log.Warn("not mailing: per-recipient limit reached", "to", n.Address, "kind", n.Kind, "ticket", t.Number, "limit", limit)
		return sent, nil
	}
	lang := o.cfg.Lang
	if company.Language != "" {
		lang = company.Language
	}
	to := compose.Address{Email: n.Address}
	if n.User != nil {
		to.Name = n.User.Name
		if n.User.Language != "" {
			lang = n.User.Language
		}
	}
	d := compose.Data{
		Event: n.Kind, Lang: lang, From: o.cfg.From, To: []compose.Address{to},
		// Bound to its recipient: a reply with it acts as that person only
		// when it comes from that address (mailbox/intake).
		ReplyTo:      thread.ReplyAddress(o.replyBase(n.Kind), thread.SignTokenFor(o.cfg.Secret, t.ID, n.Address)),
		TicketNumber: t.Number, TicketSubject: t.Subject, SubjectTagPrefix: o.cfg.TagPrefix,
		Status: t.Status, Priority: t.Priority,
		TicketURL:     o.cfg.PublicURL + "/tickets/" + strconv.FormatInt(t.Number, 10),
		Brand:         o.brand(company),
		AutoSubmitted: auto, LoopValue: o.cfg.LoopValue, Date: o.now(),
		References: refs,
	}
	if t.MessageID != "" {
		d.InReplyTo = t.MessageID
	}
	if ev.Comment != nil {
		d.CommentText, d.CommentHTML = ev.Comment.BodyText, ev.Comment.BodyHTML
		if ev.Comment.MessageID != "" {
			d.InReplyTo = ev.Comment.MessageID
		}
	}
	if ev.Actor != nil {
		d.ActorName = displayName(ev.Actor)
	}
	if ev.SLAKind != "" {
		d.SLATarget, d.Zone, d.ActorName = "resolution", o.cfg.Zone, ""
		due := t.ResolutionDue
		if strings.HasPrefix(ev.SLAKind, "first_response") {
			d.SLATarget, due = "first_response", t.FirstResponseDue
		}
		if due != nil {
			d.DueAt = *due
		}
	}
	if t.Requester != nil {
		d.RequesterName = displayName(t.Requester)
	}
	if t.Assignee != nil && t.AssigneeID != nil {
		d.AssigneeName = displayName(t.Assignee)
	}
	if n.Rating && n.RatingToken != "" {
		// Signed, expiring and single-use (ticketing.RateByToken).
		d.RatingURL = o.cfg.PublicURL + "/tickets/rate/" + n.RatingToken
	}
	override, err := o.override(ctx, q, version, company.ID, n.Kind, lang)
	if err != nil {
		return 0, err
	}
	// Rendered and signed after commit (Render): the one write lock is no
	// place for templates and RSA. What stays here (the subject, the
	// composition input) is the "outbox" stage of a CPU profile too.
	var row *store.OutboxMail
	pprof.Do(ctx, outboxStage, func(context.Context) { row, err = o.unrendered(d, override, company.ID, version) })
	if err != nil {
		return 0, err
	}
	row.TicketID, row.Event, row.AutoKind, row.Recipients = &t.ID, n.Kind, auto, store.NormalizeEmail(n.Address)
	if err := q.EnqueueMail(ctx, row); err != nil {
		return 0, err
	}
	// Whoever we mail on the ticket's conversation is on its thread; an
	// internal note goes to staff only, who need no thread.
	if n.Kind != ticketing.NoticeInternal {
		if err := q.AddThreadAddresses(ctx, t.ID, store.ThreadSentTo, row.MessageID, []string{row.Recipients}); err != nil {
			return 0, err
		}
	}
	// Replies quoting this mail thread back onto the ticket.
	return 0, q.AddMessageID(ctx, store.MessageRef{MessageID: thread.NormalizeID(row.MessageID), OriginalID: row.MessageID,
		TicketID: t.ID, Direction: "out", Recipient: row.Recipients, Event: n.Kind})
}

// bare reports whether n goes to an address with no account that is not
// a configured notify_to address (a reply's typed Cc).
func (o *Outbound) bare(n ticketing.Notice) bool {
	if n.User != nil {
		return false
	}
	for _, a := range o.cfg.NotifyTo {
		if store.NormalizeEmail(a) == store.NormalizeEmail(n.Address) {
			return false
		}
	}
	return true
}

func (o *Outbound) replyBase(kind string) string {
	if kind == ticketing.NoticeInternal && o.cfg.CommentAddress != "" {
		return o.cfg.CommentAddress
	}
	return o.cfg.ReplyBase
}

func (o *Outbound) brand(c *store.Company) compose.Brand {
	b := o.cfg.Brand
	b.CompanyName = c.Name
	if c.BrandPrimary != "" {
		b.Primary = c.BrandPrimary
	}
	if c.BrandPrimaryDark != "" {
		b.PrimaryDark = c.BrandPrimaryDark
	}
	if c.BrandPrimaryLight != "" {
		b.PrimaryLight = c.BrandPrimaryLight
	}
	if len(c.Logo) > 0 {
		b.Logo, b.LogoType = c.Logo, c.LogoType
	}
	return b
}

func displayName(u *store.User) string {
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}
