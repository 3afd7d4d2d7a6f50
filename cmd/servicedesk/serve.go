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
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/mailbox/poller"
	"github.com/jcservicedesk/servicedesk/mailbox/sender"
	"github.com/jcservicedesk/servicedesk/mailbox/smtpd"
	"github.com/jcservicedesk/servicedesk/store"
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

func (d *daemon) run(ctx context.Context) error {
	cfg, log := d.app.cfg, d.app.log
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", d.readyz)

	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("http: listen %s: %w", cfg.HTTP.Addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 4)

	// Mail in: the SMTP receiver and the IMAP pollers share one intake.
	mailCtx, stopMail := context.WithCancel(context.WithoutCancel(ctx))
	defer stopMail()
	in, err := d.app.newIntake(mailCtx)
	if err != nil {
		return err
	}
	var smtpSrv *smtpd.Server
	if cfg.SMTP.Addr != "" {
		scfg, err := smtpConfig(cfg)
		if err != nil {
			return err
		}
		smtpSrv = smtpd.New(scfg, in, log)
		sln, err := net.Listen("tcp", cfg.SMTP.Addr)
		if err != nil {
			return fmt.Errorf("smtp: listen %s: %w", cfg.SMTP.Addr, err)
		}
		go func() {
			if err := smtpSrv.Serve(sln); err != nil && !errors.Is(err, smtpd.ErrServerClosed) {
				errc <- fmt.Errorf("smtp: %w", err)
			}
		}()
		log.Info("smtp receiving", "addr", sln.Addr().String(), "addresses", cfg.Mail.Addresses)
	}
	// Mail out: the sender delivers what ticket changes queued.
	snd := sender.New(d.app.senderConfig(), newOutboxQueue(d.st), log)
	d.app.outbound.OnQueued(snd.Wake)
	sendDone := make(chan struct{})
	go func() {
		defer close(sendDone)
		if err := snd.Run(mailCtx); err != nil {
			errc <- fmt.Errorf("sender: %w", err)
		}
	}()
	d.addCheck("outbox", func() (bool, any) {
		st := snd.Status()
		return true, map[string]any{"healthy": st.ConsecutiveFailures < 5, "status": st}
	})
	if cfg.Mail.SuppressSend {
		log.Info("outbound mail suppressed: written as .eml files", "dir", cfg.Mail.OutboxDir)
	}

	pollDone := make(chan struct{})
	if len(cfg.IMAP.Mailboxes) > 0 {
		var ps []*poller.Poller
		for _, mb := range cfg.IMAP.Mailboxes {
			ps = append(ps, poller.New(poller.Mailbox{
				Name: mb.Name, Host: mb.Host, Port: mb.Port, Security: mb.Security, Username: mb.Username,
				Password: mb.Password, Folder: mb.Folder, After: mb.After, PollInterval: mb.PollInterval, Address: mb.Address,
			}, in, imapState{d.st}, d.st, log.With("component", "imap", "mailbox", mb.Name)))
		}
		group := poller.NewGroup(ps...)
		// A failing mailbox shows in the details but does not take the
		// process out of rotation: the portal and SMTP still work.
		d.addCheck("imap", func() (bool, any) { return true, group.Statuses() })
		go func() {
			defer close(pollDone)
			if err := group.Run(mailCtx); err != nil {
				errc <- fmt.Errorf("imap: %w", err)
			}
		}()
	} else {
		close(pollDone)
	}

	// HTTP last: once /healthz answers, mail is being received too.
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http: %w", err)
		}
	}()
	log.Info("servicedesk serving", "http", ln.Addr().String(), "url", cfg.HTTP.PublicURL, "database", d.st.Driver())

	select {
	case <-ctx.Done():
	case err = <-errc:
		log.Error("stopping after error", "err", err)
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.SMTP.ShutdownTimeout)
	defer cancel()
	if smtpSrv != nil {
		// In-flight DATA finishes and commits before the intake stops.
		if serr := smtpSrv.Shutdown(sctx); serr != nil {
			log.Warn("smtp shutdown", "err", serr)
		}
	}
	stopMail()
	<-pollDone
	<-sendDone
	if serr := srv.Shutdown(sctx); serr != nil {
		log.Warn("http shutdown", "err", serr)
	}
	log.Info("stopped")
	return err
}

func (d *daemon) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	status := map[string]any{}
	ok := true
	if err := d.st.Ping(ctx); err != nil {
		ok = false
		status["database"] = map[string]any{"ok": false, "error": err.Error()}
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
	sc := smtpd.Config{
		Addr: cfg.SMTP.Addr, Hostname: cfg.SMTP.Hostname, Addresses: owned,
		MaxMessageBytes: cfg.SMTP.MaxMessageBytes, MaxRecipients: cfg.SMTP.MaxRecipients,
		ReadTimeout: cfg.SMTP.ReadTimeout, WriteTimeout: cfg.SMTP.WriteTimeout, ShutdownTimeout: cfg.SMTP.ShutdownTimeout,
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
	return s.st.InTx(ctx, func(q *store.Q) error { return q.SetIMAPCursor(ctx, mailbox, uidValidity, lastUID) })
}
