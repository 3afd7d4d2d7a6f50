package ticketing

import (
	"fmt"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
)

// TestPolicyTable spells out role × action × relation. Each row lists the
// relations under which the action is allowed; every other combination
// must be refused.
func TestPolicyTable(t *testing.T) {
	rels := map[string]Relation{
		"requester":    {Requester: true, SameCompany: true},
		"participant":  {Participant: true, SameCompany: true},
		"same_company": {SameCompany: true},
		"other":        {},
		"assignee":     {Assignee: true},
		"unassigned":   {Unassigned: true},
		// From outside the requester's company, by answering the thread.
		"cc_participant": {CcParticipant: true},
	}
	all := []string{"requester", "participant", "same_company", "other", "assignee", "unassigned", "cc_participant"}
	everyAction := []Action{ActView, ActViewInternal, ActComment, ActCommentInternal, ActTake, ActTransfer,
		ActChangeStatus, ActResolve, ActClose, ActReopen, ActRate, ActManageParticipant, ActEdit}
	allowed := map[string]map[Action][]string{
		"client": {
			ActView:    {"requester", "participant", "same_company", "cc_participant"},
			ActComment: {"requester", "participant", "same_company", "cc_participant"},
			ActReopen:  {"requester"},
			ActRate:    {"requester"},
		},
		"tech": {
			ActView: all, ActViewInternal: all, ActComment: all, ActCommentInternal: all,
			ActReopen: all, ActManageParticipant: all,
			ActTake:         {"unassigned"},
			ActEdit:         {"assignee", "unassigned"},
			ActTransfer:     {"assignee"},
			ActChangeStatus: {"assignee"},
			ActResolve:      {"assignee"},
			ActClose:        {"assignee"},
			ActRate:         {"requester"},
		},
	}
	for _, role := range []string{"supervisor", "admin"} {
		m := map[Action][]string{}
		for _, a := range everyAction {
			m[a] = all
		}
		m[ActRate] = []string{"requester"}
		allowed[role] = m
	}
	for role, acts := range allowed {
		for _, act := range everyAction {
			ok := map[string]bool{}
			for _, r := range acts[act] {
				ok[r] = true
			}
			for name, rel := range rels {
				t.Run(fmt.Sprintf("%s/%s/%s", role, act, name), func(t *testing.T) {
					if got := Allowed(role, false, act, rel); got != ok[name] {
						t.Fatalf("Allowed = %v, want %v", got, ok[name])
					}
					if Allowed(role, true, act, rel) {
						t.Fatal("a disabled user is allowed")
					}
				})
			}
		}
	}
	if Allowed("boss", false, ActView, rels["requester"]) {
		t.Fatal("unknown role allowed")
	}
}

// TestRelationOfSharing: colleagues count as the same company only when
// it shares tickets within the company; the requester and participants
// see their tickets either way, and nobody of another company does.
func TestRelationOfSharing(t *testing.T) {
	acme, globex := int64(1), int64(2)
	ticket := func(share bool) *store.Ticket {
		return &store.Ticket{ID: 9, Number: 1009, CompanyID: acme, RequesterID: 10,
			Company: &store.Company{ID: acme, ShareTickets: share}}
	}
	client := func(id, company int64) *store.User {
		return &store.User{ID: id, Role: store.RoleClient, CompanyID: &company}
	}
	for _, tc := range []struct {
		name        string
		u           *store.User
		share       bool
		participant bool
		view        bool
	}{
		{"requester, not sharing", client(10, acme), false, false, true},
		{"requester, sharing", client(10, acme), true, false, true},
		{"colleague, not sharing", client(11, acme), false, false, false},
		{"colleague, sharing", client(11, acme), true, false, true},
		{"colleague participant, not sharing", client(11, acme), false, true, true},
		{"other company, sharing", client(12, globex), true, false, false},
		{"other company participant", client(12, globex), true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rel := RelationOf(tc.u, ticket(tc.share), tc.participant)
			if got := Allowed(tc.u.Role, false, ActView, rel); got != tc.view {
				t.Fatalf("view = %v, want %v (%+v)", got, tc.view, rel)
			}
			// Replying (web or mail) follows seeing, for clients.
			if got := Allowed(tc.u.Role, false, ActComment, rel); got != tc.view {
				t.Fatalf("comment = %v, want %v", got, tc.view)
			}
			if Allowed(tc.u.Role, false, ActViewInternal, rel) || Allowed(tc.u.Role, false, ActCommentInternal, rel) {
				t.Fatal("a client may see or write internal notes")
			}
		})
	}
	// Without the company loaded nothing is shared.
	tk := ticket(true)
	tk.Company = nil
	if RelationOf(client(11, acme), tk, false).SameCompany {
		t.Fatal("shared without knowing the company")
	}
}
