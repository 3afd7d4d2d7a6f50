package ticketing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
)

// RetentionPolicy is the configured retention, in days (0 keeps forever).
type RetentionPolicy struct {
	ClosedTicketDays int // default for companies without their own
	AuditDays        int
	QuarantineDays   int
	OutboxDays       int // sent mail
	// Notifications (the bell), by age: read ones go sooner than unread.
	NotificationReadDays   int
	NotificationUnreadDays int
}

// RetentionOptions tune a run.
type RetentionOptions struct {
	Policy    RetentionPolicy
	DryRun    bool
	BatchSize int           // tickets per transaction (default 1,000)
	LeaseTTL  time.Duration // how long a killed run blocks the next (default 2m)
	// AfterBatch, when set, is called after each committed batch (progress
	// logs; tests stop a run halfway with it).
	AfterBatch func(companyID int64, c store.RetentionCounts)
}

// CompanyRetention is what a run did (or would do) for one company.
type CompanyRetention struct {
	ID     int64     `json:"id"`
	Name   string    `json:"name"`
	Days   int       `json:"days"`
	Cutoff time.Time `json:"cutoff"`
	store.RetentionCounts
}

// RetentionReport says what a run did. It holds counts only: no names,
// addresses or text.
type RetentionReport struct {
	DryRun     bool                  `json:"dry_run"`
	Companies  []*CompanyRetention   `json:"companies"`
	Total      store.RetentionCounts `json:"total"`
	Audit      int64                 `json:"audit_deleted"`
	Quarantine int64                 `json:"quarantine_deleted"`
	OutboxSent int64                 `json:"outbox_sent_deleted"`
	// Notifications deleted, read and unread.
	NotificationsRead   int64 `json:"notifications_read_deleted"`
	NotificationsUnread int64 `json:"notifications_unread_deleted"`
	Batches             int   `json:"batches"`
}

// retentionLease keeps runs one at a time, from cron, serve or an admin.
const retentionLease = "retention"

// SetCompanyRetention sets a company's retention in days: nil for the
// configured default, 0 to keep its closed tickets forever.
func (s *Service) SetCompanyRetention(ctx context.Context, actor *store.User, companyID int64, days *int) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	if days != nil && *days < 0 {
		return invalidf("retention days must not be negative, not %d", *days)
	}
	return s.TxWith(ctx, func(tx *Tx) error {
		before, err := tx.q.CompanyRetention(ctx, companyID)
		if err != nil {
			return err
		}
		if err := tx.q.SetCompanyRetention(ctx, companyID, days); err != nil {
			return err
		}
		return tx.q.Audit(ctx, actor, companyID, "company", companyID, "set_retention",
			map[string]any{"retention_days": before}, map[string]any{"retention_days": days})
	})
}

// CompanyRetention returns a company's own retention (nil: the default).
func (s *Service) CompanyRetention(ctx context.Context, companyID int64) (*int, error) {
	d, err := s.st.R().CompanyRetention(ctx, companyID)
	return d, mapStoreErr(err)
}

