package cpustage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/internal/cpustage"
)

// spin burns a fixed amount of CPU (about 200 ms) in the calling
// goroutine: work, not wall time, so that the ratios hold on a busy
// machine.
//
//go:noinline
func spin() {
	sum := sha256.Sum256(nil)
	for range 2_500_000 {
		sum = sha256.Sum256(sum[:])
	}
	sink = sum[0]
}

var sink byte

// TestSumByStage profiles a busy loop that spends about twice as long
// labelled "commit" as labelled "parse", a nested "outbox" inside commit,
// and some time unlabelled, and checks the summed shares.
func TestSumByStage(t *testing.T) {
	if testing.Short() {
		t.Skip("profiles for about a second")
	}
	p, err := cpustage.Start()
	if err != nil {
		t.Skipf("a CPU profile is already running: %v", err)
	}
	ctx := context.Background()
	pprof.Do(ctx, pprof.Labels(cpustage.Label, "parse"), func(context.Context) { spin() })
	pprof.Do(ctx, pprof.Labels(cpustage.Label, "commit"), func(ctx context.Context) {
		spin()
		// A nested label overrides; leaving it restores "commit".
		pprof.Do(ctx, pprof.Labels(cpustage.Label, "outbox"), func(context.Context) { spin() })
		spin()
	})
	spin()
	s, process, err := p.Stop()
	if err != nil {
		t.Fatal(err)
	}
	ms := func(stage string) float64 { return s.PerMessage(stage, 1) }
	t.Logf("parse %.0f ms, commit %.0f ms, outbox %.0f ms, other %.0f ms, total %v, process %v",
		ms("parse"), ms("commit"), ms("outbox"), ms(cpustage.Other), s.Total, process)
	if s.Total < 500*time.Millisecond {
		t.Fatalf("profile holds %v of CPU, want about 1s of work", s.Total)
	}
	if process < s.Total/2 {
		t.Errorf("getrusage says %v of process CPU, the profile %v", process, s.Total)
	}
	// Only ratios, loosely: the CPU a given work costs varies by machine,
	// and profiling samples at 100 Hz.
	if r := ms("commit") / ms("parse"); r < 1.2 || r > 3.5 {
		t.Errorf("commit/parse = %.2f, want about 2", r)
	}
	if r := ms("outbox") / ms("parse"); r < 0.4 || r > 2.5 {
		t.Errorf("outbox/parse = %.2f, want about 1", r)
	}
	if ms(cpustage.Other) < ms("parse")/3 {
		t.Errorf("other %.0f ms, want about as much as parse (%.0f ms)", ms(cpustage.Other), ms("parse"))
	}
	if ms("smtp") != 0 {
		t.Errorf("smtp %.0f ms, want 0: nothing was labelled so", ms("smtp"))
	}
	// The unlabelled busy loop is among other's top functions (under
	// -race, behind the race detector's own).
	found := false
	for _, f := range s.OtherTop {
		found = found || strings.Contains(f.Name, "sha256")
	}
	if !found || len(s.OtherTop) > 5 {
		t.Errorf("other's top functions = %+v, want at most 5 with the busy loop's", s.OtherTop)
	}
	var out bytes.Buffer
	if err := s.Write(&out, 1); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"smtp", "parse", "authenticate", "commit", "outbox", "other", "total", "top functions"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	t.Logf("report:\n%s", out.String())
}

func TestReadRefusesNonProfile(t *testing.T) {
	if _, err := cpustage.Read(strings.NewReader("not a profile")); err == nil {
		t.Fatal("Read accepted garbage")
	}
}
