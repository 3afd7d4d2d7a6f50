package ticketing

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/jcservicedesk/servicedesk/store"
)

// load fetches a ticket the actor may act on, locked for update, and
// checks the policy for act.
func (tx *Tx) load(ctx context.Context, actor *store.User, number int64, act Action) (*store.Ticket, error) {
	t, err := tx.find(ctx, actor, number)
	if err != nil {
		return nil, err
	}
	return t, tx.check(ctx, actor, t, act)
}

// find loads ticket number within actor's scope, for a caller whose next
// step checks the policy itself (one check per change, not two).
func (tx *Tx) find(ctx context.Context, actor *store.User, number int64) (*store.Ticket, error) {
	if actor == nil {
		return nil, notAllowedf("no actor")
	}
	return ticketInReach(ctx, tx.q, actor, number, true)
}

func (tx *Tx) check(ctx context.Context, actor *store.User, t *store.Ticket, act Action) error {
	p, err := participationOf(ctx, tx.q, actor, t)
	if err != nil {
		return err
	}
	return can(actor, t, p, act)
}

// CommentInput is a new comment.
type CommentInput struct {
	Body      string
	BodyHTML  string // sanitized by the caller
	Internal  bool
	Source    string
	MessageID string
	MailID    *int64
	Automated bool // from automated mail: tell nobody
	// Seen is the conversation version (View.Version) the reply was
	// written against: a public comment is refused with a *CollisionError
	// when a newer public message exists. nil (mail, CLI) or SendAnyway
	// skips the check.
	Seen       *int64
	SendAnyway bool
	// Files are attached to the comment; they are as internal as it is.
	Files []FileInput
	// Recipients narrows who a public staff reply is mailed to; nil mails
	// everyone who follows.
	Recipients *ReplyRecipients
}

// Comment adds a comment to ticket number.
func (s *Service) Comment(ctx context.Context, actor *store.User, number int64, in CommentInput) (*store.Comment, error) {
	var c *store.Comment
	err := s.TxWith(ctx, func(tx *Tx) error {
		t, err := tx.find(ctx, actor, number)
		if err != nil {
			return err
		}
		c, err = tx.Comment(ctx, actor, t, in) // checks the policy
		return err
	})
	return c, err
}

func commentAction(in CommentInput) Action {
	if in.Internal {
		return ActCommentInternal
	}
	return ActComment
}

