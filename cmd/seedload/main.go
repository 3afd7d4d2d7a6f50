// Command seedload fills a database with generated Portuguese tickets and
// comments for load tests, then times the full-text search over them.
//
//	go run ./cmd/seedload --database sqlite:////tmp/load.db --tickets 100000 --comments 1000000
//	go run ./cmd/seedload --database 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=load' --tickets 10000
//
// The database is migrated first. Without --database it uses
// $SERVICEDESK_DATABASE_URL. --tickets 0 --comments 0 only times the
// searches of a database seeded before.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/seedload"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// queries is the timed mix: common and rare words, with and without
// accents, prefixes, phrases, OR, exclusions, several words.
var queries = []string{
	"impressora", "impressao", "IMPRESSÃO", "impres", "senha expirada", `"nota fiscal"`, "toner OR cartucho",
	"vpn -senha", "certificado digital", "açúcar", "acucar", "lentidão banco", "catraca biométrico", "xml danfe sefaz",
	"rastreio", "restauração lixeira", "phishing", "usuário bloqueado", "homologação", "coração",
}

func main() {
	fs := flag.NewFlagSet("seedload", flag.ContinueOnError)
	dbURL := fs.String("database", os.Getenv("SERVICEDESK_DATABASE_URL"), "database URL (sqlite:///path or postgres://…); default $SERVICEDESK_DATABASE_URL")
	tickets := fs.Int("tickets", 1000, "tickets to add")
	comments := fs.Int("comments", 10000, "comments to add, spread over the new tickets")
	seed := fs.Uint64("seed", 1, "seed of the generated text")
	rounds := fs.Int("rounds", 5, "times each search query is run for the latency figures (0: none)")
	perQuery := fs.Bool("per-query", false, "print each query's median time too")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if err := run(*dbURL, *tickets, *comments, *seed, *rounds, *perQuery); err != nil {
		fmt.Fprintln(os.Stderr, "seedload:", err)
		os.Exit(1)
	}
}

func run(dbURL string, tickets, comments int, seed uint64, rounds int, perQuery bool) error {
	if dbURL == "" {
		return fmt.Errorf("give --database or set SERVICEDESK_DATABASE_URL")
	}
	if tickets < 0 || comments < 0 || (tickets == 0 && comments > 0) {
		return fmt.Errorf("--tickets and --comments must be ≥ 0, and comments need tickets")
	}
	target, err := configs.ParseDatabaseURL(dbURL)
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Driver: target.Driver, DSN: target.DSN})
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	if tickets > 0 {
		restore, err := st.LongWrite(ctx)
		if err != nil {
			return err
		}
		last := time.Now()
		res, err := seedload.Seed(ctx, st, seedload.Options{Tickets: tickets, Comments: comments, Seed: seed,
			Progress: func(t, c int) {
				if time.Since(last) > 5*time.Second {
					last = time.Now()
					fmt.Fprintf(os.Stderr, "seedload: %d tickets, %d comments\n", t, c)
				}
			}})
		restore()
		if err != nil {
			return err
		}
		fmt.Printf("seeded %d tickets and %d comments in %s (%.0f rows/s)\n", tickets, comments, res.Elapsed.Round(time.Millisecond),
			float64(tickets+comments)/res.Elapsed.Seconds())
		t0 := time.Now()
		if err := st.OptimizeSearch(ctx); err != nil {
			return err
		}
		if err := st.Analyze(ctx); err != nil {
			return err
		}
		fmt.Printf("optimized the search index and analyzed in %s\n", time.Since(t0).Round(time.Millisecond))
	}
	if rounds > 0 {
		return measure(ctx, st, rounds, perQuery)
	}
	return nil
}

// measure times every query as a technician (every company, internal
// notes too) and as a client (one company), and prints p50/p99/max.
func measure(ctx context.Context, st *store.Store, rounds int, perQuery bool) error {
	svc := ticketing.NewService(st)
	tech := &store.User{ID: -1, Role: store.RoleTech, Email: "seedload@helpdesk.example"}
	var client *store.User
	ts, err := st.R().Tickets(ctx, store.AllCompanies(), store.TicketFilter{Limit: 1})
	if err != nil {
		return err
	}
	if len(ts) == 0 {
		return fmt.Errorf("no tickets to search")
	}
	if client, err = st.R().User(ctx, store.AllCompanies(), ts[0].RequesterID); err != nil {
		return err
	}
	for _, who := range []*store.User{tech, client} {
		var all []time.Duration
		byQuery := map[string][]time.Duration{}
		var worst string
		var worstD time.Duration
		hits := 0
		for i := 0; i < rounds; i++ {
			for _, q := range queries {
				t0 := time.Now()
				hs, err := svc.Search(ctx, who, q, store.TicketFilter{Limit: 25})
				d := time.Since(t0)
				if err != nil {
					return fmt.Errorf("search %q: %w", q, err)
				}
				hits += len(hs)
				all = append(all, d)
				byQuery[q] = append(byQuery[q], d)
				if d > worstD {
					worstD, worst = d, q
				}
			}
		}
		slices.Sort(all)
		p := func(f float64) time.Duration { return all[min(len(all)-1, int(f*float64(len(all))))] }
		fmt.Printf("search as %s (%s): %d searches of %d queries, p50 %s, p90 %s, p99 %s, max %s (%q), %.1f hits per search\n",
			who.Role, strings.TrimSpace(st.Driver()), len(all), len(queries), p(0.50).Round(time.Microsecond),
			p(0.90).Round(time.Microsecond), p(0.99).Round(time.Microsecond), worstD.Round(time.Microsecond), worst,
			float64(hits)/float64(len(all)))
		if perQuery {
			for _, q := range queries {
				ds := byQuery[q]
				slices.Sort(ds)
				fmt.Printf("  %-24q median %s\n", q, ds[len(ds)/2].Round(time.Microsecond))
			}
		}
	}
	return nil
}
