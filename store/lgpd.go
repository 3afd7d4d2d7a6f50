package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// Revision statuses: a draft becomes published; publishing another one of
// the same company supersedes it.
const (
	RevisionDraft      = "draft"
	RevisionPublished  = "published"
	RevisionSuperseded = "superseded"
)

// Consent channels: where the person accepted.
const (
	ChannelWeb  = "web"
	ChannelMail = "mail"
	ChannelCLI  = "cli"
)

// Data-subject request kinds and statuses.
const (
	RequestExport     = "export"
	RequestErasure    = "erasure"
	RequestCorrection = "correction"

	RequestOpen     = "open"
	RequestDone     = "done"
	RequestRejected = "rejected"
)

// LGPDRevision is one version of a privacy policy: a company's own, or the
// global default (CompanyID nil). Versions count 1, 2, 3… per company.
type LGPDRevision struct {
	bun.BaseModel `bun:"table:lgpd_revisions,alias:lr"`

	ID          int64      `bun:"id,pk,autoincrement" json:"id"`
	CompanyID   *int64     `bun:"company_id" json:"company_id"`
	Version     string     `bun:"version,notnull" json:"version"`
	Title       string     `bun:"title,notnull" json:"title"`
	Body        string     `bun:"body,notnull" json:"body"`
	BodyHTML    string     `bun:"body_html,notnull" json:"body_html"`
	Status      string     `bun:"status,notnull" json:"status"`
	CreatedBy   *int64     `bun:"created_by" json:"created_by"`
	PublishedBy *int64     `bun:"published_by" json:"published_by"`
	PublishedAt *time.Time `bun:"published_at" json:"published_at"`
	CreatedAt   time.Time  `bun:"created_at,notnull" json:"created_at"`
}

// CompanyIDValue is the revision's company id, 0 for a global one.
func (r *LGPDRevision) CompanyIDValue() int64 {
	if r == nil || r.CompanyID == nil {
		return 0
	}
	return *r.CompanyID
}

// NextRevisionVersion is the next version number of a company's series
// (companyID 0: the global series).
func (q *Q) NextRevisionVersion(ctx context.Context, companyID int64) (string, error) {
	var vs []string
	err := q.db.NewSelect().Model((*LGPDRevision)(nil)).Column("version").
		Where("COALESCE(lr.company_id, 0) = ?", companyID).Scan(ctx, &vs)
	if err != nil {
		return "", fmt.Errorf("store: revision versions: %w", err)
	}
	var max int64
	for _, v := range vs {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > max {
			max = n
		}
	}
	return strconv.FormatInt(max+1, 10), nil
}

// CreateRevision inserts r; a version already used in its series is
// ErrConflict.
func (q *Q) CreateRevision(ctx context.Context, r *LGPDRevision) error {
	if r.CreatedAt.IsZero() {
		r.CreatedAt = now()
	}
	if r.Status == "" {
		r.Status = RevisionDraft
	}
	if _, err := q.db.NewInsert().Model(r).Returning("id").Exec(ctx); err != nil {
		return conflict(err, "revision "+r.Version)
	}
	return nil
}

// Revision returns a revision by id.
func (q *Q) Revision(ctx context.Context, id int64) (*LGPDRevision, error) {
	r := new(LGPDRevision)
	if err := q.db.NewSelect().Model(r).Where("lr.id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "revision "+strconv.FormatInt(id, 10))
	}
	return r, nil
}

// RevisionByVersion returns a revision of a series (companyID 0: global).
func (q *Q) RevisionByVersion(ctx context.Context, companyID int64, version string) (*LGPDRevision, error) {
	r := new(LGPDRevision)
	err := q.db.NewSelect().Model(r).Where("COALESCE(lr.company_id, 0) = ? AND lr.version = ?", companyID, version).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "revision version "+version)
	}
	return r, nil
}

// RevisionFilter narrows Revisions. Company nil lists every series; a
// pointer to 0 lists the global one.
type RevisionFilter struct {
	Company *int64
}

// Revisions lists revisions, by series then version.
func (q *Q) Revisions(ctx context.Context, f RevisionFilter) ([]*LGPDRevision, error) {
	var rs []*LGPDRevision
	sel := q.db.NewSelect().Model(&rs)
	if f.Company != nil {
		sel = sel.Where("COALESCE(lr.company_id, 0) = ?", *f.Company)
	}
	if err := sel.OrderExpr("COALESCE(lr.company_id, 0), lr.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: revisions: %w", err)
	}
	return rs, nil
}

