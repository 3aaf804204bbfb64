package sink

import (
	"context"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Flood notices.
//
// A partition over its new-template budget (the miner's Throttled lines) is
// reported once a period by the caller, with Flood. The notice is a
// best-effort event, not a record: it is written once to the event log and
// LPUSHed to <prefix>:floods (trimmed to NewListMax entries), outside the
// batches and the buffer file, by a goroutine of its own. At most
// maxFloodsPending wait; more are dropped and counted, and a failed write
// is counted, not retried: the caller's log line and metrics say the same.

// Flood describes a flooding partition.
type Flood struct {
	Partition, Source string
	Sample            string    // one throttled line, masked by the caller
	Throttled         uint64    // lines throttled since the previous notice
	Burst, PerMinute  int       // the budget it went over
	SeenAt            time.Time // when the notice was raised
}

// FloodEvent is the JSON of a Flood notice.
type FloodEvent struct {
	Kind      string `json:"kind"` // "flood"
	Partition string `json:"partition"`
	Source    string `json:"source"`
	Node      string `json:"node"`
	SampleLog string `json:"sample_log"`
	Throttled uint64 `json:"throttled"`
	Burst     int    `json:"budget_burst"`
	PerMinute int    `json:"budget_per_minute"`
	At        string `json:"detected_at"`
}

// KindFlood is FloodEvent.Kind.
const KindFlood = "flood"

// maxFloodsPending bounds the notices waiting for the writer.
const maxFloodsPending = 64

// floods is the sink's queue of notices and its counters.
type floods struct {
	mu      sync.Mutex
	pending []Flood
	wake    chan struct{}
	done    chan struct{}
	sent    atomic.Uint64 // notices written to every destination
	dropped atomic.Uint64 // queue full, or a write failed
	logged  time.Time     // last failure logged (writer goroutine only)
}

// lockedWriter serialises the event log's writers (the events store and the
// flood writer), so lines never interleave.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Flood queues a flood notice. It never blocks.
func (s *Sink) Flood(f Flood) {
	if s.rd == nil && s.cfg.Events == nil {
		return
	}
	f.Sample, _ = truncate(f.Sample, s.cfg.SampleBytes)
	f.Sample = strings.Clone(f.Sample)
	if f.SeenAt.IsZero() {
		f.SeenAt = time.Now()
	}
	q := &s.fl
	q.mu.Lock()
	if len(q.pending) >= maxFloodsPending {
		q.mu.Unlock()
		q.dropped.Add(1)
		return
	}
	q.pending = append(q.pending, f)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// floodLoop writes queued notices until the sink's life ends.
func (s *Sink) floodLoop() {
	defer close(s.fl.done)
	for {
		select {
		case <-s.fl.wake:
			s.writeFloods()
		case <-s.ctx.Done():
			return
		}
	}
}

// writeFloods writes what is queued, a panic recovered and counted.
func (s *Sink) writeFloods() {
	defer func() {
		if r := recover(); r != nil {
			s.c.panics.Add(1)
			s.logf("flood notices: writer panicked (recovered): %v", r)
		}
	}()
	q := &s.fl
	q.mu.Lock()
	fs := q.pending
	q.pending = nil
	q.mu.Unlock()
	for _, f := range fs {
		b := floodJSON(f, s.cfg.NodeName)
		ok := true
		if s.cfg.Events != nil {
			if _, err := s.cfg.Events.Write(append(b, '\n')); err != nil {
				ok = false
			}
		}
		if s.rd != nil {
			ctx, cancel := context.WithTimeout(s.ctx, s.cfg.CallTimeout)
			_, err := s.rd.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.LPush(ctx, s.rd.keyFloods, b)
				p.LTrim(ctx, s.rd.keyFloods, 0, s.rd.listMax-1)
				return nil
			})
			cancel()
			if err != nil {
				ok = false
				if time.Since(q.logged) >= time.Minute { // one line a minute at most
					q.logged = time.Now()
					s.logf("flood notice for partition %q not written to Redis (counted in drain_sink_flood_notices_lost_total; logged once a minute): %s", f.Partition, s.redact(err.Error()))
				}
			}
		}
		if ok {
			q.sent.Add(1)
		} else {
			q.dropped.Add(1)
		}
	}
}

func floodJSON(f Flood, node string) []byte {
	return jsonLine(FloodEvent{
		Kind:      KindFlood,
		Partition: f.Partition,
		Source:    f.Source,
		Node:      node,
		SampleLog: f.Sample,
		Throttled: f.Throttled,
		Burst:     f.Burst,
		PerMinute: f.PerMinute,
		At:        f.SeenAt.UTC().Format(time.RFC3339Nano),
	})
}
