package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// staffData is what the staff partials of the ticket page read
// (templates/partials/ticket_staff.html: "ticket_staff_panel" and
// "ticket_staff_reply", through ticketPage.StaffData). The Can* flags only
// decide which forms are shown; every action checks the policy again.
type staffData struct {
	Number int64
	Staff  bool // the viewer is staff; for requesters only the reactions are filled
	Ticket *store.Ticket
	Dir    *ticketing.Directory

	CanTake, CanTransfer, CanEdit, CanStatus, CanResolve, CanClose, CanReopen, CanParticipants bool
	HasSLA, Paused, Closed                                                                     bool

	Participants []participantRef // everyone following (Cc), with how they came in
	Candidates   []*store.User    // staff who could be invited
	Transferees  []*store.User    // staff other than the assignee

	CategoryID      int64 // the subcategory when set, else the category (the select's choice)
	QueueID         int64
	AssetID         int64
	Assets          []*store.Asset  // of the ticket's company
	Recent          []*store.Ticket // the requester's other recent tickets the viewer may open
	Priorities      []string
	Statuses        []string // the plain status changes (no solution or evaluation needed)
	Classifications []string
	Emojis          []string

	Reply       *staffReply
	reactionSet // ReactionsFor(commentID) for the "comment_reactions" partial
}

// staffReply is the reply form: public reply or internal note.
type staffReply struct {
	Number   int64
	Seen     int64  // View.Version the reply is written against
	Body     string // the draft, a canned text, or the text sent back after a refusal
	Internal bool
	// Recipients are who a public reply goes to, each a checkbox (on by
	// default): the requester and the Cc participants outside staff.
	Recipients []replyRecipient
	Cc         string // extra addresses typed, given back after a refusal
	Canned     []*store.Canned
	// Newer are the public messages that arrived since Seen (409).
	Newer     []*store.Comment
	Drafted   bool // Body came from a saved draft
	FilesLost bool // the refused reply had files: they must be chosen again
}

// ticketStaffData builds staffData for the ticket page of v (tkreq's
// ticketPageFor sets ticketPage.StaffData to it). A requester gets only
// the reactions of the comments.
func (s *Server) ticketStaffData(r *http.Request, v *ticketing.View) (*staffData, error) {
	rc := ctxOf(r)
	ctx := r.Context()
	u, t := rc.User, v.Ticket
	if !u.IsStaff() {
		d := &staffData{Number: t.Number, Ticket: t}
		var err error
		d.reactionSet, err = s.reactionBars(r, t.Number)
		return d, err
	}
	d := &staffData{Number: t.Number, Staff: true, Ticket: t, Participants: participantRefs(v, true),
		Priorities: queuePriorities, Statuses: []string{store.StatusOpen, store.StatusPending},
		Classifications: ticketing.Classifications, Emojis: ticketing.Emojis,
		HasSLA: t.SLAPlanID != nil, Paused: t.SLAPausedAt != nil, Closed: t.Status == store.StatusClosed}
	if t.SubcategoryID != nil {
		d.CategoryID = *t.SubcategoryID
	} else if t.CategoryID != nil {
		d.CategoryID = *t.CategoryID
	}
	if t.QueueID != nil {
		d.QueueID = *t.QueueID
	}
	if t.AssetID != nil {
		d.AssetID = *t.AssetID
	}
	var err error
	if d.Dir, err = s.svc.StaffDirectory(ctx, u); err != nil {
		return nil, err
	}
	if d.Assets, err = s.svc.Assets(ctx, u, t.CompanyID); err != nil {
		return nil, err
	}
	if d.Recent, err = s.svc.RequesterRecent(ctx, u, t.Number, 5); err != nil {
		return nil, err
	}
	participant := false
	for _, p := range v.Participants {
		if p.ID == u.ID {
			participant = true
		}
	}
	rel := ticketing.RelationOf(u, t, participant)
	can := func(a ticketing.Action) bool { return ticketing.Allowed(u.Role, u.Disabled, a, rel) }
	d.CanTake = t.AssigneeID == nil && can(ticketing.ActTake)
	d.CanTransfer = can(ticketing.ActTransfer)
	d.CanEdit = can(ticketing.ActEdit)
	d.CanStatus = can(ticketing.ActChangeStatus) && t.Open()
	d.CanResolve = can(ticketing.ActResolve) && t.Status != store.StatusResolved && t.Status != store.StatusClosed
	d.CanClose = can(ticketing.ActClose) && t.Status != store.StatusClosed
	d.CanReopen = can(ticketing.ActReopen) && !t.Open()
	d.CanParticipants = can(ticketing.ActManageParticipant)
	following := map[int64]bool{}
	for _, p := range v.Participants {
		following[p.ID] = true
	}
	for _, m := range d.Dir.Staff {
		if !t.AssignedTo(m) {
			d.Transferees = append(d.Transferees, m)
			if !following[m.ID] {
				d.Candidates = append(d.Candidates, m)
			}
		}
	}
	if d.reactionSet, err = s.reactionBars(r, t.Number); err != nil {
		return nil, err
	}
	d.Reply, err = s.staffReplyFor(r, v, nil)
	return d, err
}

// staffReplyFor fills the reply form: the draft (or a canned text picked
// with ?canned=ID), the version, the recipients and the canned list.
func (s *Server) staffReplyFor(r *http.Request, v *ticketing.View, newer []*store.Comment) (*staffReply, error) {
	rc := ctxOf(r)
	ctx := r.Context()
	t := v.Ticket
	rp := &staffReply{Number: t.Number, Seen: v.Version, Newer: newer}
	var requester *store.User
	if t.Requester != nil && t.Requester.ID == t.RequesterID {
		requester = t.Requester
	}
	// Staff who follow get notices, not the choice.
	for _, u := range ticketing.ReplyCandidates(t, requester, v.Participants) {
		rp.Recipients = append(rp.Recipients, replyRecipient{Email: u.Email, Name: u.Name, On: true,
			Requester: u.ID == t.RequesterID})
	}
	var err error
	if rp.Canned, err = s.svc.Canned(ctx, rc.User, t.CompanyID); err != nil {
		return nil, err
	}
	if newer == nil { // a refused send keeps what was typed; the caller sets Body
		dr, err := s.svc.Draft(ctx, rc.User, t.Number)
		if err != nil {
			return nil, err
		}
		if dr != nil {
			rp.Body, rp.Internal, rp.Drafted = dr.Body, dr.Internal, true
		}
		if id, _ := strconv.ParseInt(r.URL.Query().Get("canned"), 10, 64); id > 0 {
			for _, c := range rp.Canned {
				if c.ID == id {
					text := ticketing.RenderCanned(c.Body, t, rc.User)
					if strings.TrimSpace(rp.Body) != "" {
						text = strings.TrimRight(rp.Body, "\n") + "\n\n" + text
					}
					rp.Body = text
				}
			}
		}
	}
	return rp, nil
}

// replyRecipient is one checkbox of the reply's recipients.
type replyRecipient struct {
	Email, Name   string
	On, Requester bool
}

// staffCommentTools is what the "staff_comment_tools" partial needs.
type staffCommentTools struct{ Number, CommentID int64 }

// CommentTools is the move/split tools of one comment of the page
// ({{template "staff_comment_tools" ($.D.StaffData.CommentTools .Comment.ID)}}).
func (d *staffData) CommentTools(commentID int64) staffCommentTools {
	return staffCommentTools{Number: d.Number, CommentID: commentID}
}
