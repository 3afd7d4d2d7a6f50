package ticketing_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// rawDB is a store plus a plain connection to the same database, to look
// at every byte the store keeps.
type rawDB struct {
	st     *store.Store
	db     *sql.DB
	wdb    *sql.DB
	file   string // SQLite
	schema string // PostgreSQL
}

func openRaw(t *testing.T, driver string) *rawDB {
	t.Helper()
	ctx := context.Background()
	r := &rawDB{}
	var o store.Options
	switch driver {
	case store.SQLite:
		r.file = filepath.Join(t.TempDir(), "erase.db")
		o = store.Options{Driver: store.SQLite, DSN: r.file}
	case store.Postgres:
		url := os.Getenv(storetest.PostgresEnv)
		if url == "" {
			storetest.SkipOrFail(t, "the PostgreSQL erasure test needs "+storetest.PostgresEnv)
		}
		r.schema = storetest.NewSchema(t, url)
		o = store.Options{Driver: store.Postgres, DSN: url, Schema: r.schema}
		r.db = sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(url), pgdriver.WithConnParams(map[string]any{"search_path": r.schema})))
		t.Cleanup(func() { r.db.Close() })
	}
	st, err := store.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	r.st = st
	if driver == store.SQLite {
		db, err := sql.Open(sqliteshim.ShimName, "file:"+r.file+"?_pragma=query_only(1)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		r.db = db
	}
	if driver == store.SQLite {
		db, err := sql.Open(sqliteshim.ShimName, "file:"+r.file+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		r.wdb = db
	} else {
		r.wdb = r.db
	}
	return r
}

// exec writes a row the store has no method for (tables the portal will
// fill), with ? placeholders on both databases.
func (r *rawDB) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	if r.schema != "" {
		var b strings.Builder
		n := 0
		for _, ch := range query {
			if ch == '?' {
				n++
				fmt.Fprintf(&b, "$%d", n)
				continue
			}
			b.WriteRune(ch)
		}
		query = b.String()
	}
	if _, err := r.wdb.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// hits lists "table.column" for every value in the database that holds
// one of the needles (raw mail is gunzipped first).
func (r *rawDB) hits(t *testing.T, needles []string) []string {
	t.Helper()
	var tables []string
	q := "SELECT name FROM sqlite_master WHERE type = 'table'"
	if r.schema != "" {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
	}
	rows, err := r.db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	var found []string
	for _, table := range tables {
		rows, err := r.db.Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				var b []byte
				switch x := v.(type) {
				case string:
					b = []byte(x)
				case []byte:
					b = x
				default:
					continue
				}
				if cols[i] == "raw_gz" {
					if raw, err := store.Gunzip(b); err == nil {
						b = raw
					}
				}
				for _, n := range needles {
					if bytes.Contains(bytes.ToLower(b), bytes.ToLower([]byte(n))) {
						found = append(found, fmt.Sprintf("%s.%s has %q", table, cols[i], n))
					}
				}
			}
		}
		rows.Close()
	}
	return found
}

