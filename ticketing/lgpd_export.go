package ticketing

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
)

// Export is everything held about one person (LGPD art. 18, II), as they
// may see it: their profile, consents, requests, the tickets they opened
// or took part in with the public conversation only, what they wrote,
// their notifications, the audit entries about them and the mails they
// sent. Other people appear only by display name on public comments.
// The files themselves are fetched one at a time by Files.
type Export struct {
	GeneratedAt   time.Time                   `json:"generated_at"`
	Profile       ExportProfile               `json:"profile"`
	Consents      []ExportConsent             `json:"consents"`
	Requests      []*store.LGPDRequest        `json:"requests"`
	Tickets       []ExportTicket              `json:"tickets"`
	Comments      []ExportComment             `json:"comments"`
	Chat          []*store.ChatMessage        `json:"chat"`
	Notifications []*store.PersonNotification `json:"notifications"`
	Audit         []ExportAudit               `json:"audit"`
	Mails         []ExportMail                `json:"mails"`
	// Threads are the tickets whose mail thread has their address (who
	// may answer it by mail), with the message it was first seen on.
	Threads   []*store.ThreadAddress  `json:"threads"`
	Drafts    []ExportDraft           `json:"drafts"`
	Reactions []*store.PersonReaction `json:"reactions"`
	Canned    []ExportCanned          `json:"canned_responses"`

	st          *store.Store
	attachments []*store.Attachment
}

// ExportProfile is the person's account.
type ExportProfile struct {
	ID            int64      `json:"id"`
	Email         string     `json:"email"`
	Name          string     `json:"name"`
	Role          string     `json:"role"`
	Company       string     `json:"company,omitempty"`
	Language      string     `json:"language"`
	Disabled      bool       `json:"disabled"`
	TOTPEnabled   bool       `json:"totp_enabled"`
	ConfirmedAt   *time.Time `json:"confirmed_at"`
	LastLoginAt   *time.Time `json:"last_login_at"`
	LGPDConsentAt *time.Time `json:"lgpd_consent_at"`
	CreatedAt     time.Time  `json:"created_at"`
}

// ExportConsent is one acceptance and what was accepted.
type ExportConsent struct {
	RevisionID  int64     `json:"revision_id"`
	Version     string    `json:"version"`
	Global      bool      `json:"global"`
	Title       string    `json:"title"`
	IP          string    `json:"ip"`
	Channel     string    `json:"channel"`
	ConsentedAt time.Time `json:"consented_at"`
}

// ExportTicket is a ticket the person opened or took part in.
type ExportTicket struct {
	Number        int64              `json:"number"`
	Role          string             `json:"role"` // requester or participant
	Subject       string             `json:"subject"`
	Description   string             `json:"description"`
	Status        string             `json:"status"`
	Priority      string             `json:"priority"`
	Source        string             `json:"source"`
	CreatedAt     time.Time          `json:"created_at"`
	ResolvedAt    *time.Time         `json:"resolved_at"`
	ClosedAt      *time.Time         `json:"closed_at"`
	Rating        *int               `json:"rating,omitempty"`
	RatingComment string             `json:"rating_comment,omitempty"`
	Conversation  []ExportComment    `json:"conversation"`
	Attachments   []ExportAttachment `json:"attachments"`
}

// ExportComment is a public comment; Author is a display name only.
type ExportComment struct {
	ID           int64     `json:"id"`
	TicketNumber int64     `json:"ticket_number,omitempty"`
	Author       string    `json:"author"`
	Mine         bool      `json:"mine"`
	Body         string    `json:"body"`
	Source       string    `json:"source"`
	CreatedAt    time.Time `json:"created_at"`
}

