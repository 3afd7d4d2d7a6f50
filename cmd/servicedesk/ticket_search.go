package main

import (
	"context"
	"errors"
	"strings"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// searchMatchJSON says where a search found a ticket: in the ticket's
// subject or description, a comment or an attachment's name, with the
// text around it (the matched words marked in snippet).
type searchMatchJSON struct {
	In      string              `json:"in"`
	ID      int64               `json:"id"`
	Text    string              `json:"text"`
	Snippet []store.SnippetPart `json:"snippet"`
}

// ticketSearch is `ticket list --search`: the same search as the portal's,
// best match first, narrowed by the other flags.
func ticketSearch(ctx context.Context, d *deps, o ticketListOpts, filter store.TicketFilter) error {
	search := func(f store.TicketFilter) ([]*store.SearchHit, error) {
		hits, err := d.svc.Search(ctx, d.actor, o.search, f)
		if errors.Is(err, ticketing.ErrInvalid) {
			return nil, usagef("--search: %s", strings.TrimPrefix(err.Error(), ticketing.ErrInvalid.Error()+": "))
		}
		return hits, err
	}
	var hits []*store.SearchHit
	if o.all {
		filter.Limit = maxPage
		for {
			page, err := search(filter)
			if err != nil {
				return err
			}
			hits = append(hits, page...)
			if len(page) < filter.Limit {
				break
			}
			filter.Offset += len(page)
		}
	} else {
		var err error
		if hits, err = search(filter); err != nil {
			return err
		}
	}
	views := make([]ticketJSON, 0, len(hits))
	for _, h := range hits {
		v := ticketView(h.Ticket)
		v.Match = &searchMatchJSON{In: h.Match, ID: h.MatchID, Text: h.SnippetText(), Snippet: h.Snippet}
		views = append(views, v)
	}
	return printMany(d, views, ticketHeader, ticketRow)
}
