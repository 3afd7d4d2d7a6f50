package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// How a participant came in (Participant.Via), besides ParticipantCc.
// Rows from before these were recorded keep "" (unknown). Only
// ParticipantCc narrows what the participant sees.
const (
	// ParticipantMail: named in the To/Cc of a mail on the ticket (inbound,
	// or a reply's typed Cc), or a colleague who answered the thread.
	ParticipantMail = "mail"
	// ParticipantInvited: brought in by staff (portal or CLI).
	ParticipantInvited = "invited"
	// ParticipantReplied: staff who answered a ticket not assigned to
	// them, and so follow it.
	ParticipantReplied = "replied"
)

// ParticipantVias maps each participant of ticketID to how they came in.
func (q *Q) ParticipantVias(ctx context.Context, ticketID int64) (map[int64]string, error) {
	var rows []struct {
		UserID int64  `bun:"user_id"`
		Via    string `bun:"via"`
	}
	err := q.db.NewSelect().Model((*Participant)(nil)).Column("user_id", "via").
		Where("ticket_id = ?", ticketID).Scan(ctx, &rows)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: participant vias: %w", err)
	}
	out := make(map[int64]string, len(rows))
	for _, r := range rows {
		out[r.UserID] = r.Via
	}
	return out, nil
}
