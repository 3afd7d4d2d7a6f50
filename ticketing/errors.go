package ticketing

import (
	"errors"
	"fmt"
)

// Errors of the domain. Front doors map them: web to HTTP status codes,
// mail to SMTP replies, the CLI to exit codes.
var (
	// ErrNotAllowed: the actor may not do this to this ticket.
	ErrNotAllowed = errors.New("not allowed")
	// ErrInvalid: the input is wrong (empty subject, unknown role…).
	ErrInvalid = errors.New("invalid")
	// ErrNotFound: no such ticket, user, company or category that the
	// actor may see.
	ErrNotFound = errors.New("not found")
	// ErrConflict: it already exists.
	ErrConflict = errors.New("already exists")
)

// TransitionError is an invalid status change; it says why.
type TransitionError struct {
	From, To string
	Why      string
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("cannot change status from %s to %s: %s", e.From, e.To, e.Why)
}

// Is makes errors.Is(err, ErrInvalid) true for transition errors.
func (e *TransitionError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

func notAllowedf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrNotAllowed}, args...)...)
}

func notFoundf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrNotFound}, args...)...)
}
