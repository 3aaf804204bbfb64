package metrics

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, format)
}

func TestWriter(t *testing.T) {
	var b strings.Builder
	w := NewWriter(&b)
	w.Counter("drain_records_total", "Records.", 5)
	w.Counter("drain_skipped_total", "Skipped\nrecords.", 1, "cause", "no_message")
	w.Counter("drain_skipped_total", "Skipped\nrecords.", 2, "cause", `a"b\c`)
	w.Gauge("drain_up", "Up.", 1.5)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := `# HELP drain_records_total Records.
# TYPE drain_records_total counter
drain_records_total 5
# HELP drain_skipped_total Skipped\nrecords.
# TYPE drain_skipped_total counter
drain_skipped_total{cause="no_message"} 1
drain_skipped_total{cause="a\"b\\c"} 2
# HELP drain_up Up.
# TYPE drain_up gauge
drain_up 1.5
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func get(t *testing.T, addr string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestServeAndClose(t *testing.T) {
	var l logs
	s := Serve("127.0.0.1:0", func(w *Writer) { w.Counter("x_total", "X.", 7) }, &l)
	addr := s.Addr()
	if addr == "" {
		t.Fatal("not listening")
	}
	code, body := get(t, addr)
	if code != 200 || !strings.Contains(body, "x_total 7\n") {
		t.Fatalf("%d %q", code, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
		t.Fatal("still listening after Close")
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal("second Close:", err)
	}
}

// A busy address (the old generation during a hot reload) is retried until
// it is free.
func TestServeRetriesBusyAddress(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := busy.Addr().String()
	var l logs
	s := Serve(addr, func(w *Writer) { w.Counter("y_total", "Y.", 1) }, &l)
	defer s.Close(context.Background())
	if s.Addr() != "" {
		t.Fatal("listening on a busy address")
	}
	busy.Close()
	deadline := time.Now().Add(5 * time.Second)
	for s.Addr() == "" {
		if time.Now().After(deadline) {
			t.Fatal("never took over the address")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, body := get(t, addr); code != 200 || !strings.Contains(body, "y_total 1") {
		t.Fatalf("%d %q", code, body)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) < 2 {
		t.Fatalf("logged %q, want the busy address and the takeover", l.lines)
	}
}

// Close while still waiting for a busy address stops the retry loop.
func TestCloseWhileRetrying(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	var l logs
	s := Serve(busy.Addr().String(), func(*Writer) {}, &l)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	busy.Close()
	time.Sleep(1500 * time.Millisecond)
	if s.Addr() != "" {
		t.Fatal("took the address after Close")
	}
}
