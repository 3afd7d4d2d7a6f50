package thread

import "testing"

func TestReplyAddress(t *testing.T) {
	tests := []struct{ addr, token, want string }{
		{"support@x.com", "t1abc", "support+t1abc@x.com"},
		{"Support <support@x.com>", "t1abc", "support+t1abc@x.com"},
		{"support+old@x.com", "t1abc", "support+t1abc@x.com"},
		{"support@x.com", "", "support@x.com"},
		{"not-an-address", "t1abc", "not-an-address"},
		{"@x.com", "t1abc", "@x.com"},
	}
	for _, tt := range tests {
		if got := ReplyAddress(tt.addr, tt.token); got != tt.want {
			t.Errorf("ReplyAddress(%q, %q) = %q, want %q", tt.addr, tt.token, got, tt.want)
		}
	}
}

func TestSplitSubaddress(t *testing.T) {
	tests := []struct{ addr, base, tag string }{
		{"support+t1abc@x.com", "support@x.com", "t1abc"},
		{"support@x.com", "support@x.com", ""},
		{"<Support+TAG@X.com>", "Support@X.com", "TAG"},
		{"a+b+c@x.com", "a@x.com", "b+c"},
		{"support+@x.com", "support@x.com", ""},
		{"plain", "plain", ""},
		{"local+tag", "local", "tag"},
		{"", "", ""},
	}
	for _, tt := range tests {
		base, tag := SplitSubaddress(tt.addr)
		if base != tt.base || tag != tt.tag {
			t.Errorf("SplitSubaddress(%q) = %q, %q; want %q, %q", tt.addr, base, tag, tt.base, tt.tag)
		}
	}
}

func TestTokenFromRecipients(t *testing.T) {
	owned := []string{"support@x.com", "Vendas@X.com.br"}
	tests := []struct {
		name       string
		recipients []string
		token      string
		owner      string
	}{
		{"plain match", []string{"bob@y.com", "support+t1abc@x.com"}, "t1abc", "support@x.com"},
		{"case-insensitive", []string{"SUPPORT+T1ABC@X.COM"}, "t1abc", "support@x.com"},
		{"second owned", []string{"vendas+t1zz@x.com.br"}, "t1zz", "Vendas@X.com.br"},
		{"display name", []string{`"Support" <support+t1q@x.com>`}, "t1q", "support@x.com"},
		{"not owned", []string{"other+t1abc@x.com"}, "", ""},
		{"owned without tag", []string{"support@x.com"}, "", ""},
		{"other domain", []string{"support+t1abc@evil.com"}, "", ""},
		{"first wins", []string{"support+t1a@x.com", "support+t1b@x.com"}, "t1a", "support@x.com"},
		{"none", nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, owner := TokenFromRecipients(tt.recipients, owned)
			if tok != tt.token || owner != tt.owner {
				t.Errorf("got %q, %q; want %q, %q", tok, owner, tt.token, tt.owner)
			}
		})
	}
}

func TestReplyAddressTokenRoundTrip(t *testing.T) {
	secret := []byte("k")
	addr := ReplyAddress("support@x.com", SignToken(secret, 1042))
	tok, _ := TokenFromRecipients([]string{addr}, []string{"support@x.com"})
	if id, ok := VerifyToken(secret, tok); !ok || id != 1042 {
		t.Fatalf("round trip via %q: %d, %v", addr, id, ok)
	}
}
