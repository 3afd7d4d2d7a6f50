package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/jcservicedesk/servicedesk/mailbox/auth/authtest"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "servicedesk-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "servicedesk")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build servicedesk:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs the binary in its own working folder with a clean environment,
// as an admin's script would.
type cli struct {
	t   *testing.T
	dir string
	env []string
	dns *authtest.Server
	db  []string // --database flag, for PostgreSQL
}

// newCLI is a CLI on a migrated and seeded database (`servicedesk
// migrate`, as the README's first step).
func newCLI(t *testing.T, driver string) *cli {
	t.Helper()
	c := newBareCLI(t, driver)
	if r := c.run("", "migrate"); r.code != 0 {
		t.Fatalf("migrate: exit %d: %s", r.code, r.stderr)
	}
	return c
}

// newBareCLI is a CLI with no database yet (PostgreSQL: an empty schema).
func newBareCLI(t *testing.T, driver string) *cli {
	c := &cli{t: t, dir: t.TempDir(), env: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}}
	// Sender authentication asks a DNS server of the test's own, never
	// the machine's. In this test world every domain's SPF names the
	// loopback, so mail over SMTP from the tests is verified; a test
	// about forgery publishes its own records.
	c.dns = authtest.Start(t)
	c.dns.DefaultSPF("v=spf1 ip4:127.0.0.0/8 -all")
	c.env = append(c.env, "SERVICEDESK_MAIL_DNS_RESOLVER="+c.dns.Addr)
	if driver == "postgres" {
		url := os.Getenv(storetest.PostgresEnv)
		if url == "" {
			storetest.SkipOrFail(t, "PostgreSQL CLI tests need "+storetest.PostgresEnv)
		}
		schema := storetest.NewSchema(t, url)
		db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(url)))
		if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
			t.Fatal(err)
		}
		db.Close()
		sep := "?"
		if strings.Contains(url, "?") {
			sep = "&"
		}
		c.db = []string{"--database", url + sep + "search_path=" + schema}
	}
	return c
}

type result struct {
	stdout, stderr string
	code           int
}

func (c *cli) run(stdin string, args ...string) result {
	c.t.Helper()
	cmd := exec.Command(binary, append(append([]string{}, args...), c.db...)...)
	cmd.Dir = c.dir
	cmd.Env = c.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// ok runs a command that must succeed and decodes its JSON output into v.
func (c *cli) ok(v any, args ...string) {
	c.t.Helper()
	r := c.run("", append(args, "-o", "json")...)
	if r.code != 0 {
		c.t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
			c.t.Fatalf("%v: bad JSON %q: %v", args, r.stdout, err)
		}
	}
}

// fails runs a command that must fail with code and one line on stderr
// containing want.
func (c *cli) fails(code int, want string, args ...string) {
	c.t.Helper()
	r := c.run("", args...)
	if r.code != code {
		c.t.Fatalf("%v: exit %d, want %d (stderr %q)", args, r.code, code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, want) {
		c.t.Fatalf("%v: stderr %q does not say %q", args, r.stderr, want)
	}
	if strings.HasPrefix(lines[0], "First start") {
		lines = lines[2:]
	}
	if len(lines) != 1 {
		c.t.Fatalf("%v: want one line of error, got %q", args, r.stderr)
	}
}

type ticketOut struct {
	Number       int64    `json:"number"`
	Subject      string   `json:"subject"`
	Status       string   `json:"status"`
	Priority     string   `json:"priority"`
	Company      string   `json:"company"`
	Requester    string   `json:"requester"`
	Assignee     *string  `json:"assignee"`
	Category     *string  `json:"category"`
	Participants []string `json:"participants"`
	Comments     []struct {
		Author   string `json:"author"`
		Body     string `json:"body"`
		Internal bool   `json:"internal"`
	} `json:"comments"`
}

func eachDriver(t *testing.T, fn func(t *testing.T, c *cli)) {
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) { fn(t, newCLI(t, d)) })
	}
}

