package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// seedClosedTickets adds n tickets closed 400 days ago, each with a
// comment, to the CLI's SQLite database, and returns its company.
func seedClosedTickets(t *testing.T, c *cli, n int) (*store.Store, int64) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Driver: store.SQLite, DSN: filepath.Join(c.dir, "data", "servicedesk.db"), MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	co := &store.Company{Name: "Acme", Domains: []string{"acme.example"}}
	err = st.InTx(ctx, func(q *store.Q) error {
		if err := q.CreateCompany(ctx, co); err != nil {
			return err
		}
		u := &store.User{Email: "maria@acme.example", Name: "Maria Souza", Role: store.RoleClient, CompanyID: &co.ID}
		if err := q.CreateUser(ctx, u); err != nil {
			return err
		}
		closed := time.Now().AddDate(0, 0, -400).UTC()
		batch := make([]store.Ticket, 0, 1000)
		for i := 0; i < n; i++ {
			batch = append(batch, store.Ticket{Number: int64(5001 + i), CompanyID: co.ID, RequesterID: u.ID,
				Priority: store.PriorityNormal, Status: store.StatusClosed, Subject: fmt.Sprintf("Ticket %d da Maria", i),
				Source: store.SourceEmail, CreatedAt: closed, UpdatedAt: closed, ResolvedAt: &closed, ClosedAt: &closed})
			if len(batch) == cap(batch) || i == n-1 {
				if err := q.BulkInsertTickets(ctx, batch); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
		return q.BulkAddComments(ctx, 0, 1<<62, u.ID, "Continua sem imprimir")
	})
	if err != nil {
		t.Fatal(err)
	}
	return st, co.ID
}

func due(t *testing.T, st *store.Store, company int64) int64 {
	t.Helper()
	c, err := st.R().CountRetentionDue(context.Background(), company, time.Now().AddDate(0, 0, -365))
	if err != nil {
		t.Fatal(err)
	}
	return c.Tickets
}

// TestRetentionRunKilledAndResumed kills `retention run` with SIGKILL once
// some batches have committed, then runs it again: the second run waits
// out the dead run's lease, finishes the rest, and the two together
// retained every ticket once, each batch whole (a ticket retained with
// its comment, never one without the other).
func TestRetentionRunKilledAndResumed(t *testing.T) {
	c := newCLI(t, store.SQLite)
	const total = 30_000
	st, company := seedClosedTickets(t, c, total)
	c.env = append(c.env, "SERVICEDESK_RETENTION_LEASE_TTL=1s")

	cmd := exec.Command(binary, "retention", "run", "--batch", "100", "-v")
	cmd.Dir, cmd.Env = c.dir, c.env
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill as soon as the run says a batch has committed (-v logs each).
	var stderr bytes.Buffer
	sc := bufio.NewScanner(pipe)
	committed := false
	for !committed && sc.Scan() {
		stderr.WriteString(sc.Text() + "\n")
		committed = strings.Contains(sc.Text(), "retention batch committed")
	}
	if !committed {
		t.Fatalf("the run ended without committing a batch: %s", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, pipe) }()
	deadline := time.Now().Add(60 * time.Second)
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("retention run was not killed (it finished first: %v); raise total", err)
	}
	left := due(t, st, company)
	if left == 0 || left == total || left%100 != 0 {
		t.Fatalf("after the kill %d of %d tickets are due: want whole batches of 100 done and some left", left, total)
	}

	// The dead run's lease holds for up to 1s: the next run says so and
	// exits 1, then runs once it has expired.
	var rep ticketing.RetentionReport
	for tries := 1; ; tries++ {
		r := c.run("", "retention", "run", "-o", "json")
		if r.code == 0 {
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatalf("bad JSON %q: %v", r.stdout, err)
			}
			t.Logf("killed with %d of %d due; resumed on try %d", left, total, tries)
			break
		}
		if r.code != 1 || !strings.Contains(r.stderr, "another run is in progress") || time.Now().After(deadline) {
			t.Fatalf("resumed run: exit %d: %s", r.code, r.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if rep.Total.Tickets != left || rep.Total.Comments != left {
		t.Fatalf("resumed run retained %d tickets and %d comments, want %d of each", rep.Total.Tickets, rep.Total.Comments, left)
	}
	if n := due(t, st, company); n != 0 {
		t.Fatalf("%d tickets still due", n)
	}
	hits, err := st.R().FindText(context.Background(), "Continua sem imprimir")
	if err != nil || len(hits) != 0 {
		t.Fatalf("comment text left: %v %v", hits, err)
	}
	// A third run has nothing to do.
	var again ticketing.RetentionReport
	c.ok(&again, "retention", "run")
	if again.Total != (store.RetentionCounts{}) {
		t.Fatalf("third run: %+v", again.Total)
	}
}

// TestRetentionRunOutput: quiet on success, a report with --dry-run or
// -o json, usage errors exit 2 with one line.
func TestRetentionRunOutput(t *testing.T) {
	c := newCLI(t, store.SQLite)
	st, company := seedClosedTickets(t, c, 3)
	r := c.run("", "retention", "run", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "would retain (dry run: nothing changed) 3 tickets") ||
		!strings.Contains(r.stdout, "Acme (365 days") {
		t.Fatalf("dry run: exit %d: %q %q", r.code, r.stdout, r.stderr)
	}
	if n := due(t, st, company); n != 3 {
		t.Fatalf("the dry run changed %d tickets", 3-n)
	}
	c.fails(2, "--batch must be between 1 and 10000", "retention", "run", "--batch", "0")
	r = c.run("", "retention", "run")
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("run: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if n := due(t, st, company); n != 0 {
		t.Fatalf("%d still due", n)
	}
	c.fails(1, "only an admin", "retention", "run", "--as", "maria@acme.example")
}
