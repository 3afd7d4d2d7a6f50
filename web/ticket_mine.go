package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
)

// mineView is "Meus chamados" (templates/tickets_mine.html).
type mineView struct {
	Tickets []*store.Ticket
	Next    string // the next page's address, "" on the last page
	First   bool   // this is the first page
}

const minePage = 25

// ticketList is GET /tickets: the staff queue (tkstaff's ticketQueue) or
// the requester's tickets. Which tickets a requester sees is
// ticketing.List's decision (their own and those they were brought into,
// and the company's when it shares tickets).
func (s *Server) ticketList(w http.ResponseWriter, r *http.Request) error {
	if ctxOf(r).User.IsStaff() {
		return s.ticketQueue(w, r)
	}
	return s.ticketsMine(w, r)
}

func (s *Server) ticketsMine(w http.ResponseWriter, r *http.Request) error {
	f := store.TicketFilter{Limit: minePage + 1}
	q := r.URL.Query()
	if id, err := strconv.ParseInt(q.Get("after_id"), 10, 64); err == nil && id > 0 {
		if at, err := time.Parse(time.RFC3339Nano, q.Get("after")); err == nil {
			f.After = &store.TicketCursor{UpdatedAt: at, ID: id}
		}
	}
	ts, err := s.svc.List(r.Context(), ctxOf(r).User, f)
	if err != nil {
		return err
	}
	v := mineView{Tickets: ts, First: f.After == nil}
	if len(ts) > minePage {
		v.Tickets = ts[:minePage]
		c := v.Tickets[minePage-1].Cursor()
		v.Next = "/tickets?after=" + c.UpdatedAt.UTC().Format(time.RFC3339Nano) + "&after_id=" + strconv.FormatInt(c.ID, 10)
	}
	return s.render(w, r, http.StatusOK, "tickets_mine", v)
}