// Comment adds a comment to t (already loaded in tx) after checking the
// policy. A public comment moves the status the way people expect: the
// requester answering a pending ticket opens it again, the requester
// answering a resolved one reopens it, staff answering a new one opens it.
func (tx *Tx) Comment(ctx context.Context, actor *store.User, t *store.Ticket, in CommentInput) (*store.Comment, error) {
	if err := tx.check(ctx, actor, t, commentAction(in)); err != nil {
		return nil, err
	}
	body := strings.TrimSpace(in.Body)
	if body == "" && strings.TrimSpace(in.BodyHTML) == "" {
		return nil, invalidf("comment is empty")
	}
	if t.Status == store.StatusClosed && !in.Internal {
		return nil, invalidf("ticket #%d is closed; reopen it before commenting", t.Number)
	}
	if err := tx.checkCollision(ctx, t, in); err != nil {
		return nil, err
	}
	rcpt, err := tx.resolveRecipients(ctx, actor, t, in)
	if err != nil {
		return nil, err
	}
	source := in.Source
	if source == "" {
		source = store.SourceWeb
	}
	c := &store.Comment{
		TicketID: t.ID, BodyText: body, BodyHTML: in.BodyHTML, Internal: in.Internal,
		Source: source, MessageID: in.MessageID, MailID: in.MailID, CreatedAt: tx.s.clock(),
	}
	if actor.ID > 0 {
		id := actor.ID
		c.AuthorID = &id
	}
	c.Author = actor
	if err := tx.q.CreateComment(ctx, c); err != nil {
		return nil, err
	}
	if err := tx.addFiles(ctx, actor, t, &c.ID, in.Files); err != nil {
		return nil, err
	}
	if actor.ID > 0 { // the draft it came from is sent
		if err := tx.q.DeleteDraft(ctx, actor.ID, t.ID); err != nil {
			return nil, err
		}
	}
	before := t.Status
	if !in.Internal {
		isRequesterSide := !actor.IsStaff()
		switch {
		case isRequesterSide && t.Status == store.StatusPending:
			t.Status = store.StatusOpen
		case isRequesterSide && t.Status == store.StatusResolved && actor.ID == t.RequesterID:
			reopen(t)
		case actor.IsStaff() && t.Status == store.StatusNew:
			t.Status = store.StatusOpen
		}
		if actor.IsStaff() && actor.ID != t.RequesterID && t.FirstResponseAt == nil {
			at := c.CreatedAt
			t.FirstResponseAt = &at
		}
	}
	if err := tx.slaAfterStatus(ctx, t, before); err != nil {
		return nil, err
	}
	if err := tx.q.UpdateTicket(ctx, t); err != nil {
		return nil, err
	}
	// Staff who answer a ticket they are not assigned follow it, so they
	// hear the requester's reply.
	if actor.IsStaff() && actor.ID > 0 && !t.AssignedTo(actor) {
		if _, err := tx.q.AddParticipantVia(ctx, t.ID, actor.ID, store.ParticipantReplied); err != nil {
			return nil, err
		}
	}
	audit := map[string]any{"comment_id": c.ID, "internal": c.Internal, "source": c.Source}
	if rcpt != nil {
		audit["to"], audit["cc"] = rcpt.To, rcpt.Cc
	}
	if err := tx.q.Audit(ctx, actor, t.CompanyID, "ticket", t.ID, "comment", nil, audit); err != nil {
		return nil, err
	}
	tx.emit(Event{Kind: EventCommented, Ticket: t, Actor: actor, Comment: c, Automated: in.Automated, Recipients: rcpt})
	if before != t.Status {
		if err := tx.q.Audit(ctx, actor, t.CompanyID, "ticket", t.ID, "status", map[string]any{"status": before}, map[string]any{"status": t.Status}); err != nil {
			return nil, err
		}
		kind := EventStatusChanged
		if t.Status == store.StatusReopened {
			kind = EventReopened
		}
		// Comment set: the change came with this comment, whose own
		// notice already tells people.
		tx.emit(Event{Kind: kind, Ticket: t, Actor: actor, Comment: c, FromStatus: before, ToStatus: t.Status, Automated: in.Automated})
	}
	return c, nil
}

// reopen starts a new cycle: the last solution and close evaluation stay
// in the audit log, not on the ticket.
func reopen(t *store.Ticket) {
	t.Status = store.StatusReopened
	t.ResolvedAt, t.ClosedAt = nil, nil
	t.Solution, t.CloseReason, t.TechEvaluation, t.Classification = "", "", "", ""
	t.ReopenCount++
}

// Assign gives ticket number to assignee. A tech may take an unassigned
// ticket; moving it to someone else is a transfer, which only the
// assignee, a supervisor or an admin may do.
func (s *Service) Assign(ctx context.Context, actor *store.User, number int64, assignee *store.User) (*store.Ticket, error) {
	var t *store.Ticket
	err := s.TxWith(ctx, func(tx *Tx) error {
		var err error
		t, err = tx.Assign(ctx, actor, number, assignee)
		return err
	})
	return t, err
}

// Assign is Service.Assign inside tx.
func (tx *Tx) Assign(ctx context.Context, actor *store.User, number int64, assignee *store.User) (*store.Ticket, error) {
	if assignee == nil || !assignee.IsStaff() || assignee.Disabled {
		return nil, invalidf("tickets can only be assigned to active staff (tech, supervisor or admin)")
	}
	t, err := tx.q.TicketByNumber(ctx, actor.Scope(), number, true)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	act := ActTransfer
	if t.AssigneeID == nil && assignee.ID == actor.ID {
		act = ActTake
	}
	if err := tx.check(ctx, actor, t, act); err != nil {
		return nil, err
	}
	if t.AssignedTo(assignee) {
		return nil, invalidf("ticket #%d is already assigned to %s", t.Number, assignee.Email)
	}
	before := map[string]any{"assignee_id": t.AssigneeID, "status": t.Status}
	id := assignee.ID
	t.AssigneeID = &id
	t.Assignee = assignee
	fromStatus := t.Status
	if t.Status == store.StatusNew {
		t.Status = store.StatusOpen
	}
	if err := tx.q.UpdateTicket(ctx, t); err != nil {
		return nil, err
	}
	after := map[string]any{"assignee_id": t.AssigneeID, "status": t.Status}
	if err := tx.q.Audit(ctx, actor, t.CompanyID, "ticket", t.ID, string(act), before, after); err != nil {
		return nil, err
	}
	tx.emit(Event{Kind: EventAssigned, Ticket: t, Actor: actor, Assignee: assignee, FromStatus: fromStatus, ToStatus: t.Status})
	return t, nil
}

