// Package metrics serves an output instance's counters in the Prometheus
// text exposition format (version 0.0.4) on an address of its own.
//
// It is written against the standard library only: the counters live as
// atomics in the instance and are read at scrape time, so the flush path
// pays nothing for metrics, and each instance has its own endpoint and
// nothing is registered in any process-wide default registry (the plugin
// outlives hot reloads, contract §1.4).
package metrics

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Writer renders metric families. Methods record the first error and make
// later calls no-ops; Err returns it.
type Writer struct {
	w    *bufio.Writer
	err  error
	seen map[string]bool
}

// NewWriter writes to w; call Flush when done.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriter(w), seen: map[string]bool{}}
}

// Counter writes one sample of a counter family (HELP and TYPE once per name).
// labels are key, value pairs.
func (w *Writer) Counter(name, help string, v uint64, labels ...string) {
	w.sample(name, "counter", help, strconv.FormatUint(v, 10), labels)
}

// Gauge writes one sample of a gauge family.
func (w *Writer) Gauge(name, help string, v float64, labels ...string) {
	w.sample(name, "gauge", help, formatFloat(v), labels)
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func (w *Writer) sample(name, typ, help, value string, labels []string) {
	if w.err != nil {
		return
	}
	if !w.seen[name] {
		w.seen[name] = true
		fmt.Fprintf(w.w, "# HELP %s %s\n# TYPE %s %s\n", name, escapeHelp(help), name, typ)
	}
	w.w.WriteString(name)
	if len(labels) > 0 {
		w.w.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				w.w.WriteByte(',')
			}
			fmt.Fprintf(w.w, "%s=\"%s\"", labels[i], escapeLabel(labels[i+1]))
		}
		w.w.WriteByte('}')
	}
	w.w.WriteByte(' ')
	w.w.WriteString(value)
	if err := w.w.WriteByte('\n'); err != nil {
		w.err = err
	}
}

// Flush writes out what is buffered.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	return w.w.Flush()
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func escapeHelp(s string) string  { return helpEscaper.Replace(s) }
func escapeLabel(s string) string { return labelEscaper.Replace(s) }

// SortedKeys returns m's keys in order, for stable output of labelled families.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Logger receives one line per event.
type Logger interface {
	Printf(format string, args ...any)
}

// Server serves GET /metrics (and /) from collect.
type Server struct {
	addr    string
	collect func(*Writer)
	log     Logger
	srv     *http.Server

	mu     sync.Mutex
	ln     net.Listener
	closed bool
	done   chan struct{}
}

// retryEvery is how often a busy address is tried again.
const retryEvery = time.Second

// Serve listens on addr and serves in the background. If the address is
// busy (an old generation of the plugin still holds it during a hot
// reload), it keeps trying every second until Close, logging once.
func Serve(addr string, collect func(*Writer), log Logger) *Server {
	s := &Server{addr: addr, collect: collect, log: log, done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/", s.handle)
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      10 * time.Second,
	}
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		s.ln = ln
		go s.serve(ln)
		return s
	}
	log.Printf("metrics: listen on %s: %v; retrying every %v", addr, err, retryEvery)
	go s.retry()
	return s
}

func (s *Server) retry() {
	defer func() {
		if r := recover(); r != nil {
			s.log.Printf("metrics: panic: %v", r)
		}
	}()
	t := time.NewTicker(retryEvery)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			ln.Close()
			return
		}
		s.ln = ln
		s.mu.Unlock()
		s.log.Printf("metrics: listening on %s", ln.Addr())
		s.serve(ln)
		return
	}
}

func (s *Server) serve(ln net.Listener) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Printf("metrics: panic: %v", r)
		}
	}()
	if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.log.Printf("metrics: serve %s: %v", s.addr, err)
	}
}

// Addr is the bound address, or "" while not listening.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Printf("metrics: panic while collecting: %v", v)
		}
	}()
	if r.URL.Path != "/metrics" && r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	mw := NewWriter(w)
	s.collect(mw)
	mw.Flush() //nolint:errcheck // the client went away
}

// Close stops the server within ctx, closing open connections at the deadline.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	return err
}
