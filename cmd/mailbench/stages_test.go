package main

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"testing"
)

// TestReportStages writes a real CPU profile of labelled work to a file,
// as serve --cpuprofile does, and reads it back by stage.
func TestReportStages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "serve.pprof")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		t.Skipf("a CPU profile is already running: %v", err)
	}
	sum := sha256.Sum256(nil)
	work := func(context.Context) {
		for range 1_500_000 {
			sum = sha256.Sum256(sum[:])
		}
	}
	pprof.Do(context.Background(), pprof.Labels("stage", "parse"), work)
	pprof.Do(context.Background(), pprof.Labels("stage", "commit"), work)
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := reportStages(&out, path, 10); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", out.String())
	for _, line := range strings.Split(out.String(), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 4 && (fields[0] == "parse" || fields[0] == "commit") && fields[1] == "0" {
			t.Errorf("no CPU for %s: %q", fields[0], line)
		}
	}
	if !strings.Contains(out.String(), "10 messages") {
		t.Errorf("report does not say per how many messages:\n%s", out.String())
	}
	if err := reportStages(&out, filepath.Join(t.TempDir(), "none.pprof"), 10); err == nil {
		t.Error("a missing profile was read")
	}
}
