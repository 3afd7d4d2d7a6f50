package store_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// The intended differences between the two migrated schemas. Everything
// else (tables, columns with their kind, nullability and primary key,
// explicitly created indexes with their columns, order and uniqueness)
// must match.
var (
	// Tables only one dialect has, or that each dialect builds its own
	// way: the full-text index is an FTS5 virtual table (with its shadow
	// tables) on SQLite and a tsvector side table on PostgreSQL; the
	// search tests check both find the same tickets.
	sqliteOnlyTables = map[string]string{
		"sqlite_sequence":       "SQLite's bookkeeping for AUTOINCREMENT ids",
		"ticket_search":         "FTS5 virtual table",
		"ticket_search_config":  "FTS5 shadow table",
		"ticket_search_content": "FTS5 shadow table",
		"ticket_search_data":    "FTS5 shadow table",
		"ticket_search_docsize": "FTS5 shadow table",
		"ticket_search_idx":     "FTS5 shadow table",
		"ticket_search_vocab":   "FTS5 vocabulary of ticket_search (long prefixes)",
		"search_indexed":        "how far the FTS5 index has caught up (store/search_index.go)",
	}
	postgresOnlyTables = map[string]string{
		"ticket_search": "tsvector side table with a GIN index",
	}

	// Column types are compared by kind, as each dialect spells them:
	// INTEGER PRIMARY KEY AUTOINCREMENT is SQLite's rowid alias where
	// PostgreSQL has BIGINT identity; TIMESTAMP holds UTC text on SQLite
	// and is TIMESTAMPTZ on PostgreSQL; BLOB is BYTEA.
	typeKind = map[string]string{
		"integer": "int", "bigint": "int",
		"text":      "text",
		"boolean":   "bool",
		"timestamp": "time", "timestamp with time zone": "time",
		"blob": "bytes", "bytea": "bytes",
		"varchar": "text", "character varying": "text",
	}
)

// Not compared, on purpose: column defaults (each dialect prints them its
// own way, '[]' against '[]'::text), CHECK constraints, foreign keys, the
// indexes behind primary keys and UNIQUE constraints (sqlite_autoindex_*
// against *_pkey; primary keys are compared as columns), the text of
// index expressions (COALESCE(parent_id, 0) against
// COALESCE(parent_id, 0::bigint): compared as "(expr)"), and sequences
// (PostgreSQL's ticket_number_seq; SQLite numbers tickets with MAX+1
// under its single writer).

type schemaColumn struct {
	kind    string
	notNull bool
	pk      bool
}

type schemaIndex struct {
	unique  bool
	partial bool
	columns []string // "name", "name DESC" or "(expr)"
}

type schema struct {
	tables  map[string]map[string]schemaColumn
	indexes map[string]string // name → "table(unique cols… partial)"
}

// TestDialectSchemasMatch migrates both databases and compares what they
// hold. It needs PostgreSQL (SERVICEDESK_TEST_POSTGRES_URL).
func TestDialectSchemasMatch(t *testing.T) {
	ctx := context.Background()
	pgStore := storetest.Open(t, store.Postgres) // skips without PostgreSQL
	lite, err := sqliteSchema(ctx, storetest.Open(t, store.SQLite).DB())
	if err != nil {
		t.Fatal(err)
	}
	pg, err := postgresSchema(ctx, pgStore.DB())
	if err != nil {
		t.Fatal(err)
	}
	// Guard against a query that reads nothing and so compares nothing.
	for name, sc := range map[string]*schema{"SQLite": lite, "PostgreSQL": pg} {
		if len(sc.tables) < 30 || len(sc.indexes) < 40 {
			t.Fatalf("read only %d tables and %d indexes from %s", len(sc.tables), len(sc.indexes), name)
		}
	}
	for _, name := range union(keys(lite.tables), keys(pg.tables)) {
		lc, lok := lite.tables[name]
		pc, pok := pg.tables[name]
		switch {
		case !pok:
			t.Errorf("table %s is only on SQLite", name)
			continue
		case !lok:
			t.Errorf("table %s is only on PostgreSQL", name)
			continue
		}
		for _, col := range union(keys(lc), keys(pc)) {
			l, lok := lc[col]
			p, pok := pc[col]
			switch {
			case !pok:
				t.Errorf("column %s.%s is only on SQLite", name, col)
			case !lok:
				t.Errorf("column %s.%s is only on PostgreSQL", name, col)
			case l != p:
				t.Errorf("column %s.%s: SQLite %+v, PostgreSQL %+v", name, col, l, p)
			}
		}
	}
	for _, name := range union(keys(lite.indexes), keys(pg.indexes)) {
		l, lok := lite.indexes[name]
		p, pok := pg.indexes[name]
		switch {
		case !pok:
			t.Errorf("index %s is only on SQLite: %s", name, l)
		case !lok:
			t.Errorf("index %s is only on PostgreSQL: %s", name, p)
		case l != p:
			t.Errorf("index %s: SQLite %s, PostgreSQL %s", name, l, p)
		}
	}
}

