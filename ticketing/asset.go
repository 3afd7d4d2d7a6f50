package ticketing

import (
	"context"
	"errors"
	"strings"

	"github.com/jcservicedesk/servicedesk/store"
)

// AssetInput is a new asset of a company.
type AssetInput struct {
	Company string // id or name
	Name    string
	Tag     string // inventory tag, e.g. "NB-0042"
	Kind    string // notebook, printer, licence…
	Serial  string
	Notes   string
}

// CreateAsset adds an asset to a company; tickets of that company can
// then be about it. Supervisors and admins; audited.
func (s *Service) CreateAsset(ctx context.Context, actor *store.User, in AssetInput) (*store.Asset, error) {
	if err := mayManageAssets(actor, "add"); err != nil {
		return nil, err
	}
	a := &store.Asset{Name: cleanAssetField(in.Name, 200), Tag: cleanAssetField(in.Tag, 100), Kind: cleanAssetField(in.Kind, 100),
		Serial: cleanAssetField(in.Serial, 100), Notes: truncate(strings.TrimSpace(in.Notes), 4000)}
	if a.Name == "" {
		return nil, invalidf("asset name is empty")
	}
	err := s.TxWith(ctx, func(tx *Tx) error {
		co, err := tx.q.CompanyByRef(ctx, in.Company)
		if err != nil {
			return mapStoreErr(err)
		}
		a.CompanyID = co.ID
		if a.Tag != "" {
			if _, err := tx.q.AssetByRef(ctx, co.ID, a.Tag); err == nil {
				return conflictf("company %q already has an asset tagged %q", co.Name, a.Tag)
			}
		}
		if err := tx.q.CreateAsset(ctx, a); err != nil {
			return err
		}
		return tx.q.Audit(ctx, actor, co.ID, "asset", a.ID, "create", nil, a)
	})
	return a, err
}

// Assets lists the assets actor may pick from: staff see those of
// companyID (every company when 0); a requester only their own
// company's, whatever companyID says.
func (s *Service) Assets(ctx context.Context, actor *store.User, companyID int64) ([]*store.Asset, error) {
	if actor == nil || actor.Disabled {
		return nil, notAllowedf("disabled users cannot list assets")
	}
	if !actor.IsStaff() {
		companyID = actor.CompanyIDValue()
		if companyID == 0 {
			return nil, nil
		}
	}
	return s.st.R().Assets(ctx, companyID)
}

// assetOf resolves ref (id, tag or name) to an asset of companyID: a
// ticket can only be about its own company's equipment.
func (tx *Tx) assetOf(ctx context.Context, companyID int64, ref string) (*int64, error) {
	a, err := tx.q.AssetByRef(ctx, companyID, strings.TrimSpace(ref))
	if err != nil {
		return nil, invalidf("unknown asset %q of the ticket's company", ref)
	}
	return &a.ID, nil
}

// CanManageAssets reports whether u may add, edit and delete assets
// (pages use it to show their forms).
func CanManageAssets(u *store.User) bool {
	return u != nil && !u.Disabled && (u.Role == store.RoleAdmin || u.Role == store.RoleSupervisor)
}

// mayManageAssets: supervisors and admins keep the asset register (staff
// work across companies, so no company narrows it).
func mayManageAssets(actor *store.User, verb string) error {
	if !CanManageAssets(actor) {
		return notAllowedf("only a supervisor or an admin may %s assets", verb)
	}
	return nil
}

func cleanAssetField(s string, max int) string {
	return truncate(strings.Join(strings.Fields(s), " "), max)
}

// AssetUpdate is what changes of an asset; nil fields stay as they are.
type AssetUpdate struct {
	// Company, when not "", must name the asset's own company (id or
	// name): a script that means Acme's asset 12 does not edit Globex's.
	// An asset never moves: its tickets are of its company.
	Company                        string
	Name, Tag, Kind, Serial, Notes *string
}

// assetForChange loads asset id for an update or a delete, checking that
// it is of company when one is given.
func (tx *Tx) assetForChange(ctx context.Context, id int64, company string) (*store.Asset, error) {
	a, err := tx.q.LockAsset(ctx, id)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	if company = strings.TrimSpace(company); company != "" {
		co, err := tx.q.CompanyByRef(ctx, company)
		if err != nil {
			return nil, mapStoreErr(err)
		}
		if co.ID != a.CompanyID {
			return nil, notAllowedf("asset %d is not of company %q", id, co.Name)
		}
	}
	return a, nil
}

