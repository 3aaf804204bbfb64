// Package instance is one drain output instance: its configuration, its
// miner and its sink, and the flush path that feeds chunks through them.
// It knows nothing of cgo; the plugin's package main owns the C side and
// calls New in FLBPluginInit, Flush in FLBPluginFlushCtx and Close in
// FLBPluginExitCtx.
//
// Flush does CPU work only: it walks the chunk in place, picks each
// record's message and partition, mines the line and hands new or widened
// templates and coalesced hit counts to the sink, which never blocks.
package instance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/awoooi/fluent-bit-drain/drain"
	"github.com/awoooi/fluent-bit-drain/internal/wordeq"
	"github.com/awoooi/fluent-bit-drain/plugin/chunk"
	"github.com/awoooi/fluent-bit-drain/plugin/config"
	"github.com/awoooi/fluent-bit-drain/plugin/metrics"
	"github.com/awoooi/fluent-bit-drain/sink"
)

// Status is what Flush tells Fluent Bit (values in docs/fluent-bit.md#return-codes).
type Status int

// Flush results.
const (
	Error Status = 0 // the chunk could not be decoded at all: drop it
	OK    Status = 1 // consumed (or deliberately ignored)
	Retry Status = 2 // not ready; never returned after consuming records
)

// Logger receives one complete line per event, "[drain]" prefix included
// (the instance and the sink write it).
type Logger interface {
	Printf(format string, args ...any)
}

// Instance is safe for concurrent Flush calls (Fluent Bit workers > 1).
type Instance struct {
	cfg   *config.Config
	log   Logger
	miner *drain.Miner
	sink  *sink.Sink
	plans map[string]*plan
	pool  sync.Pool // *scratch
	c     counters
	met   *metrics.Server

	// intake is read-locked by every Flush and write-locked by Close, which
	// so waits for flushes in progress; closed is set under the write lock.
	intake sync.RWMutex
	closed bool
	cancel context.CancelFunc
	seeded chan struct{} // closed when the seeding goroutine ends
}

// scratch is the per-call working memory, pooled so a flush allocates
// nothing in the steady state.
type scratch struct {
	r    chunk.Reader
	ev   chunk.Event
	part []byte
	hits hitCounts
	pend pending
	src  string    // the chunk's source
	now  time.Time // the chunk's clock, read when a record first needs it

	// The last record's partition values and the partition built from
	// them: consecutive records of one container share them, so the name
	// is built and cleaned once per run of records.
	prevVals    []chunk.Value
	prevPart    string
	prevFound   bool
	prevCleaned bool
	havePrev    bool
}

// release drops every reference to the chunk (and to the miner's strings)
// that mining it left in s.
func (s *scratch) release() {
	s.r.Reset(nil, nil)
	s.ev = chunk.Event{}
	s.src = ""
	clear(s.prevVals)
	s.havePrev = false
	s.pend.release()
}

// New builds an instance from a parsed configuration. It starts the sink's
// writers, the optional metrics endpoint and a background load of the
// templates PostgreSQL already knows; it never waits for the network.
// events receives announced events as JSON lines (the plugin passes
// stdout): the log-only sink without stores, shadow mode's record with them.
func New(cfg *config.Config, log Logger, events io.Writer) (*Instance, error) {
	plans, err := newPlans(cfg)
	if err != nil {
		return nil, err
	}
	miner, err := drain.New(cfg.Drain)
	if err != nil {
		return nil, err
	}
	sc := cfg.Sink
	sc.Events = events
	sk, err := sink.New(sc, log)
	if err != nil {
		return nil, err
	}
	in := &Instance{cfg: cfg, log: log, miner: miner, sink: sk, plans: plans, seeded: make(chan struct{})}
	in.pool.New = func() any { return &scratch{} }
	// The node-local cache of known templates (Buffer_Path) seeds the
	// miner before the first line, PostgreSQL or not: a restart announces
	// nothing again. LoadKnown below adds what PostgreSQL has since.
	sk.ReplayKnown(nil, func(partition, template string) {
		miner.Seed(partition, template) //nolint:errcheck // refused ones are counted by seed's LoadKnown
	})
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	go in.seed(ctx)
	if cfg.MetricsListen != "" {
		in.met = metrics.Serve(cfg.MetricsListen, in.collect, prefixed{log, "[drain] "})
	}
	return in, nil
}

