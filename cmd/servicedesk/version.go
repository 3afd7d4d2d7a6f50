package main

import (
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// buildVersion is what the binary knows about itself: the module version
// (a tag when installed with go install …@vX, "(devel)" from a checkout)
// and the VCS revision Go stamps into builds made inside the repository.
type buildVersion struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	Time     string `json:"time,omitempty"`
	Modified bool   `json:"modified"`
	Go       string `json:"go"`
}

func readVersion() buildVersion {
	v := buildVersion{Version: "(unknown)", Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Module, v.Version = bi.Main.Path, bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// String is the one line --version prints.
func (v buildVersion) String() string {
	s := v.Version
	if v.Revision != "" {
		s += " (" + v.Revision
		if v.Modified {
			s += "+dirty"
		}
		if v.Time != "" {
			s += ", " + v.Time
		}
		s += ")"
	}
	return s + " " + v.Go
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use: "version", Short: "Print the version and VCS revision of this binary", Args: cobra.NoArgs,
		// Needs no configuration or database: it answers even on a broken install.
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := readVersion()
			if a.jsonOut() {
				return writeJSON(a.stdout, v)
			}
			fprintf(a.stdout, "servicedesk %s\n", v)
			return nil
		},
	}
}

// extendRoot adds what every command shares beyond app.go's flags: the
// version, -v, completions and examples.
func (a *app) extendRoot(root *cobra.Command) {
	root.Version = readVersion().String()
	root.SetVersionTemplate("servicedesk {{.Version}}\n")
	root.AddCommand(a.versionCommand())
	a.cli.register(root)
	a.registerCompletions(root)
	addExamples(root)
}
