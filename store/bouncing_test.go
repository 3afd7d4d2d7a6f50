package store_test

import (
	"context"
	"maps"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

func TestBouncingAmong(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		err := s.InTx(ctx, func(q *store.Q) error {
			for _, a := range []string{"gone@x.example", "Also.Gone@X.example", "back@x.example"} {
				if err := q.MarkBouncing(ctx, a, "550 no such user"); err != nil {
					return err
				}
			}
			_, err := q.ClearBouncing(ctx, "back@x.example")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.R().BouncingAmong(ctx, []string{"GONE@x.example", "also.gone@x.example", "back@x.example", "fine@x.example"})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]bool{"gone@x.example": true, "also.gone@x.example": true}; !maps.Equal(got, want) {
			t.Errorf("BouncingAmong = %v, want %v", got, want)
		}
		if got, err := s.R().BouncingAmong(ctx, nil); err != nil || len(got) != 0 {
			t.Errorf("no addresses: %v %v", got, err)
		}
	})
}
