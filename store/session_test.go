package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

func TestSessionsTokensAndAccountMails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
		err := st.InTx(ctx, func(q *store.Q) error {
			u := &store.User{Email: "a@x.example", Role: store.RoleAdmin}
			if err := q.CreateUser(ctx, u); err != nil {
				return err
			}
			for i, id := range []string{"h1", "h2"} {
				s := &store.Session{ID: id, PublicID: "p" + id, UserID: u.ID, CSRF: "c", Stage: store.StageFull,
					CreatedAt: now, ExpiresAt: now.Add(time.Duration(i+1) * time.Hour)}
				if err := q.CreateSession(ctx, s); err != nil {
					return err
				}
			}
			if err := q.TouchSession(ctx, "h1", now.Add(time.Minute), "192.0.2.1", "UA"); err != nil {
				return err
			}
			ss, err := q.SessionsOfUser(ctx, u.ID, now.Add(90*time.Minute))
			if err != nil || len(ss) != 1 || ss[0].ID != "h2" {
				t.Fatalf("live sessions %v %v", ss, err)
			}
			s1, err := q.SessionByPublicID(ctx, "ph1")
			if err != nil || s1.IP != "192.0.2.1" || !s1.LastUsedAt.Equal(now.Add(time.Minute)) {
				t.Fatalf("touched %+v %v", s1, err)
			}
			if n, err := q.CountSessionAttempt(ctx, "h1"); err != nil || n != 1 {
				t.Fatalf("attempts %d %v", n, err)
			}
			if n, err := q.DeleteSessionsOfUser(ctx, u.ID, "h2"); err != nil || n != 1 {
				t.Fatalf("deleted %d %v", n, err)
			}
			if _, err := q.SessionByID(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("h1 lives: %v", err)
			}
			tok := &store.UsedToken{TokenHash: "t", Purpose: "reset", UsedAt: now, ExpiresAt: now.Add(time.Hour)}
			if err := q.UseToken(ctx, tok, now); err != nil {
				return err
			}
			if err := q.UseToken(ctx, tok, now); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("a token used twice: %v", err)
			}
			// Once expired, its row goes (and the token could not open anyway).
			if err := q.UseToken(ctx, &store.UsedToken{TokenHash: "u", Purpose: "reset", UsedAt: now, ExpiresAt: now}, now.Add(2*time.Hour)); err != nil {
				return err
			}
			if err := q.UseToken(ctx, tok, now.Add(2*time.Hour)); err != nil {
				t.Fatalf("an expired row was kept: %v", err)
			}
			for _, at := range []time.Time{now, now.Add(30 * time.Second)} {
				if err := q.LogAccountMail(ctx, u.ID, "reset", at); err != nil {
					return err
				}
			}
			if n, err := q.CountAccountMails(ctx, u.ID, "reset", now); err != nil || n != 1 {
				t.Fatalf("mails after now: %d %v", n, err)
			}
			isNew, had, err := q.SeeDevice(ctx, u.ID, "fp1", now)
			if err != nil || !isNew || had {
				t.Fatalf("first device %v %v %v", isNew, had, err)
			}
			if isNew, had, _ = q.SeeDevice(ctx, u.ID, "fp2", now); !isNew || !had {
				t.Fatalf("second device %v %v", isNew, had)
			}
			if isNew, _, _ = q.SeeDevice(ctx, u.ID, "fp1", now); isNew {
				t.Fatal("a known device is new")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
