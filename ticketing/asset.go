package ticketing

import (
	"context"
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
	if actor == nil || actor.Disabled || (actor.Role != store.RoleAdmin && actor.Role != store.RoleSupervisor) {
		return nil, notAllowedf("only a supervisor or an admin may add assets")
	}
	clean := func(s string, max int) string { return truncate(strings.Join(strings.Fields(s), " "), max) }
	a := &store.Asset{Name: clean(in.Name, 200), Tag: clean(in.Tag, 100), Kind: clean(in.Kind, 100),
		Serial: clean(in.Serial, 100), Notes: truncate(strings.TrimSpace(in.Notes), 4000)}
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
