package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// ticketPage is the data of the ticket page (templates/ticket_show.html),
// shared by requesters and staff. It is the contract with the staff
// partials in templates/partials/ticket_staff.html: "ticket_staff_panel"
// and "ticket_staff_reply" are called with the page's whole view, so they
// read .D.<Field> (and .R for the request).
type ticketPage struct {
	View   *ticketing.View // what the viewer may see: comments, attachments, links, Version
	Ticket *store.Ticket   // View.Ticket
	Staff  bool            // the viewer is a technician, supervisor or admin
	Items  []*convItem     // the conversation in time order, the opening message first

	CanComment bool // the public comment form is shown (not on a closed ticket)
	CanReopen  bool // resolved or closed, and the viewer may reopen
	FollowUp   bool // reopening now opens a linked follow-up (closed longer than mail.reopen_days ago)
	CanRate    bool // the requester may rate it now (closed or resolved, not rated this cycle)
	Open       bool // still being worked on: the waiting-room link
	Stars      []ratingStar
	Links      []ticketRef // linked tickets the viewer may open
	MaxMB      int64       // the attachment size limit, in MB (form hint)
	// Participants are who else follows, with how they came in, on a
	// requester's (or colleague's) page; staff see them in their panel.
	Participants []participantRef
	// RatingLabel names the rating given ("Bom"), "" when none.
	RatingLabel string

	// History is the status history from the audit log, as the viewer may
	// see it (no close reason or merge target for requesters).
	History []ticketing.StatusChange

	Error string // i18n key of a form error shown above the comment form
	Body  string // the comment text given back after an error

	// StaffData is whatever the staff partials need beyond this (filled
	// by tkstaff through s.ticketStaffData when it exists; nil otherwise).
	StaffData any
}

// convItem is one message of the conversation. Auth is what sender
// authentication said of the mail it came from (zero when none).
type convItem struct {
	ID       int64 // comment id, 0 for the opening message
	Author   *store.User
	At       time.Time
	Text     string // plain text, shown escaped
	Quoted   string // the quoted tail of Text ("> …", "Em … escreveu:"), behind a toggle
	SrcDoc   string // mail HTML (sanitized at intake) as a whole sandboxed document, "" if none
	FullDoc  string // the same with the quoted parts, "" when there were none
	Auth     store.MailAuth
	Internal bool
	Mail     bool // came by mail
	Files    []fileRef
	Comment  *store.Comment // nil for the opening message
	// Eml downloads the original mail (staff only), "" when none.
	Eml string
}

// fileRef is an attachment as the page links it.
type fileRef struct {
	URL   string // download
	View  string // inline preview, "" unless a safe image
	Name  string
	Size  string
	Type  string
	Image bool
}

// ticketRef is a linked ticket.
type ticketRef struct {
	Kind    string // related, follow_up, merged
	Number  int64
	Subject string
}

// ratingStar is one choice of the rating form.
type ratingStar struct {
	N     int
	Label string
	On    bool
}

func stars(lang string, chosen int) []ratingStar {
	out := make([]ratingStar, 0, 5)
	for n := 1; n <= 5; n++ {
		out = append(out, ratingStar{N: n, Label: ticketing.RatingLabel(n, lang), On: n == chosen})
	}
	return out
}

// ticketNumber reads {number} of the path; anything but a positive
// number is a 404 (as a ticket that does not exist).
func ticketNumber(r *http.Request) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(r.PathValue("number"), "#"), 10, 64)
	if err != nil || n <= 0 {
		return 0, httpError(http.StatusNotFound, "error.not_found")
	}
	return n, nil
}

// ticketAndID reads the ticket number and the {id} of a thing on it (an
// attachment, a mail); a bad value of either is a 404.
func ticketAndID(r *http.Request) (n, id int64, err error) {
	if n, err = ticketNumber(r); err != nil {
		return 0, 0, err
	}
	id, err = strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, 0, httpError(http.StatusNotFound, "error.not_found")
	}
	return n, id, nil
}

func (s *Server) ticketShow(w http.ResponseWriter, r *http.Request) error {
	n, err := ticketNumber(r)
	if err != nil {
		return err
	}
	p, err := s.ticketPageFor(r, n)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "ticket_show", p)
}

// ticketPageFor loads ticket n as the signed-in user may see it.
func (s *Server) ticketPageFor(r *http.Request, n int64) (*ticketPage, error) {
	rc := ctxOf(r)
	u := rc.User
	v, err := s.svc.Get(r.Context(), u, n)
	if err != nil {
		return nil, hideRefusal(err)
	}
	t := v.Ticket
	p := &ticketPage{View: v, Ticket: t, Staff: u.IsStaff(), Open: t.Open()}
	p.Items = conversation(v)
	if !p.Staff && u.CompanyIDValue() == t.CompanyID {
		// Not for a Cc participant from outside: they see the
		// conversation, not who else of the company follows it.
		p.Participants = participantRefs(v, false)
	}
	if u.IsStaff() {
		if err := s.linkMailSources(r, t.Number, p.Items); err != nil {
			return nil, err
		}
	}
	if p.History, err = s.svc.StatusHistory(r.Context(), u, n); err != nil {
		return nil, hideRefusal(err)
	}
	p.MaxMB = (s.maxBody() - 1<<20) >> 20
	if t.Rating != nil {
		p.RatingLabel = ticketing.RatingLabel(*t.Rating, rc.Lang)
	}
	if p.Links, err = s.ticketLinks(r, v); err != nil {
		return nil, err
	}
	if p.StaffData, err = s.ticketStaffData(r, v); err != nil { // tkstaff: staff panel, reply form, reactions
		return nil, err
	}
	p.CanComment = t.Status != store.StatusClosed
	resolvedOrClosed := t.Status == store.StatusResolved || t.Status == store.StatusClosed
	rel := ticketing.RelationOf(u, t, false)
	// The "not solved?" card is the requester's, under the rule ticketing
	// applies to clients; staff reopen from their panel instead.
	p.CanReopen = resolvedOrClosed && rel.Requester && !p.Staff && ticketing.Allowed(u.Role, u.Disabled, ticketing.ActReopen, rel)
	if p.CanReopen && t.Status == store.StatusClosed && t.ClosedAt != nil {
		days := s.cfg.Mail.ReopenDays
		p.FollowUp = days <= 0 || time.Since(*t.ClosedAt) > time.Duration(days)*24*time.Hour
	}
	p.CanRate = resolvedOrClosed && !ticketing.RatedThisCycle(t) && ticketing.Allowed(u.Role, u.Disabled, ticketing.ActRate, rel)
	if p.CanRate {
		p.Stars = stars(rc.Lang, 0)
	}
	return p, nil
}

