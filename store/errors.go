package store

import (
	"errors"
	"net"
	"strings"
	"syscall"

	"github.com/uptrace/bun/driver/pgdriver"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Database errors are recognised by their code, never by their message:
// PostgreSQL's SQLSTATE (pgdriver.Error, field 'C') and SQLite's extended
// result code (*sqlite.Error from modernc.org/sqlite, the driver
// sqliteshim picks on every platform we build for).

// sqlState is the SQLSTATE of a PostgreSQL error in err's chain, or "".
func sqlState(err error) string {
	var pe pgdriver.Error
	if errors.As(err, &pe) {
		return pe.Field('C')
	}
	return ""
}

// sqliteCode is the extended result code of a SQLite error in err's
// chain, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// IsConflict reports a unique or primary-key violation: the row already
// exists (SQLSTATE 23505, SQLITE_CONSTRAINT_UNIQUE or _PRIMARYKEY), or an
// error this package already turned into ErrConflict.
func IsConflict(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrConflict) || sqlState(err) == "23505" {
		return true
	}
	switch sqliteCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return false
}

// IsRetryable reports a PostgreSQL error that a fresh attempt of the same
// transaction may not hit: serialization failure (40001) or deadlock
// (40P01). (SQLite's single writer has neither.)
func IsRetryable(err error) bool {
	switch sqlState(err) {
	case "40001", "40P01":
		return true
	}
	return false
}

// IsUnavailable reports that the database cannot serve now but may soon:
// PostgreSQL starting up or shutting down (57P03, 57P01, 57P02), a
// connection error (class 08), a refused or failed connection attempt,
// or SQLite busy or locked (SQLITE_BUSY, SQLITE_LOCKED and their
// extended codes) beyond the busy timeout. A caller that cannot wait
// answers "try again later" (SMTP 451, exit 75).
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if st := sqlState(err); st != "" {
		return strings.HasPrefix(st, "08") || st == "57P01" || st == "57P02" || st == "57P03"
	}
	if c := sqliteCode(err); c != 0 {
		primary := c & 0xff
		return primary == sqlite3.SQLITE_BUSY || primary == sqlite3.SQLITE_LOCKED
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
