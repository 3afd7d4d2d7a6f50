package thread

import (
	"strings"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	secret := []byte("s3cret-for-tests")
	for _, id := range []int64{1, 42, 1042, 1 << 31, 1<<63 - 1} {
		tok := SignToken(secret, id)
		if !strings.HasPrefix(tok, "t1") {
			t.Fatalf("SignToken(%d) = %q, want t1 prefix", id, tok)
		}
		if tok != strings.ToLower(tok) {
			t.Errorf("token %q not lower-case", tok)
		}
		for _, r := range tok {
			if !(r >= 'a' && r <= 'z' || r >= '2' && r <= '7' || r == '1') {
				t.Errorf("token %q has char %q outside the dot-atom-safe alphabet", tok, r)
			}
		}
		// 64-bit floor: prefix + at least 8 MAC bytes of base32.
		if len(tok) < 2+13 {
			t.Errorf("token %q too short for a 64-bit MAC", tok)
		}
		got, ok := VerifyToken(secret, tok)
		if !ok || got != id {
			t.Errorf("VerifyToken(SignToken(%d)) = %d, %v", id, got, ok)
		}
	}
	if tok := SignToken(secret, 1042); len(tok) > 24 {
		t.Errorf("token for 1042 is %d chars, want short", len(tok))
	}
}

func TestVerifyTokenRejects(t *testing.T) {
	secret := []byte("s3cret-for-tests")
	good := SignToken(secret, 1042)
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	tests := []struct {
		name   string
		secret []byte
		token  string
		wantOK bool
	}{
		{"good", secret, good, true},
		{"upper-cased", secret, strings.ToUpper(good), true},
		{"mixed case", secret, strings.ToUpper(good[:8]) + good[8:], true},
		{"other secret", []byte("another-secret"), good, false},
		{"empty secret", nil, good, false},
		{"tampered last char", secret, flip(good, len(good)-1), false},
		{"tampered id char", secret, flip(good, 2), false},
		{"truncated by one", secret, good[:len(good)-1], false},
		{"truncated by half", secret, good[:len(good)/2], false},
		{"extended", secret, good + "a", false},
		{"no prefix", secret, good[2:], false},
		{"wrong version", secret, "t2" + good[2:], false},
		{"empty", secret, "", false},
		{"prefix only", secret, "t1", false},
		{"padding", secret, good + "=", false},
		{"bad alphabet", secret, "t1" + strings.Repeat("1", 20), false},
		{"other ticket's mac", secret, SignToken(secret, 1)[:4] + good[4:], false},
		{"huge", secret, "t1" + strings.Repeat("a", 200), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ok := VerifyToken(tt.secret, tt.token)
			if ok != tt.wantOK {
				t.Fatalf("VerifyToken(%q) ok = %v, want %v", tt.token, ok, tt.wantOK)
			}
			if ok && id != 1042 {
				t.Fatalf("id = %d, want 1042", id)
			}
			if !ok && id != 0 {
				t.Fatalf("id = %d on failure, want 0", id)
			}
		})
	}
}

func TestSignTokenRefusesBadInput(t *testing.T) {
	if tok := SignToken(nil, 5); tok != "" {
		t.Errorf("empty secret gave %q", tok)
	}
	for _, id := range []int64{0, -1, -1 << 63} {
		if tok := SignToken([]byte("k"), id); tok != "" {
			t.Errorf("SignToken(%d) = %q, want empty", id, tok)
		}
	}
}

func TestTokensDifferPerTicketAndSecret(t *testing.T) {
	a := SignToken([]byte("a"), 7)
	if a == SignToken([]byte("b"), 7) || a == SignToken([]byte("a"), 8) {
		t.Fatal("tokens collide across secrets or tickets")
	}
	if a != SignToken([]byte("a"), 7) {
		t.Fatal("SignToken not deterministic")
	}
}

func FuzzVerifyToken(f *testing.F) {
	secret := []byte("fuzz-secret")
	f.Add(SignToken(secret, 1042))
	f.Add(strings.ToUpper(SignToken(secret, 1)))
	f.Add("t1")
	f.Add("t1aaaaaaaaaaaaaaaaaaaaaa")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		id, ok := VerifyToken(secret, tok)
		if !ok {
			if id != 0 {
				t.Fatalf("id %d with ok=false", id)
			}
			return
		}
		if id <= 0 {
			t.Fatalf("verified non-positive id %d", id)
		}
		// Only the canonical token (modulo case) may verify.
		if want := SignToken(secret, id); !strings.EqualFold(tok, want) {
			t.Fatalf("token %q verified as %d, canonical is %q", tok, id, want)
		}
	})
}

func BenchmarkVerifyToken(b *testing.B) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	tok := SignToken(secret, 123456)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := VerifyToken(secret, tok); !ok {
			b.Fatal("verify failed")
		}
	}
}

func BenchmarkSignToken(b *testing.B) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	b.ReportAllocs()
	for b.Loop() {
		_ = SignToken(secret, 123456)
	}
}