// PublishedRevision returns the published revision of a series
// (companyID 0: global), ErrNotFound when it has none.
func (q *Q) PublishedRevision(ctx context.Context, companyID int64) (*LGPDRevision, error) {
	r := new(LGPDRevision)
	err := q.db.NewSelect().Model(r).
		Where("COALESCE(lr.company_id, 0) = ? AND lr.status = ?", companyID, RevisionPublished).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "published revision of company "+strconv.FormatInt(companyID, 10))
	}
	return r, nil
}

// PublishRevision makes r the published revision of its series and
// supersedes the one published before (returned, nil if none).
func (q *Q) PublishRevision(ctx context.Context, r *LGPDRevision, by *int64, at time.Time) (*LGPDRevision, error) {
	prev, err := q.PublishedRevision(ctx, r.CompanyIDValue())
	if errors.Is(err, ErrNotFound) {
		prev = nil
	} else if err != nil {
		return nil, err
	}
	if prev != nil {
		// Supersede first: the partial unique index allows one published
		// row per series at any moment.
		prev.Status = RevisionSuperseded
		if _, err := q.db.NewUpdate().Model(prev).Column("status").WherePK().Exec(ctx); err != nil {
			return nil, fmt.Errorf("store: supersede revision %d: %w", prev.ID, err)
		}
	}
	r.Status, r.PublishedBy, r.PublishedAt = RevisionPublished, by, &at
	if _, err := q.db.NewUpdate().Model(r).Column("status", "published_by", "published_at").WherePK().Exec(ctx); err != nil {
		return nil, conflict(err, "publish revision "+strconv.FormatInt(r.ID, 10))
	}
	return prev, nil
}

// LGPDConsent is one acceptance of one revision by one person.
type LGPDConsent struct {
	bun.BaseModel `bun:"table:lgpd_consents,alias:lc"`

	ID          int64     `bun:"id,pk,autoincrement" json:"id"`
	UserID      int64     `bun:"user_id,notnull" json:"user_id"`
	RevisionID  int64     `bun:"revision_id,notnull" json:"revision_id"`
	IP          string    `bun:"ip,notnull" json:"ip"`
	Channel     string    `bun:"channel,notnull" json:"channel"`
	ConsentedAt time.Time `bun:"consented_at,notnull" json:"consented_at"`
}

// InsertConsent records an acceptance.
func (q *Q) InsertConsent(ctx context.Context, c *LGPDConsent) error {
	if _, err := q.db.NewInsert().Model(c).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("store: insert consent: %w", err)
	}
	return nil
}

// HasConsent reports whether the user accepted the revision.
func (q *Q) HasConsent(ctx context.Context, userID, revisionID int64) (bool, error) {
	ok, err := q.db.NewSelect().Model((*LGPDConsent)(nil)).
		Where("user_id = ? AND revision_id = ?", userID, revisionID).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("store: has consent: %w", err)
	}
	return ok, nil
}

// ConsentsOfUser lists a person's acceptances, oldest first.
func (q *Q) ConsentsOfUser(ctx context.Context, userID int64) ([]*LGPDConsent, error) {
	var cs []*LGPDConsent
	if err := q.db.NewSelect().Model(&cs).Where("user_id = ?", userID).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: consents of user: %w", err)
	}
	return cs, nil
}

// ConsentRow is a consent with who and which revision, for reports.
type ConsentRow struct {
	ID          int64     `bun:"id" json:"id"`
	UserID      int64     `bun:"user_id" json:"user_id"`
	Email       string    `bun:"email" json:"email"`
	Name        string    `bun:"name" json:"name"`
	RevisionID  int64     `bun:"revision_id" json:"revision_id"`
	Version     string    `bun:"version" json:"version"`
	Global      bool      `bun:"global" json:"global"`
	IP          string    `bun:"ip" json:"ip"`
	Channel     string    `bun:"channel" json:"channel"`
	ConsentedAt time.Time `bun:"consented_at" json:"consented_at"`
}

// ConsentFilter narrows Consents: the people of a company, optionally one
// revision.
type ConsentFilter struct {
	CompanyID  int64
	RevisionID int64
}

