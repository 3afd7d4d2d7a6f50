package web

import (
	"net/http"
	"strconv"
	"strings"
)

// formInt reads a positive integer form field; anything else is a 422.
func formInt(r *http.Request, name string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(r.PostFormValue(name)), 10, 64)
	if err != nil || n <= 0 {
		return 0, httpError(http.StatusUnprocessableEntity, "error.invalid")
	}
	return n, nil
}
