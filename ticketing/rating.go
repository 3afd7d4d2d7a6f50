package ticketing

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
)

// Rating links. The closing mail carries /tickets/rate/<token>: signed
// (SignState, purpose "rate"), bound to the ticket and to the closing it
// was sent for (a ticket reopened and closed again gets a new link),
// expiring after the rating TTL (default 30 days) and good for one
// rating. A GET of the link shows the form (RatingForm) without spending
// it, because mail scanners fetch every link; only the POST
// (RateByToken) records the rating.
//
// Links mailed before, /tickets/N/rate?t=<t1…> (the reply-token format
// keyed with "rate:" and the secret, never expiring), keep working under
// the same rules: the web passes the t parameter as the token, and they
// expire the rating TTL after the ticket was closed.

const purposeRate = "rate"

// DefaultRatingTTL is how long a rating link works.
const DefaultRatingTTL = 30 * 24 * time.Hour

// Labels of the stars (the old app's), pt-BR and English.
var ratingLabels = [6][2]string{{}, {"Ruim", "Poor"}, {"Regular", "Fair"}, {"Bom", "Good"},
	{"Muito Bom", "Very good"}, {"Excelente", "Excellent"}}

// RatingLabel names a rating of 1 to 5 in lang ("en", else pt-BR).
func RatingLabel(stars int, lang string) string {
	if stars < 1 || stars > 5 {
		return ""
	}
	if lang == "en" {
		return ratingLabels[stars][1]
	}
	return ratingLabels[stars][0]
}

// WithRatingTTL sets how long rating links work (tickets.rating_ttl).
func WithRatingTTL(d time.Duration) Option {
	return func(s *Service) {
		if d > 0 {
			s.ratingTTL = d
		}
	}
}

func (s *Service) ratingTTLValue() time.Duration {
	if s.ratingTTL > 0 {
		return s.ratingTTL
	}
	return DefaultRatingTTL
}

// closeStamp is the closing a rating link belongs to.
func closeStamp(t *store.Ticket) int64 {
	if t.ClosedAt == nil {
		return 0
	}
	return t.ClosedAt.UTC().UnixMicro()
}

// RatingToken is the rating link token for closed ticket t (the closing
// mail calls it). It is "" for a ticket that is not closed.
func (s *Service) RatingToken(t *store.Ticket) string {
	if t == nil || t.Status != store.StatusClosed || t.ClosedAt == nil {
		return ""
	}
	data := make([]byte, 16)
	binary.BigEndian.PutUint64(data, uint64(t.ID))
	binary.BigEndian.PutUint64(data[8:], uint64(closeStamp(t)))
	return s.SignState(purposeRate, data, s.ratingTTLValue())
}

// RatingView is what the rating page shows before anything is recorded.
type RatingView struct {
	Number        int64
	Subject       string
	RequesterName string
	Lang          string    // the requester's language, "" = default
	Expires       time.Time // when the link stops working
}

// ratingLink is an opened rating token.
type ratingLink struct {
	ticket  *store.Ticket
	expires time.Time
	legacy  bool
}

// openRating checks a rating token (either format) in tx and loads its
// ticket, without spending it. Anything wrong is ErrBadToken: the page
// says only that the link no longer works.
func (tx *Tx) openRating(ctx context.Context, token string) (*ratingLink, error) {
	s := tx.s
	if id, ok := verifyLegacyRating(s.accounts().cfg.Secret, token); ok {
		t, err := tx.q.Ticket(ctx, store.AllCompanies(), id, true)
		if errors.Is(err, store.ErrNotFound) {
			return nil, ErrBadToken
		} else if err != nil {
			return nil, err
		}
		if t.Status != store.StatusClosed || t.ClosedAt == nil {
			return nil, ErrBadToken
		}
		exp := t.ClosedAt.Add(s.ratingTTLValue())
		if !s.clock().Before(exp) {
			return nil, ErrBadToken
		}
		return &ratingLink{ticket: t, expires: exp, legacy: true}, nil
	}
	data, exp, err := s.openState(purposeRate, token)
	if err != nil {
		return nil, err
	}
	if len(data) != 16 {
		return nil, ErrBadToken
	}
	t, err := tx.q.Ticket(ctx, store.AllCompanies(), int64(binary.BigEndian.Uint64(data)), true)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrBadToken
	} else if err != nil {
		return nil, err
	}
	// Reopened since, or closed again: this link was for another closing.
	if t.Status != store.StatusClosed || closeStamp(t) != int64(binary.BigEndian.Uint64(data[8:])) {
		return nil, ErrBadToken
	}
	return &ratingLink{ticket: t, expires: exp}, nil
}