// StatusInput carries what some status changes need: resolving takes a
// solution; closing takes a reason, the technician's evaluation and a
// classification (see Classifications). The evaluation and classification
// are internal: never shown or mailed to the requester.
type StatusInput struct {
	Solution       string
	Reason         string
	Evaluation     string
	Classification string
}

const maxCloseReason = 255

// check says what a change to status to lacks.
func (in *StatusInput) check(to string) error {
	in.Solution, in.Reason = strings.TrimSpace(in.Solution), strings.TrimSpace(in.Reason)
	in.Evaluation, in.Classification = strings.TrimSpace(in.Evaluation), strings.TrimSpace(in.Classification)
	switch to {
	case store.StatusResolved:
		if in.Solution == "" {
			return invalidf("resolving needs the solution")
		}
	case store.StatusClosed:
		var missing []string
		if in.Reason == "" {
			missing = append(missing, "a reason")
		}
		if in.Evaluation == "" {
			missing = append(missing, "the technician's evaluation")
		}
		if in.Classification == "" {
			missing = append(missing, "a classification ("+strings.Join(Classifications, ", ")+")")
		}
		if len(missing) > 0 {
			return invalidf("closing needs %s", strings.Join(missing, ", "))
		}
		if !ValidClassification(in.Classification) {
			return invalidf("unknown classification %q (want %s)", in.Classification, strings.Join(Classifications, ", "))
		}
		if utf8.RuneCountInString(in.Reason) > maxCloseReason {
			return invalidf("the close reason is longer than %d characters", maxCloseReason)
		}
	}
	return nil
}

// SetStatus moves ticket number to status to. Resolving, closing and
// reopening have their own permissions; see Allowed.
func (s *Service) SetStatus(ctx context.Context, actor *store.User, number int64, to string, in StatusInput) (*store.Ticket, error) {
	var t *store.Ticket
	err := s.TxWith(ctx, func(tx *Tx) error {
		var err error
		t, err = tx.load(ctx, actor, number, ActView)
		if err != nil {
			return err
		}
		return tx.SetStatus(ctx, actor, t, to, in)
	})
	return t, err
}

// SetStatus is Service.SetStatus on a ticket loaded in tx.
func (tx *Tx) SetStatus(ctx context.Context, actor *store.User, t *store.Ticket, to string, in StatusInput) error {
	act := ActChangeStatus
	switch to {
	case store.StatusResolved:
		act = ActResolve
	case store.StatusClosed:
		act = ActClose
	case store.StatusReopened:
		act = ActReopen
	}
	if err := tx.check(ctx, actor, t, act); err != nil {
		return err
	}
	if err := CheckTransition(t.Status, to); err != nil {
		return err
	}
	if err := in.check(to); err != nil {
		return err
	}
	from := t.Status
	now := tx.s.clock()
	switch to {
	case store.StatusResolved:
		t.Status, t.ResolvedAt, t.Solution = to, &now, in.Solution
	case store.StatusClosed:
		t.Status, t.ClosedAt = to, &now
		t.CloseReason, t.TechEvaluation, t.Classification = in.Reason, in.Evaluation, in.Classification
	case store.StatusReopened:
		reopen(t)
	default:
		t.Status = to
	}
	if err := tx.slaAfterStatus(ctx, t, from); err != nil {
		return err
	}
	if err := tx.q.UpdateTicket(ctx, t); err != nil {
		return err
	}
	after := map[string]any{"status": t.Status}
	switch to {
	case store.StatusResolved:
		after["solution"] = t.Solution
	case store.StatusClosed:
		after["reason"] = t.CloseReason
	}
	if err := tx.q.Audit(ctx, actor, t.CompanyID, "ticket", t.ID, "status", map[string]any{"status": from}, after); err != nil {
		return err
	}
	// The evaluation has a row of its own, so the status history a
	// requester may see never carries it.
	if to == store.StatusClosed {
		if err := tx.q.Audit(ctx, actor, t.CompanyID, "ticket", t.ID, "evaluation", nil,
			map[string]any{"tech_evaluation": t.TechEvaluation, "classification": t.Classification}); err != nil {
			return err
		}
	}
	kind := EventStatusChanged
	switch to {
	case store.StatusResolved:
		kind = EventResolved
	case store.StatusClosed:
		kind = EventClosed
	case store.StatusReopened:
		kind = EventReopened
	}
	tx.emit(Event{Kind: kind, Ticket: t, Actor: actor, FromStatus: from, ToStatus: t.Status})
	return nil
}

