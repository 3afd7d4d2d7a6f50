package ticketing_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

func TestProfileAndAvatar(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := newAcct(t, st, ticketing.AccountConfig{})
		u := a.client
		for _, bad := range []ticketing.ProfileInput{
			{Name: " "}, {Name: "M", Language: "fr"}, {Name: "M", TimeZone: "Mars/Olympus"}, {Name: "M", NotifyOff: []string{"nope"}},
		} {
			if _, err := a.svc.UpdateProfile(ctx, u, bad); !errors.Is(err, ticketing.ErrInvalid) {
				t.Errorf("%+v: %v", bad, err)
			}
		}
		got, err := a.svc.UpdateProfile(ctx, u, ticketing.ProfileInput{Name: " Maria  Souza ", Language: "en", TimeZone: "America/Manaus",
			NotifyOff: []string{ticketing.NoticeKinds[0]}})
		if err != nil || got.Name != "Maria Souza" || got.Language != "en" || got.TimeZone != "America/Manaus" || ticketing.WantsNotice(got, ticketing.NoticeKinds[0]) {
			t.Fatalf("%+v %v", got, err)
		}
		// A JPEG of 300×200 becomes a 128×128 PNG.
		src := image.NewRGBA(image.Rect(0, 0, 300, 200))
		for x := range 300 {
			for y := range 200 {
				src.Set(x, y, color.RGBA{uint8(x), uint8(y), 90, 255})
			}
		}
		var jb bytes.Buffer
		_ = jpeg.Encode(&jb, src, nil)
		if err := a.svc.SetAvatar(ctx, u, []byte("not a picture")); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("garbage: %v", err)
		}
		if err := a.svc.SetAvatar(ctx, u, jb.Bytes()); err != nil {
			t.Fatal(err)
		}
		data, typ, err := a.svc.Avatar(ctx, a.colleague, u.ID)
		if err != nil || typ != "image/png" {
			t.Fatalf("colleague sees: %q %v", typ, err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil || img.Bounds().Dx() != 128 || img.Bounds().Dy() != 128 {
			t.Fatalf("stored %v %v", img.Bounds(), err)
		}
		if a.user(t, u.Email).AvatarType != "image/png" {
			t.Fatal("avatar type not on the user")
		}
		if _, _, err := a.svc.Avatar(ctx, a.outsider, u.ID); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("another company's client: %v", err)
		}
		if _, _, err := a.svc.Avatar(ctx, a.tech, u.ID); err != nil {
			t.Fatalf("staff: %v", err)
		}
		if err := a.svc.SetAvatar(ctx, u, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.svc.Avatar(ctx, u, u.ID); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("removed: %v", err)
		}
	})
}
