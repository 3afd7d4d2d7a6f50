package ticketing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
)

// Admin operations on the mail side (templates, outbox, quarantine): each
// checks that the actor is an admin and audits with that actor in the
// transaction of the change.

// requireMailAdmin is the one admin check; what says what was refused.
func requireMailAdmin(actor *store.User, what string) error {
	if actor == nil || actor.Disabled || actor.Role != store.RoleAdmin {
		return notAllowedf("only an admin may %s", what)
	}
	return nil
}

// errDryRun rolls back a transaction that only measured its change.
var errDryRun = errors.New("dry run")

// txMaybeDry runs fn in one transaction and, when dry, rolls it back after
// fn measured what it would change.
func (s *Service) txMaybeDry(ctx context.Context, dry bool, fn func(tx *Tx) error) error {
	err := s.TxWith(ctx, func(tx *Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if dry {
			return errDryRun
		}
		return nil
	})
	if dry && errors.Is(err, errDryRun) {
		return nil
	}
	return err
}

// TemplateCheck renders a template against sample data and says why it
// does not render (mailbox/compose.Validate, wired in by cmd).
type TemplateCheck func(subject, text, html string) error

// WithTemplateCheck sets the check SetTemplate runs before saving.
func WithTemplateCheck(fn TemplateCheck) Option { return func(s *Service) { s.checkTemplate = fn } }

// TemplateInput is a template override: global (CompanyID 0) or for one
// company.
type TemplateInput struct {
	CompanyID int64
	Event     string
	Language  string
	Subject   string
	Text      string
	HTML      string
}

// SetTemplate overrides a mail template, after checking that it renders.
// Admins only; audited.
func (s *Service) SetTemplate(ctx context.Context, actor *store.User, in TemplateInput) (*store.EmailTemplate, error) {
	if err := requireMailAdmin(actor, "change mail templates"); err != nil {
		return nil, err
	}
	if s.checkTemplate != nil {
		if err := s.checkTemplate(in.Subject, in.Text, in.HTML); err != nil {
			return nil, invalidf("template %s (%s) does not render: %v", in.Event, in.Language, err)
		}
	}
	row := &store.EmailTemplate{Event: in.Event, Language: in.Language, Subject: in.Subject, BodyText: in.Text, BodyHTML: in.HTML}
	if in.CompanyID > 0 {
		cid := in.CompanyID
		row.CompanyID = &cid
	}
	err := s.TxWith(ctx, func(tx *Tx) error {
		if err := tx.q.SetEmailTemplate(ctx, row); err != nil {
			return err
		}
		return tx.q.Audit(ctx, actor, in.CompanyID, "email_template", row.ID, "set", nil, row)
	})
	if err != nil {
		return nil, err
	}
	return row, nil
}

// ResetTemplate removes an override, so the default applies again; with
// dry it only checks there is one. Admins only; audited.
func (s *Service) ResetTemplate(ctx context.Context, actor *store.User, companyID int64, event, lang string, dry bool) error {
	if err := requireMailAdmin(actor, "change mail templates"); err != nil {
		return err
	}
	return s.txMaybeDry(ctx, dry, func(tx *Tx) error {
		removed, err := tx.q.ResetEmailTemplate(ctx, companyID, event, lang)
		if err != nil {
			return err
		}
		if !removed {
			return notFoundf("no override for %s (%s)", event, lang)
		}
		return tx.q.Audit(ctx, actor, companyID, "email_template", 0, "reset", nil,
			map[string]any{"event": event, "language": lang, "company_id": companyID})
	})
}

// RetryOutbox queues a failed (or stuck) outbound mail again, now. Admins
// only; audited.
func (s *Service) RetryOutbox(ctx context.Context, actor *store.User, id int64) (*store.OutboxMail, error) {
	if err := requireMailAdmin(actor, "retry outbound mail"); err != nil {
		return nil, err
	}
	var m *store.OutboxMail
	err := s.TxWith(ctx, func(tx *Tx) error {
		if err := tx.q.OutboxRequeue(ctx, id); err != nil {
			return err
		}
		var err error
		if m, err = tx.q.OutboxGet(ctx, id); err != nil {
			return err
		}
		return tx.q.Audit(ctx, actor, 0, "outbox_mail", id, "retry", nil, map[string]any{"to": m.Recipients, "event": m.Event})
	})
	return m, err
}