// ExportAttachment lists a file; File names it inside the zip.
type ExportAttachment struct {
	ID          int64     `json:"id"`
	CommentID   *int64    `json:"comment_id"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	File        string    `json:"file"`
	CreatedAt   time.Time `json:"created_at"`
}

// ExportAudit is an audit entry about the person or made by them. The
// before/after values are kept only for changes to their own account.
type ExportAudit struct {
	ID        int64     `json:"id"`
	Entity    string    `json:"entity"`
	EntityID  int64     `json:"entity_id"`
	Action    string    `json:"action"`
	ByMe      bool      `json:"by_me"`
	Before    string    `json:"before,omitempty"`
	After     string    `json:"after,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// ExportMail is a raw mail the person sent; File names it in the zip.
type ExportMail struct {
	ID         int64     `json:"id"`
	MessageID  string    `json:"message_id"`
	Subject    string    `json:"subject"`
	Size       int64     `json:"size"`
	TicketID   *int64    `json:"ticket_id"`
	File       string    `json:"file"`
	ReceivedAt time.Time `json:"received_at"`
}

// ExportDraft is a reply the person saved and has not sent. Drafts of
// internal notes are left out, as internal comments are.
type ExportDraft struct {
	TicketNumber int64     `json:"ticket_number"`
	Body         string    `json:"body"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// ExportCanned is a canned response the person owns.
type ExportCanned struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Export gathers a person's data. Admins may export anyone; anyone else
// only themselves.
func (s *Service) Export(ctx context.Context, actor *store.User, userID int64) (*Export, error) {
	if actor == nil || actor.Disabled || (actor.Role != store.RoleAdmin && actor.ID != userID) {
		return nil, notAllowedf("only an admin or the person themselves may export a person's data")
	}
	q := s.st.R()
	u, err := q.User(ctx, store.AllCompanies(), userID)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	x := &Export{GeneratedAt: s.clock(), st: s.st}
	x.Profile = ExportProfile{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Language: u.Language, Disabled: u.Disabled,
		TOTPEnabled: u.TOTPEnabled, ConfirmedAt: u.ConfirmedAt, LastLoginAt: u.LastLoginAt, LGPDConsentAt: u.LGPDConsentAt, CreatedAt: u.CreatedAt}
	if u.CompanyID != nil {
		c, err := q.Company(ctx, *u.CompanyID)
		if err != nil {
			return nil, mapStoreErr(err)
		}
		x.Profile.Company = c.Name
	}
	if err := x.gather(ctx, q, u); err != nil {
		return nil, mapStoreErr(err)
	}
	return x, nil
}

func (x *Export) gather(ctx context.Context, q *store.Q, u *store.User) error {
	consents, err := q.ConsentsOfUser(ctx, u.ID)
	if err != nil {
		return err
	}
	x.Consents = []ExportConsent{}
	for _, c := range consents {
		r, err := q.Revision(ctx, c.RevisionID)
		if err != nil {
			return err
		}
		x.Consents = append(x.Consents, ExportConsent{RevisionID: r.ID, Version: r.Version, Global: r.CompanyID == nil, Title: r.Title,
			IP: c.IP, Channel: c.Channel, ConsentedAt: c.ConsentedAt})
	}
	if x.Requests, err = q.RequestsOf(ctx, u.ID); err != nil {
		return err
	}
	tickets, err := q.TicketsOfPerson(ctx, u.ID)
	if err != nil {
		return err
	}
	numbers := map[int64]int64{}
	x.Tickets = []ExportTicket{}
	for _, t := range tickets {
		numbers[t.ID] = t.Number
		et := ExportTicket{Number: t.Number, Role: "participant", Subject: t.Subject, Description: t.Description, Status: t.Status,
			Priority: t.Priority, Source: t.Source, CreatedAt: t.CreatedAt, ResolvedAt: t.ResolvedAt, ClosedAt: t.ClosedAt,
			Conversation: []ExportComment{}, Attachments: []ExportAttachment{}}
		if t.RequesterID == u.ID {
			et.Role, et.Rating, et.RatingComment = "requester", t.Rating, t.RatingComment
		}
		// Public comments only: internal notes are the staff's, not the
		// person's, even when they are about them.
		cs, err := q.Comments(ctx, t.ID, false)
		if err != nil {
			return err
		}
		for _, c := range cs {
			et.Conversation = append(et.Conversation, exportComment(c, u, 0))
		}
		as, err := q.Attachments(ctx, t.ID, false)
		if err != nil {
			return err
		}
		for _, a := range as {
			x.attachments = append(x.attachments, a)
			et.Attachments = append(et.Attachments, ExportAttachment{ID: a.ID, CommentID: a.CommentID, Filename: a.Filename,
				ContentType: a.ContentType, Size: a.Size, SHA256: a.SHA256, File: attachmentFile(t.Number, a), CreatedAt: a.CreatedAt})
		}
		x.Tickets = append(x.Tickets, et)
	}
	mine, err := q.CommentsByAuthor(ctx, u.ID)
	if err != nil {
		return err
	}
	x.Comments = []ExportComment{}
	for _, c := range mine {
		c.Author = u
		x.Comments = append(x.Comments, exportComment(c, u, numbers[c.TicketID]))
	}
	if x.Chat, err = q.ChatBySender(ctx, u.ID); err != nil {
		return err
	}
	if x.Notifications, err = q.NotificationsOf(ctx, u.ID); err != nil {
		return err
	}
	audit, err := q.AuditOfPerson(ctx, u.ID)
	if err != nil {
		return err
	}
	x.Audit = []ExportAudit{}
	for _, e := range audit {
		ea := ExportAudit{ID: e.ID, Entity: e.Entity, EntityID: e.EntityID, Action: e.Action,
			ByMe: e.ActorID != nil && *e.ActorID == u.ID, CreatedAt: e.CreatedAt}
		// What someone changed elsewhere may hold other people's data;
		// only changes to the person's own account are theirs to see.
		if e.Entity == "user" && e.EntityID == u.ID {
			ea.Before, ea.After = e.Before, e.After
		}
		x.Audit = append(x.Audit, ea)
	}
	mails, err := q.MailsFrom(ctx, u.Email)
	if err != nil {
		return err
	}
	x.Mails = []ExportMail{}
	for _, m := range mails {
		x.Mails = append(x.Mails, ExportMail{ID: m.ID, MessageID: m.MessageID, Subject: m.Subject, Size: m.RawSize, TicketID: m.TicketID,
			File: fmt.Sprintf("mails/%d.eml", m.ID), ReceivedAt: m.ReceivedAt})
	}
	if err := x.gatherWorkflow(ctx, q, u); err != nil {
		return err
	}
	if x.Threads, err = q.ThreadAddressesOf(ctx, u.Email); err != nil {
		return err
	}
	// Empty lists print as [] for scripts, never null.
	if x.Threads == nil {
		x.Threads = []*store.ThreadAddress{}
	}
	if x.Requests == nil {
		x.Requests = []*store.LGPDRequest{}
	}
	if x.Chat == nil {
		x.Chat = []*store.ChatMessage{}
	}
	if x.Notifications == nil {
		x.Notifications = []*store.PersonNotification{}
	}
	return nil
}

// gatherWorkflow adds the reply tools: drafts, reactions (on public
// comments) and own canned responses.
func (x *Export) gatherWorkflow(ctx context.Context, q *store.Q, u *store.User) error {
	drafts, err := q.DraftsOf(ctx, u.ID)
	if err != nil {
		return err
	}
	x.Drafts = []ExportDraft{}
	for _, d := range drafts {
		if d.Internal {
			continue
		}
		t, err := q.Ticket(ctx, store.AllCompanies(), d.TicketID, false)
		if err != nil {
			return err
		}
		x.Drafts = append(x.Drafts, ExportDraft{TicketNumber: t.Number, Body: d.Body, UpdatedAt: d.UpdatedAt})
	}
	if x.Reactions, err = q.ReactionsOf(ctx, u.ID, true); err != nil {
		return err
	}
	if x.Reactions == nil {
		x.Reactions = []*store.PersonReaction{}
	}
	canned, err := q.CannedOf(ctx, u.ID)
	if err != nil {
		return err
	}
	x.Canned = []ExportCanned{}
	for _, c := range canned {
		x.Canned = append(x.Canned, ExportCanned{ID: c.ID, Name: c.Name, Body: c.Body, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt})
	}
	return nil
}

// exportComment shows a comment with its author as a display name: the
// person's own, or another's name (never their address).
func exportComment(c *store.Comment, u *store.User, number int64) ExportComment {
	ec := ExportComment{ID: c.ID, TicketNumber: number, Body: c.BodyText, Source: c.Source, CreatedAt: c.CreatedAt}
	switch {
	case c.AuthorID != nil && *c.AuthorID == u.ID:
		ec.Mine, ec.Author = true, u.Name
	case c.Author != nil && strings.TrimSpace(c.Author.Name) != "" && !strings.Contains(c.Author.Name, "@"):
		ec.Author = c.Author.Name
	case c.Author != nil && c.Author.IsStaff():
		ec.Author = "Equipe de suporte"
	default:
		ec.Author = "Participante"
	}
	return ec
}

func attachmentFile(number int64, a *store.Attachment) string {
	name := path.Base(strings.ReplaceAll(a.Filename, "\\", "/"))
	if name == "." || name == "/" || name == "" {
		name = "file"
	}
	return fmt.Sprintf("attachments/%d/%d-%s", number, a.ID, name)
}

// Files hands each listed file to fn, one at a time (attachments, then
// raw mails), so a zip can be written without holding them all.
func (x *Export) Files(ctx context.Context, fn func(name string, data []byte) error) error {
	q := x.st.R()
	byID := map[int64]string{}
	for _, t := range x.Tickets {
		for _, a := range t.Attachments {
			byID[a.ID] = a.File
		}
	}
	for _, a := range x.attachments {
		_, data, err := q.Attachment(ctx, store.AllCompanies(), a.ID, false)
		if err != nil {
			return fmt.Errorf("export attachment %d: %w", a.ID, err)
		}
		if err := fn(byID[a.ID], data); err != nil {
			return err
		}
	}
	for _, m := range x.Mails {
		_, raw, err := q.MailRaw(ctx, m.ID)
		if err != nil {
			return fmt.Errorf("export mail %d: %w", m.ID, err)
		}
		if err := fn(m.File, raw); err != nil {
			return err
		}
	}
	return nil
}