// seed loads the templates PostgreSQL knows into the miner, so a restart
// does not announce them again, retrying with backoff while PostgreSQL is
// away. Lines mined before it finishes are still judged by PostgreSQL.
func (in *Instance) seed(ctx context.Context) {
	defer close(in.seeded)
	defer in.recoverGo("seed")
	wait := time.Second
	for {
		var n, failed int
		err := in.sink.LoadKnown(ctx, nil, func(partition, template string) {
			if _, err := in.miner.Seed(partition, template); err != nil {
				failed++
				return
			}
			n++
		})
		if err == nil {
			if failed > 0 {
				in.logf("seed: %d known templates loaded, %d refused by the miner", n, failed)
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Minute)
	}
}

// recoverGo logs a panic in one of the instance's goroutines instead of
// letting it take Fluent Bit down.
func (in *Instance) recoverGo(what string) {
	if r := recover(); r != nil {
		in.c.panics.Add(1)
		in.logf("panic in %s (recovered): %v", what, r)
	}
}

// Flush mines one chunk. data and tag are only valid during the call; they
// are never retained.
func (in *Instance) Flush(data []byte, tag string) Status {
	in.intake.RLock()
	defer in.intake.RUnlock()
	if in.closed {
		// Fluent Bit stops flushing before ExitCtx; a late chunk is
		// acknowledged rather than retried into a closed sink.
		in.c.chunksClosed.Add(1)
		return OK
	}
	in.c.chunks.Add(1)
	in.c.bytes.Add(uint64(len(data)))
	if !in.sink.Flags().Enabled {
		in.c.chunksDisabled.Add(1)
		return OK
	}
	switch in.cfg.TestPanic {
	case "panic":
		panic("drain: _test_panic: injected panic")
	case "nil":
		var p *scratch
		p.part[0]++ // nil dereference: a real SIGSEGV, recovered by the runtime
	}

	// Not deferred: after a panic the scratch may hold a half-counted
	// chunk, so it is dropped rather than reused.
	s := in.pool.Get().(*scratch)
	st := in.flush(s, data, tag)
	in.pool.Put(s)
	return st
}

// flush mines the chunk with s, which it leaves holding no reference to
// the chunk (Flush pools it).
func (in *Instance) flush(s *scratch, data []byte, tag string) Status {
	src := in.cfg.SourceFor(tag)
	p := in.plans[src]
	s.r.Reset(data, p.query)
	s.src, s.now = src, time.Time{}
	tagPart := ""
	var records, noMsg, nonText, empty uint64
	for s.r.Next(&s.ev) {
		records++
		msg, kind := message(s.ev.Values, p.msg)
		switch kind {
		case chunk.Missing:
			noMsg++
			continue
		case chunk.Str, chunk.Bin:
		default:
			nonText++
			continue
		}
		if len(msg) == 0 {
			empty++
			continue
		}
		var part string
		ok := false
		if len(p.part) > 0 {
			part, ok = in.partition(s, p)
		}
		if !ok && p.rawSyslog {
			// A node syslog line no parser split: its program is the
			// partition, its header (time, host, ident[pid]) is not mined.
			if ident, rest, split := splitSyslog(msg); split {
				if len(rest) == 0 {
					empty++
					continue
				}
				part, ok, msg = in.identPartition(ident), true, rest
			}
		}
		if !ok {
			if tagPart == "" {
				tagPart = in.tagPartition(tag, p)
			}
			part = tagPart
		}
		line := unsafe.String(unsafe.SliceData(msg), len(msg))
		if s.pend.push(part, line, s.ev.Sec, s.ev.Nsec) {
			in.mine(s)
		}
	}
	in.mine(s)
	s.hits.each(in.sink.Hit)
	s.hits.reset()
	st := s.r.Stats()
	err := s.r.Err()
	s.release()

	in.c.records.Add(records)
	in.c.skipped[causeNoMessage].Add(noMsg)
	in.c.skipped[causeNotText].Add(nonText)
	in.c.skipped[causeEmpty].Add(empty)
	in.c.skipped[causeGroup].Add(uint64(st.GroupMarkers))
	in.c.skipped[causeBadTime].Add(uint64(st.BadTime))
	in.c.skipped[causeBadShape].Add(uint64(st.BadShape))
	if err != nil {
		in.c.decodeErrors.Add(1)
		in.logDecodeError(tag, err)
		if st.Events+st.Skipped() == 0 {
			return Error
		}
	}
	return OK
}

// message returns the first message key whose value is text, else the kind
// of the first one present (Missing when none is).
func message(vals []chunk.Value, idx []int) ([]byte, chunk.Kind) {
	first := chunk.Missing
	for _, i := range idx {
		v := &vals[i]
		if v.IsText() {
			return trimNewline(v.Bytes), v.Kind
		}
		if first == chunk.Missing {
			first = v.Kind
		}
	}
	return nil, first
}

// trimNewline strips one trailing "\n" or "\r\n" (Docker payloads, docs/fluent-bit.md#message-keys).
func trimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n > 1 && b[n-2] == '\r' {
			b = b[:n-2]
		}
	}
	return b
}

