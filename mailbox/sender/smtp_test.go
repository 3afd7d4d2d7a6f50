package sender

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// TestSendNowModes delivers through each transport and AUTH mechanism and
// checks the relay got the exact bytes and envelope.
func TestSendNowModes(t *testing.T) {
	tests := []struct {
		name     string
		server   serverOpts
		cfg      Config
		wantUser string
		wantErr  string // "" for delivered; the error otherwise (temporary)
	}{
		{name: "plain", server: serverOpts{}},
		{name: "starttls", server: serverOpts{tls: "starttls"}, cfg: Config{UseTLS: true}},
		{name: "implicit tls", server: serverOpts{tls: "implicit"}, cfg: Config{UseSSL: true}},
		{name: "auth plain", server: serverOpts{authMechs: []string{"PLAIN", "LOGIN"}},
			cfg: Config{Username: "agent", Password: "s3cret"}, wantUser: "agent"},
		{name: "starttls auth login only", server: serverOpts{tls: "starttls", authMechs: []string{"LOGIN"}},
			cfg: Config{UseTLS: true, Username: "agent", Password: "s3cret"}, wantUser: "agent"},
		{name: "implicit tls auth plain", server: serverOpts{tls: "implicit", authMechs: []string{"PLAIN"}},
			cfg: Config{UseSSL: true, Username: "agent", Password: "s3cret"}, wantUser: "agent"},
		{name: "starttls required but not offered", server: serverOpts{},
			cfg: Config{UseTLS: true}, wantErr: "STARTTLS"},
		{name: "wrong password", server: serverOpts{authMechs: []string{"PLAIN"}},
			cfg: Config{Username: "agent", Password: "nope"}, wantErr: "AUTH: 535 5.7.8"},
		{name: "untrusted certificate", server: serverOpts{tls: "implicit"},
			cfg: Config{UseSSL: true}, wantErr: "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, tt.server)
			cfg := tt.cfg
			cfg.Server, cfg.Port, cfg.Helo, cfg.Timeout = ts.host, ts.port, "sender.test", 10*time.Second
			if tt.name != "untrusted certificate" {
				cfg.TLSConfig = ts.clientTLS()
			}
			s := New(cfg, nil, testLogger(t))
			m := testMessage(1, "alice@customer.test", "bob@customer.test")
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			err := s.SendNow(ctx, m)
			if tt.wantErr != "" {
				var de *DeliveryError
				if !errors.As(err, &de) || de.Permanent || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("SendNow = %v, want a temporary error containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), cfg.Password) && cfg.Password != "" {
					t.Errorf("error leaks the password: %v", err)
				}
				if got := ts.received(); len(got) != 0 {
					t.Errorf("relay received %d messages, want none", len(got))
				}
				return
			}
			if err != nil {
				t.Fatalf("SendNow: %v", err)
			}
			got := ts.received()
			if len(got) != 1 {
				t.Fatalf("relay received %d messages, want 1", len(got))
			}
			r := got[0]
			if !bytes.Equal(r.Data, m.Raw) {
				t.Errorf("data differs:\n got %q\nwant %q", r.Data, m.Raw)
			}
			if r.From != m.From || !slices.Equal(r.To, m.To) {
				t.Errorf("envelope = %s -> %v, want %s -> %v", r.From, r.To, m.From, m.To)
			}
			if r.User != tt.wantUser {
				t.Errorf("authenticated as %q, want %q", r.User, tt.wantUser)
			}
			if r.Helo != "sender.test" {
				t.Errorf("EHLO %q, want sender.test", r.Helo)
			}
		})
	}
}

