package web

import (
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// participantRef is a participant as the ticket page lists them: the
// user, and how they came in (store.Participant.Via), which the
// "participant_via" partial shows as a badge.
type participantRef struct {
	*store.User
	Via string
}

// participantRefs lists v's participants with how each came in; staff
// followers only when withStaff (a requester's page lists the people on
// their side and the outside Cc: who follows at the help desk is its
// own business).
func participantRefs(v *ticketing.View, withStaff bool) []participantRef {
	out := make([]participantRef, 0, len(v.Participants))
	for _, u := range v.Participants {
		if u.IsStaff() && !withStaff {
			continue
		}
		out = append(out, participantRef{User: u, Via: v.ParticipantVia[u.ID]})
	}
	return out
}

// participantVias are the Via values the badge names ("" shows none: a
// row from before it was recorded).
var participantVias = map[string]bool{store.ParticipantCc: true, store.ParticipantMail: true,
	store.ParticipantInvited: true, store.ParticipantReplied: true}

// ViaKey is the i18n key of how p came in, "" when unknown.
func (p participantRef) ViaKey() string {
	if !participantVias[p.Via] {
		return ""
	}
	return "participants.via." + p.Via
}