// Rate records the requester's rating (1–5) of a resolved or closed ticket.
func (s *Service) Rate(ctx context.Context, actor *store.User, number int64, rating int, comment string) (*store.Ticket, error) {
	var t *store.Ticket
	err := s.TxWith(ctx, func(tx *Tx) error {
		var err error
		if t, err = tx.load(ctx, actor, number, ActRate); err != nil {
			return err
		}
		if rating < 1 || rating > 5 {
			return invalidf("rating must be 1 to 5, not %d", rating)
		}
		if t.Status != store.StatusResolved && t.Status != store.StatusClosed {
			return invalidf("ticket #%d is %s; only resolved or closed tickets can be rated", t.Number, t.Status)
		}
		if RatedThisCycle(t) {
			return conflictf("ticket #%d is already rated", t.Number)
		}
		before := map[string]any{"rating": t.Rating}
		now := tx.s.clock()
		t.Rating, t.RatingComment, t.RatedAt = &rating, strings.TrimSpace(comment), &now
		if err := tx.q.UpdateTicket(ctx, t); err != nil {
			return err
		}
		if err := tx.q.Audit(ctx, actor, t.CompanyID, "ticket", t.ID, "rate", before, map[string]any{"rating": rating, "comment": t.RatingComment}); err != nil {
			return err
		}
		tx.emit(Event{Kind: EventRated, Ticket: t, Actor: actor})
		return nil
	})
	return t, err
}

// AddParticipant brings u into ticket number so they see it and are told
// about it. A client participant must belong to the ticket's company.
// The page shows them as invited (store.ParticipantInvited).
func (s *Service) AddParticipant(ctx context.Context, actor *store.User, number int64, u *store.User) error {
	return s.TxWith(ctx, func(tx *Tx) error {
		t, err := tx.load(ctx, actor, number, ActManageParticipant)
		if err != nil {
			return err
		}
		return tx.addParticipant(ctx, actor, t, u, store.ParticipantInvited)
	})
}

// AddParticipant brings u, named in the To/Cc of a mail on t, into t
// (store.ParticipantMail): mail intake adds Cc'd colleagues, a reply
// its typed Cc. The policy check is the caller's.
func (tx *Tx) AddParticipant(ctx context.Context, actor *store.User, t *store.Ticket, u *store.User) error {
	return tx.addParticipant(ctx, actor, t, u, store.ParticipantMail)
}

func (tx *Tx) addParticipant(ctx context.Context, actor *store.User, t *store.Ticket, u *store.User, via string) error {
	if !u.IsStaff() && u.CompanyIDValue() != t.CompanyID {
		return notAllowedf("%s is not of the ticket's company", u.Email)
	}
	if u.ID == t.RequesterID {
		return nil
	}
	added, err := tx.q.AddParticipantVia(ctx, t.ID, u.ID, via)
	if err != nil || !added {
		return err
	}
	if err := tx.q.Audit(ctx, actor, t.CompanyID, "ticket", t.ID, "add_participant", nil,
		map[string]any{"user_id": u.ID, "email": u.Email, "joined": via}); err != nil {
		return err
	}
	tx.emit(Event{Kind: EventParticipantAdded, Ticket: t, Actor: actor, User: u})
	return nil
}

