package ticketing

import (
	"fmt"
	"testing"
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
	}
	all := []string{"requester", "participant", "same_company", "other", "assignee", "unassigned"}
	everyAction := []Action{ActView, ActViewInternal, ActComment, ActCommentInternal, ActTake, ActTransfer,
		ActChangeStatus, ActResolve, ActClose, ActReopen, ActRate, ActManageParticipant, ActEdit}
	allowed := map[string]map[Action][]string{
		"client": {
			ActView:    {"requester", "participant", "same_company"},
			ActComment: {"requester", "participant", "same_company"},
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
