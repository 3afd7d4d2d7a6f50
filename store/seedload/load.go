package seedload

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
)

// TicketWithComments is the newest ticket's number, topped up to n
// comments when it has fewer (a ticket page with a long conversation).
func TicketWithComments(ctx context.Context, st *store.Store, n int) (int64, error) {
	ts, err := st.R().Tickets(ctx, store.AllCompanies(), store.TicketFilter{Limit: 1})
	if err != nil {
		return 0, err
	}
	if len(ts) == 0 {
		return 0, errors.New("no tickets: seed the database with cmd/seedload first")
	}
	t := ts[0]
	have, err := st.R().Comments(ctx, t.ID, true)
	if err != nil {
		return 0, err
	}
	if len(have) < n {
		var cs []store.Comment
		for i := len(have); i < n; i++ {
			cs = append(cs, store.Comment{TicketID: t.ID, AuthorID: &t.RequesterID, Source: store.SourceWeb, CreatedAt: time.Now(),
				BodyText: fmt.Sprintf("Comentário %d: a impressora do segundo andar continua sem imprimir; já reiniciei e troquei o cabo.", i+1)})
		}
		if err := st.InTx(ctx, func(q *store.Q) error { return q.BulkInsertComments(ctx, cs) }); err != nil {
			return 0, err
		}
	}
	return t.Number, nil
}

// LoadUser makes (or resets) the confirmed admin a load test signs in
// as, with this argon2id hash: staff sees every page.
func LoadUser(ctx context.Context, st *store.Store, email, passwordHash string) (*store.User, error) {
	hash := passwordHash
	now := time.Now()
	u := &store.User{Email: email, Name: "Web Load", Role: store.RoleAdmin, Language: "pt-BR", PasswordHash: hash, ConfirmedAt: &now}
	err := st.InTx(ctx, func(q *store.Q) error {
		old, err := q.UserByEmail(ctx, store.AllCompanies(), u.Email)
		if errors.Is(err, store.ErrNotFound) {
			return q.CreateUser(ctx, u)
		} else if err != nil {
			return err
		}
		old.PasswordHash, old.Role, old.Disabled, old.ConfirmedAt = hash, store.RoleAdmin, false, &now
		u = old
		return q.UpdateUser(ctx, old)
	})
	return u, err
}