// UpdateAsset changes asset id. Supervisors and admins; a tag stays
// unique within the company; audited with before and after.
func (s *Service) UpdateAsset(ctx context.Context, actor *store.User, id int64, in AssetUpdate) (*store.Asset, error) {
	if err := mayManageAssets(actor, "edit"); err != nil {
		return nil, err
	}
	var a *store.Asset
	err := s.TxWith(ctx, func(tx *Tx) error {
		var err error
		if a, err = tx.assetForChange(ctx, id, in.Company); err != nil {
			return err
		}
		before := *a
		set := func(dst *string, v *string, max int) {
			if v != nil {
				*dst = cleanAssetField(*v, max)
			}
		}
		set(&a.Name, in.Name, 200)
		set(&a.Tag, in.Tag, 100)
		set(&a.Kind, in.Kind, 100)
		set(&a.Serial, in.Serial, 100)
		if in.Notes != nil {
			a.Notes = truncate(strings.TrimSpace(*in.Notes), 4000)
		}
		if a.Name == "" {
			return invalidf("asset name is empty")
		}
		if a.Tag != "" && !strings.EqualFold(a.Tag, before.Tag) {
			other, err := tx.q.AssetByRef(ctx, a.CompanyID, a.Tag)
			if err == nil && other.ID != a.ID {
				return conflictf("the company already has an asset tagged %q", a.Tag)
			} else if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if err := tx.q.UpdateAsset(ctx, a); err != nil {
			return mapStoreErr(err)
		}
		return tx.q.Audit(ctx, actor, a.CompanyID, "asset", a.ID, "update", &before, a)
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// AssetDeletion is what DeleteAsset did: the asset, and the tickets that
// were about it and now are about none.
type AssetDeletion struct {
	Asset    *store.Asset `json:"asset"`
	Detached []int64      `json:"detached_tickets"` // ticket numbers
}

// DeleteAsset deletes asset id. Tickets about it are detached (their
// asset becomes none), each with its own audit row, rather than the
// delete refused: a retired notebook should leave the register, and
// the tickets keep their history (osTicket does the same with a deleted
// help topic; the schema's ON DELETE SET NULL already meant it).
// Supervisors and admins; company as in AssetUpdate. With dryRun the
// same checks run and nothing changes: what would be detached is said.
func (s *Service) DeleteAsset(ctx context.Context, actor *store.User, id int64, company string, dryRun bool) (*AssetDeletion, error) {
	if err := mayManageAssets(actor, "delete"); err != nil {
		return nil, err
	}
	out := &AssetDeletion{Detached: []int64{}}
	err := s.TxWith(ctx, func(tx *Tx) error {
		a, err := tx.assetForChange(ctx, id, company)
		if err != nil {
			return err
		}
		out.Asset = a
		ts, err := tx.q.TicketsOfAsset(ctx, a.ID)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if dryRun {
				out.Detached = append(out.Detached, t.Number)
				continue
			}
			if err := tx.q.Audit(ctx, actor, t.CompanyID, "ticket", t.ID, "update",
				map[string]any{"asset_id": a.ID}, map[string]any{"asset_id": nil, "reason": "asset deleted"}); err != nil {
				return err
			}
			out.Detached = append(out.Detached, t.Number)
		}
		if dryRun {
			return nil
		}
		if err := tx.q.DeleteAsset(ctx, a.ID); err != nil {
			return mapStoreErr(err)
		}
		return tx.q.Audit(ctx, actor, a.CompanyID, "asset", a.ID, "delete", a, map[string]any{"detached_tickets": out.Detached})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AssetTicketCounts counts, per asset id, the tickets about it (the
// admin page says what a delete would detach). Staff only.
func (s *Service) AssetTicketCounts(ctx context.Context, actor *store.User) (map[int64]int, error) {
	if actor == nil || actor.Disabled || !actor.IsStaff() {
		return nil, notAllowedf("only staff count the tickets of assets")
	}
	return s.st.R().CountTicketsOfAssets(ctx)
}
