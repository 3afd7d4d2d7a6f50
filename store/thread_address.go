package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// How an address came onto a ticket's mail thread.
const (
	ThreadSentTo    = "sent_to"    // a To/Cc of a mail we sent on the ticket
	ThreadInboundCc = "inbound_cc" // a To/Cc of an inbound mail placed on it
	ThreadAddressed = "addressed"  // the sender of a reply to a mail addressed to them
)

// ParticipantCc marks a participant who came in by answering the mail
// thread from outside the requester's company (Participant.Via).
const ParticipantCc = "cc"

// ThreadAddress is one address on a ticket's mail thread, as first seen.
type ThreadAddress struct {
	bun.BaseModel `bun:"table:ticket_thread_addresses,alias:tta"`

	TicketID  int64     `bun:"ticket_id,pk" json:"ticket_id"`
	Address   string    `bun:"address,pk" json:"address"`
	How       string    `bun:"how,notnull" json:"how"`
	MessageID string    `bun:"message_id,notnull" json:"message_id"` // the message it was first seen on
	CreatedAt time.Time `bun:"created_at,notnull" json:"created_at"`
}

// AddThreadAddresses records addrs on ticketID's thread; an address
// already there keeps its first row. Empty addresses are skipped.
func (q *Q) AddThreadAddresses(ctx context.Context, ticketID int64, how, messageID string, addrs []string) error {
	seen := map[string]bool{}
	rows := make([]ThreadAddress, 0, len(addrs))
	for _, a := range addrs {
		a = NormalizeEmail(a)
		if a == "" || seen[a] {
			continue
		}
		seen[a] = true
		rows = append(rows, ThreadAddress{TicketID: ticketID, Address: a, How: how, MessageID: messageID, CreatedAt: now()})
	}
	if len(rows) == 0 {
		return nil
	}
	if _, err := q.db.NewInsert().Model(&rows).On("CONFLICT (ticket_id, address) DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("store: thread addresses: %w", err)
	}
	return nil
}

// ThreadAddress returns addr's row on ticketID's thread, or ErrNotFound.
func (q *Q) ThreadAddress(ctx context.Context, ticketID int64, addr string) (*ThreadAddress, error) {
	a := new(ThreadAddress)
	err := q.db.NewSelect().Model(a).Where("tta.ticket_id = ? AND tta.address = ?", ticketID, NormalizeEmail(addr)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: thread address: %w", err)
	}
	return a, nil
}

// ThreadAddresses lists ticketID's thread, oldest first.
func (q *Q) ThreadAddresses(ctx context.Context, ticketID int64) ([]*ThreadAddress, error) {
	var as []*ThreadAddress
	if err := q.db.NewSelect().Model(&as).Where("tta.ticket_id = ?", ticketID).Order("tta.created_at", "tta.address").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: thread addresses: %w", err)
	}
	return as, nil
}

// ThreadAddressesOf lists the threads addr is on (LGPD export).
func (q *Q) ThreadAddressesOf(ctx context.Context, addr string) ([]*ThreadAddress, error) {
	var as []*ThreadAddress
	if err := q.db.NewSelect().Model(&as).Where("tta.address = ?", NormalizeEmail(addr)).Order("tta.ticket_id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: thread addresses: %w", err)
	}
	return as, nil
}

// AddParticipantVia is AddParticipant recording how the user came in
// (ParticipantCc); an existing participant keeps how they came in.
func (q *Q) AddParticipantVia(ctx context.Context, ticketID, userID int64, via string) (added bool, err error) {
	p := &Participant{TicketID: ticketID, UserID: userID, Via: via, AddedAt: now()}
	res, err := q.db.NewInsert().Model(p).On("CONFLICT (ticket_id, user_id) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: add participant: %w", err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return false, err
	}
	return n > 0, nil
}

// Participation reports whether userID follows ticketID, and how it came
// in (Participant.Via).
func (q *Q) Participation(ctx context.Context, ticketID, userID int64) (participant bool, via string, err error) {
	var vias []string
	err = q.db.NewSelect().Model((*Participant)(nil)).Column("via").
		Where("ticket_id = ? AND user_id = ?", ticketID, userID).Scan(ctx, &vias)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, "", fmt.Errorf("store: participation: %w", err)
	}
	if len(vias) == 0 {
		return false, "", nil
	}
	return true, vias[0], nil
}

// CcParticipants are the ids of ticketID's participants who came in from
// outside by answering the thread (ParticipantCc).
func (q *Q) CcParticipants(ctx context.Context, ticketID int64) (map[int64]bool, error) {
	var ids []int64
	err := q.db.NewSelect().Model((*Participant)(nil)).Column("user_id").
		Where("ticket_id = ? AND via = ?", ticketID, ParticipantCc).Scan(ctx, &ids)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: cc participants: %w", err)
	}
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// CopyThreadAddresses puts the addresses on ticket from's thread on
// ticket into's too (a merge: replies to the merged ticket's mail land on
// into, from the same people).
func (q *Q) CopyThreadAddresses(ctx context.Context, from, into int64) error {
	_, err := q.db.NewRaw(`INSERT INTO ticket_thread_addresses (ticket_id, address, how, message_id, created_at)
		SELECT ?, address, how, message_id, created_at FROM ticket_thread_addresses WHERE ticket_id = ?
		ON CONFLICT (ticket_id, address) DO NOTHING`, into, from).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: copy thread addresses: %w", err)
	}
	return nil
}
