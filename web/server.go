// Package web is the portal: server-rendered pages over the ticketing
// service. Handlers parse input, call one ticketing function and render;
// every rule about who may see what is asked of ticketing.
package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
	"github.com/jcservicedesk/servicedesk/web/sse"
)

// Deps is what the portal needs from the process.
type Deps struct {
	Cfg *configs.Config
	Svc *ticketing.Service
	Log *slog.Logger
	Now func() time.Time
	// Reprocess runs a quarantined message through the mail intake again
	// (mailbox/intake, which web may not import; cmd wires it). Nil: the
	// quarantine page offers no reprocess.
	Reprocess func(ctx context.Context, actor *store.User, id int64) (Reprocessed, error)
	// Live tunes the live pages' hub (notify.go).
	Live LiveOptions
}

// Reprocessed is what a reprocess did with the message.
type Reprocessed struct {
	Action       string // "ticket", "comment", "quarantine", "duplicate", "ignored", "bounce"
	TicketNumber int64  // for ticket and comment
	QuarantineID int64  // for quarantine: the new entry holding it
	Reason       string
}

// Server holds the portal's dependencies and its parsed templates.
type Server struct {
	cfg       *configs.Config
	svc       *ticketing.Service
	sessions  sessions
	log       *slog.Logger
	now       func() time.Time
	reprocess func(ctx context.Context, actor *store.User, id int64) (Reprocessed, error)

	secure  bool   // public URL is https: Secure cookies, HSTS
	key     []byte // signs flash and anonymous CSRF cookies
	i18n    *catalog
	pages   map[string]*page
	static  *assets
	proxies *proxies
	handler http.Handler
	hub     *sse.Hub // the live pages' one hub (notify.go)
	live    LiveOptions

	presence *presence // who is on which ticket (presence.go); RunPresence hears the other processes
}

// New builds the portal. Every template is parsed here: a broken one stops
// start-up, never a request.
func New(d Deps) (*Server, error) {
	if d.Cfg == nil || d.Svc == nil {
		return nil, fmt.Errorf("web: config and service are required")
	}
	s := &Server{cfg: d.Cfg, svc: d.Svc, log: d.Log, now: d.Now, reprocess: d.Reprocess}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.sessions = d.Svc
	s.secure = isHTTPS(d.Cfg.HTTP.PublicURL)
	var err error
	if s.key, err = webKey(d.Svc); err != nil {
		return nil, err
	}
	if s.proxies, err = parseProxies(d.Cfg.HTTP.TrustedProxies); err != nil {
		return nil, err
	}
	if s.i18n, err = loadCatalog(d.Cfg.UI.Language); err != nil {
		return nil, err
	}
	if s.static, err = loadAssets(); err != nil {
		return nil, err
	}
	if s.pages, err = s.parseTemplates(templateFS); err != nil {
		return nil, err
	}
	s.newHub(liveOptions(d.Cfg.Live, d.Live))
	s.presence = newPresence(d.Svc.Store(), s.hub, s.now, s.log.With("component", "presence"))
	mux := http.NewServeMux()
	s.routes(mux)
	s.handler = s.middleware(mux)
	return s, nil
}

// Handler is the whole portal, static files included.
func (s *Server) Handler() http.Handler { return s.handler }

func isHTTPS(publicURL string) bool { return strings.HasPrefix(strings.ToLower(publicURL), "https://") }
