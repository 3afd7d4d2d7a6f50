// Package cpustage sums a CPU profile by the "stage" pprof label that the
// mail path sets (smtpd: smtp; intake: parse, authenticate, commit;
// outbound rendering and the sender: outbox), so that a load test can say
// how much CPU one message costs in each stage. cmd/mailbench -stages
// reads a profile written by `servicedesk serve --cpuprofile`; the
// intake's SMTP benchmark profiles itself with Start.
package cpustage

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"runtime/pprof"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/pprof/profile"
)

// Label is the pprof label key; Stages are its values on the mail path,
// in the order a message passes them. Samples without the label are
// Other (the garbage collector's background workers, the HTTP side,
// timers, and anything not on the mail path).
const (
	Label = "stage"
	Other = "other"
)

// Stages of the mail path, as the packages label them.
var Stages = []string{"smtp", "parse", "authenticate", "commit", "outbox"}

// Func is one function's self CPU time.
type Func struct {
	Name string
	CPU  time.Duration
}

// Summary is a profile's CPU time by stage.
type Summary struct {
	Total    time.Duration
	Duration time.Duration            // wall time the profile covered
	ByStage  map[string]time.Duration // every label value seen, and Other
	// OtherTop are the functions with the most self time among the
	// unlabelled samples, at most five.
	OtherTop []Func
}

// Read parses a CPU profile (gzipped protobuf, as runtime/pprof writes it).
func Read(r io.Reader) (*Summary, error) {
	p, err := profile.Parse(r)
	if err != nil {
		return nil, fmt.Errorf("cpustage: read profile: %w", err)
	}
	return Sum(p)
}

// Sum adds up the CPU samples of p by stage.
func Sum(p *profile.Profile) (*Summary, error) {
	vi := -1
	for i, st := range p.SampleType {
		if st.Type == "cpu" && st.Unit == "nanoseconds" {
			vi = i
		}
	}
	if vi < 0 {
		return nil, errors.New("cpustage: not a CPU profile (no cpu/nanoseconds sample type)")
	}
	s := &Summary{Duration: time.Duration(p.DurationNanos), ByStage: map[string]time.Duration{}}
	other := map[string]time.Duration{}
	for _, smp := range p.Sample {
		d := time.Duration(smp.Value[vi])
		s.Total += d
		stage := Other
		if v := smp.Label[Label]; len(v) > 0 && v[0] != "" {
			stage = v[0]
		}
		s.ByStage[stage] += d
		if stage == Other {
			other[leaf(smp)] += d
		}
	}
	for name, d := range other {
		s.OtherTop = append(s.OtherTop, Func{Name: name, CPU: d})
	}
	slices.SortFunc(s.OtherTop, func(a, b Func) int {
		return cmp.Or(cmp.Compare(b.CPU, a.CPU), strings.Compare(a.Name, b.Name))
	})
	s.OtherTop = s.OtherTop[:min(5, len(s.OtherTop))]
	return s, nil
}

// leaf is the innermost function of a sample (inlined frames first).
func leaf(smp *profile.Sample) string {
	for _, loc := range smp.Location {
		for _, ln := range loc.Line {
			if ln.Function != nil && ln.Function.Name != "" {
				return ln.Function.Name
			}
		}
		if loc.Address != 0 {
			return fmt.Sprintf("%#x", loc.Address)
		}
	}
	return "(unknown)"
}

// PerMessage is the CPU of stage divided by n messages, in milliseconds.
func (s *Summary) PerMessage(stage string, n int) float64 {
	if n <= 0 {
		return 0
	}
	return float64(s.ByStage[stage]) / 1e6 / float64(n)
}

// Names are the stages to report: Stages first, then any other label
// value seen (sorted), then Other.
func (s *Summary) Names() []string {
	names := slices.Clone(Stages)
	var extra []string
	for k := range s.ByStage {
		if k != Other && !slices.Contains(Stages, k) {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	return append(append(names, extra...), Other)
}

// Write prints the table of CPU per stage, per message for n messages.
func (s *Summary) Write(w io.Writer, n int) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "stage\tCPU ms\tms/msg\tshare\t\n")
	row := func(name string, d time.Duration) {
		share := 0.0
		if s.Total > 0 {
			share = 100 * float64(d) / float64(s.Total)
		}
		per := 0.0
		if n > 0 {
			per = float64(d) / 1e6 / float64(n)
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.3f\t%.1f%%\t\n", name, float64(d)/1e6, per, share)
	}
	for _, name := range s.Names() {
		row(name, s.ByStage[name])
	}
	row("total", s.Total)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d messages, profile of %.1fs wall", n, s.Duration.Seconds())
	if s.Duration > 0 {
		fmt.Fprintf(w, " (%.2f CPUs busy)", float64(s.Total)/float64(s.Duration))
	}
	fmt.Fprintln(w)
	if len(s.OtherTop) > 0 {
		fmt.Fprintln(w, "other, top functions by self time:")
		for _, f := range s.OtherTop {
			fmt.Fprintf(w, "  %8.0f ms  %s\n", float64(f.CPU)/1e6, f.Name)
		}
	}
	return nil
}

// Profiler is a CPU profile of this process in progress.
type Profiler struct {
	buf   bytes.Buffer
	start time.Duration // process CPU at Start
}

// Start begins profiling this process. It fails when a profile is already
// being taken (go test -cpuprofile).
func Start() (*Profiler, error) {
	p := &Profiler{start: ProcessCPU()}
	if err := pprof.StartCPUProfile(&p.buf); err != nil {
		return nil, fmt.Errorf("cpustage: %w", err)
	}
	return p, nil
}

// Stop ends the profile and sums it; process is the CPU the whole process
// used meanwhile (user and system, from getrusage; 0 where unknown).
func (p *Profiler) Stop() (s *Summary, process time.Duration, err error) {
	pprof.StopCPUProfile()
	process = ProcessCPU() - p.start
	s, err = Read(&p.buf)
	return s, process, err
}