func kindOf(typ string) (string, error) {
	typ = strings.ToLower(strings.TrimSpace(typ))
	if k, ok := typeKind[typ]; ok {
		return k, nil
	}
	return "", fmt.Errorf("column type %q has no kind in typeKind", typ)
}

func (ix schemaIndex) String() string {
	s := strings.Join(ix.columns, ", ")
	if ix.unique {
		s = "UNIQUE " + s
	}
	if ix.partial {
		s += " WHERE …"
	}
	return s
}

func sqliteSchema(ctx context.Context, db *bun.DB) (*schema, error) {
	sc := &schema{tables: map[string]map[string]schemaColumn{}, indexes: map[string]string{}}
	var tables []string
	if err := db.NewRaw("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").Scan(ctx, &tables); err != nil {
		return nil, err
	}
	for _, tbl := range tables {
		if _, ok := sqliteOnlyTables[tbl]; ok {
			continue
		}
		var cols []struct {
			Name    string `bun:"name"`
			Type    string `bun:"type"`
			NotNull bool   `bun:"not_null"`
			PK      int    `bun:"pk"`
		}
		if err := db.NewRaw("SELECT name, type, \"notnull\" AS not_null, pk FROM pragma_table_info(?)", tbl).Scan(ctx, &cols); err != nil {
			return nil, fmt.Errorf("columns of %s: %w", tbl, err)
		}
		sc.tables[tbl] = map[string]schemaColumn{}
		for _, c := range cols {
			k, err := kindOf(c.Type)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", tbl, c.Name, err)
			}
			// A primary key column is NOT NULL on PostgreSQL whether or
			// not it says so; SQLite only enforces it for INTEGER ones.
			sc.tables[tbl][c.Name] = schemaColumn{kind: k, notNull: c.NotNull || c.PK > 0, pk: c.PK > 0}
		}
		var idxs []struct {
			Name    string `bun:"name"`
			Unique  bool   `bun:"is_unique"`
			Origin  string `bun:"origin"`
			Partial bool   `bun:"partial"`
		}
		if err := db.NewRaw("SELECT name, \"unique\" AS is_unique, origin, partial FROM pragma_index_list(?)", tbl).Scan(ctx, &idxs); err != nil {
			return nil, fmt.Errorf("indexes of %s: %w", tbl, err)
		}
		for _, ix := range idxs {
			if ix.Origin != "c" { // "pk" and "u": behind a constraint
				continue
			}
			var parts []struct {
				Name *string `bun:"name"`
				Desc bool    `bun:"is_desc"`
				Key  bool    `bun:"is_key"`
			}
			if err := db.NewRaw("SELECT name, \"desc\" AS is_desc, key AS is_key FROM pragma_index_xinfo(?) ORDER BY seqno", ix.Name).Scan(ctx, &parts); err != nil {
				return nil, fmt.Errorf("index %s: %w", ix.Name, err)
			}
			si := schemaIndex{unique: ix.Unique, partial: ix.Partial}
			for _, p := range parts {
				if !p.Key { // the rowid SQLite appends
					continue
				}
				si.columns = append(si.columns, indexColumn(p.Name, p.Desc))
			}
			sc.indexes[ix.Name] = tbl + "(" + si.String() + ")"
		}
	}
	return sc, nil
}