// TestSendNowVerdicts checks how relay replies are classified.
func TestSendNowVerdicts(t *testing.T) {
	tests := []struct {
		name          string
		fail          failure
		refuse        []string // recipients answered 550
		wantPermanent bool
		wantPartial   bool
		wantErr       string
		wantDelivered []string // envelope recipients the relay kept
	}{
		{name: "451 at MAIL FROM", fail: failure{"mail", 451, 1}, wantErr: "MAIL FROM: 451 4.0.0 Requested action aborted"},
		{name: "451 at RCPT", fail: failure{"rcpt", 451, 1}, wantErr: "RCPT TO deferred: <alice@customer.test>: 451"},
		{name: "451 after DATA", fail: failure{"data", 451, 1}, wantErr: "end of DATA: 451"},
		{name: "550 at MAIL FROM", fail: failure{"mail", 550, 1}, wantPermanent: true,
			wantErr: "MAIL FROM: 550 5.0.0 Mailbox unavailable: no such user here"},
		{name: "554 after DATA", fail: failure{"data", 554, 1}, wantPermanent: true,
			wantErr: "end of DATA: 554 5.0.0 Transaction failed: message looks like spam"},
		{name: "550 for all recipients", refuse: []string{"alice@customer.test", "bob@customer.test"}, wantPermanent: true,
			wantErr: "all recipients refused: <alice@customer.test>: 550 5.0.0 Mailbox unavailable"},
		{name: "550 for one recipient", refuse: []string{"bob@customer.test"}, wantPermanent: true, wantPartial: true,
			wantErr: "<bob@customer.test>: 550 5.0.0 Mailbox unavailable", wantDelivered: []string{"alice@customer.test"}},
		{name: "accepted", wantDelivered: []string{"alice@customer.test", "bob@customer.test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, serverOpts{})
			if tt.fail.n > 0 {
				ts.failNext(tt.fail.stage, tt.fail.code, tt.fail.n)
			}
			for _, r := range tt.refuse {
				ts.refuseRcpt(r, 550)
			}
			s := New(Config{Server: ts.host, Port: ts.port, Timeout: 10 * time.Second}, nil, testLogger(t))
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			err := s.SendNow(ctx, testMessage(7, "alice@customer.test", "bob@customer.test"))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("SendNow: %v", err)
				}
			} else {
				var de *DeliveryError
				if !errors.As(err, &de) {
					t.Fatalf("SendNow = %v, want a *DeliveryError", err)
				}
				if de.Permanent != tt.wantPermanent || errors.Is(err, ErrPartial) != tt.wantPartial {
					t.Errorf("permanent=%v partial=%v, want %v %v", de.Permanent, errors.Is(err, ErrPartial), tt.wantPermanent, tt.wantPartial)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q lacks %q", err, tt.wantErr)
				}
				var se *smtp.SMTPError
				if tt.fail.n > 0 && tt.fail.stage != "rcpt" && (!errors.As(err, &se) || se.Code != tt.fail.code) {
					t.Errorf("error does not carry the relay's %d reply: %v", tt.fail.code, err)
				}
			}
			var delivered []string
			for _, r := range ts.received() {
				delivered = append(delivered, r.To...)
			}
			if !slices.Equal(delivered, tt.wantDelivered) {
				t.Errorf("relay delivered to %v, want %v", delivered, tt.wantDelivered)
			}
		})
	}
}

// TestTimeout: a relay that never answers DATA is cut at Timeout.
func TestTimeout(t *testing.T) {
	ts := newTestServer(t, serverOpts{delay: 3 * time.Second})
	s := New(Config{Server: ts.host, Port: ts.port, Timeout: 300 * time.Millisecond}, nil, testLogger(t))
	start := time.Now()
	err := s.SendNow(context.Background(), testMessage(1))
	var de *DeliveryError
	timedOut := errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded)
	if !errors.As(err, &de) || de.Permanent || !timedOut {
		t.Fatalf("SendNow = %v, want a temporary deadline error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v, want about the 300ms timeout", d)
	}
}

// TestConnectionRefused is a temporary error.
func TestConnectionRefused(t *testing.T) {
	s := New(Config{Server: "127.0.0.1", Port: freePort(t), Timeout: time.Second}, nil, nil)
	err := s.SendNow(context.Background(), testMessage(1))
	var de *DeliveryError
	if !errors.As(err, &de) || de.Permanent || !strings.Contains(err.Error(), "connect") {
		t.Fatalf("SendNow = %v, want a temporary connect error", err)
	}
}

// freePort is a loopback port with no listener.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
