package ticketing

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/jcservicedesk/servicedesk/store"
)

// RequestDeadline is how long the controller has to answer a data-subject
// request (LGPD art. 19, II: fifteen days from the request).
const RequestDeadline = 15 * 24 * time.Hour

// markdown renders policy text. Without goldmark.WithUnsafe raw HTML is
// left out and javascript: links lose their target, so an admin's paste
// cannot put script on the privacy page.
var markdown = goldmark.New(goldmark.WithExtensions(extension.GFM))

// RenderPolicy turns a revision's Markdown into safe HTML.
func RenderPolicy(md string) (string, error) {
	var b bytes.Buffer
	if err := markdown.Convert([]byte(md), &b); err != nil {
		return "", invalidf("policy text: %v", err)
	}
	return b.String(), nil
}

func requireLGPDAdmin(actor *store.User) error {
	return requireMailAdmin(actor, "manage privacy policies and data-subject requests")
}

// RevisionInput is a new policy revision. CompanyID 0 is the global
// default that applies to companies without their own.
type RevisionInput struct {
	CompanyID int64
	Title     string
	Body      string // Markdown
	Publish   bool
}

const maxPolicy = 1 << 20

// AddRevision adds the next version of a company's (or the global)
// policy, as a draft or published at once. Admins only; audited.
func (s *Service) AddRevision(ctx context.Context, actor *store.User, in RevisionInput) (*store.LGPDRevision, error) {
	if err := requireLGPDAdmin(actor); err != nil {
		return nil, err
	}
	title := strings.Join(strings.Fields(in.Title), " ")
	if title == "" {
		title = "Política de privacidade"
	}
	if strings.TrimSpace(in.Body) == "" {
		return nil, invalidf("policy text is empty")
	}
	if len(in.Body) > maxPolicy {
		return nil, invalidf("policy text is larger than %d bytes", maxPolicy)
	}
	html, err := RenderPolicy(in.Body)
	if err != nil {
		return nil, err
	}
	var r *store.LGPDRevision
	err = s.TxWith(ctx, func(tx *Tx) error {
		q := tx.q
		var cid *int64
		if in.CompanyID > 0 {
			if _, err := q.Company(ctx, in.CompanyID); err != nil {
				return err
			}
			id := in.CompanyID
			cid = &id
		}
		v, err := q.NextRevisionVersion(ctx, in.CompanyID)
		if err != nil {
			return err
		}
		r = &store.LGPDRevision{CompanyID: cid, Version: v, Title: title, Body: in.Body, BodyHTML: html,
			Status: store.RevisionDraft, CreatedAt: s.clock()}
		if actor.ID > 0 {
			id := actor.ID
			r.CreatedBy = &id
		}
		if err := q.CreateRevision(ctx, r); err != nil {
			return err
		}
		if err := q.Audit(ctx, actor, in.CompanyID, "lgpd_revision", r.ID, "create", nil, auditRevision(r)); err != nil {
			return err
		}
		if in.Publish {
			return tx.publish(ctx, actor, r)
		}
		return nil
	})
	return r, err
}

// PublishRevision publishes a draft: from now on it is the policy of its
// company (or the global one), the previous one is superseded, and the
// company's requesters must accept it again. Admins only; audited.
func (s *Service) PublishRevision(ctx context.Context, actor *store.User, id int64) (*store.LGPDRevision, error) {
	if err := requireLGPDAdmin(actor); err != nil {
		return nil, err
	}
	var r *store.LGPDRevision
	err := s.TxWith(ctx, func(tx *Tx) error {
		var err error
		if r, err = tx.q.Revision(ctx, id); err != nil {
			return err
		}
		if r.Status != store.RevisionDraft {
			return invalidf("revision %d is %s; only a draft can be published", r.ID, r.Status)
		}
		return tx.publish(ctx, actor, r)
	})
	return r, err
}

func (tx *Tx) publish(ctx context.Context, actor *store.User, r *store.LGPDRevision) error {
	var by *int64
	if actor.ID > 0 {
		id := actor.ID
		by = &id
	}
	prev, err := tx.q.PublishRevision(ctx, r, by, tx.s.clock())
	if err != nil {
		return err
	}
	before := map[string]any{"status": store.RevisionDraft}
	after := map[string]any{"status": r.Status, "version": r.Version, "published_at": r.PublishedAt}
	if prev != nil {
		after["supersedes"] = prev.ID
	}
	return tx.q.Audit(ctx, actor, r.CompanyIDValue(), "lgpd_revision", r.ID, "publish", before, after)
}

func auditRevision(r *store.LGPDRevision) map[string]any {
	return map[string]any{"company_id": r.CompanyID, "version": r.Version, "title": r.Title, "status": r.Status}
}

