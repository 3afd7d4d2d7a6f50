package store

import (
	"context"
	"reflect"
	"time"
)

// A ticket remembers its columns as they were read (or last written), so
// that UpdateTicket writes only the columns that changed. Writing them all
// rewrote every index of the table on each comment (the status and
// updated_at change, nothing else does), and could overwrite a column
// another transaction had changed since the read.

// The snapshot is what this transaction read or wrote; it is only a true
// picture of the row under the row's lock (ticketing reads the tickets it
// changes FOR UPDATE on PostgreSQL; SQLite has one writer).

// wrote records that q's transaction wrote t, and keeps its columns.
func (q *Q) wrote(t *Ticket) {
	t.keep()
	q.written = append(q.written, t)
}

// wroteBefore reports whether q's transaction has written t already.
func (q *Q) wroteBefore(t *Ticket) bool {
	for _, w := range q.written {
		if w == t {
			return true
		}
	}
	return false
}

// forget drops the snapshots of the tickets written since the n-th
// (rolled back): their next UpdateTicket writes every column.
func (q *Q) forget(n int) {
	for _, t := range q.written[n:] {
		t.saved = nil
	}
	q.written = q.written[:n]
}

// AfterScanRow keeps the columns as read (bun calls it for each row).
func (t *Ticket) AfterScanRow(context.Context) error {
	t.keep()
	return nil
}

// keep makes t's current column values the baseline of the next update.
func (t *Ticket) keep() {
	c := *t
	c.saved = nil
	clonePointers(reflect.ValueOf(&c).Elem())
	t.saved = &c
}

// clonePointers replaces, in the struct v, every pointer to a value (a
// *time.Time, an *int64…) by a pointer to a copy, through embedded
// structs; relations (pointers to other models) are left alone.
func clonePointers(v reflect.Value) {
	for i := 0; i < v.NumField(); i++ {
		f, sf := v.Field(i), v.Type().Field(i)
		switch {
		case !f.CanSet():
		case sf.Anonymous && f.Kind() == reflect.Struct:
			clonePointers(f)
		case f.Kind() == reflect.Pointer && !f.IsNil() && (f.Elem().Kind() != reflect.Struct || f.Elem().Type() == timeType):
			p := reflect.New(f.Elem().Type())
			p.Elem().Set(f.Elem())
			f.Set(p)
		}
	}
}

// changedTicketColumns lists the columns of t that differ from what was
// read; all is true when t was never read (every column is written).
func (q *Q) changedTicketColumns(t *Ticket) (cols []string, all bool) {
	if t.saved == nil {
		return nil, true
	}
	cur, old := reflect.ValueOf(t).Elem(), reflect.ValueOf(t.saved).Elem()
	for _, f := range q.hot.db.Table(cur.Type()).Fields {
		switch f.Name {
		case "id", "number", "created_at", "updated_at":
			continue
		}
		if !sameColumn(f.Value(cur), f.Value(old)) {
			cols = append(cols, f.Name)
		}
	}
	return cols, false
}

func sameColumn(a, b reflect.Value) bool {
	if a.Kind() == reflect.Pointer {
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		a, b = a.Elem(), b.Elem()
	}
	if a.Type() == timeType {
		return a.Interface().(time.Time).Equal(b.Interface().(time.Time))
	}
	return a.Interface() == b.Interface()
}
