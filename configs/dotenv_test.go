package configs

import (
	"reflect"
	"testing"
)

func TestParseDotEnv(t *testing.T) {
	env := map[string]string{"HOME": "/home/jc", "EMPTY": ""}
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{"plain", "A=1\nB = two \n", map[string]string{"A": "1", "B": "two"}},
		{"comments and blanks", "# c\n\n  # indented\nA=1 # trailing\nB=x#not-a-comment\n", map[string]string{"A": "1", "B": "x#not-a-comment"}},
		{"export", "export A=1\n", map[string]string{"A": "1"}},
		{"CRLF", "A=1\r\nB=2\r\n", map[string]string{"A": "1", "B": "2"}},
		{"empty", "A=\nB=''\n", map[string]string{"A": "", "B": ""}},
		{"single quotes literal", `A='x ${HOME} \n # y'`, map[string]string{"A": `x ${HOME} \n # y`}},
		{"double quotes escapes", `A="x\ty \"q\" \\ \${HOME}" # c`, map[string]string{"A": "x\ty \"q\" \\ ${HOME}"}},
		{"double quotes multi-line", "A=\"line1\nline2\"\nB=3\n", map[string]string{"A": "line1\nline2", "B": "3"}},
		{"expand from env", "A=${HOME}/data\n", map[string]string{"A": "/home/jc/data"}},
		{"expand from earlier line", "HOST=db\nURL=\"postgres://u@${HOST}/sd\"\n", map[string]string{"HOST": "db", "URL": "postgres://u@db/sd"}},
		{"default", "A=${MISSING:-x}\nB=${EMPTY:-y}\nC=${HOME:-z}\nD=${MISSING}\n", map[string]string{"A": "x", "B": "y", "C": "/home/jc", "D": ""}},
		{"password with equals", "SECRET_KEY=ab=cd==\n", map[string]string{"SECRET_KEY": "ab=cd=="}},
		{"later wins", "A=1\nA=2\n", map[string]string{"A": "2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDotEnv(tt.in, env)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseDotEnvErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"A=1\nnot a line\n", "line 2: want NAME=value"},
		{"1A=x\n", "line 1: want NAME=value"},
		{"=x\n", "line 1: want NAME=value"},
		{"A='open\nB=1\n", "line 1: unterminated ' quote"},
		{`A="esc\"`, `line 1: unterminated " quote`},
	}
	for _, tt := range tests {
		_, err := parseDotEnv(tt.in, nil)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q: err = %v, want %q", tt.in, err, tt.want)
		}
	}
}