// ratedThisCycle reports whether t was rated after its last closing.
func ratedThisCycle(t *store.Ticket) bool {
	return t.RatedAt != nil && t.ClosedAt != nil && !t.RatedAt.Before(*t.ClosedAt)
}

// RatingForm checks a rating link and says what to show, spending
// nothing (a GET). A used, expired, forged or superseded link is
// ErrBadToken.
func (s *Service) RatingForm(ctx context.Context, token string) (*RatingView, error) {
	var v *RatingView
	err := s.TxWith(ctx, func(tx *Tx) error {
		l, err := tx.openRating(ctx, token)
		if err != nil {
			return err
		}
		if ratedThisCycle(l.ticket) { // the link was used (or the requester rated in the portal)
			return ErrBadToken
		}
		t := l.ticket
		v = &RatingView{Number: t.Number, Subject: t.Subject, Expires: l.expires}
		req, err := tx.q.User(ctx, store.AllCompanies(), t.RequesterID)
		if err != nil {
			return err
		}
		v.RequesterName, v.Lang = req.Name, req.Language
		return nil
	})
	return v, err
}

// RateByToken records the rating (1 to 5 stars and an optional comment)
// a rating link carries, as the ticket's requester, and spends the link.
func (s *Service) RateByToken(ctx context.Context, token string, stars int, comment string) (*store.Ticket, error) {
	if stars < 1 || stars > 5 {
		return nil, invalidf("rating must be 1 to 5, not %d", stars)
	}
	comment = strings.TrimSpace(comment)
	if len(comment) > 4000 {
		return nil, invalidf("the rating comment is longer than 4000 bytes")
	}
	var t *store.Ticket
	err := s.TxWith(ctx, func(tx *Tx) error {
		l, err := tx.openRating(ctx, token)
		if err != nil {
			return err
		}
		t = l.ticket
		if ratedThisCycle(t) {
			return ErrBadToken
		}
		if err := tx.useOnce(ctx, purposeRate, token, l.expires); err != nil {
			return err
		}
		requester, err := tx.q.User(ctx, store.AllCompanies(), t.RequesterID)
		if err != nil {
			return err
		}
		before := map[string]any{"rating": t.Rating}
		now := tx.s.clock()
		t.Rating, t.RatingComment, t.RatedAt = &stars, comment, &now
		if err := tx.q.UpdateTicket(ctx, t); err != nil {
			return err
		}
		after := map[string]any{"rating": stars, "comment": comment, "via_link": true, "legacy_link": l.legacy}
		if err := tx.q.Audit(ctx, requester, t.CompanyID, "ticket", t.ID, "rate", before, after); err != nil {
			return err
		}
		tx.emit(Event{Kind: EventRated, Ticket: t, Actor: requester})
		return nil
	})
	if err != nil {
		return nil, err
	}
	redactInternal(t) // the caller shows it to whoever held the link
	return t, nil
}

// verifyLegacyRating checks a rating token of the links mailed before
// (mailbox/thread's reply-token format, keyed with "rate:" + secret) and
// returns its ticket id. The format is repeated here because ticketing
// does not import the mail packages.
func verifyLegacyRating(secret []byte, token string) (int64, bool) {
	if len(secret) == 0 || len(token) < 4 || len(token) > 64 {
		return 0, false
	}
	body, ok := strings.CutPrefix(strings.ToLower(token), "t1")
	if !ok {
		return 0, false
	}
	raw, err := legacyB32.DecodeString(body)
	if err != nil || legacyB32.EncodeToString(raw) != body {
		return 0, false
	}
	id, n := binary.Uvarint(raw)
	if n <= 0 || id == 0 || id > 1<<63-1 || len(raw)-n != 10 || n != len(binary.AppendUvarint(nil, id)) {
		return 0, false
	}
	m := hmac.New(sha256.New, append([]byte("rate:"), secret...))
	var idb [8]byte
	binary.BigEndian.PutUint64(idb[:], id)
	m.Write([]byte("jcservicedesk reply-token v1\x00"))
	m.Write(idb[:])
	if !hmac.Equal(raw[n:], m.Sum(nil)[:10]) {
		return 0, false
	}
	return int64(id), true
}

var legacyB32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
