package outbound

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/compose"
	"github.com/jcservicedesk/servicedesk/store"
)

// ErrRender marks a queued mail that cannot be rendered, now or ever (its
// render input is unreadable, or composing fails with the default wording
// too): the sender fails it rather than retrying.
var ErrRender = errors.New("outbound: cannot render queued mail")

// renderInputVersion is the format of renderInput; Render refuses others.
const renderInputVersion = 1

// renderInput is what a ticket mail is composed of, decided in the
// transaction of the change and kept in mail_outbox.render_input (JSON)
// until the mail is rendered. It holds names and comment text: LGPD
// erasure scrubs it (store/lgpd_erase.go).
type renderInput struct {
	V    int          `json:"v"`
	Data compose.Data `json:"data"` // Data.MessageID decided; Data.Zone travels as Zone
	Zone string       `json:"zone,omitempty"`
	// The company's override of the event in the language, as the
	// transaction saw it (at TemplatesVersion); nil: the default.
	Override         *compose.Template `json:"override,omitempty"`
	Company          int64             `json:"company"`
	TemplatesVersion string            `json:"templates_version,omitempty"`
}

// unrendered decides what d's mail must have before commit (its
// Message-ID, envelope sender and subject line, checked as Compose checks
// them) and returns an outbox row with d serialised in RenderInput and
// Raw empty.
func (o *Outbound) unrendered(d compose.Data, override *compose.Template, company int64, version string) (*store.OutboxMail, error) {
	d.MessageID = compose.MessageIDFor(d.From.Email)
	subject, err := o.composer.Subject(d, override)
	if err != nil {
		return nil, err
	}
	in := renderInput{V: renderInputVersion, Data: d, Override: override, Company: company, TemplatesVersion: version}
	if d.Zone != nil {
		in.Zone, in.Data.Zone = d.Zone.String(), nil
	}
	js, err := json.Marshal(&in)
	if err != nil {
		return nil, fmt.Errorf("outbound: render input: %w", err)
	}
	return &store.OutboxMail{MailFrom: strings.TrimSpace(d.From.Email), Subject: subject, MessageID: d.MessageID,
		Raw: []byte{}, RenderInput: string(js)}, nil
}

// Render returns the bytes of queued mail m, composed from its render
// input and DKIM-signed, and the subject they carry (which differs from
// the one decided at queueing only when the override fell back to the
// default wording). A rendered m is returned as it is. Errors are
// ErrRender: nothing in m will render better later. Render reads and
// writes nothing: the caller stores the bytes (store.MailRendered).
func (o *Outbound) Render(m *store.OutboxMail) (raw []byte, subject string, err error) {
	if m.Rendered() {
		return m.Raw, m.Subject, nil
	}
	var in renderInput
	if err := json.Unmarshal([]byte(m.RenderInput), &in); err != nil {
		return nil, "", fmt.Errorf("%w %d: unreadable render input: %v", ErrRender, m.ID, err)
	}
	if in.V != renderInputVersion {
		return nil, "", fmt.Errorf("%w %d: render input format %d, want %d", ErrRender, m.ID, in.V, renderInputVersion)
	}
	in.Data.Zone = o.zone(in.Zone)
	msg, err := o.composer.Compose(in.Data, in.Override)
	if err != nil {
		return nil, "", fmt.Errorf("%w %d: %w", ErrRender, m.ID, err)
	}
	if msg.TemplateErr != nil {
		// The mail goes out with the default wording; the change stands.
		o.log.Warn("mail template override failed; sent the default", "event", in.Data.Event, "lang", in.Data.Lang,
			"company", in.Company, "ticket", in.Data.TicketNumber, "outbox_id", m.ID, "err", msg.TemplateErr)
	}
	raw = msg.Raw
	if o.cfg.DKIM != nil {
		if raw, err = o.cfg.DKIM.Sign(raw); err != nil {
			return nil, "", fmt.Errorf("%w %d: %w", ErrRender, m.ID, err)
		}
	}
	return raw, msg.Subject, nil
}

// zone is the location named name: ours when it is ours (the usual case),
// else loaded; "" is none (compose's default).
func (o *Outbound) zone(name string) *time.Location {
	switch {
	case name == "":
		return nil
	case o.cfg.Zone != nil && o.cfg.Zone.String() == name:
		return o.cfg.Zone
	}
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return o.cfg.Zone
}