func TestCLIAdminScript(t *testing.T) {
	eachDriver(t, func(t *testing.T, c *cli) {
		var company struct {
			ID      int64    `json:"id"`
			Name    string   `json:"name"`
			Domains []string `json:"domains"`
		}
		c.ok(&company, "company", "add", "--name", "Acme Ltda", "--domain", "ACME.com.br", "--domain", "acme.com")
		if company.ID == 0 || company.Name != "Acme Ltda" || len(company.Domains) != 2 || company.Domains[0] != "acme.com.br" {
			t.Fatalf("company add: %+v", company)
		}
		var companies []map[string]any
		c.ok(&companies, "company", "list")
		if len(companies) != 2 { // the seeded Default and Acme
			t.Fatalf("company list: %v", companies)
		}
		var user struct {
			Email, Role, Company string
			Confirmed            bool
		}
		c.ok(&user, "user", "add", "--email", "Maria@Acme.com.br", "--name", "Maria", "--company", "acme ltda")
		if user.Email != "maria@acme.com.br" || user.Role != "client" || user.Company != "Acme Ltda" || !user.Confirmed {
			t.Fatalf("user add: %+v", user)
		}
		c.ok(&user, "user", "add", "--email", "tech@helpdesk.example", "--role", "tech", "--unconfirmed")
		if user.Confirmed {
			t.Fatal("--unconfirmed user is confirmed")
		}
		c.ok(nil, "category", "add", "--name", "Hardware")
		var sub struct{ Path string }
		c.ok(&sub, "category", "add", "--name", "Impressora", "--parent", "hardware")
		if sub.Path != "Hardware/Impressora" {
			t.Fatalf("subcategory: %+v", sub)
		}

		var tk ticketOut
		c.ok(&tk, "ticket", "create", "--requester", "maria@acme.com.br", "--subject", "Impressora não imprime",
			"--body", "Desde ontem", "--category", "Hardware/Impressora", "--priority", "high")
		if tk.Number < 1001 || tk.Status != "new" || tk.Priority != "high" || tk.Company != "Acme Ltda" ||
			tk.Category == nil || *tk.Category != "Hardware" || tk.Comments == nil {
			t.Fatalf("ticket create: %+v", tk)
		}
		n := fmt.Sprint(tk.Number)
		c.ok(&tk, "ticket", "assign", n, "--to", "tech@helpdesk.example")
		if tk.Assignee == nil || *tk.Assignee != "tech@helpdesk.example" || tk.Status != "open" {
			t.Fatalf("assign: %+v", tk)
		}
		c.ok(nil, "ticket", "comment", "#"+n, "--body", "Reinicie, por favor", "--as", "tech@helpdesk.example")
		c.ok(nil, "ticket", "comment", n, "--body", "driver velho", "--internal", "--as", "tech@helpdesk.example")
		// The client's view has no internal note; the admin's has both.
		c.ok(&tk, "ticket", "show", n, "--as", "maria@acme.com.br")
		if len(tk.Comments) != 1 || tk.Comments[0].Internal || tk.Comments[0].Author != "tech@helpdesk.example" {
			t.Fatalf("client view comments: %+v", tk.Comments)
		}
		c.ok(&tk, "ticket", "show", n)
		if len(tk.Comments) != 2 {
			t.Fatalf("admin view comments: %+v", tk.Comments)
		}
		// The client may not close from the CLI either.
		c.fails(1, "not allowed", "ticket", "status", n, "resolved", "--as", "maria@acme.com.br")
		c.fails(1, "resolving needs the solution", "ticket", "status", n, "resolved", "--as", "tech@helpdesk.example")
		c.ok(&tk, "ticket", "status", n, "resolved", "--solution", "driver trocado", "--as", "tech@helpdesk.example")
		c.fails(1, "closing needs a classification", "ticket", "status", n, "closed", "--reason", "feito", "--evaluation", "trocado o driver", "--as", "tech@helpdesk.example")
		c.fails(1, `unknown classification "bug"`, "ticket", "status", n, "closed", "--reason", "feito", "--evaluation", "trocado o driver",
			"--classification", "bug", "--as", "tech@helpdesk.example")
		c.ok(&tk, "ticket", "status", n, "closed", "--reason", "feito", "--evaluation", "trocado o driver", "--classification", "tecnico", "--as", "tech@helpdesk.example")
		if tk.Status != "closed" {
			t.Fatalf("close: %+v", tk)
		}
		var list []ticketOut
		c.ok(&list, "ticket", "list", "--status", "closed", "--company", "Acme Ltda")
		if len(list) != 1 || list[0].Number != tk.Number {
			t.Fatalf("list closed: %+v", list)
		}
		c.ok(&list, "ticket", "list", "--status", "open,new")
		if len(list) != 0 {
			t.Fatalf("list open: %+v", list)
		}
		c.ok(&list, "ticket", "list", "--as", "maria@acme.com.br")
		if len(list) != 1 {
			t.Fatalf("client list: %+v", list)
		}

		// Password from stdin; the user then has one.
		r := c.run("s3cret-passw0rd\n", "user", "set-password", "--email", "tech@helpdesk.example", "-o", "json")
		if r.code != 0 || !strings.Contains(r.stdout, `"has_password": true`) || strings.Contains(r.stdout+r.stderr, "s3cret") {
			t.Fatalf("set-password: %+v", r)
		}
		c.ok(&user, "user", "disable", "tech@helpdesk.example")
		c.fails(1, "disabled", "ticket", "list", "--as", "tech@helpdesk.example")
	})
}

