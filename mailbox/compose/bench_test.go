package compose

import (
	"bytes"
	"image"
	"image/png"
	"math/rand/v2"
	"testing"
)

// benchLogo is a noisy PNG of about 5 KB, so compression cannot shrink it.
func benchLogo(b *testing.B) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	img := image.NewGray(image.Rect(0, 0, 80, 64))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func BenchmarkCompose(b *testing.B) {
	c, err := New()
	if err != nil {
		b.Fatal(err)
	}
	d := fixture(EventCommented, LangPTBR)
	d.MessageID = "" // generated per message, as in production
	d.Brand.Logo, d.Brand.LogoType = benchLogo(b), "image/png"
	b.ReportAllocs()
	var size int
	for b.Loop() {
		m, err := c.Compose(d, nil)
		if err != nil {
			b.Fatal(err)
		}
		size = len(m.Raw)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(len(d.Brand.Logo)), "logo-bytes")
	b.ReportMetric(float64(size), "mail-bytes")
}

// BenchmarkComposeAccount composes one sign-in code mail with the company's
// logo: the mail a person waits for on the sign-in page.
func BenchmarkComposeAccount(b *testing.B) {
	c, err := New()
	if err != nil {
		b.Fatal(err)
	}
	d := fixture(EventLoginCode, LangPTBR)
	d.MessageID = ""
	d.Brand.Logo, d.Brand.LogoType = benchLogo(b), "image/png"
	b.ReportAllocs()
	var size int
	for b.Loop() {
		m, err := c.Compose(d, nil)
		if err != nil {
			b.Fatal(err)
		}
		size = len(m.Raw)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(size), "mail-bytes")
}
