package ticketing

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jcservicedesk/servicedesk/store"
)

// Chat is the portal's chat page: another view of a ticket's
// conversation, as in the old app. A chat message is a comment with
// source chat, so everything that reads comments (mail notices, the
// first response of the SLA, search, export, anonymization, the event
// log) sees it without knowing about chat.

// MaxChatText bounds one chat message, in characters.
const MaxChatText = 8000

// chatSubjectLen is how much of the first message names a ticket the chat
// opens (the old app's 80 characters).
const chatSubjectLen = 80

// ChatInput is one chat message.
type ChatInput struct {
	Text     string
	Internal bool // staff only: a note the requester never sees
}

// SendChat posts a chat message on ticket number, as actor. With number 0
// the message opens a new ticket of actor's (with its SLA, notices and
// audit, like any other new ticket); the message is its description. It
// returns the ticket and the comment (nil when a ticket was opened).
func (s *Service) SendChat(ctx context.Context, actor *store.User, number int64, in ChatInput) (*store.Ticket, *store.Comment, error) {
	text, err := chatText(in.Text)
	if err != nil {
		return nil, nil, err
	}
	var (
		t *store.Ticket
		c *store.Comment
	)
	err = s.TxWith(ctx, func(tx *Tx) error {
		if number == 0 {
			if in.Internal {
				return invalidf("an internal message needs a ticket; choose one first")
			}
			t, err = tx.Create(ctx, actor, CreateInput{Requester: actor, Subject: chatSubject(text), Body: text, Source: store.SourceWeb})
			return err
		}
		if t, err = tx.find(ctx, actor, number); err != nil {
			return err
		}
		c, err = tx.Comment(ctx, actor, t, CommentInput{Body: text, Internal: in.Internal, Source: store.SourceChat}) // checks the policy
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if !actor.IsStaff() {
		redactInternal(t)
	}
	return t, c, nil
}

// chatText cleans a message: plain text, trimmed, control characters
// other than line breaks and tabs removed, at most MaxChatText characters.
func chatText(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", invalidf("the message is not valid UTF-8 text")
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) {
			return r
		}
		return -1
	}, s)
	s = strings.TrimSpace(s)
	if s == "" {
		return "", invalidf("the message is empty")
	}
	if n := utf8.RuneCountInString(s); n > MaxChatText {
		return "", invalidf("the message has %d characters; the limit is %d", n, MaxChatText)
	}
	return s, nil
}

// chatSubject is the subject of a ticket opened by chat: the first line
// of the message, cut at chatSubjectLen characters (at a word when there
// is one) with an ellipsis.
func chatSubject(text string) string {
	line, _, _ := strings.Cut(text, "\n")
	line = strings.Join(strings.Fields(line), " ")
	if utf8.RuneCountInString(line) <= chatSubjectLen {
		return line
	}
	cut := string([]rune(line)[:chatSubjectLen+1])
	if i := strings.LastIndexByte(cut, ' '); i > 0 {
		return cut[:i] + "…"
	}
	return string([]rune(cut)[:chatSubjectLen]) + "…"
}

// ticketSource is the source of a ticket made from a comment (split):
// a chat comment makes a web ticket, as the chat page is the portal's.
func ticketSource(commentSource string) string {
	if commentSource == store.SourceChat {
		return store.SourceWeb
	}
	return commentSource
}

// chatListLimit is how many tickets the chat page lists (the old app's 50).
const chatListLimit = 50

// ChatTickets lists the tickets of actor's chat page, most recently
// updated first: a requester's own tickets (requester or participant);
// for staff, the tickets still in progress that they may see.
func (s *Service) ChatTickets(ctx context.Context, actor *store.User) ([]*store.Ticket, error) {
	if actor == nil {
		return nil, notAllowedf("no actor")
	}
	f := store.TicketFilter{Limit: chatListLimit}
	if actor.IsStaff() {
		f.Statuses = []string{store.StatusNew, store.StatusOpen, store.StatusPending, store.StatusReopened}
	} else {
		f.InvolvingUserID = actor.ID
	}
	return s.List(ctx, actor, f)
}

// Viewable returns ticket number when actor may see it (ErrNotFound or
// ErrNotAllowed otherwise), without its conversation: the cheap check
// behind presence heartbeats.
func (s *Service) Viewable(ctx context.Context, actor *store.User, number int64) (*store.Ticket, error) {
	if actor == nil || actor.Disabled {
		return nil, notAllowedf("no actor")
	}
	t, _, err := viewable(ctx, s.st.R(), actor, number)
	if err != nil {
		return nil, err
	}
	if !actor.IsStaff() {
		redactInternal(t)
	}
	return t, nil
}
