package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/mailbox/poller"
	"github.com/jcservicedesk/servicedesk/mailbox/sender"
	"github.com/jcservicedesk/servicedesk/mailbox/smtpd"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/web"
)

func (a *app) serveCommand() *cobra.Command {
	var httpAddr, cpuProfile string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: SMTP receiver, IMAP pollers, outbound mail sender, HTTP health checks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			cfg, err := a.config()
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("http-addr") {
				cfg.HTTP.Addr = httpAddr
			}
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			d := &daemon{app: a, st: st}
			return d.run(ctx)
		},
	}
	cmd.Flags().StringVar(&httpAddr, "http-addr", "", "HTTP listen address (overrides http.addr)")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to this file until shutdown (for load tests)")
	return cmd
}

// daemon is what `servicedesk serve` runs.
type daemon struct {
	app *app
	st  *store.Store

	mu     sync.Mutex
	checks map[string]func() (bool, any) // extra /readyz details by name; false makes it 503
}

func (d *daemon) addCheck(name string, fn func() (bool, any)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.checks == nil {
		d.checks = map[string]func() (bool, any){}
	}
	d.checks[name] = fn
}

// run starts the components and joins them. The transports (SMTP
// receiver, IMAP pollers), the sender and the HTTP server run until ctx
// ends or one of them fails; the intake's group committer, which the
// transports feed, stops only after they all returned, and the caller
// closes the store only after run returns.
func (d *daemon) run(ctx context.Context) error {
	cfg, log := d.app.cfg, d.app.log
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", d.readyz)
	m := newMetrics(storeOutbox{d.st}, log)
	mux.Handle("GET /metrics", m.handler(cfg.Metrics))
	// The portal answers everything else; a broken template stops here.
	in, err := d.app.newIntake(ctx)
	if err != nil {
		return err
	}
	portal, err := web.New(web.Deps{Cfg: cfg, Svc: d.app.svc, Log: log.With("component", "web"), Reprocess: webReprocess(in)})
	if err != nil {
		return err
	}
	mux.Handle("/", portal.Handler())

	// Everything is built and bound before anything starts: a bad address
	// or certificate stops start-up with nothing to undo.
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("http: listen %s: %w", cfg.HTTP.Addr, err)
	}
	defer ln.Close()
	srv := &http.Server{Handler: m.instrument(mux), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	// Live streams never end by themselves: Shutdown would wait for them.
	srv.RegisterOnShutdown(portal.CloseStreams)
	var smtpSrv *smtpd.Server
	var sln net.Listener
	if cfg.SMTP.Addr != "" {
		scfg, err := smtpConfig(cfg)
		if err != nil {
			return err
		}
		smtpSrv = smtpd.New(scfg, m.deliverer(in), log)
		m.watchSMTP(smtpSrv.Stats)
		if sln, err = net.Listen("tcp", cfg.SMTP.Addr); err != nil {
			return fmt.Errorf("smtp: listen %s: %w", cfg.SMTP.Addr, err)
		}
		defer sln.Close()
	}
	snd := sender.New(d.app.senderConfig(), m.queue(newOutboxQueue(d.st, d.app.outbound)), log)
	d.app.outbound.OnQueued(snd.Wake)
	d.addCheck("outbox", func() (bool, any) {
		st := snd.Status()
		return true, map[string]any{"healthy": st.ConsecutiveFailures < 5, "status": st}
	})
	var pollers *poller.Group
	if len(cfg.IMAP.Mailboxes) > 0 {
		var ps []*poller.Poller
		for _, mb := range cfg.IMAP.Mailboxes {
			ps = append(ps, poller.New(poller.Mailbox{
				Name: mb.Name, Host: mb.Host, Port: mb.Port, Security: mb.Security, Username: mb.Username,
				Password: mb.Password, Folder: mb.Folder, After: mb.After, PollInterval: mb.PollInterval, Address: mb.Address,
			}, m.deliverer(in), imapState{d.st}, d.st, log.With("component", "imap", "mailbox", mb.Name)))
		}
		pollers = poller.NewGroup(ps...)
		// A failing mailbox shows in the details but does not take the
		// process out of rotation: the portal and SMTP still work. A stuck
		// one does (the intake keeps failing one message, so the mail
		// behind it is not arriving): that is this process's fault, and
		// monitoring must see it.
		d.addCheck("imap", func() (bool, any) {
			sts := pollers.Statuses()
			return !slices.ContainsFunc(sts, func(s poller.Status) bool { return s.Stuck }), sts
		})
		m.watchIMAP(pollers.Statuses)
	}

	// The committer first, on a context of its own: it must outlive every
	// transport that may still hand it a message while draining.
	commitCtx, stopCommit := context.WithCancel(context.WithoutCancel(ctx))
	defer stopCommit()
	committed := make(chan error, 1)
	go func() { committed <- in.Run(commitCtx) }()

	g, gctx := errgroup.WithContext(ctx)
	if smtpSrv != nil {
		// On shutdown, messages being received finish and commit within
		// smtp.shutdown_timeout; other commands get 421.
		g.Go(func() error { return wrapErr("smtp", smtpSrv.Run(gctx, sln)) })
		log.Info("smtp receiving", "addr", sln.Addr().String(), "addresses", cfg.Mail.Addresses)
	}
	g.Go(func() error { return wrapErr("sender", snd.Run(gctx)) })
	// The live pages' hub: one reader of the event log, woken by LISTEN
	// (PostgreSQL) or a short poll (SQLite).
	g.Go(func() error { return wrapErr("live", portal.RunLive(gctx)) })
	// Presence (who is on which ticket) from the other processes: NOTIFY
	// sd_presence on PostgreSQL.
	g.Go(func() error { return wrapErr("presence", portal.RunPresence(gctx)) })
	// SLA checks and retention, when jobs.enabled: the same code and lease
	// as cron's commands, so several serve processes run each job once.
	g.Go(func() error { return wrapErr("jobs", newJobs(d.app).Run(gctx)) })
	if cfg.Mail.SuppressSend {
		log.Info("outbound mail suppressed: written as .eml files", "dir", cfg.Mail.OutboxDir)
	}
	if pollers != nil {
		g.Go(func() error { return wrapErr("imap", pollers.Run(gctx)) })
	}
	// HTTP stops with the others: a balancer sees the drain as "not ready".
	g.Go(func() error {
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		select {
		case err := <-served:
			return wrapErr("http", err)
		case <-gctx.Done():
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(gctx), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			log.Warn("http shutdown", "err", err)
		}
		<-served
		return nil
	})
	log.Info("servicedesk serving", "http", ln.Addr().String(), "url", cfg.HTTP.PublicURL, "database", d.st.Driver())

	<-gctx.Done()
	if ctx.Err() != nil {
		log.Info("shutting down")
	}
	err = g.Wait()
	if err != nil {
		log.Error("stopped after error", "err", err)
	}
	stopCommit()
	if cerr := <-committed; cerr != nil {
		err = errors.Join(err, fmt.Errorf("intake: %w", cerr))
	}
	log.Info("stopped")
	return err
}