// Revisions lists policy revisions, drafts included: every series, or one
// company's (companyID 0: the global series) when company is set. Admins
// only.
func (s *Service) Revisions(ctx context.Context, actor *store.User, company *int64) ([]*store.LGPDRevision, error) {
	if err := requireLGPDAdmin(actor); err != nil {
		return nil, err
	}
	rs, err := s.st.R().Revisions(ctx, store.RevisionFilter{Company: company})
	return rs, mapStoreErr(err)
}

// Revision returns one revision. Admins see any; others only a published
// one that applies to them.
func (s *Service) Revision(ctx context.Context, actor *store.User, id int64) (*store.LGPDRevision, error) {
	r, err := s.st.R().Revision(ctx, id)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	if requireLGPDAdmin(actor) == nil {
		return r, nil
	}
	if r.Status != store.RevisionDraft && (r.CompanyID == nil || actor != nil && r.CompanyIDValue() == actor.CompanyIDValue()) {
		return r, nil
	}
	return nil, notFoundf("revision %d", id)
}

// CurrentRevision is the policy in force for a company: its latest
// published revision, else the global one. companyID 0 asks for the
// global one.
func (s *Service) CurrentRevision(ctx context.Context, companyID int64) (*store.LGPDRevision, error) {
	return currentRevision(ctx, s.st.R(), companyID)
}

func currentRevision(ctx context.Context, q *store.Q, companyID int64) (*store.LGPDRevision, error) {
	if companyID > 0 {
		r, err := q.PublishedRevision(ctx, companyID)
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			return r, mapStoreErr(err)
		}
	}
	r, err := q.PublishedRevision(ctx, 0)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFoundf("no published privacy policy (run `servicedesk migrate`)")
	}
	return r, mapStoreErr(err)
}

// ValidChannel reports whether c is a consent channel.
func ValidChannel(c string) bool {
	switch c {
	case store.ChannelWeb, store.ChannelMail, store.ChannelCLI:
		return true
	}
	return false
}

// Accept records that actor accepted a revision: the one in force for
// their company, no other. Accepting it twice records nothing new.
func (s *Service) Accept(ctx context.Context, actor *store.User, revisionID int64, ip, channel string) (*store.LGPDConsent, error) {
	if actor == nil || actor.ID == 0 || actor.Disabled {
		return nil, notAllowedf("only a signed-in person can accept a privacy policy")
	}
	if !ValidChannel(channel) {
		return nil, invalidf("unknown consent channel %q (want web, mail or cli)", channel)
	}
	var c *store.LGPDConsent
	err := s.TxWith(ctx, func(tx *Tx) error {
		u, err := tx.q.User(ctx, store.AllCompanies(), actor.ID)
		if err != nil {
			return err
		}
		c, err = tx.accept(ctx, u, revisionID, ip, channel)
		return err
	})
	return c, err
}

// accept records u's acceptance of the revision in force (registration
// records it in its own transaction).
func (tx *Tx) accept(ctx context.Context, u *store.User, revisionID int64, ip, channel string) (*store.LGPDConsent, error) {
	q := tx.q
	cur, err := currentRevision(ctx, q, u.CompanyIDValue())
	if err != nil {
		return nil, err
	}
	if cur.ID != revisionID {
		return nil, invalidf("revision %d is not the policy in force for %s (that is revision %d)", revisionID, u.Email, cur.ID)
	}
	c := &store.LGPDConsent{UserID: u.ID, RevisionID: cur.ID, IP: strings.TrimSpace(ip), Channel: channel, ConsentedAt: tx.s.clock()}
	if err := q.InsertConsent(ctx, c); err != nil {
		return nil, err
	}
	// The old columns keep telling the latest acceptance.
	at, rid := c.ConsentedAt, cur.ID
	u.LGPDConsentAt, u.LGPDRevisionID = &at, &rid
	if err := q.UpdateUser(ctx, u); err != nil {
		return nil, err
	}
	return c, q.Audit(ctx, u, u.CompanyIDValue(), "user", u.ID, "lgpd_consent", nil,
		map[string]any{"revision_id": cur.ID, "version": cur.Version, "channel": channel})
}

// NeedsConsent reports whether u must accept the policy in force before
// going on, and which one that is. Staff are never held back.
func (s *Service) NeedsConsent(ctx context.Context, u *store.User) (bool, *store.LGPDRevision, error) {
	cur, err := s.CurrentRevision(ctx, u.CompanyIDValue())
	if err != nil {
		return false, nil, err
	}
	if u.IsStaff() {
		return false, cur, nil
	}
	ok, err := s.st.R().HasConsent(ctx, u.ID, cur.ID)
	if err != nil {
		return false, nil, err
	}
	return !ok, cur, nil
}

