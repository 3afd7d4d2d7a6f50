package web

import (
	"net/http"
	"strconv"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// staffReact is POST /tickets/{number}/comments/{id}/react (emoji):
// toggle a reaction. Requesters react too where ticketing allows
// (commenting rights on a ticket that is not closed).
func (s *Server) staffReact(w http.ResponseWriter, r *http.Request) error {
	n, err := staffNumber(r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return httpError(http.StatusNotFound, "error.not_found")
	}
	if _, err := s.svc.React(r.Context(), ctxOf(r).User, id, r.PostFormValue("emoji")); err != nil {
		return err
	}
	s.redirect(w, r, "/tickets/"+strconv.FormatInt(n, 10)+"#c"+strconv.FormatInt(id, 10))
	return nil
}

// reactionBar is one comment's reactions as the "comment_reactions"
// partial shows them: every offered emoji with its count, each a toggle.
type reactionBar struct {
	Number    int64
	CommentID int64
	Items     []reactionItem
}

type reactionItem struct {
	Emoji string
	Name  string // i18n key naming the emoji: the button reads without an emoji font
	Count int
}

// reactionNames names each of ticketing.Emojis (keys under staff.react.name);
// TestReactionNames keeps the two lists in step.
var reactionNames = map[string]string{
	"\U0001F44D":   "staff.react.name.thumbs_up",
	"\U0001F44E":   "staff.react.name.thumbs_down",
	"\u2764\ufe0f": "staff.react.name.heart",
	"\U0001F389":   "staff.react.name.party",
	"\U0001F604":   "staff.react.name.smile",
	"\U0001F615":   "staff.react.name.confused",
	"\U0001F440":   "staff.react.name.eyes",
	"\U0001F64F":   "staff.react.name.thanks",
}

// reactionBars loads the reactions of ticket number for its page; the
// ticket page calls .ReactionsFor on the result (see staffData).
func (s *Server) reactionBars(r *http.Request, number int64) (reactionSet, error) {
	m, err := s.svc.Reactions(r.Context(), ctxOf(r).User, number)
	if err != nil {
		return reactionSet{}, err
	}
	return reactionSet{number: number, counts: m}, nil
}

// reactionSet answers ReactionsFor(commentID) in templates.
type reactionSet struct {
	number int64
	counts map[int64]map[string]int
}

// ReactionsFor is the bar of one comment.
func (rs reactionSet) ReactionsFor(commentID int64) *reactionBar {
	b := &reactionBar{Number: rs.number, CommentID: commentID}
	for _, e := range ticketing.Emojis {
		b.Items = append(b.Items, reactionItem{Emoji: e, Name: reactionNames[e], Count: rs.counts[commentID][e]})
	}
	return b
}
