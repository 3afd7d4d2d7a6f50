package ticketing_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

func strp(s string) *string { return &s }

// TestAssetUpdateDeletePolicy: who may edit and delete an asset, and the
// company guard that keeps a script from changing another company's.
func TestAssetUpdateDeletePolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		disabled := *w.admin
		disabled.Disabled = true
		for _, tc := range []struct {
			name    string
			actor   *store.User
			company string // the AssetUpdate.Company / DeleteAsset guard
			want    error  // nil: allowed
		}{
			{"admin", w.admin, "", nil},
			{"supervisor", w.superv, "", nil},
			{"supervisor naming the asset's company", w.superv, "acme", nil},
			{"admin naming another company", w.admin, "Globex", ticketing.ErrNotAllowed},
			{"admin naming no such company", w.admin, "Initech", ticketing.ErrNotFound},
			{"tech", w.tech, "", ticketing.ErrNotAllowed},
			{"client of the asset's company", w.client, "", ticketing.ErrNotAllowed},
			{"client of another company", w.outsider, "", ticketing.ErrNotAllowed},
			{"disabled admin", &disabled, "", ticketing.ErrNotAllowed},
			{"nobody", nil, "", ticketing.ErrNotAllowed},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a, err := w.svc.CreateAsset(ctx, w.admin, ticketing.AssetInput{Company: "Acme", Name: "NB " + tc.name})
				if err != nil {
					t.Fatal(err)
				}
				up, err := w.svc.UpdateAsset(ctx, tc.actor, a.ID, ticketing.AssetUpdate{Company: tc.company, Name: strp("  Novo   nome ")})
				if !errOK(err, tc.want) {
					t.Fatalf("update: %v, want %v", err, tc.want)
				}
				if err == nil && up.Name != "Novo nome" {
					t.Fatalf("updated %+v", up)
				}
				if err != nil {
					if got, _ := st.R().Asset(ctx, a.ID); got.Name != a.Name {
						t.Fatalf("a refused update changed the asset: %+v", got)
					}
				}
				_, err = w.svc.DeleteAsset(ctx, tc.actor, a.ID, tc.company, false)
				if !errOK(err, tc.want) {
					t.Fatalf("delete: %v, want %v", err, tc.want)
				}
				_, gerr := st.R().Asset(ctx, a.ID)
				if gone := errors.Is(gerr, store.ErrNotFound); gone != (tc.want == nil) {
					t.Fatalf("deleted %v after %v", gone, err)
				}
			})
		}
	})
}

func errOK(err, want error) bool {
	if want == nil {
		return err == nil
	}
	return errors.Is(err, want)
}

