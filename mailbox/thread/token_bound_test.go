package thread

import "testing"

func TestBoundToken(t *testing.T) {
	secret := []byte("s3cret")
	tok := SignTokenFor(secret, 1001, "Maria <Maria@Customer.example>")
	cases := []struct {
		name, token, sender string
		id                  int64
		bound, ok           bool
	}{
		{"the recipient", tok, "maria@customer.example", 1001, true, true},
		{"the recipient, other case", tok, "MARIA@customer.EXAMPLE", 1001, true, true},
		{"upper-cased token", "T2" + tok[2:], "maria@customer.example", 1001, true, true},
		{"someone else", tok, "mallory@evil.example", 0, false, false},
		{"no sender", tok, "", 0, false, false},
		{"unbound token, anyone", SignToken(secret, 7), "mallory@evil.example", 7, false, true},
		{"bound token, other secret", SignTokenFor([]byte("other"), 1001, "maria@customer.example"), "maria@customer.example", 0, false, false},
		{"one letter changed", tok[:len(tok)-1] + flip(tok[len(tok)-1]), "maria@customer.example", 0, false, false},
		{"garbage", "t2!!", "maria@customer.example", 0, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, bound, ok := CheckToken(secret, c.token, c.sender)
			if id != c.id || bound != c.bound || ok != c.ok {
				t.Errorf("CheckToken(%q, %q) = %d %v %v, want %d %v %v", c.token, c.sender, id, bound, ok, c.id, c.bound, c.ok)
			}
		})
	}
	if SignTokenFor(secret, 1, "") != "" || SignTokenFor(nil, 1, "a@b") != "" || SignTokenFor(secret, 0, "a@b") != "" {
		t.Error("a token without secret, recipient or ticket")
	}
}

func flip(c byte) string {
	if c == 'a' {
		return "b"
	}
	return "a"
}

func TestVERP(t *testing.T) {
	secret := []byte("s3cret")
	addr := VERPAddress(secret, "bounce@helpdesk.example", 42)
	base, tag := SplitSubaddress(addr)
	if base != "bounce@helpdesk.example" || tag == "" {
		t.Fatalf("VERP address %q", addr)
	}
	if id, ok := VerifyVERP(secret, tag); !ok || id != 42 {
		t.Errorf("VerifyVERP = %d %v, want 42", id, ok)
	}
	if _, ok := VerifyVERP([]byte("other"), tag); ok {
		t.Error("verified with another secret")
	}
	if _, ok := VerifyVERP(secret, SignToken(secret, 42)); ok {
		t.Error("a reply token taken for a VERP token")
	}
	if got := VERPAddress(nil, "bounce@helpdesk.example", 42); got != "bounce@helpdesk.example" {
		t.Errorf("no secret: %q", got)
	}
}

func FuzzCheckToken(f *testing.F) {
	secret := []byte("s3cret")
	f.Add(SignTokenFor(secret, 5, "a@b.example"), "a@b.example")
	f.Add(SignToken(secret, 5), "x@y")
	f.Add("v1aaaa", "")
	f.Fuzz(func(t *testing.T, token, sender string) {
		id, bound, ok := CheckToken(secret, token, sender)
		if ok && id <= 0 || bound && !ok {
			t.Fatalf("CheckToken(%q, %q) = %d %v %v", token, sender, id, bound, ok)
		}
		VerifyVERP(secret, token)
	})
}