// Consents lists the acceptances by a company's people, optionally of one
// version: of its own series, else of the global series (what a company
// without its own policy accepted). Admins only.
func (s *Service) Consents(ctx context.Context, actor *store.User, companyID int64, version string) ([]*store.ConsentRow, error) {
	if err := requireLGPDAdmin(actor); err != nil {
		return nil, err
	}
	q := s.st.R()
	f := store.ConsentFilter{CompanyID: companyID}
	if version != "" {
		r, err := q.RevisionByVersion(ctx, companyID, version)
		if errors.Is(err, store.ErrNotFound) {
			r, err = q.RevisionByVersion(ctx, 0, version)
		}
		if err != nil {
			return nil, mapStoreErr(err)
		}
		f.RevisionID = r.ID
	}
	rs, err := q.Consents(ctx, f)
	return rs, mapStoreErr(err)
}

// RequestInput is a data-subject request filed on someone's behalf.
type RequestInput struct {
	Email string
	Kind  string // export, erasure or correction
	Note  string
}

// ValidRequestKind reports whether k is a request kind.
func ValidRequestKind(k string) bool {
	switch k {
	case store.RequestExport, store.RequestErasure, store.RequestCorrection:
		return true
	}
	return false
}

// AddRequest records a data-subject request with its legal due date.
// Admins file them for anyone; a person files their own (the portal's
// "Meus dados"). Audited.
func (s *Service) AddRequest(ctx context.Context, actor *store.User, in RequestInput) (*store.LGPDRequest, error) {
	self := actor != nil && actor.ID > 0 && !actor.Disabled && store.NormalizeEmail(in.Email) == store.NormalizeEmail(actor.Email)
	if !self {
		if err := requireLGPDAdmin(actor); err != nil {
			return nil, err
		}
	}
	if !ValidRequestKind(in.Kind) {
		return nil, invalidf("unknown request kind %q (want export, erasure or correction)", in.Kind)
	}
	var r *store.LGPDRequest
	err := s.TxWith(ctx, func(tx *Tx) error {
		q := tx.q
		u, err := q.UserByEmail(ctx, store.AllCompanies(), in.Email)
		if err != nil {
			return err
		}
		at := s.clock()
		r = &store.LGPDRequest{UserID: u.ID, CompanyID: u.CompanyID, Kind: in.Kind, Status: store.RequestOpen,
			Note: strings.TrimSpace(in.Note), FiledAt: at, DueAt: at.Add(RequestDeadline), User: u}
		if actor.ID > 0 {
			id := actor.ID
			r.FiledBy = &id
		}
		if err := q.CreateRequest(ctx, r); err != nil {
			return err
		}
		return q.Audit(ctx, actor, u.CompanyIDValue(), "lgpd_request", r.ID, "create", nil,
			map[string]any{"user_id": u.ID, "kind": r.Kind, "due_at": r.DueAt})
	})
	return r, err
}

// RequestListFilter narrows Requests.
type RequestListFilter struct {
	Status  string
	Overdue bool // open and past the due date
}

// Requests lists data-subject requests, soonest due first. Admins only.
func (s *Service) Requests(ctx context.Context, actor *store.User, f RequestListFilter) ([]*store.LGPDRequest, error) {
	if err := requireLGPDAdmin(actor); err != nil {
		return nil, err
	}
	if f.Status != "" && f.Status != store.RequestOpen && f.Status != store.RequestDone && f.Status != store.RequestRejected {
		return nil, invalidf("unknown request status %q (want open, done or rejected)", f.Status)
	}
	sf := store.RequestFilter{Status: f.Status}
	if f.Overdue {
		now := s.clock()
		sf.OverdueAt = &now
	}
	rs, err := s.st.R().Requests(ctx, sf)
	return rs, mapStoreErr(err)
}

// CloseRequest ends an open request as done or rejected, recording who
// handled it. Admins only; audited.
func (s *Service) CloseRequest(ctx context.Context, actor *store.User, id int64, status, note string) (*store.LGPDRequest, error) {
	if err := requireLGPDAdmin(actor); err != nil {
		return nil, err
	}
	if status != store.RequestDone && status != store.RequestRejected {
		return nil, invalidf("a request closes as done or rejected, not %q", status)
	}
	var r *store.LGPDRequest
	err := s.TxWith(ctx, func(tx *Tx) error {
		q := tx.q
		var err error
		if r, err = q.Request(ctx, id); err != nil {
			return err
		}
		if r.Status != store.RequestOpen {
			return invalidf("request %d is already %s", id, r.Status)
		}
		at := s.clock()
		r.Status, r.Resolution, r.ClosedAt = status, strings.TrimSpace(note), &at
		if actor.ID > 0 {
			hid := actor.ID
			r.HandledBy = &hid
		}
		if err := q.CloseRequest(ctx, r); err != nil {
			return err
		}
		return q.Audit(ctx, actor, derefID(r.CompanyID), "lgpd_request", r.ID, "close",
			map[string]any{"status": store.RequestOpen}, map[string]any{"status": r.Status, "late": at.After(r.DueAt)})
	})
	return r, err
}

func derefID(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