// TestCLIBadInputChangesNothing: each bad command fails with one clear line
// and leaves the data as it was.
func TestCLIBadInputChangesNothing(t *testing.T) {
	eachDriver(t, func(t *testing.T, c *cli) {
		c.ok(nil, "company", "add", "--name", "Acme", "--domain", "acme.example")
		c.ok(nil, "user", "add", "--email", "ana@acme.example", "--company", "Acme")
		var tk ticketOut
		c.ok(&tk, "ticket", "create", "--requester", "ana@acme.example", "--subject", "x")
		snapshot := func() string {
			r1 := c.run("", "user", "list", "-o", "json")
			r2 := c.run("", "company", "list", "-o", "json")
			r3 := c.run("", "ticket", "show", fmt.Sprint(tk.Number), "-o", "json")
			return r1.stdout + r2.stdout + r3.stdout
		}
		before := snapshot()
		c.fails(2, `unknown role "boss"`, "user", "add", "--email", "b@acme.example", "--role", "boss", "--company", "Acme")
		c.fails(1, `unknown company "Nope"`, "user", "add", "--email", "b@acme.example", "--company", "Nope")
		c.fails(1, "already exists", "user", "add", "--email", "ANA@acme.example", "--company", "Acme")
		c.fails(1, "invalid email address", "user", "add", "--email", "not-an-address", "--company", "Acme")
		c.fails(1, "must belong to a company", "user", "add", "--email", "c@acme.example")
		c.fails(1, "already exists", "company", "add", "--name", "acme")
		c.fails(1, "invalid domain", "company", "add", "--name", "Other", "--domain", "bad domain")
		c.fails(1, "open it first", "ticket", "status", fmt.Sprint(tk.Number), "closed", "--reason", "x", "--evaluation", "x", "--classification", "outro")
		c.fails(1, "not found", "ticket", "show", "99999")
		c.fails(1, "unknown user", "ticket", "create", "--requester", "ghost@acme.example", "--subject", "x")
		c.fails(1, "still has users", "company", "remove", "Acme")
		c.fails(1, "last active admin", "user", "disable", "admin@example.com")
		if after := snapshot(); after != before {
			t.Fatalf("a failed command changed data:\nbefore %s\nafter  %s", before, after)
		}
	})
}