func TestAnonymizeLeavesNothing(t *testing.T) {
	for _, driver := range []string{store.SQLite, store.Postgres} {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			r := openRaw(t, driver)
			w := newWorld(t, r.st)
			p := seedTitular(t, w)
			email := p.u.Email
			now := time.Now().UTC()
			r.exec(t, "INSERT INTO notifications (user_id, ticket_id, kind, message, created_at) VALUES (?, ?, 'comment', ?, ?)",
				p.u.ID, p.own.ID, "Nova resposta de Técnico", now)
			// Another's notice quoting the first words of their ticket,
			// cut short.
			r.exec(t, "INSERT INTO notifications (user_id, ticket_id, kind, message, created_at) VALUES (?, ?, 'created', ?, ?)",
				w.tech.ID, p.own.ID, "Novo chamado: Minha frase "+titularPhrase+" de…", now)
			r.exec(t, "INSERT INTO sessions (id, user_id, csrf_token, ip, user_agent, created_at, expires_at) VALUES ('s1', ?, 'c', '203.0.113.9', 'Firefox', ?, ?)",
				p.u.ID, now, now.Add(time.Hour))
			r.exec(t, "INSERT INTO chat_messages (ticket_id, company_id, sender_id, body, created_at) VALUES (?, ?, ?, ?, ?)",
				p.own.ID, w.acme.ID, p.u.ID, "chat do titular "+titularPhrase, now)
			qraw := []byte("From: " + titularName + " <" + email + ">\r\n\r\nquarentena " + titularPhrase)
			r.exec(t, "INSERT INTO mail_quarantine (reason, source, envelope, content_hash, from_addr, subject, raw_size, raw_gz, created_at) VALUES ('loop', 'smtp', ?, 'q1', ?, ?, ?, ?, ?)",
				`{"from":"`+email+`"}`, email, "quarentena "+titularPhrase, len(qraw), store.Gzip(qraw), now)
			r.exec(t, "INSERT INTO mail_addresses (email, bounce_count, last_bounce, updated_at) VALUES (?, 1, ?, ?)", email, "550 no such user "+email, now)
			r.exec(t, "INSERT INTO ticket_thread_addresses (ticket_id, address, how, message_id, created_at) VALUES (?, ?, 'inbound_cc', '<t1@acme.example>', ?)", p.own.ID, email, now)
			needles := []string{titularName, email, titularPhrase, "203.0.113.9"}
			if h := r.hits(t, needles); len(h) < 10 {
				t.Fatalf("the seed left too few traces to prove anything: %v", h)
			}

			if _, err := w.svc.Anonymize(ctx, w.tech, p.u.ID, false); !errors.Is(err, ticketing.ErrNotAllowed) {
				t.Fatalf("a tech erases: %v", err)
			}
			if _, err := w.svc.Anonymize(ctx, w.admin, w.admin.ID, false); !errors.Is(err, ticketing.ErrNotAllowed) {
				t.Fatalf("an admin erases themselves: %v", err)
			}
			if _, err := w.svc.Anonymize(ctx, ticketing.SystemActor(), w.admin.ID, false); !errors.Is(err, ticketing.ErrNotAllowed) {
				t.Fatalf("the only admin erased: %v", err)
			}

			dry, err := w.svc.Anonymize(ctx, w.admin, p.u.ID, true)
			if err != nil {
				t.Fatal(err)
			}
			if !dry.DryRun || dry.Tickets != 1 || dry.Comments != 2 || dry.Mails != 1 || dry.Attachments != 1 || dry.Outbox < 2 || dry.MailRefs != 1 ||
				dry.Notifications != 6 || // theirs and others' about their ticket (ticketing/notification.go)
				dry.Sessions != 1 || dry.Chat != 1 || dry.Quarantine != 1 || dry.SuppressionRows != 1 || dry.Consents != 1 || dry.ThreadAddresses != 1 {
				t.Fatalf("dry run counts %+v", dry.EraseCounts)
			}
			if u, err := r.st.R().UserByEmail(ctx, store.AllCompanies(), email); err != nil || u.Name != titularName {
				t.Fatalf("dry run changed the person: %+v %v", u, err)
			}

			res, err := w.svc.Anonymize(ctx, w.admin, p.u.ID, false)
			if err != nil {
				t.Fatal(err)
			}
			if res.EraseCounts != dry.EraseCounts {
				t.Fatalf("dry run said %+v, the run did %+v", dry.EraseCounts, res.EraseCounts)
			}
			if h := r.hits(t, needles); len(h) > 0 {
				t.Fatalf("personal data left in the database:\n%s", strings.Join(h, "\n"))
			}
			if r.file != "" {
				for _, f := range []string{r.file, r.file + "-wal"} {
					b, err := os.ReadFile(f)
					if err != nil && !os.IsNotExist(err) {
						t.Fatal(err)
					}
					for _, n := range needles {
						if bytes.Contains(b, []byte(n)) {
							t.Errorf("%s still holds %q in its bytes", filepath.Base(f), n)
						}
					}
				}
			}

			// Statistics stay: the tickets, their times and the rating.
			u, err := r.st.R().User(ctx, store.AllCompanies(), p.u.ID)
			if err != nil || u.Email != ticketing.AnonymizedEmail(p.u.ID) || !u.Disabled {
				t.Fatalf("anonymized user %+v %v", u, err)
			}
			tk, err := r.st.R().TicketByNumber(ctx, store.AllCompanies(), p.own.Number, false)
			if err != nil || tk.Subject != ticketing.ErasedPlaceholder || tk.Rating == nil || *tk.Rating != 4 || tk.ResolvedAt == nil {
				t.Fatalf("own ticket after erasure %+v %v", tk, err)
			}
			cs, _ := r.st.R().Comments(ctx, tk.ID, true)
			if len(cs) != 3 || cs[0].BodyText != "Reinicie, por favor" || cs[1].BodyText != internalNote {
				t.Fatalf("others' comments changed: %+v", cs)
			}
			if rest, _ := r.st.R().OutboxList(ctx, store.OutboxFilter{}); len(rest) != 1 || rest[0].Recipients != w.outsider.Email {
				t.Fatalf("outbox after erasure: %+v", rest)
			}
			log, _ := r.st.R().AuditLog(ctx, "user", p.u.ID)
			if last := log[len(log)-1]; last.Action != "anonymize" || last.ActorID == nil || *last.ActorID != w.admin.ID {
				t.Fatalf("last audit row %+v", last)
			}
			if _, err := w.svc.Anonymize(ctx, w.admin, p.u.ID, false); !errors.Is(err, ticketing.ErrInvalid) {
				t.Fatalf("second erasure: %v", err)
			}
		})
	}
}

