package ticketing_test

import (
	"testing"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestNormalizeAddress: stray dots in the local part (as Japanese carriers
// hand out) are accepted as MTAs accept them; broken addresses are not.
func TestNormalizeAddress(t *testing.T) {
	cases := []struct {
		in, want string // want "" = refused
	}{
		{"ana@acme.example", "ana@acme.example"},
		{"  Ana.Souza@ACME.example ", "ana.souza@acme.example"},
		{"taro.@docomo.ne.jp", "taro.@docomo.ne.jp"},
		{".taro@ezweb.ne.jp", ".taro@ezweb.ne.jp"},
		{"ta..ro@softbank.ne.jp", "ta..ro@softbank.ne.jp"},
		{"taro..@docomo.ne.jp", "taro..@docomo.ne.jp"},
		{"a.b-c+tag@acme.example", "a.b-c+tag@acme.example"},
		{"", ""},
		{"@acme.example", ""},
		{"ana@", ""},
		{"ana", ""},
		{".@acme.example", ""},
		{"..@acme.example", ""},
		{"taro.@", ""},
		{"taro.@docomo..ne.jp", ""},
		{"taro.@.docomo.ne.jp", ""},
		{"ta ro.@docomo.ne.jp", ""},
		{"taro(x).@docomo.ne.jp", ""},
		{`"ta ro".@docomo.ne.jp`, ""},
		{"Taro <taro.@docomo.ne.jp>", ""},
		{"taro.@docomo.ne.jp>", ""},
		{"taro.@@docomo.ne.jp", ""},
		{"ta,ro.@docomo.ne.jp", ""},
		{"Ana <ana@acme.example>", ""},
	}
	for _, c := range cases {
		got, err := ticketing.NormalizeAddress(c.in)
		if c.want == "" {
			if err == nil {
				t.Errorf("NormalizeAddress(%q) = %q, want an error", c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("NormalizeAddress(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}
