package ticketing

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jcservicedesk/servicedesk/store"
)

// Emojis are the reactions offered on comments (a short list: a reaction
// is a nod, not a message).
var Emojis = []string{"👍", "👎", "❤️", "🎉", "😄", "😕", "👀", "🙏"}

// commentTicket loads comment id and its ticket, locked, if actor may see
// the comment: a client never learns of an internal one (ErrNotFound).
func (tx *Tx) commentTicket(ctx context.Context, actor *store.User, id int64) (*store.Comment, *store.Ticket, error) {
	if actor == nil {
		return nil, nil, notAllowedf("no actor")
	}
	c, err := tx.q.CommentByID(ctx, id)
	if err != nil {
		return nil, nil, mapStoreErr(err)
	}
	t, err := tx.q.Ticket(ctx, actor.Scope(), c.TicketID, true)
	if err != nil {
		return nil, nil, notFoundf("comment %d", id)
	}
	if err := tx.check(ctx, actor, t, ActView); err != nil {
		return nil, nil, notFoundf("comment %d", id)
	}
	if c.Internal && tx.check(ctx, actor, t, ActViewInternal) != nil {
		return nil, nil, notFoundf("comment %d", id)
	}
	return c, t, nil
}

// React toggles actor's emoji on comment id and returns the comment's
// reaction counts. Reacting follows commenting: not on a closed ticket,
// and only for those who may comment there.
func (s *Service) React(ctx context.Context, actor *store.User, commentID int64, emoji string) (map[string]int, error) {
	if !slices.Contains(Emojis, emoji) {
		return nil, invalidf("unknown reaction %q (want one of %s)", emoji, strings.Join(Emojis, " "))
	}
	var counts map[string]int
	err := s.TxWith(ctx, func(tx *Tx) error {
		if actor == nil || actor.ID <= 0 {
			return notAllowedf("reactions belong to a signed-in user")
		}
		c, t, err := tx.commentTicket(ctx, actor, commentID)
		if err != nil {
			return err
		}
		act := ActComment
		if c.Internal {
			act = ActCommentInternal
		}
		if err := tx.check(ctx, actor, t, act); err != nil {
			return err
		}
		if t.Status == store.StatusClosed {
			return invalidf("ticket #%d is closed; reopen it to react", t.Number)
		}
		on, err := tx.q.ToggleReaction(ctx, &store.Reaction{CommentID: c.ID, UserID: actor.ID, Emoji: emoji, CreatedAt: tx.s.clock()})
		if err != nil {
			return err
		}
		if err := tx.q.Audit(ctx, actor, t.CompanyID, "ticket", t.ID, "react", nil,
			map[string]any{"comment_id": c.ID, "emoji": emoji, "on": on}); err != nil {
			return err
		}
		rc, err := tx.q.ReactionCounts(ctx, []int64{c.ID})
		counts = map[string]int{}
		for _, r := range rc {
			counts[r.Emoji] = r.Count
		}
		return err
	})
	return counts, err
}

// Reactions returns the reaction counts of the comments of ticket number
// that actor may see, by comment id and emoji.
func (s *Service) Reactions(ctx context.Context, actor *store.User, number int64) (map[int64]map[string]int, error) {
	v, err := s.Get(ctx, actor, number) // the comments actor may see
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(v.Comments))
	for i, c := range v.Comments {
		ids[i] = c.ID
	}
	rc, err := s.st.R().ReactionCounts(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := map[int64]map[string]int{}
	for _, r := range rc {
		if out[r.CommentID] == nil {
			out[r.CommentID] = map[string]int{}
		}
		out[r.CommentID][r.Emoji] = r.Count
	}
	return out, nil
}

// CannedInput is a new canned response.
type CannedInput struct {
	Name string
	Body string
	// Shared: for all staff (supervisors and admins only); else the
	// actor's own.
	Shared bool
	// CompanyID limits it to one company's tickets (nil: any).
	CompanyID *int64
}

