package configs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
)

var envVarName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)

// readDotEnv reads a .env file as python-dotenv did for the Flask app:
// NAME=value lines, optional "export ", # comments, single quotes literal,
// double quotes with \n \t \" \\ escapes and multi-line values, and ${NAME}
// or ${NAME:-default} expanded from env first, then from earlier lines.
// A missing file is no error. Nothing is written to the process environment.
func readDotEnv(path string, env map[string]string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, &fileError{path: path, msg: err.Error(), err: err}
	}
	vars, err := parseDotEnv(string(data), env)
	if err != nil {
		return nil, &fileError{path: path, msg: err.Error(), err: err}
	}
	return vars, nil
}

func parseDotEnv(data string, env map[string]string) (map[string]string, error) {
	vars := map[string]string{}
	lookup := func(name string) (string, bool) {
		if v, ok := env[name]; ok {
			return v, true
		}
		v, ok := vars[name]
		return v, ok
	}
	lines := strings.Split(strings.ReplaceAll(data, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		line := strings.TrimSpace(lines[i])
		if line == "" || line[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "export "); ok {
			line = strings.TrimSpace(rest)
		}
		name, val, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		if !ok || !envVarName.MatchString(name) {
			return nil, fmt.Errorf("line %d: want NAME=value", lineNo)
		}
		val = strings.TrimLeft(val, " \t")
		if val != "" && (val[0] == '"' || val[0] == '\'') {
			q := val[0]
			body := val[1:]
			for {
				if end := closingQuote(body, q); end >= 0 {
					body = body[:end]
					break
				}
				i++
				if i >= len(lines) {
					return nil, fmt.Errorf("line %d: unterminated %c quote", lineNo, q)
				}
				body += "\n" + lines[i]
			}
			if q == '"' {
				body = expand(body, true, lookup)
			}
			vars[name] = body
			continue
		}
		if j := strings.Index(val, " #"); j >= 0 {
			val = val[:j]
		}
		if j := strings.Index(val, "\t#"); j >= 0 {
			val = val[:j]
		}
		vars[name] = expand(strings.TrimSpace(val), false, lookup)
	}
	return vars, nil
}

// closingQuote finds the quote ending s; in double quotes a backslash
// escapes the next byte.
func closingQuote(s string, q byte) int {
	for i := 0; i < len(s); i++ {
		switch {
		case q == '"' && s[i] == '\\':
			i++
		case s[i] == q:
			return i
		}
	}
	return -1
}

// expand replaces ${NAME} and ${NAME:-default}, and with escapes also
// decodes backslash escapes (so "\${X}" stays literal).
func expand(s string, escapes bool, lookup func(string) (string, bool)) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if escapes && c == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '"', '\\', '$', '\'':
				b.WriteByte(s[i])
			default:
				b.WriteByte('\\')
				b.WriteByte(s[i])
			}
			continue
		}
		if c == '$' && strings.HasPrefix(s[i+1:], "{") {
			if end := strings.IndexByte(s[i+2:], '}'); end >= 0 {
				name, def, hasDef := strings.Cut(s[i+2:i+2+end], ":-")
				val, ok := lookup(name)
				if hasDef && (!ok || val == "") {
					val = def
				}
				b.WriteString(val)
				i += 2 + end
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}
