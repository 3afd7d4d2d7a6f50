package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// rateView is the rating page of a mailed link (templates/rate.html).
type rateView struct {
	Number  int64
	Subject string
	Action  string // where the form posts
	Legacy  string // the t= token of an old link, posted back as a field
	Stars   []ratingStar
	Comment string
	Error   string // i18n key
	Gone    bool   // used, expired or forged: nothing to rate (410)
	Done    bool   // recorded
	Label   string // the stars recorded, named
}

// formStars reads a 1..5 rating; 0 when absent or out of range.
func formStars(v string) int {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > 5 {
		return 0
	}
	return n
}

// linkStars reads the stars a rating link chose: r= in the links
// mailbox/compose writes, stars= in the links the old app mailed.
func linkStars(r *http.Request) int {
	q := r.URL.Query()
	if n := formStars(q.Get("r")); n != 0 {
		return n
	}
	return formStars(q.Get("stars"))
}

// rateLinkShow answers GET /tickets/rate/<token> (registered as
// /tickets/{a}/{b}): the form with the chosen stars pre-selected (?r=
// in the closing mail's links, ?stars= in the old app's). It records
// nothing, since mail scanners fetch every link.
func (s *Server) rateLinkShow(w http.ResponseWriter, r *http.Request) error {
	if r.PathValue("a") != "rate" {
		return httpError(http.StatusNotFound, "error.not_found")
	}
	tok := r.PathValue("b")
	return s.rateForm(w, r, tok, 0, "/tickets/rate/"+tok, "")
}

// rateForm renders the form of a rating link after checking it.
func (s *Server) rateForm(w http.ResponseWriter, r *http.Request, tok string, number int64, action, legacy string) error {
	rv, err := s.svc.RatingForm(r.Context(), tok)
	if err == nil && number != 0 && rv.Number != number {
		err = ticketing.ErrBadToken // an old link with another ticket's number
	}
	if errors.Is(err, ticketing.ErrBadToken) {
		return s.render(w, r, http.StatusGone, "rate", rateView{Gone: true})
	} else if err != nil {
		return err
	}
	v := rateView{Number: rv.Number, Subject: rv.Subject, Action: action, Legacy: legacy,
		Stars: stars(ctxOf(r).Lang, linkStars(r))}
	w.Header().Set("Referrer-Policy", "no-referrer") // the token is in the address
	return s.render(w, r, http.StatusOK, "rate", v)
}

// rateLinkSave answers POST /tickets/rate/<token>: records the rating once.
func (s *Server) rateLinkSave(w http.ResponseWriter, r *http.Request) error {
	if r.PathValue("a") != "rate" {
		return httpError(http.StatusNotFound, "error.not_found")
	}
	tok := r.PathValue("b")
	return s.rateSave(w, r, tok, 0, "/tickets/rate/"+tok, "")
}

func (s *Server) rateSave(w http.ResponseWriter, r *http.Request, tok string, number int64, action, legacy string) error {
	lang := ctxOf(r).Lang
	n := formStars(r.PostFormValue("stars"))
	comment := strings.TrimSpace(r.PostFormValue("comment"))
	if number != 0 { // an old link: it must be this ticket's
		rv, err := s.svc.RatingForm(r.Context(), tok)
		if errors.Is(err, ticketing.ErrBadToken) || (err == nil && rv.Number != number) {
			return s.render(w, r, http.StatusGone, "rate", rateView{Gone: true})
		} else if err != nil {
			return err
		}
	}
	if n == 0 {
		rv, err := s.svc.RatingForm(r.Context(), tok)
		if errors.Is(err, ticketing.ErrBadToken) {
			return s.render(w, r, http.StatusGone, "rate", rateView{Gone: true})
		} else if err != nil {
			return err
		}
		return s.render(w, r, http.StatusUnprocessableEntity, "rate", rateView{Number: rv.Number, Subject: rv.Subject,
			Action: action, Legacy: legacy, Stars: stars(lang, 0), Comment: comment, Error: "tickets.rate.choose"})
	}
	t, err := s.svc.RateByToken(r.Context(), tok, n, comment)
	if errors.Is(err, ticketing.ErrBadToken) {
		return s.render(w, r, http.StatusGone, "rate", rateView{Gone: true})
	} else if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "rate", rateView{Number: t.Number, Subject: t.Subject, Done: true,
		Label: ticketing.RatingLabel(n, lang)})
}

// ticketRateShow: GET /tickets/N/rate. With ?t= it is a link mailed by
// the old app (no sign-in); without, the requester's own form on the
// ticket page.
func (s *Server) ticketRateShow(w http.ResponseWriter, r *http.Request) error {
	n, err := ticketNumber(r)
	if err != nil {
		return err
	}
	if tok := r.URL.Query().Get("t"); tok != "" {
		return s.rateForm(w, r, tok, n, "/tickets/"+strconv.FormatInt(n, 10)+"/rate", tok)
	}
	if ctxOf(r).User == nil {
		s.redirect(w, r, loginURL(r))
		return nil
	}
	s.redirect(w, r, "/tickets/"+strconv.FormatInt(n, 10)+"#rate")
	return nil
}

// ticketRate: POST /tickets/N/rate. With a t field, an old mailed link;
// else the signed-in requester rating from the ticket page.
func (s *Server) ticketRate(w http.ResponseWriter, r *http.Request) error {
	n, err := ticketNumber(r)
	if err != nil {
		return err
	}
	if tok := r.PostFormValue("t"); tok != "" {
		return s.rateSave(w, r, tok, n, "/tickets/"+strconv.FormatInt(n, 10)+"/rate", tok)
	}
	u := ctxOf(r).User
	if u == nil {
		s.redirect(w, r, "/login")
		return nil
	}
	stars := formStars(r.PostFormValue("stars"))
	if stars == 0 {
		s.flash(w, r, "error", "tickets.rate.choose")
		s.redirect(w, r, "/tickets/"+strconv.FormatInt(n, 10)+"#rate")
		return nil
	}
	if _, err := s.svc.Rate(r.Context(), u, n, stars, r.PostFormValue("comment")); err != nil {
		return err
	}
	s.flash(w, r, "success", "tickets.flash.rated")
	s.redirect(w, r, "/tickets/"+strconv.FormatInt(n, 10))
	return nil
}
