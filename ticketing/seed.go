package ticketing

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/jcservicedesk/servicedesk/store"
)

// settingSeeded records that first-start seeding ran: from then on a
// renamed, disabled or removed seeded admin is never created again.
const settingSeeded = "seeded_at"

// SeedInput is the first admin and the default company (admin.* config).
type SeedInput struct {
	Company  string
	Email    string
	Name     string
	Password string // empty: a generated one, returned once
}

// SeedResult says what Seed did.
type SeedResult struct {
	Admin *store.User // nil when the database was seeded before
	// Password is the generated password of a new admin (shown once); empty
	// when one was configured or nothing was created.
	Password string
}

// Seed creates the default company and the first admin, once per database:
// it is recorded in the settings table, so a later start (or a concurrent
// one: the seeders queue on a lock) changes nothing. A database that has
// users from before this record gets the record and no new admin.
// Audited as the system actor.
func (s *Service) Seed(ctx context.Context, in SeedInput) (SeedResult, error) {
	var res SeedResult
	err := s.TxWith(ctx, func(tx *Tx) error {
		q := tx.q
		if err := q.LockKey(ctx, "seed"); err != nil {
			return err
		}
		if _, err := q.Setting(ctx, settingSeeded); err == nil {
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if _, err := q.SettingOrInit(ctx, settingSeeded, s.clock().Format("2006-01-02T15:04:05Z")); err != nil {
			return err
		}
		sys := SystemActor()
		if n, err := q.CountUsers(ctx); err != nil {
			return err
		} else if n > 0 {
			return nil
		}
		company, err := q.CompanyByName(ctx, in.Company)
		if errors.Is(err, store.ErrNotFound) {
			// The default company collects people of no known company
			// (mail.unknown_sender: create): they must not see each
			// other's tickets.
			company = &store.Company{Name: in.Company}
			if err := q.CreateCompany(ctx, company); err != nil {
				return err
			}
			if err := q.Audit(ctx, sys, company.ID, "company", company.ID, "seed", nil, company); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		pw := in.Password
		if pw == "" {
			res.Password = randomSecret(15)
			pw = res.Password
		}
		cid := company.ID
		res.Admin, err = CreateUserTx(ctx, q, sys, UserInput{
			Email: in.Email, Name: in.Name, Role: store.RoleAdmin, CompanyID: &cid, Password: pw,
		}, s.clock)
		return err
	})
	if err != nil {
		return SeedResult{}, fmt.Errorf("seed: %w", err)
	}
	return res, nil
}

func randomSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+: it panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// SecretKey returns the configured key, or the one generated once and kept
// in the database so every process (and every restart) signs alike. Its
// generation is audited as the system actor; the value never is.
func (s *Service) SecretKey(ctx context.Context, configured string) ([]byte, error) {
	if configured != "" {
		return []byte(configured), nil
	}
	if k, err := s.st.R().Setting(ctx, "secret_key"); err == nil {
		return []byte(k), nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	mine := base64.RawStdEncoding.EncodeToString(b)
	var key string
	err := s.TxWith(ctx, func(tx *Tx) error {
		var err error
		if key, err = tx.q.SettingOrInit(ctx, "secret_key", mine); err != nil || key != mine {
			return err
		}
		return tx.q.Audit(ctx, SystemActor(), 0, "setting", 0, "generate", nil, map[string]string{"key": "secret_key"})
	})
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return []byte(key), nil
}

// ActingUser is whom an admin tool acts as: the active user with this
// address, or with none the first active admin. Never a user created for
// the occasion: a renamed or disabled seeded admin stays so.
func (s *Service) ActingUser(ctx context.Context, email string) (*store.User, error) {
	if email == "" {
		u, err := s.st.R().FirstActiveAdmin(ctx)
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFoundf("no active admin to act as (give --as EMAIL)")
		}
		return u, err
	}
	u, err := s.st.R().UserByEmail(ctx, store.AllCompanies(), email)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFoundf("acting user %s does not exist", email)
	}
	if err != nil {
		return nil, fmt.Errorf("acting user %s: %w", email, err)
	}
	if u.Disabled {
		return nil, notAllowedf("acting user %s is disabled", email)
	}
	return u, nil
}
