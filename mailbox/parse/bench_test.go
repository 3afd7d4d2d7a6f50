package parse

import (
	"os"
	"testing"
)

// BenchmarkParse reports throughput over the whole corpus and over a reply
// with a 50 KB attachment.
func BenchmarkParse(b *testing.B) {
	var corpus [][]byte
	var total int64
	for _, f := range corpusFiles(b) {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		corpus = append(corpus, raw)
		total += int64(len(raw))
	}
	b.Run("corpus", func(b *testing.B) {
		b.SetBytes(total)
		b.ReportAllocs()
		for b.Loop() {
			for _, raw := range corpus {
				if _, err := Parse(raw, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	big := largeAttachmentMessage(50 << 10)
	b.Run("attachment50k", func(b *testing.B) {
		b.SetBytes(int64(len(big)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Parse(big, Limits{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
