package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/store"
)

func (a *app) serveCommand() *cobra.Command {
	var httpAddr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: web portal, SMTP receiver, IMAP poller, outbox sender",
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
			d := &daemon{app: a, st: st}
			return d.run(ctx)
		},
	}
	cmd.Flags().StringVar(&httpAddr, "http-addr", "", "HTTP listen address (overrides http.addr)")
	return cmd
}

// daemon is what `servicedesk serve` runs.
type daemon struct {
	app *app
	st  *store.Store

	mu     sync.Mutex
	checks map[string]func() (bool, any) // extra /readyz checks by name
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
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
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