// RunRetention applies the retention rules. For each company (its own
// period, else the default; 0 keeps forever) the closed tickets closed
// longer ago than the period lose their personal data (see
// store.RetainTickets) in batches, each its own transaction, so a run
// killed halfway leaves whole batches done and the next run does the
// rest; then audit rows, quarantined mail and sent outbox mail older than
// their periods are deleted, and so are notifications (read ones and
// unread ones, each by its own period). One run at a time (the lease); one audit row
// per run, with counts only. Admins (and the system actor) only.
func (s *Service) RunRetention(ctx context.Context, actor *store.User, o RetentionOptions) (*RetentionReport, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 2 * time.Minute
	}
	p := o.Policy
	if p.ClosedTicketDays < 0 || p.AuditDays < 0 || p.QuarantineDays < 0 || p.OutboxDays < 0 ||
		p.NotificationReadDays < 0 || p.NotificationUnreadDays < 0 {
		return nil, invalidf("retention periods must not be negative")
	}
	rep := &RetentionReport{DryRun: o.DryRun, Companies: []*CompanyRetention{}}
	holder := leaseHolder()
	if !o.DryRun {
		if err := s.st.AcquireLease(ctx, retentionLease, holder, o.LeaseTTL); err != nil {
			if errors.Is(err, store.ErrLeaseHeld) {
				return nil, fmt.Errorf("retention run: %w", ErrJobRunning)
			}
			return nil, err
		}
		defer func() { _ = s.st.ReleaseLease(context.WithoutCancel(ctx), retentionLease, holder) }()
	}
	if !o.DryRun {
		restore, err := s.st.LongWrite(ctx)
		if err != nil {
			return nil, err
		}
		defer restore()
	}
	now := s.clock()
	companies, err := s.st.R().RetentionCompanies(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range companies {
		days := p.ClosedTicketDays
		if c.Days != nil {
			days = *c.Days
		}
		if days == 0 {
			continue
		}
		cr := &CompanyRetention{ID: c.ID, Name: c.Name, Days: days, Cutoff: now.AddDate(0, 0, -days)}
		if err := s.retainCompany(ctx, actor, o, holder, cr, rep); err != nil {
			return nil, err
		}
		if cr.Tickets > 0 {
			rep.Companies = append(rep.Companies, cr)
			rep.Total.Add(cr.RetentionCounts)
		}
	}
	for _, k := range []struct {
		kind string
		days int
		n    *int64
	}{{"audit", p.AuditDays, &rep.Audit}, {"quarantine", p.QuarantineDays, &rep.Quarantine}, {"outbox", p.OutboxDays, &rep.OutboxSent},
		{"notifications_read", p.NotificationReadDays, &rep.NotificationsRead},
		{"notifications_unread", p.NotificationUnreadDays, &rep.NotificationsUnread}} {
		if k.days == 0 {
			continue
		}
		if err := s.purge(ctx, o, holder, k.kind, now.AddDate(0, 0, -k.days), k.n); err != nil {
			return nil, err
		}
	}
	if o.DryRun {
		return rep, nil
	}
	if err := s.st.Checkpoint(ctx); err != nil {
		return nil, err
	}
	err = s.TxWith(ctx, func(tx *Tx) error {
		return tx.q.Audit(ctx, actor, 0, "retention", 0, "run", nil, rep.summary())
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// retainCompany runs the batches of one company.
func (s *Service) retainCompany(ctx context.Context, actor *store.User, o RetentionOptions, holder string, cr *CompanyRetention, rep *RetentionReport) error {
	if o.DryRun {
		c, err := s.st.R().CountRetentionDue(ctx, cr.ID, cr.Cutoff)
		if err != nil {
			return err
		}
		cr.RetentionCounts = c
		return nil
	}
	var anon *store.User
	var after int64
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("retention run: %w", err)
		}
		ids, err := s.st.R().RetentionDue(ctx, cr.ID, cr.Cutoff, after, o.BatchSize)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		after = ids[len(ids)-1]
		var c store.RetentionCounts
		err = s.TxWith(ctx, func(tx *Tx) error {
			// The batch commits only while the run still holds the lease.
			if err := tx.q.HoldLease(ctx, retentionLease, holder, o.LeaseTTL); err != nil {
				return err
			}
			if anon == nil {
				u, err := tx.q.RetentionAnonymous(ctx, cr.ID)
				if err != nil {
					return err
				}
				anon = u
			}
			var err error
			c, err = tx.q.RetainTickets(ctx, ids, anon)
			return err
		})
		if err != nil {
			anon = nil // the placeholder may have been rolled back with the batch
			return fmt.Errorf("retention run: company %d: %w", cr.ID, err)
		}
		rep.Batches++
		cr.Add(c)
		if o.AfterBatch != nil {
			o.AfterBatch(cr.ID, c)
		}
	}
}

// purge deletes the rows of kind older than before, a batch per
// transaction.
func (s *Service) purge(ctx context.Context, o RetentionOptions, holder, kind string, before time.Time, n *int64) error {
	if o.DryRun {
		c, err := s.st.R().CountOld(ctx, kind, before)
		*n = c
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("retention run: %w", err)
		}
		var got int64
		err := s.TxWith(ctx, func(tx *Tx) error {
			if err := tx.q.HoldLease(ctx, retentionLease, holder, o.LeaseTTL); err != nil {
				return err
			}
			var err error
			got, err = tx.q.PurgeOld(ctx, kind, before)
			return err
		})
		if err != nil {
			return fmt.Errorf("retention run: %w", err)
		}
		*n += got
		if got < store.PurgeBatch {
			return nil
		}
	}
}

// summary is the run's audit record: counts and company ids, nothing
// personal.
func (r *RetentionReport) summary() map[string]any {
	per := make(map[string]store.RetentionCounts, len(r.Companies))
	for _, c := range r.Companies {
		per[fmt.Sprint(c.ID)] = c.RetentionCounts
	}
	return map[string]any{"total": r.Total, "companies": per, "audit_deleted": r.Audit,
		"quarantine_deleted": r.Quarantine, "outbox_sent_deleted": r.OutboxSent,
		"notifications_read_deleted": r.NotificationsRead, "notifications_unread_deleted": r.NotificationsUnread, "batches": r.Batches}
}