// identPartition is the partition of a raw syslog line: its ident, valid
// while the chunk is (cleaned into a copy in the rare case it needs it).
func (in *Instance) identPartition(ident []byte) string {
	b, changed := cleanPartition(ident)
	if changed {
		in.c.partitionsCleaned.Add(1)
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// tagPartition is the partition used when the record has none: the
// namespace/container of a container log tag, else the tag itself.
func (in *Instance) tagPartition(tag string, p *plan) string {
	if p.kubeTag {
		if part, ok := kubeTagPartition(tag); ok {
			tag = part
		}
	}
	b, changed := cleanPartition(unsafe.Slice(unsafe.StringData(tag), len(tag)))
	if changed {
		in.c.partitionsCleaned.Add(1)
		return string(b)
	}
	return tag
}

// partition builds the record's partition in s.part, false when the record
// has none of the partition values; the result is valid until the next
// record. flush calls it only when p has partition paths (an app_log
// source has none: its partition is the tag's).
func (in *Instance) partition(s *scratch, p *plan) (string, bool) {
	if s.havePrev && samePartValues(s.prevVals, s.ev.Values, p.part) {
		if s.prevCleaned {
			in.c.partitionsCleaned.Add(1)
		}
		return s.prevPart, s.prevFound
	}
	// Pending records may alias s.part: mine them before it is rewritten.
	in.mine(s)
	part, found, cleaned := in.buildPartition(s, p)
	s.prevVals = s.prevVals[:0]
	for _, i := range p.part {
		s.prevVals = append(s.prevVals, s.ev.Values[i])
	}
	s.prevPart, s.prevFound, s.prevCleaned, s.havePrev = part, found, cleaned, true
	return part, found
}

// samePartValues reports whether the partition values of this record
// (vals at idx) equal the last record's (prev).
func samePartValues(prev, vals []chunk.Value, idx []int) bool {
	if len(prev) != len(idx) {
		return false
	}
	for k, i := range idx {
		a, b := &prev[k], &vals[i]
		if a.Kind != b.Kind || a.U != b.U || a.I != b.I {
			return false
		}
		// The chunk reader hands out the same bytes for a repeated map.
		if len(a.Bytes) == len(b.Bytes) && unsafe.SliceData(a.Bytes) == unsafe.SliceData(b.Bytes) {
			continue
		}
		if !wordeq.EqualBytes(a.Bytes, b.Bytes) {
			return false
		}
	}
	return true
}

// buildPartition builds the record's partition in s.part (see partition)
// and reports whether cleanPartition had to change it.
func (in *Instance) buildPartition(s *scratch, p *plan) (string, bool, bool) {
	s.part = s.part[:0]
	found := false
	for _, i := range p.part {
		if p.join && len(s.part) > 0 {
			s.part = append(s.part, '/')
		}
		var ok bool
		if s.part, ok = appendText(s.part, s.ev.Values[i]); ok {
			found = true
			if !p.join {
				break
			}
		} else if p.join {
			s.part = append(s.part, '-')
		}
	}
	if !found {
		return "", false, false
	}
	b, changed := cleanPartition(s.part)
	if changed {
		in.c.partitionsCleaned.Add(1)
		// b is a new copy: s.part may be rewritten while b is reused.
	}
	return unsafe.String(unsafe.SliceData(b), len(b)), true, changed
}

func eventTime(sec int64, nsec uint32, now time.Time) time.Time {
	// Hostile or missing timestamps (0, far future) fall back to now.
	if sec <= 0 || sec > now.Unix()+86400 {
		return now
	}
	return time.Unix(sec, int64(nsec))
}

// template hands a new or generalized template to the sink. line aliases
// Fluent Bit's chunk: the sink copies the sample once cut to Sample_Bytes.
// The template text is redacted too, a second guard (a no-op on the
// default preset's templates, whose scanner masked the secrets already;
// the drain3 preset masks nothing).
func (in *Instance) template(res drain.Result, src, line string, seen time.Time) {
	if res.Kind == drain.Created {
		in.c.templatesNew.Add(1)
	} else {
		in.c.templatesGeneralized.Add(1)
	}
	in.sink.Template(sink.Template{
		ID:        res.TemplateID,
		ParentID:  res.ParentID,
		Partition: res.Partition,
		Source:    src,
		Template:  drain.Redact(res.Template, "<*>"),
		Sample:    in.sample(line),
		Kind:      res.Kind.String(),
		SeenAt:    seen,
		Hits:      int64(res.Size),
	})
}

// flood reports a partition over its new-template budget, once a flood
// period (the miner's Flood): a log line and a notice. Its lines are still
// matched; the ones that would have made a template are counted as
// throttled (drain_miner_lines_limited_total{limit="new_templates"}).
func (in *Instance) flood(res drain.Result, src, line string, now time.Time) {
	d := &in.cfg.Drain
	sample := in.sample(line) // as a template's is; the sink copies it
	in.logf("partition %q is flooding: %d lines throttled since the last notice, over its new-template budget (%s %d, %s %d, %s %d); its lines are matched, not learned, until the budget refills; sample: %q",
		res.Partition, res.Size, config.KeyNewBurst, d.NewTemplateBurst, config.KeyNewPerMinute, d.NewTemplateRate,
		config.KeyMaxPartTemplates, d.MaxPartitionClusters, truncate(sample, 200))
	in.sink.Flood(sink.Flood{
		Partition: res.Partition,
		Source:    src,
		Sample:    sample,
		Throttled: res.Size,
		Burst:     d.NewTemplateBurst,
		PerMinute: d.NewTemplateRate,
		SeenAt:    now,
	})
}

// sample is what is stored of one line of a template: the line as read,
// its secrets redacted, or with Sample_Redact values the line masked as
// the miner masks it (and its secrets too: the drain3 preset masks
// nothing). It is redacted whole (as far as the miner reads) and
// cut to Sample_Bytes by the sink after, so a secret that straddles the
// cut is still redacted. The result may alias line.
func (in *Instance) sample(line string) string {
	line = line[:min(len(line), in.cfg.Drain.MaxLineBytes)]
	if in.cfg.SampleRedact == config.SampleRedactValues {
		return drain.Redact(in.miner.MaskSample(strings.Clone(line)), "<*>")
	}
	return drain.Redact(line, "<redacted>")
}

// logDecodeError logs a malformed chunk, at most once a minute per instance
// (a broken producer would otherwise log on every flush).
func (in *Instance) logDecodeError(tag string, err error) {
	now := time.Now().Unix()
	last := in.c.lastDecodeLog.Load()
	if now-last < 60 || !in.c.lastDecodeLog.CompareAndSwap(last, now) {
		return
	}
	in.logf("tag %s: %v (events before it were processed; %d malformed chunks so far)",
		truncate(tag, 200), err, in.c.decodeErrors.Load())
}

// Panicked records a panic recovered by the caller around Flush.
func (in *Instance) Panicked(tag string, v any) {
	in.c.panics.Add(1)
	in.logf("panic in flush (tag %s), chunk acknowledged: %v", truncate(tag, 200), v)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Close stops intake, waits for flushes in progress, flushes the sink
// within ctx (what does not fit is buffered to Buffer_Path by the sink),
// and stops the metrics endpoint. Safe to call more than once.
func (in *Instance) Close(ctx context.Context) error {
	in.intake.Lock()
	already := in.closed
	in.closed = true
	in.intake.Unlock()
	if already {
		return nil
	}
	in.cancel()
	var errs []error
	if err := in.sink.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("sink: %w", err))
	}
	select {
	case <-in.seeded:
	case <-ctx.Done():
	}
	if in.met != nil {
		if err := in.met.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("metrics: %w", err))
		}
	}
	return errors.Join(errs...)
}

// ExitTimeout is how long Close may take (Exit_Timeout).
func (in *Instance) ExitTimeout() time.Duration { return in.cfg.ExitTimeout }

// ObserveFlush feeds the drain_flush_duration_seconds histogram; the
// plugin's FlushCtx times each Flush. A no-op without Metrics_Listen.
func (in *Instance) ObserveFlush(d time.Duration) { in.met.ObserveFlush(d) }

// MetricsAddr is the address the metrics endpoint listens on, "" when off
// or not bound yet.
func (in *Instance) MetricsAddr() string {
	if in.met == nil {
		return ""
	}
	return in.met.Addr()
}

func (in *Instance) logf(format string, args ...any) { in.log.Printf("[drain] "+format, args...) }

// prefixed adds a prefix to every line.
type prefixed struct {
	log    Logger
	prefix string
}

func (p prefixed) Printf(format string, args ...any) { p.log.Printf(p.prefix+format, args...) }
