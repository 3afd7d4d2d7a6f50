package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/jcservicedesk/servicedesk/store"
)

// brand is what the header and the brand stylesheet show: a name, maybe
// a logo, and colours as CSS custom properties.
type brand struct {
	CompanyID int64  // 0 for the default brand
	Name      string // company name, or the product's
	HasLogo   bool
	Primary   string // buttons, links, header accent
	Dark      string // hover and pressed
	Light     string // tinted backgrounds
	OnPrimary string // text on Primary
	OnLight   string // Primary as text on the light theme's surfaces (links), darkened when needed
	OnDark    string // Primary as text on the dark theme's surfaces
	hash      string
}

// The surfaces that brand-coloured text sits on whose contrast is the
// lowest: app.css --surface-2 of the light theme (darker than white and
// --bg) and of the dark theme (lighter than --surface and --bg).
const (
	lightSurface = "#f0f2f5"
	darkSurface  = "#1f2630"
)

// defaultBrand: the configured colours (configs' brand.*), the product name.
func (s *Server) defaultBrand() *brand {
	b := s.cfg.Brand
	return newBrand(0, "JC Service Desk", false, b.Primary, b.PrimaryDark, b.PrimaryLight)
}

// brandOf is the company's brand: its colours, else a hue derived from its
// id (the old app's (id × 53) mod 360) at a lightness that passes AA.
func (s *Server) brandOf(c *store.Company) *brand {
	if c == nil {
		return s.defaultBrand()
	}
	if c.BrandPrimary == "" {
		p, d, l := derivedColours(c.ID)
		return newBrand(c.ID, c.Name, len(c.Logo) > 0, p, d, l)
	}
	return newBrand(c.ID, c.Name, len(c.Logo) > 0, c.BrandPrimary, c.BrandPrimaryDark, c.BrandPrimaryLight)
}

func newBrand(id int64, name string, logo bool, primary, dark, light string) *brand {
	p, ok := parseHex(primary)
	if !ok {
		p, _ = parseHex("#0b5cad")
	}
	d, ok := parseHex(dark)
	if !ok {
		d = scale(p, 0.75)
	}
	l, ok := parseHex(light)
	if !ok {
		l = mix(p, rgb{1, 1, 1}, 0.9)
	}
	on := rgb{1, 1, 1}
	if contrast(on, p) < 4.5 {
		on = rgb{0.07, 0.07, 0.07}
	}
	b := &brand{CompanyID: id, Name: name, HasLogo: logo, Primary: p.hex(), Dark: d.hex(), Light: l.hex(),
		OnPrimary: on.hex(), OnLight: readableOn(p, mustHex(lightSurface)).hex(), OnDark: readableOn(p, mustHex(darkSurface)).hex()}
	sum := sha256.Sum256([]byte(b.css()))
	b.hash = hex.EncodeToString(sum[:5])
	return b
}

// url is the brand stylesheet's address; the hash changes with the colours.
func (b *brand) url() string {
	id := "default"
	if b.CompanyID > 0 {
		id = strconv.FormatInt(b.CompanyID, 10)
	}
	return "/brand/" + id + "." + b.hash + ".css"
}

func (b *brand) css() string {
	return fmt.Sprintf(":root{--brand:%s;--brand-dark:%s;--brand-light:%s;--on-brand:%s;--brand-text:%s}\n"+
		"[data-theme=dark]{--brand-text:%s}\n@media (prefers-color-scheme:dark){:root:not([data-theme=light]){--brand-text:%s}}\n",
		b.Primary, b.Dark, b.Light, b.OnPrimary, b.OnLight, b.OnDark, b.OnDark)
}

// derivedColours: hue from the id, saturation 85 %, the lightest
// lightness ≤ 52 % at which white text on it (and it on white) reaches
// 4.5:1.
func derivedColours(id int64) (primary, dark, light string) {
	h := float64((id * 53) % 360)
	l := 0.52
	for l > 0.05 && contrast(rgb{1, 1, 1}, hsl(h, 0.85, l)) < 4.5 {
		l -= 0.01
	}
	return hsl(h, 0.85, l).hex(), hsl(h, 0.90, math.Max(l-0.10, 0.05)).hex(), hsl(h, 0.92, 0.95).hex()
}

// readableOn moves c away from bg (towards white on a dark background,
// towards black on a light one) until it reaches 4.5:1: the brand colour
// used as text.
func readableOn(c, bg rgb) rgb {
	to := rgb{1, 1, 1}
	if bg.luminance() > 0.5 {
		to = rgb{}
	}
	for i := 0; i < 30 && contrast(c, bg) < 4.5; i++ {
		c = mix(c, to, 0.12)
	}
	return c
}

// rgb is a colour with channels in [0,1] (sRGB).
type rgb struct{ r, g, b float64 }

func parseHex(s string) (rgb, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "#")
	if len(s) == 3 {
		s = string([]byte{s[0], s[0], s[1], s[1], s[2], s[2]})
	}
	if len(s) != 6 {
		return rgb{}, false
	}
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return rgb{}, false
	}
	return rgb{float64(v>>16&0xff) / 255, float64(v>>8&0xff) / 255, float64(v&0xff) / 255}, true
}

func mustHex(s string) rgb { c, _ := parseHex(s); return c }

func (c rgb) hex() string {
	ch := func(v float64) int { return int(math.Round(math.Max(0, math.Min(1, v)) * 255)) }
	return fmt.Sprintf("#%02x%02x%02x", ch(c.r), ch(c.g), ch(c.b))
}

// luminance is WCAG 2's relative luminance.
func (c rgb) luminance() float64 {
	lin := func(v float64) float64 {
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.r) + 0.7152*lin(c.g) + 0.0722*lin(c.b)
}

// contrast is WCAG 2's contrast ratio, 1 to 21.
func contrast(a, b rgb) float64 {
	la, lb := a.luminance(), b.luminance()
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func hsl(h, s, l float64) rgb {
	c := (1 - math.Abs(2*l-1)) * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := l - c/2
	var r, g, b float64
	switch {
	case h < 60:
		r, g = c, x
	case h < 120:
		r, g = x, c
	case h < 180:
		g, b = c, x
	case h < 240:
		g, b = x, c
	case h < 300:
		r, b = x, c
	default:
		r, b = c, x
	}
	// Round to what hex() will write, so contrast is checked on the
	// colour actually served.
	q := func(v float64) float64 { return math.Round(v*255) / 255 }
	return rgb{q(r + m), q(g + m), q(b + m)}
}

func scale(c rgb, f float64) rgb { return rgb{c.r * f, c.g * f, c.b * f} }

func mix(a, b rgb, t float64) rgb {
	q := func(v float64) float64 { return math.Round(v*255) / 255 }
	return rgb{q(a.r + (b.r-a.r)*t), q(a.g + (b.g-a.g)*t), q(a.b + (b.b-a.b)*t)}
}