const maxCannedName, maxCannedBody = 120, 20000

func canShare(u *store.User) bool {
	return u.Role == store.RoleAdmin || u.Role == store.RoleSupervisor
}

// CreateCanned adds a canned response; only staff have them.
func (s *Service) CreateCanned(ctx context.Context, actor *store.User, in CannedInput) (*store.Canned, error) {
	if actor == nil || !actor.IsStaff() || actor.Disabled {
		return nil, notAllowedf("only staff have canned responses")
	}
	if in.Shared && !canShare(actor) {
		return nil, notAllowedf("only supervisors and admins share canned responses")
	}
	name, body := strings.Join(strings.Fields(in.Name), " "), strings.TrimSpace(in.Body)
	if name == "" || body == "" {
		return nil, invalidf("a canned response needs a name and a text")
	}
	if utf8.RuneCountInString(name) > maxCannedName || len(body) > maxCannedBody {
		return nil, invalidf("a canned response has a name of at most %d characters and a text of at most %d bytes", maxCannedName, maxCannedBody)
	}
	c := &store.Canned{Name: name, Body: body, CompanyID: in.CompanyID}
	if !in.Shared {
		id := actor.ID
		c.OwnerID = &id
	}
	err := s.TxWith(ctx, func(tx *Tx) error {
		if in.CompanyID != nil {
			if _, err := tx.q.Company(ctx, *in.CompanyID); err != nil {
				return err
			}
		}
		if err := tx.q.CreateCanned(ctx, c); err != nil {
			return err
		}
		return tx.q.Audit(ctx, actor, companyOrZero(in.CompanyID), "canned", c.ID, "create", nil, c)
	})
	return c, err
}

func companyOrZero(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// Canned lists the canned responses actor may use on tickets of
// companyID (0: of any company): their own and the shared ones.
func (s *Service) Canned(ctx context.Context, actor *store.User, companyID int64) ([]*store.Canned, error) {
	if actor == nil || !actor.IsStaff() || actor.Disabled {
		return nil, notAllowedf("only staff have canned responses")
	}
	cs, err := s.st.R().CannedFor(ctx, actor.ID, companyID)
	return cs, mapStoreErr(err)
}

// DeleteCanned removes a canned response: one's own, or a shared one by a
// supervisor or admin. Another's personal one does not exist for actor.
func (s *Service) DeleteCanned(ctx context.Context, actor *store.User, id int64) error {
	if actor == nil || !actor.IsStaff() || actor.Disabled {
		return notAllowedf("only staff have canned responses")
	}
	return s.TxWith(ctx, func(tx *Tx) error {
		c, err := tx.q.CannedByID(ctx, id)
		if err != nil {
			return err
		}
		switch {
		case c.OwnerID != nil && *c.OwnerID != actor.ID:
			return notFoundf("canned response %d", id)
		case c.OwnerID == nil && !canShare(actor):
			return notAllowedf("only supervisors and admins remove shared canned responses")
		}
		if err := tx.q.DeleteCanned(ctx, id); err != nil {
			return err
		}
		return tx.q.Audit(ctx, actor, companyOrZero(c.CompanyID), "canned", c.ID, "delete", c, nil)
	})
}

// RenderCanned fills a canned text's placeholders for ticket t:
// {{requester_name}}, {{ticket_number}}, {{ticket_subject}} and
// {{agent_name}} (actor). Unknown placeholders stay as written, so a typo
// shows in the reply box instead of vanishing.
func RenderCanned(body string, t *store.Ticket, actor *store.User) string {
	name := func(u *store.User) string {
		if u == nil {
			return ""
		}
		if u.Name != "" {
			return u.Name
		}
		return u.Email
	}
	return strings.NewReplacer(
		"{{requester_name}}", name(t.Requester),
		"{{ticket_number}}", "#"+strconv.FormatInt(t.Number, 10),
		"{{ticket_subject}}", t.Subject,
		"{{agent_name}}", name(actor),
	).Replace(body)
}