// wrapErr names the component an error came from; a clean stop is nil.
func wrapErr(component string, err error) error {
	if err == nil || errors.Is(err, http.ErrServerClosed) || errors.Is(err, smtpd.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("%s: %w", component, err)
}

func (d *daemon) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	status := map[string]any{}
	ok := true
	if err := d.st.Ping(ctx); err != nil {
		ok = false
		// The detail goes to the log: /readyz answers anyone, and a
		// driver's error can name hosts, users and schemas.
		d.app.log.Warn("readyz: database unavailable", "err", err)
		status["database"] = map[string]any{"ok": false, "error": "unavailable"}
	} else {
		status["database"] = map[string]any{"ok": true, "driver": d.st.Driver()}
	}
	d.mu.Lock()
	for name, fn := range d.checks {
		good, detail := fn()
		status[name] = detail
		ok = ok && good
	}
	d.mu.Unlock()
	status["ok"] = ok
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(status)
}

func smtpConfig(cfg *configs.Config) (smtpd.Config, error) {
	owned := append([]string(nil), cfg.Mail.Addresses...)
	if cfg.Mail.CommentAddress != "" {
		owned = append(owned, cfg.Mail.CommentAddress)
	}
	if b := bounceAddress(cfg.Mail); b != "" {
		owned = append(owned, b) // VERP: bounces come back to bounce+token@
	}
	sc := smtpd.Config{
		Addr: cfg.SMTP.Addr, Hostname: cfg.SMTP.Hostname, Addresses: owned,
		MaxMessageBytes: cfg.SMTP.MaxMessageBytes, MaxRecipients: cfg.SMTP.MaxRecipients,
		ReadTimeout: cfg.SMTP.ReadTimeout, WriteTimeout: cfg.SMTP.WriteTimeout, ShutdownTimeout: cfg.SMTP.ShutdownTimeout,
		MemoryBudget: cfg.SMTP.MemoryBudget, MaxConnsPerIP: cfg.SMTP.MaxConnsPerIP, IdleTimeout: cfg.SMTP.IdleTimeout,
		MaxCommands: cfg.SMTP.MaxCommands, SpoolMaxBytes: cfg.SMTP.SpoolMaxBytes,
	}
	if cfg.SMTP.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.SMTP.TLSCert, cfg.SMTP.TLSKey)
		if err != nil {
			return sc, fmt.Errorf("config: smtp.tls_cert: %w", err)
		}
		sc.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return sc, nil
}

// imapState keeps the pollers' cursors in the database.
type imapState struct{ st *store.Store }

func (s imapState) Cursor(ctx context.Context, mailbox string) (uint32, uint32, error) {
	return s.st.R().IMAPCursor(ctx, mailbox)
}

func (s imapState) SetCursor(ctx context.Context, mailbox string, uidValidity, lastUID uint32) error {
	return s.st.SetIMAPCursor(ctx, mailbox, uidValidity, lastUID)
}

// webReprocess lets the portal's quarantine page reprocess through the
// intake, as the CLI does.
func webReprocess(in *intake.Intake) func(ctx context.Context, actor *store.User, id int64) (web.Reprocessed, error) {
	return func(ctx context.Context, actor *store.User, id int64) (web.Reprocessed, error) {
		res, err := in.Reprocess(ctx, actor, id)
		if err != nil {
			return web.Reprocessed{}, err
		}
		o := res.Outcome
		return web.Reprocessed{Action: o.Action, TicketNumber: o.TicketNum, QuarantineID: o.QuarantineID, Reason: o.Reason}, nil
	}
}