// PurgeOutbox deletes sent (and with failedToo, failed) outbound mail
// queued before before, and returns how many (with dry: how many it would).
// Admins only; audited.
func (s *Service) PurgeOutbox(ctx context.Context, actor *store.User, before time.Time, failedToo, dry bool) (int64, error) {
	if err := requireMailAdmin(actor, "purge outbound mail"); err != nil {
		return 0, err
	}
	var n int64
	err := s.txMaybeDry(ctx, dry, func(tx *Tx) error {
		var err error
		if n, err = tx.q.OutboxPurge(ctx, before, failedToo); err != nil {
			return err
		}
		return tx.q.Audit(ctx, actor, 0, "outbox_mail", 0, "purge", nil,
			map[string]any{"before": before.UTC(), "failed_too": failedToo, "deleted": n})
	})
	return n, err
}

// DeleteQuarantined deletes a held message for good (with dry: checks it
// exists). Admins only; audited with what it was.
func (s *Service) DeleteQuarantined(ctx context.Context, actor *store.User, id int64, dry bool) (*store.Quarantined, error) {
	if err := requireMailAdmin(actor, "delete quarantined mail"); err != nil {
		return nil, err
	}
	var m *store.Quarantined
	err := s.txMaybeDry(ctx, dry, func(tx *Tx) error {
		var err error
		if m, _, err = tx.q.QuarantineGet(ctx, id); err != nil {
			return err
		}
		if err := tx.q.QuarantineDelete(ctx, id); err != nil {
			return err
		}
		return tx.q.Audit(ctx, actor, 0, "mail_quarantine", id, "delete",
			map[string]any{"from": m.FromAddr, "subject": m.Subject, "reason": m.Reason, "size": m.RawSize}, nil)
	})
	return m, err
}

// ReleaseQuarantined marks a held message as released (it is being
// reprocessed) or, with hold, holds it again (the reprocess failed).
// Admins only; audited.
func (s *Service) ReleaseQuarantined(ctx context.Context, actor *store.User, id int64, hold bool) error {
	if err := requireMailAdmin(actor, "reprocess quarantined mail"); err != nil {
		return err
	}
	return s.TxWith(ctx, func(tx *Tx) error {
		if _, _, err := tx.q.QuarantineGet(ctx, id); err != nil {
			return err
		}
		action := "release"
		if hold {
			action = "hold"
			if err := tx.q.QuarantineUnrelease(ctx, id); err != nil {
				return err
			}
		} else if err := tx.q.QuarantineRelease(ctx, id); err != nil {
			return err
		}
		return tx.q.Audit(ctx, actor, 0, "mail_quarantine", id, action, nil, nil)
	})
}

// ResolveCategory turns a category reference (an id, a name, or
// "Parent/Child") into the category and subcategory of a ticket: a
// subcategory brings its parent along.
func (s *Service) ResolveCategory(ctx context.Context, ref string) (categoryID, subcategoryID *int64, err error) {
	return resolveCategory(ctx, s.st.R(), ref)
}

// resolveCategory finds "Parent", "Parent/Child" or a child's own name,
// in q (a transaction's or the read side).
func resolveCategory(ctx context.Context, q *store.Q, ref string) (categoryID, subcategoryID *int64, err error) {
	c, err := q.CategoryByRef(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, invalidf("unknown category %q", ref)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("category %q: %w", ref, err)
	}
	id := c.ID
	if c.ParentID != nil {
		parent := *c.ParentID
		return &parent, &id, nil
	}
	return &id, nil, nil
}

// AuditLog lists audit rows, newest first. Admins only: the rows hold
// before/after values of every entity.
func (s *Service) AuditLog(ctx context.Context, actor *store.User, f store.AuditFilter) ([]*store.AuditEntry, error) {
	if err := requireMailAdmin(actor, "read the audit log"); err != nil {
		return nil, err
	}
	return s.st.R().AuditList(ctx, f)
}
