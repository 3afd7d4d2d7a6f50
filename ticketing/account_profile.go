package ticketing

import (
	"bytes"
	"context"
	"image"
	_ "image/gif" // avatar uploads
	_ "image/jpeg"
	"image/png"
	"strings"
	"time"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"

	"github.com/jcservicedesk/servicedesk/store"
)

// The profile: name, language, time zone, notices and the avatar.

// ProfileInput is what a person may change about themselves.
type ProfileInput struct {
	Name      string
	Language  string // "pt-BR" or "en"
	TimeZone  string // IANA zone, "" = the company's
	NotifyOn  []string
	NotifyOff []string
}

// UpdateProfile saves the actor's own name, language, zone and notices.
func (s *Service) UpdateProfile(ctx context.Context, actor *store.User, in ProfileInput) (*store.User, error) {
	name := strings.Join(strings.Fields(in.Name), " ")
	if name == "" {
		return nil, invalidf("name is empty")
	}
	if len(name) > 200 {
		return nil, invalidf("name is longer than 200 characters")
	}
	if in.Language != "" && in.Language != "pt-BR" && in.Language != "en" {
		return nil, invalidf("unknown language %q (want pt-BR or en)", in.Language)
	}
	if err := ValidTimeZone(in.TimeZone); err != nil {
		return nil, err
	}
	var u *store.User
	err := s.TxWith(ctx, func(tx *Tx) error {
		var err error
		if u, err = tx.ownAccount(ctx, actor); err != nil {
			return err
		}
		before := map[string]any{"name": u.Name, "language": u.Language, "time_zone": u.TimeZone, "notify_prefs": u.NotifyPrefs}
		u.Name, u.Language, u.TimeZone = name, in.Language, in.TimeZone
		if err := SetNoticePrefs(u, in.NotifyOn, in.NotifyOff); err != nil {
			return err
		}
		if err := tx.q.UpdateUser(ctx, u); err != nil {
			return err
		}
		*actor = *u
		return tx.q.Audit(ctx, u, u.CompanyIDValue(), "user", u.ID, "profile_update", before,
			map[string]any{"name": u.Name, "language": u.Language, "time_zone": u.TimeZone, "notify_prefs": u.NotifyPrefs})
	})
	return u, err
}

// ValidTimeZone accepts "" and IANA zone names.
func ValidTimeZone(tz string) error {
	if tz == "" {
		return nil
	}
	if tz == "Local" || strings.HasPrefix(tz, "/") || strings.Contains(tz, "..") {
		return invalidf("unknown time zone %q", tz)
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return invalidf("unknown time zone %q (want an IANA name such as America/Sao_Paulo)", tz)
	}
	return nil
}

// Avatar limits: what is accepted, and what is kept.
const (
	maxAvatarBytes  = 5 << 20
	maxAvatarPixels = 40_000_000
	avatarSize      = 128
)

// SetAvatar stores a picture as the actor's avatar: PNG, JPEG, GIF or
// WebP, cropped to the centre square and kept as a 128×128 PNG (which
// also drops whatever metadata came with it). nil data removes it.
func (s *Service) SetAvatar(ctx context.Context, actor *store.User, data []byte) error {
	var out []byte
	if data != nil {
		var err error
		if out, err = avatarPNG(data); err != nil {
			return err
		}
	}
	return s.TxWith(ctx, func(tx *Tx) error {
		u, err := tx.ownAccount(ctx, actor)
		if err != nil {
			return err
		}
		typ := "image/png"
		if err := tx.q.SetAvatar(ctx, u.ID, out, typ, s.clock()); err != nil {
			return err
		}
		if out == nil {
			typ = ""
		}
		actor.AvatarType = typ
		return tx.q.Audit(ctx, u, u.CompanyIDValue(), "user", u.ID, "avatar", nil, map[string]any{"avatar": typ != ""})
	})
}

func avatarPNG(data []byte) ([]byte, error) {
	if len(data) == 0 || len(data) > maxAvatarBytes {
		return nil, invalidf("the picture must be between 1 byte and 5 MB")
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, invalidf("not a PNG, JPEG, GIF or WebP picture")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxAvatarPixels {
		return nil, invalidf("the picture is too large (%d×%d)", cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, invalidf("unreadable picture")
	}
	b := img.Bounds()
	side := min(b.Dx(), b.Dy())
	x0 := b.Min.X + (b.Dx()-side)/2
	y0 := b.Min.Y + (b.Dy()-side)/2
	dst := image.NewRGBA(image.Rect(0, 0, avatarSize, avatarSize))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, image.Rect(x0, y0, x0+side, y0+side), draw.Src, nil)
	var buf bytes.Buffer
	if err := png.Encode(&buf, dst); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Avatar returns the avatar of a user and its content type, if viewer
// may see that user: themselves, staff (anyone), anyone (a member of
// staff's avatar), or a colleague of a company that shares tickets.
func (s *Service) Avatar(ctx context.Context, viewer *store.User, userID int64) ([]byte, string, error) {
	if viewer == nil || viewer.Disabled {
		return nil, "", notAllowedf("sign in first")
	}
	r := s.st.R()
	u, err := r.User(ctx, store.AllCompanies(), userID)
	if err != nil {
		return nil, "", mapStoreErr(err)
	}
	ok := viewer.ID == u.ID || viewer.IsStaff() || u.IsStaff()
	if !ok && viewer.CompanyID != nil && u.CompanyIDValue() == *viewer.CompanyID {
		c, err := r.Company(ctx, *viewer.CompanyID)
		if err != nil {
			return nil, "", mapStoreErr(err)
		}
		ok = c.ShareTickets
	}
	if !ok {
		return nil, "", notFoundf("user %d", userID)
	}
	a, err := r.Avatar(ctx, u.ID)
	if err != nil {
		return nil, "", mapStoreErr(err)
	}
	return a.Data, a.ContentType, nil
}