func TestCLIUsageErrorsExit2(t *testing.T) {
	c := newCLI(t, "sqlite")
	for _, args := range [][]string{
		{"bogus"},
		{"ticket", "bogus"},
		{"ticket", "show"},
		{"ticket", "show", "abc"},
		{"ticket", "list", "--status", "weird"},
		{"ticket", "status", "1001", "done"},
		{"user", "add"},
		{"company", "list", "--nope"},
		{"company", "list", "-o", "xml"},
	} {
		r := c.run("", args...)
		if r.code != 2 || !strings.HasPrefix(strings.TrimSpace(lastLine(r.stderr)), "servicedesk: ") {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestConfigShowRedactsAndBadConfigNamesKey(t *testing.T) {
	c := newCLI(t, "sqlite")
	c.env = append(c.env, "MAIL_PASSWORD=hunter2-very-secret", "SECRET_KEY=k-very-secret-123", "TIMEZONE=America/Manaus")
	r := c.run("", "config", "show", "-o", "json")
	if r.code != 0 {
		t.Fatalf("config show: %+v", r)
	}
	if strings.Contains(r.stdout, "hunter2") || strings.Contains(r.stdout, "k-very-secret") {
		t.Fatalf("secrets printed: %s", r.stdout)
	}
	var cfg struct {
		Timezone string `json:"timezone"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &cfg); err != nil || cfg.Timezone != "America/Manaus" {
		t.Fatalf("timezone from the Flask name: %q %v", cfg.Timezone, err)
	}
	c.env = append(c.env, "SERVICEDESK_TIMEZONE=Mars/Base")
	c.fails(1, "timezone", "company", "list")
}

// TestFlaskDotEnv: the old app's .env with DATABASE_URL=sqlite:///app.db
// keeps working from the working folder.
func TestFlaskDotEnv(t *testing.T) {
	c := newBareCLI(t, "sqlite")
	env := "DATABASE_URL=sqlite:///app.db\nADMIN_EMAIL=chefe@empresa.com.br\nADMIN_PASSWORD=troque-esta-senha\n"
	if err := os.WriteFile(filepath.Join(c.dir, ".env"), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok(nil, "migrate")
	var users []struct{ Email, Role string }
	c.ok(&users, "user", "list")
	if len(users) != 1 || users[0].Email != "chefe@empresa.com.br" || users[0].Role != "admin" {
		t.Fatalf("users: %+v", users)
	}
	if _, err := os.Stat(filepath.Join(c.dir, "app.db")); err != nil {
		t.Fatalf("app.db not created in the working folder: %v", err)
	}
	// With a configured password, nothing is printed.
	r := c.run("", "company", "list")
	if strings.Contains(r.stderr, "password") {
		t.Fatalf("stderr: %q", r.stderr)
	}
}

func TestFirstStartPrintsGeneratedPasswordOnce(t *testing.T) {
	c := newBareCLI(t, "sqlite")
	r1 := c.run("", "migrate")
	r2 := c.run("", "migrate")
	if !strings.Contains(r1.stderr, "admin@example.com with password ") {
		t.Fatalf("first start: %q", r1.stderr)
	}
	if strings.Contains(r2.stderr, "password") {
		t.Fatalf("second start printed a password again: %q", r2.stderr)
	}
}

func TestServeHealthAndGracefulShutdown(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("signals")
	}
	c := newCLI(t, "sqlite")
	port := freePort(t)
	c.env = append(c.env, "SERVICEDESK_HTTP_ADDR=127.0.0.1:"+port, "SERVICEDESK_SMTP_ADDR=")
	cmd := exec.Command(binary, "serve")
	cmd.Dir, cmd.Env = c.dir, c.env
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := "http://127.0.0.1:" + port
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("serve did not come up: %s", errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var ready map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&ready)
	resp.Body.Close()
	if resp.StatusCode != 200 || ready["ok"] != true {
		t.Fatalf("readyz: %d %v", resp.StatusCode, ready)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v: %s", err, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	if !strings.Contains(errb.String(), "stopped") {
		t.Fatalf("no graceful stop in the log: %s", errb.String())
	}
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}
