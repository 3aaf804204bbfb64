// Package metrics serves an output instance's metrics for Prometheus on an
// address of its own, with prometheus/client_golang.
//
// Each Server has its own registry, never the process-wide default one:
// the plugin outlives hot reloads (docs/fluent-bit.md#call-order), so two generations of an
// instance overlap and each must expose only its own numbers. The counters
// live as atomics in the instance and are read at scrape time through a
// collector, so the flush path pays nothing for them; the one metric fed
// from the flush path is the flush-duration histogram (ObserveFlush, a few
// atomic adds per chunk).
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Writer receives one scrape's samples from the instance's collect
// function and hands them to client_golang as constant metrics. Samples of
// one name must carry the same help text and label names.
type Writer struct {
	c  *collector
	ch chan<- prometheus.Metric
}

// Counter writes one sample of a counter family; labels are key, value
// pairs.
func (w *Writer) Counter(name, help string, v uint64, labels ...string) {
	w.sample(name, help, prometheus.CounterValue, float64(v), labels)
}

// Gauge writes one sample of a gauge family.
func (w *Writer) Gauge(name, help string, v float64, labels ...string) {
	w.sample(name, help, prometheus.GaugeValue, v, labels)
}

func (w *Writer) sample(name, help string, typ prometheus.ValueType, v float64, labels []string) {
	n := len(labels) / 2
	keys, values := make([]string, n), make([]string, n)
	for i := range n {
		keys[i], values[i] = labels[2*i], labels[2*i+1]
	}
	desc := w.c.desc(name, help, keys)
	m, err := prometheus.NewConstMetric(desc, typ, v, values...)
	if err != nil {
		m = prometheus.NewInvalidMetric(desc, err)
	}
	w.ch <- m
}

// collector is an unchecked prometheus.Collector (it describes nothing up
// front): the families come from the instance's collect function at scrape
// time. Descriptors are built once per family and label names.
type collector struct {
	collect func(*Writer)
	log     Logger

	mu    sync.Mutex
	descs map[string]*prometheus.Desc
}

func (c *collector) desc(name, help string, keys []string) *prometheus.Desc {
	k := name + "\xff" + strings.Join(keys, "\xff")
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.descs[k]
	if !ok {
		d = prometheus.NewDesc(name, help, keys, nil)
		c.descs[k] = d
	}
	return d
}

func (c *collector) Describe(chan<- *prometheus.Desc) {}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Printf("metrics: panic while collecting (recovered): %v", r)
		}
	}()
	c.collect(&Writer{c: c, ch: ch})
}

// FlushBuckets are the upper bounds, in seconds, of the flush-duration
// histogram: a chunk of a thousand records takes about a millisecond, and
// anything near the 1 s flush interval stalls Fluent Bit (docs/fluent-bit.md#blocking-flush).
var FlushBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

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

// Server serves GET /metrics (and /) from its own registry: the
// instance's collect function and the flush-duration histogram.
type Server struct {
	addr  string
	log   Logger
	srv   *http.Server
	flush prometheus.Histogram

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
	s := &Server{addr: addr, log: log, done: make(chan struct{})}
	s.flush = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "drain_flush_duration_seconds",
		Help:    "Time spent mining one chunk (FLBPluginFlushCtx).",
		Buckets: FlushBuckets,
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.flush, &collector{collect: collect, log: log, descs: map[string]*prometheus.Desc{}})
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:            errorLog{log},
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" && r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      15 * time.Second,
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

// ObserveFlush records the duration of one flush. A nil Server (metrics
// off) ignores it.
func (s *Server) ObserveFlush(d time.Duration) {
	if s != nil {
		s.flush.Observe(d.Seconds())
	}
}

// errorLog adapts Logger to promhttp's error log.
type errorLog struct{ log Logger }

func (e errorLog) Println(v ...any) {
	e.log.Printf("metrics: %s", strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
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
