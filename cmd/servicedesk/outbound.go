package main

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/compose"
	"github.com/jcservicedesk/servicedesk/mailbox/outbound"
	"github.com/jcservicedesk/servicedesk/mailbox/sender"
	"github.com/jcservicedesk/servicedesk/store"
)

// loopValue is the value of our loop header: the portal's host name.
func (a *app) loopValue() string {
	if u, err := url.Parse(a.cfg.HTTP.PublicURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return a.cfg.SMTP.Hostname
}

// senderAddress is mail.default_sender as an address.
func (a *app) senderAddress() compose.Address {
	raw := a.cfg.Mail.DefaultSender
	if raw == "" {
		raw = a.cfg.Mail.MainAddress()
	}
	if addr, err := mail.ParseAddress(raw); err == nil {
		name := addr.Name
		if name == "" {
			name = "JC Service Desk"
		}
		return compose.Address{Name: name, Email: addr.Address}
	}
	return compose.Address{Name: "JC Service Desk", Email: raw}
}

// newOutbound builds the hook that queues mail for ticket changes.
func (a *app) newOutbound(key []byte) (*outbound.Outbound, error) {
	cfg := a.cfg
	c, err := compose.New()
	if err != nil {
		return nil, err
	}
	var dkim *compose.DKIMSigner
	if cfg.Mail.DKIMKeyFile != "" {
		pem, err := os.ReadFile(cfg.Mail.DKIMKeyFile)
		if err != nil {
			return nil, fmt.Errorf("config: mail.dkim_key_file: %w", err)
		}
		domain := cfg.Mail.DKIMDomain
		if domain == "" {
			_, domain, _ = strings.Cut(a.senderAddress().Email, "@")
		}
		if dkim, err = compose.NewDKIMSigner(domain, cfg.Mail.DKIMSelector, pem); err != nil {
			return nil, fmt.Errorf("config: mail.dkim_key_file: %w", err)
		}
	}
	return outbound.New(outbound.Config{
		From:           a.senderAddress(),
		ReplyBase:      cfg.Mail.MainAddress(),
		CommentAddress: cfg.Mail.CommentAddress,
		PublicURL:      cfg.HTTP.PublicURL,
		TagPrefix:      cfg.Mail.SubjectTagPrefix,
		Secret:         key,
		LoopValue:      a.loopValue(),
		NotifyTo:       cfg.Mail.NotifyTo,
		AckPerHour:     cfg.Mail.AckLimitPerHour,
		AckRatePerHour: cfg.Mail.AckRatePerHour,
		Lang:           cfg.UI.Language,
		Brand:          compose.Brand{Primary: cfg.Brand.Primary, PrimaryDark: cfg.Brand.PrimaryDark, PrimaryLight: cfg.Brand.PrimaryLight},
		DKIM:           dkim,
		Zone:           cfg.Location(),
	}, c, a.log), nil
}

// senderConfig maps mail.* onto the sender.
func (a *app) senderConfig() sender.Config {
	m := a.cfg.Mail
	return sender.Config{
		Server: m.Server, Port: m.Port, UseTLS: m.UseTLS, UseSSL: m.UseSSL,
		Username: m.Username, Password: m.Password, Helo: a.cfg.SMTP.Hostname,
		SuppressSend: m.SuppressSend, OutboxDir: m.OutboxDir,
		BackoffBase: m.RetryBase, BackoffMax: m.RetryMax, MaxAge: m.GiveUpAfter, PollInterval: m.PollInterval,
		VERPBase: bounceAddress(m), VERPSecret: a.key,
	}
}

// outboxQueue is the sender's view of the outbox table. It remembers the
// claim token of each message it handed out, so its marks apply only while
// that claim is current, and the rows claimed without their bytes, which
// it renders (ob.Render) and stores before they are sent.
type outboxQueue struct {
	st         *store.Store
	ob         *outbound.Outbound
	mu         sync.Mutex
	tokens     map[int64]string
	unrendered map[int64]*store.OutboxMail
}

func newOutboxQueue(st *store.Store, ob *outbound.Outbound) *outboxQueue {
	return &outboxQueue{st: st, ob: ob, tokens: map[int64]string{}, unrendered: map[int64]*store.OutboxMail{}}
}

// token returns and forgets the claim token of id.
func (o *outboxQueue) token(id int64) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.tokens[id]
	delete(o.tokens, id)
	delete(o.unrendered, id)
	return t
}

func (o *outboxQueue) Claim(ctx context.Context, n int, lease time.Duration) ([]sender.Message, error) {
	rows, err := o.st.ClaimMail(ctx, n, lease)
	if err != nil {
		return nil, err
	}
	out := make([]sender.Message, 0, len(rows))
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range rows {
		o.tokens[r.ID] = r.ClaimToken
		if !r.Rendered() {
			o.unrendered[r.ID] = r
		}
		out = append(out, sender.Message{ID: r.ID, MessageID: r.MessageID, From: r.MailFrom,
			To: strings.Split(r.Recipients, ","), Raw: r.Raw, Attempts: r.Attempts, CreatedAt: r.CreatedAt})
	}
	return out, nil
}

// Render renders and signs a claimed row queued without its bytes and
// stores them under the claim: a retry then sends the same bytes, and
// `mail outbox show` shows them.
func (o *outboxQueue) Render(ctx context.Context, m sender.Message) ([]byte, error) {
	o.mu.Lock()
	row, token := o.unrendered[m.ID], o.tokens[m.ID]
	o.mu.Unlock()
	if row == nil {
		return nil, fmt.Errorf("outbox mail %d: not claimed here for rendering", m.ID)
	}
	raw, subject, err := o.ob.Render(row)
	if errors.Is(err, outbound.ErrRender) {
		return nil, sender.Unrenderable(err)
	} else if err != nil {
		return nil, err
	}
	if err := o.st.MailRendered(ctx, m.ID, token, raw, subject); err != nil {
		return nil, err
	}
	o.mu.Lock()
	delete(o.unrendered, m.ID)
	o.mu.Unlock()
	return raw, nil
}

var _ sender.Renderer = (*outboxQueue)(nil)

func (o *outboxQueue) Sent(ctx context.Context, id int64) error {
	return o.st.MailSent(ctx, id, o.token(id))
}

func (o *outboxQueue) Retry(ctx context.Context, id int64, next time.Time, reason string) error {
	return o.st.MailRetry(ctx, id, o.token(id), next, reason)
}

func (o *outboxQueue) Failed(ctx context.Context, id int64, reason string) error {
	return o.st.MailFailed(ctx, id, o.token(id), reason)
}

func (o *outboxQueue) SentPartial(ctx context.Context, id int64, reason string) error {
	return o.st.MailSentPartial(ctx, id, o.token(id), reason)
}

var _ sender.PartialRecorder = (*outboxQueue)(nil)