// Staff can be erased too (not the last admin): their replies and notes
// go, the tickets they worked keep their history.
func TestAnonymizeStaff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		p := seedTitular(t, w)
		res, err := w.svc.Anonymize(ctx, w.admin, w.tech.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.Tickets != 0 || res.Comments != 3 {
			t.Fatalf("counts %+v", res.EraseCounts)
		}
		cs, _ := s.R().Comments(ctx, p.own.ID, true)
		if cs[0].BodyText != ticketing.ErasedPlaceholder || cs[1].BodyText != ticketing.ErasedPlaceholder || !cs[1].Internal ||
			cs[2].BodyText != "Ainda travando "+titularPhrase {
			t.Fatalf("comments after erasing the tech: %+v", cs)
		}
		tk, _ := s.R().Ticket(ctx, store.AllCompanies(), p.own.ID, false)
		if tk.AssigneeID == nil || *tk.AssigneeID != w.tech.ID || tk.Subject != "Impressora "+titularPhrase || tk.FirstResponseAt == nil {
			t.Fatalf("ticket after erasing the tech: %+v", tk)
		}
		if _, err := s.R().UserByEmail(ctx, store.AllCompanies(), "tech@helpdesk.example"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("tech address still there: %v", err)
		}
	})
}

// Their name and address written on a ticket they never took part in (a
// colleague's description, a staff note elsewhere) go too.
func TestAnonymizeScrubsOtherTickets(t *testing.T) {
	for _, driver := range []string{store.SQLite, store.Postgres} {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			r := openRaw(t, driver)
			w := newWorld(t, r.st)
			p := seedTitular(t, w)
			email := p.u.Email
			other, err := w.svc.Create(ctx, w.outsider, ticketing.CreateInput{Requester: w.outsider, Subject: "Acesso",
				Body: "Como combinado com " + email + ", liberar a VPN", Source: store.SourceCLI})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.svc.Comment(ctx, w.tech, other.Number, ticketing.CommentInput{Body: "Ligar para " + titularName, Internal: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.svc.Anonymize(ctx, w.admin, p.u.ID, false); err != nil {
				t.Fatal(err)
			}
			var left []string
			for _, h := range r.hits(t, []string{titularName, email}) {
				if strings.HasPrefix(h, "tickets.") || strings.HasPrefix(h, "ticket_comments.") {
					left = append(left, h)
				}
			}
			if len(left) > 0 {
				t.Fatalf("personal data left on another's ticket:\n%s", strings.Join(left, "\n"))
			}
		})
	}
}
