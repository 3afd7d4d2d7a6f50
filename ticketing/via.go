package ticketing

import (
	"context"

	"github.com/jcservicedesk/servicedesk/store"
)

// Channels a change comes through, as the audit log records them.
const (
	ViaCLI    = "cli"
	ViaMail   = "mail"
	ViaWeb    = "web"
	ViaCron   = "cron"
	ViaSystem = "system"
)

// WithVia returns ctx marking every change made under it as coming
// through via (detail: the operating-system user of the CLI, the mail
// source, the client address of the portal). Front doors call it once per
// request; the audit rows of the service then say so.
func WithVia(ctx context.Context, via, detail string) context.Context {
	return store.WithOrigin(ctx, store.Origin{Via: via, Detail: detail})
}
