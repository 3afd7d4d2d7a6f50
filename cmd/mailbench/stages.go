package main

import (
	"fmt"
	"io"
	"os"

	"github.com/jcservicedesk/servicedesk/internal/cpustage"
)

// reportStages prints the CPU per message of each stage of the mail path
// from a CPU profile of the daemon (serve --cpuprofile) that took n
// messages.
func reportStages(w io.Writer, path string, n int) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("stages: %w", err)
	}
	defer f.Close()
	s, err := cpustage.Read(f)
	if err != nil {
		return fmt.Errorf("stages: %s: %w", path, err)
	}
	fmt.Fprintf(w, "mailbench: CPU by stage in %s\n", path)
	return s.Write(w, n)
}