func postgresSchema(ctx context.Context, db *bun.DB) (*schema, error) {
	sc := &schema{tables: map[string]map[string]schemaColumn{}, indexes: map[string]string{}}
	var cols []struct {
		Table   string `bun:"table_name"`
		Name    string `bun:"column_name"`
		Type    string `bun:"data_type"`
		NotNull bool   `bun:"not_null"`
		PK      bool   `bun:"pk"`
	}
	err := db.NewRaw(`SELECT c.table_name, c.column_name, c.data_type, c.is_nullable = 'NO' AS not_null,
		EXISTS (SELECT 1 FROM information_schema.table_constraints tc
			JOIN information_schema.key_column_usage k ON k.constraint_name = tc.constraint_name
				AND k.table_schema = tc.table_schema AND k.table_name = tc.table_name
			WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = c.table_schema
				AND tc.table_name = c.table_name AND k.column_name = c.column_name) AS pk
		FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'`).Scan(ctx, &cols)
	if err != nil {
		return nil, fmt.Errorf("columns: %w", err)
	}
	for _, c := range cols {
		if _, ok := postgresOnlyTables[c.Table]; ok {
			continue
		}
		k, err := kindOf(c.Type)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", c.Table, c.Name, err)
		}
		if sc.tables[c.Table] == nil {
			sc.tables[c.Table] = map[string]schemaColumn{}
		}
		sc.tables[c.Table][c.Name] = schemaColumn{kind: k, notNull: c.NotNull, pk: c.PK}
	}
	// Every index of the schema's tables that no constraint owns, with
	// each key column: its name (or expression) and whether it is DESC.
	var parts []struct {
		Index   string  `bun:"index_name"`
		Table   string  `bun:"table_name"`
		Unique  bool    `bun:"is_unique"`
		Partial bool    `bun:"partial"`
		Column  *string `bun:"column_name"`
		Desc    bool    `bun:"is_desc"`
	}
	err = db.NewRaw(`SELECT ic.relname AS index_name, tc.relname AS table_name, i.indisunique AS is_unique,
			i.indpred IS NOT NULL AS partial, a.attname AS column_name, (i.indoption[k.n - 1] & 1) = 1 AS is_desc
		FROM pg_index i
		JOIN pg_class ic ON ic.oid = i.indexrelid
		JOIN pg_class tc ON tc.oid = i.indrelid
		JOIN pg_namespace ns ON ns.oid = tc.relnamespace
		CROSS JOIN LATERAL generate_series(1, i.indnkeyatts) AS k(n)
		LEFT JOIN pg_attribute a ON a.attrelid = tc.oid AND a.attnum = i.indkey[k.n - 1] AND i.indkey[k.n - 1] <> 0
		WHERE ns.nspname = current_schema()
			AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid)
		ORDER BY ic.relname, k.n`).Scan(ctx, &parts)
	if err != nil {
		return nil, fmt.Errorf("indexes: %w", err)
	}
	byName := map[string]*schemaIndex{}
	tableOf := map[string]string{}
	var names []string
	for _, p := range parts {
		si := byName[p.Index]
		if si == nil {
			si = &schemaIndex{unique: p.Unique, partial: p.Partial}
			byName[p.Index], tableOf[p.Index] = si, p.Table
			names = append(names, p.Index)
		}
		si.columns = append(si.columns, indexColumn(p.Column, p.Desc))
	}
	for _, n := range names {
		if _, ok := postgresOnlyTables[tableOf[n]]; ok {
			continue
		}
		sc.indexes[n] = tableOf[n] + "(" + byName[n].String() + ")"
	}
	return sc, nil
}

func indexColumn(name *string, desc bool) string {
	c := "(expr)"
	if name != nil {
		c = *name
	}
	if desc {
		c += " DESC"
	}
	return c
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(a, b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