// conversation puts the opening message and the comments in time order,
// each with its files.
func conversation(v *ticketing.View) []*convItem {
	t := v.Ticket
	byComment := map[int64][]fileRef{}
	var opening []fileRef
	for _, a := range v.Attachments {
		if a.Inline && a.ContentID != "" {
			continue // shown inside the mail's HTML
		}
		f := newFileRef(t.Number, a)
		if a.CommentID == nil {
			opening = append(opening, f)
		} else {
			byComment[*a.CommentID] = append(byComment[*a.CommentID], f)
		}
	}
	items := make([]*convItem, 0, len(v.Comments)+1)
	first := &convItem{Author: t.Requester, At: t.CreatedAt, Mail: t.Source == store.SourceEmail, Files: opening}
	first.Text, first.Quoted = splitQuoted(t.Description)
	first.SrcDoc, first.FullDoc = mailDocs(t.DescriptionHTML)
	first.Auth = v.MailAuth[0]
	items = append(items, first)
	for _, c := range v.Comments {
		it := &convItem{ID: c.ID, Author: c.Author, At: c.CreatedAt, Internal: c.Internal,
			Mail: c.Source == store.SourceEmail, Files: byComment[c.ID], Comment: c}
		it.Text, it.Quoted = splitQuoted(c.BodyText)
		it.SrcDoc, it.FullDoc = mailDocs(c.BodyHTML)
		it.Auth = v.MailAuth[c.ID]
		items = append(items, it)
	}
	return items
}

// linkMailSources gives each mail-originated item of the conversation the
// link to its original .eml.
func (s *Server) linkMailSources(r *http.Request, number int64, items []*convItem) error {
	ms, err := s.svc.TicketMails(r.Context(), ctxOf(r).User, number)
	if err != nil {
		return hideRefusal(err)
	}
	byComment := map[int64]int64{} // comment id → mail id; 0 is the opening message
	for _, m := range ms {
		if m.CommentID != nil {
			byComment[*m.CommentID] = m.ID
		} else if _, ok := byComment[0]; !ok && m.Action == store.MailTicket {
			byComment[0] = m.ID
		}
	}
	for _, it := range items {
		id := byComment[it.ID]
		if it.Comment != nil && it.Comment.MailID != nil {
			id = *it.Comment.MailID
		}
		if id != 0 && it.Mail {
			it.Eml = "/tickets/" + strconv.FormatInt(number, 10) + "/messages/" + strconv.FormatInt(id, 10) + "/eml"
		}
	}
	return nil
}

func newFileRef(number int64, a *store.Attachment) fileRef {
	base := "/tickets/" + strconv.FormatInt(number, 10) + "/attachments/" + strconv.FormatInt(a.ID, 10)
	f := fileRef{URL: base, Name: a.Filename, Size: humanSize(a.Size), Type: a.ContentType}
	if safeImage(a.ContentType) {
		f.Image, f.View = true, base+"?inline=1"
	}
	return f
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	case n >= 1<<10:
		return strconv.FormatInt((n+512)>>10, 10) + " KB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

// ticketLinks resolves the ticket's links to the other tickets' numbers,
// keeping only those the viewer may open.
func (s *Server) ticketLinks(r *http.Request, v *ticketing.View) ([]ticketRef, error) {
	u := ctxOf(r).User
	var out []ticketRef
	for _, l := range v.Links {
		other := l.OtherID
		if other == v.Ticket.ID {
			other = l.TicketID
		}
		o, err := s.svc.Store().R().Ticket(r.Context(), u.Scope(), other, false)
		if err != nil {
			continue // gone, or of a company the viewer does not see
		}
		if !u.IsStaff() && !ticketing.Allowed(u.Role, u.Disabled, ticketing.ActView, ticketing.RelationOf(u, o, false)) {
			continue
		}
		out = append(out, ticketRef{Kind: l.Kind, Number: o.Number, Subject: o.Subject})
	}
	return out, nil
}

// hideRefusal answers "not yours" as "not found", so changing the number
// in the address tells nobody which tickets exist.
func hideRefusal(err error) error {
	if errors.Is(err, ticketing.ErrNotAllowed) {
		return httpError(http.StatusNotFound, "error.not_found")
	}
	return err
}
