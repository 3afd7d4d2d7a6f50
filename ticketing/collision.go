package ticketing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jcservicedesk/servicedesk/store"
)

// CollisionError refuses a public reply written against an older version
// of the conversation: someone else answered in between. It carries the
// messages the writer has not seen, to show above the untouched draft;
// resending with SendAnyway (or the new Version) goes through.
type CollisionError struct {
	Number  int64
	Version int64            // the conversation's version now
	Newer   []*store.Comment // public comments after the one the reply was written against
}

func (e *CollisionError) Error() string {
	return fmt.Sprintf("ticket #%d has %d new public message(s) since the reply was written; read them and send again",
		e.Number, len(e.Newer))
}

// Is makes errors.Is(err, ErrConflict) true (web: 409).
func (e *CollisionError) Is(target error) bool { return target == ErrConflict }

// checkCollision refuses a public comment written against an old version.
func (tx *Tx) checkCollision(ctx context.Context, t *store.Ticket, in CommentInput) error {
	if in.Internal || in.Seen == nil || in.SendAnyway {
		return nil
	}
	newer, err := tx.q.PublicCommentsAfter(ctx, t.ID, *in.Seen)
	if err != nil {
		return err
	}
	if len(newer) == 0 {
		return nil
	}
	return &CollisionError{Number: t.Number, Version: newer[len(newer)-1].ID, Newer: newer}
}

// maxDraft bounds a stored draft (a reply box, not an upload).
const maxDraft = 1 << 20

// DraftInput is a reply being written.
type DraftInput struct {
	Body     string
	Internal bool
}

// SaveDraft keeps actor's reply draft on ticket number, so a reload or
// another device finds it. Drafts are the writer's own scratch: they are
// not audited, and an empty body deletes the draft.
func (s *Service) SaveDraft(ctx context.Context, actor *store.User, number int64, in DraftInput) (*store.Draft, error) {
	var d *store.Draft
	err := s.TxWith(ctx, func(tx *Tx) error {
		t, err := tx.draftTicket(ctx, actor, number, in.Internal)
		if err != nil {
			return err
		}
		if strings.TrimSpace(in.Body) == "" {
			return tx.q.DeleteDraft(ctx, actor.ID, t.ID)
		}
		if len(in.Body) > maxDraft || !utf8.ValidString(in.Body) {
			return invalidf("the draft is not valid text of at most %d bytes", maxDraft)
		}
		d = &store.Draft{UserID: actor.ID, TicketID: t.ID, Body: in.Body, Internal: in.Internal, UpdatedAt: tx.s.clock()}
		return tx.q.SaveDraft(ctx, d)
	})
	return d, err
}

// Draft returns actor's draft on ticket number, nil when there is none.
func (s *Service) Draft(ctx context.Context, actor *store.User, number int64) (*store.Draft, error) {
	var d *store.Draft
	err := s.TxWith(ctx, func(tx *Tx) error {
		t, err := tx.draftTicket(ctx, actor, number, false)
		if err != nil {
			return err
		}
		d, err = tx.q.Draft(ctx, actor.ID, t.ID)
		if isNotFound(err) {
			d, err = nil, nil
		}
		return err
	})
	return d, err
}

// DeleteDraft drops actor's draft on ticket number (none is not an error).
func (s *Service) DeleteDraft(ctx context.Context, actor *store.User, number int64) error {
	return s.TxWith(ctx, func(tx *Tx) error {
		t, err := tx.draftTicket(ctx, actor, number, false)
		if err != nil {
			return err
		}
		return tx.q.DeleteDraft(ctx, actor.ID, t.ID)
	})
}

// draftTicket loads a ticket actor may write on (view is enough to keep
// or read an existing draft; an internal draft needs internal notes).
func (tx *Tx) draftTicket(ctx context.Context, actor *store.User, number int64, internal bool) (*store.Ticket, error) {
	if actor == nil || actor.ID <= 0 {
		return nil, notAllowedf("drafts belong to a signed-in user")
	}
	act := ActView
	if internal {
		act = ActCommentInternal
	}
	return tx.load(ctx, actor, number, act)
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
