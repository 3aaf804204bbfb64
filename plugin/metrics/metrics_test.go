package metrics

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

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
	var l testutil.Log
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
	var l testutil.Log
	s := Serve(addr, func(w *Writer) { w.Counter("y_total", "Y.", 1) }, &l)
	defer s.Close(context.Background())
	if s.Addr() != "" {
		t.Fatal("listening on a busy address")
	}
	busy.Close()
	testutil.WaitFor(t, 5*time.Second, "the server to take over the freed address", func() bool { return s.Addr() != "" })
	if code, body := get(t, addr); code != 200 || !strings.Contains(body, "y_total 1") {
		t.Fatalf("%d %q", code, body)
	}
	if got := l.Lines(); len(got) < 2 {
		t.Fatalf("logged %q, want the busy address and the takeover", got)
	}
}

// Close while still waiting for a busy address stops the retry loop.
func TestCloseWhileRetrying(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	var l testutil.Log
	s := Serve(busy.Addr().String(), func(*Writer) {}, &l)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	busy.Close()
	// An observation window, not a wait for a state: the retry loop ticks
	// every second (retryEvery), so 1.5 s gives it a tick after Close in
	// which it must not take the address.
	time.Sleep(1500 * time.Millisecond)
	if s.Addr() != "" {
		t.Fatal("took the address after Close")
	}
}

func serve(t *testing.T, collect func(*Writer)) (*Server, *testutil.Log) {
	t.Helper()
	var l testutil.Log
	s := Serve("127.0.0.1:0", collect, &l)
	t.Cleanup(func() { s.Close(context.Background()) })
	if s.Addr() == "" {
		t.Fatal("not listening")
	}
	return s, &l
}

// The text exposition of the collect function's samples: HELP and TYPE once
// per family, labels escaped, families in name order.
func TestExposition(t *testing.T) {
	s, _ := serve(t, func(w *Writer) {
		w.Counter("drain_records_total", "Records.", 5)
		w.Counter("drain_skipped_total", "Skipped\nrecords.", 1, "cause", "no_message")
		w.Counter("drain_skipped_total", "Skipped\nrecords.", 2, "cause", `a"b\c`)
		w.Gauge("drain_up", "Up.", 1.5)
	})
	code, body := get(t, s.Addr())
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	for _, want := range []string{
		"# HELP drain_records_total Records.\n# TYPE drain_records_total counter\ndrain_records_total 5\n",
		"# HELP drain_skipped_total Skipped\\nrecords.\n# TYPE drain_skipped_total counter\n" +
			`drain_skipped_total{cause="a\"b\\c"} 2` + "\n" +
			`drain_skipped_total{cause="no_message"} 1` + "\n",
		"# TYPE drain_up gauge\ndrain_up 1.5\n",
		"# TYPE drain_flush_duration_seconds histogram\n",
		"drain_flush_duration_seconds_count 0\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("lacks %q:\n%s", want, body)
		}
	}
}

// Values are read at every scrape, and ObserveFlush moves the histogram.
func TestScrapeMoves(t *testing.T) {
	var n atomic.Uint64
	s, _ := serve(t, func(w *Writer) { w.Counter("drain_chunks_total", "Chunks.", n.Load()) })
	for i, d := range []time.Duration{300 * time.Microsecond, 2 * time.Millisecond, 3 * time.Second} {
		n.Add(1)
		s.ObserveFlush(d)
		_, body := get(t, s.Addr())
		for _, want := range []string{
			fmt.Sprintf("drain_chunks_total %d\n", i+1),
			fmt.Sprintf("drain_flush_duration_seconds_count %d\n", i+1),
		} {
			if !strings.Contains(body, want) {
				t.Fatalf("scrape %d lacks %q:\n%s", i, want, body)
			}
		}
	}
	_, body := get(t, s.Addr())
	for _, want := range []string{
		`drain_flush_duration_seconds_bucket{le="0.00025"} 0` + "\n",
		`drain_flush_duration_seconds_bucket{le="0.0005"} 1` + "\n",
		`drain_flush_duration_seconds_bucket{le="0.0025"} 2` + "\n",
		`drain_flush_duration_seconds_bucket{le="2.5"} 2` + "\n",
		`drain_flush_duration_seconds_bucket{le="+Inf"} 3` + "\n",
		"drain_flush_duration_seconds_sum 3.0023\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("lacks %q:\n%s", want, body)
		}
	}
	var off *Server
	off.ObserveFlush(time.Second) // metrics off: no-op
}

// Two servers (two generations during a hot reload) keep their own
// numbers, and nothing reaches the process-wide default registry.
func TestRegistryPerServer(t *testing.T) {
	a, _ := serve(t, func(w *Writer) { w.Counter("drain_records_total", "Records.", 1) })
	b, _ := serve(t, func(w *Writer) { w.Counter("drain_records_total", "Records.", 2) })
	a.ObserveFlush(time.Millisecond)
	if _, body := get(t, a.Addr()); !strings.Contains(body, "drain_records_total 1\n") || !strings.Contains(body, "drain_flush_duration_seconds_count 1\n") {
		t.Errorf("a:\n%s", body)
	}
	if _, body := get(t, b.Addr()); !strings.Contains(body, "drain_records_total 2\n") || !strings.Contains(body, "drain_flush_duration_seconds_count 0\n") {
		t.Errorf("b:\n%s", body)
	}
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "drain_") {
			t.Errorf("%s in the default registry", mf.GetName())
		}
	}
}

// A collect function that panics or writes malformed samples costs that
// scrape its samples, never the process.
func TestCollectFaults(t *testing.T) {
	for _, tc := range []struct {
		name    string
		collect func(*Writer)
		want    string
	}{
		{"panic", func(w *Writer) {
			w.Counter("drain_ok_total", "OK.", 1)
			panic("boom")
		}, "drain_ok_total 1\n"},
		{"bad name", func(w *Writer) {
			w.Counter("drain bad", "Bad.", 1)
			w.Counter("drain_ok_total", "OK.", 1)
		}, "drain_ok_total 1\n"},
		{"odd labels", func(w *Writer) {
			w.Counter("drain_odd_total", "Odd.", 1, "cause")
			w.Counter("drain_ok_total", "OK.", 1)
		}, "drain_ok_total 1\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, l := serve(t, tc.collect)
			code, body := get(t, s.Addr())
			if code != 200 || !strings.Contains(body, tc.want) {
				t.Errorf("%d:\n%s", code, body)
			}
			if tc.name == "panic" {
				if got := l.Lines(); len(got) != 1 || !strings.Contains(got[0], "panic") {
					t.Errorf("logged %q", got)
				}
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	s, _ := serve(t, func(*Writer) {})
	resp, err := http.Get("http://" + s.Addr() + "/other")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d", resp.StatusCode)
	}
}