// Consents lists acceptances by the people of a company, newest first.
func (q *Q) Consents(ctx context.Context, f ConsentFilter) ([]*ConsentRow, error) {
	rows := []*ConsentRow{}
	sel := q.db.NewSelect().TableExpr("lgpd_consents AS lc").
		ColumnExpr("lc.id, lc.user_id, u.email, u.name, lc.revision_id, lr.version, lr.company_id IS NULL AS global, lc.ip, lc.channel, lc.consented_at").
		Join("JOIN users AS u ON u.id = lc.user_id").
		Join("JOIN lgpd_revisions AS lr ON lr.id = lc.revision_id").
		Where("u.company_id = ?", f.CompanyID)
	if f.RevisionID > 0 {
		sel = sel.Where("lc.revision_id = ?", f.RevisionID)
	}
	if err := sel.OrderExpr("lc.consented_at DESC, lc.id DESC").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("store: consents: %w", err)
	}
	return rows, nil
}

// LGPDRequest is a data-subject request (LGPD art. 18) and how it ended.
type LGPDRequest struct {
	bun.BaseModel `bun:"table:lgpd_requests,alias:lq"`

	ID         int64      `bun:"id,pk,autoincrement" json:"id"`
	UserID     int64      `bun:"user_id,notnull" json:"user_id"`
	CompanyID  *int64     `bun:"company_id" json:"company_id"`
	Kind       string     `bun:"kind,notnull" json:"kind"`
	Status     string     `bun:"status,notnull" json:"status"`
	Note       string     `bun:"note,notnull" json:"note"`
	Resolution string     `bun:"resolution,notnull" json:"resolution"`
	FiledBy    *int64     `bun:"filed_by" json:"filed_by"`
	HandledBy  *int64     `bun:"handled_by" json:"handled_by"`
	FiledAt    time.Time  `bun:"filed_at,notnull" json:"filed_at"`
	DueAt      time.Time  `bun:"due_at,notnull" json:"due_at"`
	ClosedAt   *time.Time `bun:"closed_at" json:"closed_at"`

	User *User `bun:"rel:belongs-to,join:user_id=id" json:"-"`
}

// CreateRequest inserts r.
func (q *Q) CreateRequest(ctx context.Context, r *LGPDRequest) error {
	if _, err := q.db.NewInsert().Model(r).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("store: create request: %w", err)
	}
	return nil
}

// Request returns a data-subject request by id.
func (q *Q) Request(ctx context.Context, id int64) (*LGPDRequest, error) {
	r := new(LGPDRequest)
	err := q.db.NewSelect().Model(r).
		Relation("User", func(s *bun.SelectQuery) *bun.SelectQuery { return s.Column("id", "email", "name") }).
		Where("lq.id = ?", id).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "request "+strconv.FormatInt(id, 10))
	}
	return r, nil
}

// CloseRequest saves a request's status, resolution, handler and close time.
func (q *Q) CloseRequest(ctx context.Context, r *LGPDRequest) error {
	_, err := q.db.NewUpdate().Model(r).Column("status", "resolution", "handled_by", "closed_at").WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: close request %d: %w", r.ID, err)
	}
	return nil
}

// RequestFilter narrows Requests. OverdueAt set: only open requests due
// before it.
type RequestFilter struct {
	Status    string
	UserID    int64
	OverdueAt *time.Time
}

// Requests lists data-subject requests, soonest due first.
func (q *Q) Requests(ctx context.Context, f RequestFilter) ([]*LGPDRequest, error) {
	var rs []*LGPDRequest
	sel := q.db.NewSelect().Model(&rs).
		Relation("User", func(s *bun.SelectQuery) *bun.SelectQuery { return s.Column("id", "email", "name") })
	if f.Status != "" {
		sel = sel.Where("lq.status = ?", f.Status)
	}
	if f.UserID > 0 {
		sel = sel.Where("lq.user_id = ?", f.UserID)
	}
	if f.OverdueAt != nil {
		sel = sel.Where("lq.status = ? AND lq.due_at < ?", RequestOpen, f.OverdueAt.UTC())
	}
	if err := sel.Order("lq.due_at", "lq.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: requests: %w", err)
	}
	return rs, nil
}

// CountOtherAdmins counts the enabled admins other than userID.
func (q *Q) CountOtherAdmins(ctx context.Context, userID int64) (int, error) {
	n, err := q.db.NewSelect().Model((*User)(nil)).
		Where("u.role = ? AND NOT u.disabled AND u.id <> ?", RoleAdmin, userID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: count admins: %w", err)
	}
	return int(n), nil
}

// ignoreNoRows treats "no rows" as an empty result.
func ignoreNoRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}
