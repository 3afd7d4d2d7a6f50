package web

import (
	"encoding/json"
	"net/http"
	"net/mail"
	"sort"
	"strconv"
	"strings"

	"github.com/jcservicedesk/servicedesk/store"
)

// quarantinePage is how many held messages a list page shows.
const quarantinePage = 50

// maxRawShown bounds the raw message shown on the page; the rest is cut
// (a held message can be megabytes of base64).
const maxRawShown = 256 << 10

type quarantineListView struct {
	Items      []*store.Quarantined
	Page       int
	Prev, Next int // 0: none
}

func (s *Server) quarantineList(w http.ResponseWriter, r *http.Request) error {
	pg := 1
	if v := r.URL.Query().Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100000 {
			return httpError(http.StatusBadRequest, "error.invalid")
		}
		pg = n
	}
	// One more than a page says whether a next page exists.
	ms, err := s.svc.QuarantinedPage(r.Context(), ctxOf(r).User, quarantinePage+1, (pg-1)*quarantinePage)
	if err != nil {
		return err
	}
	v := quarantineListView{Items: ms, Page: pg}
	if len(ms) > quarantinePage {
		v.Items, v.Next = ms[:quarantinePage], pg+1
	}
	if pg > 1 {
		v.Prev = pg - 1
	}
	return s.render(w, r, http.StatusOK, "admin_quarantine", v)
}

type quarantineHeader struct{ Name, Value string }

type quarantineShowView struct {
	M          *store.Quarantined
	Headers    []quarantineHeader
	Envelope   string
	Raw        string // shown as escaped text, never rendered
	Cut        bool
	CanProcess bool
}

// quarantineID is the {id} of the path; a malformed one is a 404.
func quarantineID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, httpError(http.StatusNotFound, "error.not_found")
	}
	return id, nil
}

func (s *Server) quarantineShow(w http.ResponseWriter, r *http.Request) error {
	id, err := quarantineID(r)
	if err != nil {
		return err
	}
	m, raw, err := s.svc.QuarantinedMessage(r.Context(), ctxOf(r).User, id)
	if err != nil {
		return err
	}
	v := quarantineShowView{M: m, Headers: rawHeaders(raw), Envelope: prettyJSON(m.Envelope), CanProcess: s.reprocess != nil && m.ReleasedAt == nil}
	if len(raw) > maxRawShown {
		raw, v.Cut = raw[:maxRawShown], true
	}
	// html/template escapes it; invalid UTF-8 is replaced, not passed on.
	v.Raw = strings.ToValidUTF8(string(raw), "\uFFFD")
	return s.render(w, r, http.StatusOK, "admin_quarantine_show", v)
}

// rawHeaders is the message's header in order of name (what parses of
// it: a message held for being unparsable may have none).
func rawHeaders(raw []byte) []quarantineHeader {
	m, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		return nil
	}
	var hs []quarantineHeader
	for name, vals := range m.Header {
		for _, v := range vals {
			hs = append(hs, quarantineHeader{Name: name, Value: strings.ToValidUTF8(v, "\uFFFD")})
		}
	}
	sort.SliceStable(hs, func(i, j int) bool { return hs[i].Name < hs[j].Name })
	return hs
}

func prettyJSON(s string) string {
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return s
	}
	return string(b)
}

func (s *Server) quarantineReprocess(w http.ResponseWriter, r *http.Request) error {
	id, err := quarantineID(r)
	if err != nil {
		return err
	}
	if s.reprocess == nil {
		return httpError(http.StatusNotFound, "error.not_found")
	}
	// The policy and the entry first, as ticketing answers them (403,
	// 404); the intake then checks again in its own transaction.
	if _, _, err := s.svc.QuarantinedMessage(r.Context(), ctxOf(r).User, id); err != nil {
		return err
	}
	res, err := s.reprocess(r.Context(), ctxOf(r).User, id)
	if err != nil {
		return err
	}
	switch {
	case res.TicketNumber > 0 && (res.Action == "ticket" || res.Action == "comment"):
		s.flash(w, r, "success", "admin.quarantine.flash.reprocessed_ticket")
		s.redirect(w, r, "/tickets/"+strconv.FormatInt(res.TicketNumber, 10))
	case res.Action == "quarantine" && res.QuarantineID > 0:
		s.flash(w, r, "info", "admin.quarantine.flash.held_again")
		s.redirect(w, r, "/admin/quarantine/"+strconv.FormatInt(res.QuarantineID, 10))
	default:
		s.flash(w, r, "success", "admin.quarantine.flash.reprocessed")
		s.redirect(w, r, "/admin/quarantine")
	}
	return nil
}

func (s *Server) quarantineDeleteConfirm(w http.ResponseWriter, r *http.Request) error {
	id, err := quarantineID(r)
	if err != nil {
		return err
	}
	// A dry run: the same checks as the delete, nothing changed.
	m, err := s.svc.DeleteQuarantined(r.Context(), ctxOf(r).User, id, true)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "admin_quarantine_delete", quarantineShowView{M: m})
}

func (s *Server) quarantineDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := quarantineID(r)
	if err != nil {
		return err
	}
	if r.PostFormValue("confirm") != "yes" {
		s.redirect(w, r, "/admin/quarantine/"+strconv.FormatInt(id, 10)+"/delete")
		return nil
	}
	if _, err := s.svc.DeleteQuarantined(r.Context(), ctxOf(r).User, id, false); err != nil {
		return err
	}
	s.flash(w, r, "success", "admin.quarantine.flash.deleted")
	s.redirect(w, r, "/admin/quarantine")
	return nil
}
