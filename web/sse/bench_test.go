package sse

import (
	"strconv"
	"testing"
)

// BenchmarkFanout: one event to 10,000 streams of one topic (the queue
// page of every technician), the part of delivery under the hub's lock.
func BenchmarkFanout(b *testing.B) {
	h := NewHub(Options{Source: &memLog{}, MaxStreams: 20000, MaxPerUser: 20000, Buffer: 4})
	var ss []*stream
	for i := range 10000 {
		s, _, err := h.add(int64(i), []string{"queue", "user:" + strconv.Itoa(i)})
		if err != nil {
			b.Fatal(err)
		}
		ss = append(ss, s)
	}
	b.ResetTimer()
	for i := range b.N {
		h.fanout(&Event{ID: int64(i + 1), Name: "ticket", Topics: []string{"queue"}})
		for _, s := range ss {
			<-s.ch
		}
	}
}

// BenchmarkWriterEvent: one frame into a stream's buffer.
func BenchmarkWriterEvent(b *testing.B) {
	w := &writer{}
	data := []byte(`{"id":123,"kind":"commented","topic":"ticket:45","ticket":{"id":45,"number":1045,"subject":"Impressora","status":"open"}}`)
	for range b.N {
		w.event(123, "comment", data)
		w.buf = w.buf[:0]
	}
}
