package smtpd

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
)

const swaksPath = "/usr/bin/swaks"

// TestSwaks sends with a real, independent SMTP client.
func TestSwaks(t *testing.T) {
	requireProgram(t, swaksPath)
	rec := &recorder{}
	_, addr := startServer(t, Config{}, rec)
	host, port, _ := strings.Cut(addr, ":")

	attachment := make([]byte, 30<<10)
	rand.Read(attachment)
	file := filepath.Join(t.TempDir(), "report.bin")
	if err := os.WriteFile(file, attachment, 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, raw []byte)
	}{
		{
			name: "plain",
			args: []string{"--to", "support+swaks@example.com", "--from", "alice@customer.test",
				"--header", "Subject: printer on fire", "--body", "It is still burning."},
			check: func(t *testing.T, raw []byte) {
				for _, want := range []string{"Subject: printer on fire", "It is still burning."} {
					if !bytes.Contains(raw, []byte(want)) {
						t.Errorf("message lacks %q", want)
					}
				}
			},
		},
		{
			name: "attachment",
			args: []string{"--to", "support@example.com", "--from", "alice@customer.test",
				"--header", "Subject: logs attached", "--body", "See attached.", "--attach", "@" + file},
			check: func(t *testing.T, raw []byte) {
				if !bytes.Contains(raw, []byte("multipart/mixed")) || !bytes.Contains(raw, []byte("report.bin")) {
					t.Errorf("no multipart attachment in:\n%.400s", raw)
				}
				if got := attachmentNamed(t, raw, "report.bin"); !bytes.Equal(got, attachment) {
					t.Errorf("attachment damaged: got %d bytes, want %d", len(got), len(attachment))
				}
			},
		},
		{
			name: "null sender",
			args: []string{"--to", "support@example.com", "--from", "<>", "--header", "Subject: bounce"},
			check: func(t *testing.T, raw []byte) {
				if got := rec.delivered(); got[len(got)-1].env.MailFrom != "" {
					t.Errorf("MailFrom = %q, want null sender", got[len(got)-1].env.MailFrom)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(rec.delivered())
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			args := append([]string{"--server", host, "--port", port, "--helo", "swaks.test", "--timeout", "20"}, tt.args...)
			out, err := exec.CommandContext(ctx, swaksPath, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("swaks: %v\n%s", err, out)
			}
			if !bytes.Contains(out, []byte("<-  250 2.0.0")) {
				t.Errorf("swaks saw no 250 after DATA:\n%s", out)
			}
			got := rec.delivered()
			if len(got) != before+1 {
				t.Fatalf("delivered %d, want %d", len(got), before+1)
			}
			tt.check(t, got[len(got)-1].raw)
		})
	}
}

// attachmentNamed decodes the named attachment with go-message.
func attachmentNamed(t *testing.T, raw []byte, name string) []byte {
	t.Helper()
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		if h, ok := p.Header.(*mail.AttachmentHeader); ok {
			if fn, _ := h.Filename(); fn == name {
				b, err := io.ReadAll(p.Body)
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
		}
	}
}