// RemoveParticipant takes u out of ticket number.
func (s *Service) RemoveParticipant(ctx context.Context, actor *store.User, number int64, u *store.User) error {
	return s.TxWith(ctx, func(tx *Tx) error {
		t, err := tx.load(ctx, actor, number, ActManageParticipant)
		if err != nil {
			return err
		}
		removed, err := tx.q.RemoveParticipant(ctx, t.ID, u.ID)
		if err != nil {
			return err
		}
		if !removed {
			return invalidf("%s does not follow ticket #%d", u.Email, t.Number)
		}
		return tx.q.Audit(ctx, actor, t.CompanyID, "ticket", t.ID, "remove_participant", map[string]any{"user_id": u.ID, "email": u.Email}, nil)
	})
}

// View is a ticket as one actor may see it.
type View struct {
	Ticket       *store.Ticket
	Comments     []*store.Comment
	Participants []*store.User
	Attachments  []*store.Attachment
	Links        []*store.TicketLink
	// Version is the conversation version a reply form carries
	// (CommentInput.Seen): the id of the newest public comment.
	Version int64
	// MailAuth is what sender authentication found for the mail behind
	// the opening message (key 0) and each mail-originated comment (its
	// id); mail from before the check has no entry.
	MailAuth map[int64]store.MailAuth
	// ParticipantVia is how each participant (by user id) came in:
	// store.ParticipantCc, ParticipantMail, ParticipantInvited,
	// ParticipantReplied, or "" for rows from before it was recorded.
	ParticipantVia map[int64]string
}

// Get returns ticket number with what actor may see of it: a client never
// gets internal comments.
func (s *Service) Get(ctx context.Context, actor *store.User, number int64) (*View, error) {
	q := s.st.R()
	t, participant, err := viewable(ctx, q, actor, number)
	if err != nil {
		return nil, err
	}
	internal := can(actor, t, participant, ActViewInternal) == nil
	if !internal {
		redactInternal(t)
	}
	v := &View{Ticket: t}
	if v.Comments, err = q.Comments(ctx, t.ID, internal); err != nil {
		return nil, err
	}
	if v.Participants, err = q.Participants(ctx, t.ID); err != nil {
		return nil, err
	}
	if v.ParticipantVia, err = q.ParticipantVias(ctx, t.ID); err != nil {
		return nil, err
	}
	if v.Attachments, err = q.Attachments(ctx, t.ID, internal); err != nil {
		return nil, err
	}
	if v.Links, err = q.TicketLinks(ctx, t.ID); err != nil {
		return nil, err
	}
	if v.Version, err = q.LastPublicCommentID(ctx, t.ID); err != nil {
		return nil, err
	}
	if v.MailAuth, err = q.MailAuthOfTicket(ctx, t.ID); err != nil {
		return nil, err
	}
	return v, nil
}

// List returns the tickets actor may see that match f.
func (s *Service) List(ctx context.Context, actor *store.User, f store.TicketFilter) ([]*store.Ticket, error) {
	if actor == nil || actor.Disabled {
		return nil, notAllowedf("disabled users cannot list tickets")
	}
	if !actor.IsStaff() && actor.CompanyID == nil {
		// A contact (someone outside every customer who answered a mail
		// thread) has no company's tickets to list; the ones they were
		// brought into open by number.
		return []*store.Ticket{}, nil
	}
	if !actor.IsStaff() && actor.CompanyID != nil {
		c, err := s.st.R().Company(ctx, *actor.CompanyID)
		if err != nil {
			return nil, mapStoreErr(err)
		}
		if !c.ShareTickets {
			f.InvolvingUserID = actor.ID
		}
	}
	ts, err := s.st.R().Tickets(ctx, actor.Scope(), f)
	if !actor.IsStaff() {
		for _, t := range ts {
			redactInternal(t)
		}
	}
	return ts, mapStoreErr(err)
}

// viewable loads ticket number with how actor follows it, when actor may
// view it: the one check behind the ticket page, chat and presence.
func viewable(ctx context.Context, q *store.Q, actor *store.User, number int64) (*store.Ticket, participation, error) {
	t, err := ticketInReach(ctx, q, actor, number, false)
	if err != nil {
		return nil, participation{}, err
	}
	participant, err := participationOf(ctx, q, actor, t)
	if err != nil {
		return nil, participation{}, err
	}
	if err := can(actor, t, participant, ActView); err != nil {
		return nil, participation{}, err
	}
	return t, participant, nil
}
