package smtpd

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
)

// BenchmarkTransactions measures SMTP transactions (MAIL, RCPT, DATA) per
// second over loopback, with parallel clients each reusing one connection,
// against a no-op deliverer.
func BenchmarkTransactions(b *testing.B) {
	for _, size := range []struct {
		name  string
		bytes int
	}{{"1KB", 1 << 10}, {"50KB", 50 << 10}} {
		b.Run(size.name, func(b *testing.B) {
			noop := delivery.DelivererFunc(func(context.Context, delivery.Envelope, []byte) (delivery.Outcome, error) {
				return delivery.Outcome{Action: "ticket"}, nil
			})
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			s := New(Config{Addresses: []string{testAddr}}, noop, slog.New(slog.NewTextHandler(io.Discard, nil)))
			go s.Serve(l)
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				s.Shutdown(ctx)
			}()
			line := strings.Repeat("x", 76) + "\r\n"
			msg := message("bench", strings.Repeat(line, size.bytes/len(line)))
			b.SetBytes(int64(len(msg)))
			b.SetParallelism(4) // 8 clients on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				c, err := smtp.Dial(l.Addr().String())
				if err != nil {
					b.Error(err)
					return
				}
				defer c.Close()
				for pb.Next() {
					if err := c.Mail("a@customer.test"); err != nil {
						b.Error(err)
						return
					}
					if err := c.Rcpt(testAddr); err != nil {
						b.Error(err)
						return
					}
					w, err := c.Data()
					if err != nil {
						b.Error(err)
						return
					}
					w.Write(msg)
					if err := w.Close(); err != nil {
						b.Error(err)
						return
					}
				}
				c.Quit()
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