// TestAssetUpdateDelete: the fields, the tag rule, a missing asset, and
// a delete that detaches the tickets about the asset, audited.
func TestAssetUpdateDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		nb, err := w.svc.CreateAsset(ctx, w.admin, ticketing.AssetInput{Company: "Acme", Name: "Notebook", Tag: "NB-1", Serial: "S1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.CreateAsset(ctx, w.admin, ticketing.AssetInput{Company: "Acme", Name: "Impressora", Tag: "PR-1"}); err != nil {
			t.Fatal(err)
		}
		gx, err := w.svc.CreateAsset(ctx, w.admin, ticketing.AssetInput{Company: "Globex", Name: "Servidor", Tag: "NB-2"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.UpdateAsset(ctx, w.admin, nb.ID, ticketing.AssetUpdate{Tag: strp("pr-1")}); !errors.Is(err, ticketing.ErrConflict) {
			t.Fatalf("a tag of the same company: %v", err)
		}
		if _, err := w.svc.UpdateAsset(ctx, w.admin, nb.ID, ticketing.AssetUpdate{Name: strp("   ")}); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("no name: %v", err)
		}
		if _, err := w.svc.UpdateAsset(ctx, w.admin, 999999, ticketing.AssetUpdate{Name: strp("x")}); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("no such asset: %v", err)
		}
		// Another company's tag is no conflict; the tag's own case may change.
		up, err := w.svc.UpdateAsset(ctx, w.superv, nb.ID, ticketing.AssetUpdate{Tag: strp("nb-2"), Kind: strp("notebook")})
		if err != nil || up.Tag != "nb-2" || up.Kind != "notebook" || up.Serial != "S1" || up.Name != "Notebook" || up.CompanyID != w.acme.ID {
			t.Fatalf("%+v %v", up, err)
		}
		if _, err := w.svc.UpdateAsset(ctx, w.superv, nb.ID, ticketing.AssetUpdate{Tag: strp("NB-2")}); err != nil {
			t.Fatalf("the same tag in another case: %v", err)
		}
		log, err := st.R().AuditLog(ctx, "asset", nb.ID)
		if err != nil || len(log) != 3 || log[1].Action != "update" || !strings.Contains(log[1].Before, `"NB-1"`) || !strings.Contains(log[1].After, `"nb-2"`) {
			t.Fatalf("asset audit %v %+v", err, log)
		}

		t1, err := w.svc.Create(ctx, w.client, ticketing.CreateInput{Requester: w.client, Subject: "a", Body: "b", Asset: itoa(nb.ID)})
		if err != nil {
			t.Fatal(err)
		}
		t2, err := w.svc.Create(ctx, w.client, ticketing.CreateInput{Requester: w.client, Subject: "c", Body: "d", Asset: "NB-2"})
		if err != nil || t2.AssetID == nil || *t2.AssetID != nb.ID {
			t.Fatalf("%+v %v", t2, err)
		}
		gt, err := w.svc.Create(ctx, w.outsider, ticketing.CreateInput{Requester: w.outsider, Subject: "e", Body: "f", Asset: itoa(gx.ID)})
		if err != nil {
			t.Fatal(err)
		}
		counts, err := w.svc.AssetTicketCounts(ctx, w.admin)
		if err != nil || counts[nb.ID] != 2 || counts[gx.ID] != 1 {
			t.Fatalf("counts %v %v", counts, err)
		}
		before, _ := st.R().AuditLog(ctx, "ticket", t1.ID)
		dry, err := w.svc.DeleteAsset(ctx, w.superv, nb.ID, "Acme", true)
		if err != nil || !slices.Equal(dry.Detached, []int64{t1.Number, t2.Number}) {
			t.Fatalf("dry run %+v %v", dry, err)
		}
		after, _ := st.R().AuditLog(ctx, "ticket", t1.ID)
		if _, err := st.R().Asset(ctx, nb.ID); err != nil || len(after) != len(before) {
			t.Fatalf("a dry run changed something: %v, audit %d → %d", err, len(before), len(after))
		}
		if _, err := w.svc.DeleteAsset(ctx, w.tech, nb.ID, "", true); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("a tech's dry run: %v", err)
		}
		del, err := w.svc.DeleteAsset(ctx, w.admin, nb.ID, "", false)
		if err != nil || del.Asset.ID != nb.ID || !slices.Equal(del.Detached, []int64{t1.Number, t2.Number}) {
			t.Fatalf("%+v %v", del, err)
		}
		for _, n := range []int64{t1.Number, t2.Number} {
			v, err := w.svc.Get(ctx, w.admin, n)
			if err != nil || v.Ticket.AssetID != nil {
				t.Fatalf("ticket #%d still about the deleted asset: %v", n, err)
			}
			log, err := st.R().AuditLog(ctx, "ticket", v.Ticket.ID)
			last := log[len(log)-1]
			if err != nil || last.Action != "update" || !strings.Contains(last.After, `"asset_id":null`) || !strings.Contains(last.After, "asset deleted") {
				t.Fatalf("ticket audit %v %+v", err, last)
			}
		}
		if v, err := w.svc.Get(ctx, w.admin, gt.Number); err != nil || v.Ticket.AssetID == nil || *v.Ticket.AssetID != gx.ID {
			t.Fatalf("another company's ticket lost its asset: %v", err)
		}
		log, err = st.R().AuditLog(ctx, "asset", nb.ID)
		if err != nil || log[len(log)-1].Action != "delete" {
			t.Fatalf("asset audit %v %+v", err, log)
		}
		if _, err := w.svc.DeleteAsset(ctx, w.admin, nb.ID, "", false); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("deleting twice: %v", err)
		}
	})
}
