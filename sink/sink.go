// Package sink takes the miner's outcomes — new and generalized templates,
// and hit counts — and stores them without ever making the caller wait:
// PostgreSQL is the source of truth (it decides what is new to the cluster),
// Redis the working memory alerting reads, and a JSON-lines event log the
// fallback when neither is configured.
//
// Calls from Fluent Bit's flush thread only touch an in-memory queue bounded
// by the number of templates (hits coalesce per template id); writer
// goroutines batch the queue once per FlushInterval (hit counts once per
// PGHitsInterval and RedisHitsInterval), retry with exponential
// backoff and jitter, and time out every call. Close flushes within its
// deadline and appends what is left to Config.BufferPath, which the next New
// replays.
package sink

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Template is one new or generalized template. The sink owns it once handed
// over; strings are not modified by the caller afterwards.
type Template struct {
	ID, ParentID, Partition, Source, Template, Sample string
	Kind                                              string // "new" | "generalized"
	SeenAt                                            time.Time
	// Hits is the number of lines the cluster had seen when the template was
	// produced (drain Result.Size); informational, it goes into the event.
	// Counts for the hits column come through Hit.
	Hits int64
}

// Kinds of Template.
const (
	KindNew         = "new"
	KindGeneralized = "generalized"
)

// Logger receives one complete line per event. The sink writes the "[drain]"
// prefix itself and never a secret; a nil Logger discards.
type Logger interface {
	Printf(format string, args ...any)
}

// Flags are the run-time switches: Enabled off makes the plugin acknowledge
// chunks untouched; ShadowMode on records and announces without publishing
// alerts.
type Flags struct {
	Enabled, ShadowMode bool
}

// Sink is safe for concurrent use. Template and Hit never block on I/O.
type Sink struct {
	cfg     Config
	log     Logger
	secrets []string

	// Caller-side queue, swapped out by the dispatcher every FlushInterval.
	fmu       sync.Mutex
	closed    bool
	fhits     map[string]int64
	ftmpls    map[string]*item
	seq       uint64 // items taken so far (item.seq)
	spareHits map[string]int64
	spareTmps map[string]*item

	hitWeight int64    // entries one new hit id costs: one per store counting hits
	tmplWt    int64    // entries one new template costs at the first stage
	first     []*store // where templates go: PostgreSQL, else the announcers
	hitStores []*store // PostgreSQL and Redis
	announce  []*store // Redis and the event log, fed by PostgreSQL when present
	stores    []*store // all of them, for shutdown
	pg        *pgWriter
	rd        *redisWriter
	known     *knownCache // nil without Buffer_Path

	fl     floods // flood notices (flood.go)
	flags  atomic.Uint32
	mute   atomic.Pointer[muteList] // <prefix>:muted, read with the flags
	units  atomic.Int64
	c      counters
	pgC    storeCounters
	rdC    storeCounters
	evC    storeCounters
	ctx    context.Context
	cancel context.CancelFunc
	drain  chan struct{}
	dispDn chan struct{}
	pollDn chan struct{}
	closeM sync.Mutex
}

const (
	flagEnabled = 1 << iota
	flagShadow
)

func packFlags(f Flags) uint32 {
	var v uint32
	if f.Enabled {
		v |= flagEnabled
	}
	if f.ShadowMode {
		v |= flagShadow
	}
	return v
}

// New validates cfg, replays the buffer file and starts the writers. It never
// dials: connections are made by the writers, so a store that is down at
// start only delays writes.
func New(cfg Config, log Logger) (*Sink, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	s := &Sink{
		cfg:       cfg,
		log:       log,
		fhits:     make(map[string]int64),
		ftmpls:    make(map[string]*item),
		spareHits: make(map[string]int64),
		spareTmps: make(map[string]*item),
		drain:     make(chan struct{}),
		dispDn:    make(chan struct{}),
		pollDn:    make(chan struct{}),
	}
	s.flags.Store(packFlags(cfg.Flags))
	s.fl.wake, s.fl.done = make(chan struct{}, 1), make(chan struct{})
	if cfg.Events != nil {
		s.cfg.Events = &lockedWriter{w: cfg.Events}
		cfg.Events = s.cfg.Events
	}
	// s.ctx is the sink's life: Close cancels it at its deadline, which
	// closes every store connection (tiedDialer) and so ends any call.
	s.ctx, s.cancel = context.WithCancel(context.Background())
	pc, dsn, err := cfg.pgConfig()
	if err != nil {
		s.cancel()
		return nil, err
	}
	if pc != nil {
		s.secrets = append(s.secrets, dsn, pc.ConnConfig.Password)
		pc.ConnConfig.DialFunc = newTiedDialer(s.ctx, cfg.CallTimeout, nil).DialContext
		if s.pg, err = newPGWriter(pc, cfg.PGTable, cfg.PGCompatView, cfg.NodeName); err != nil {
			s.cancel()
			return nil, err
		}
		s.pg.logf = s.logf
		s.pg.keepIdle = cfg.PGPooler
		s.pg.serverTimeout = strconv.FormatInt(cfg.CallTimeout.Milliseconds(), 10)
		if cfg.ledgerRecheck > 0 {
			s.pg.recheck = cfg.ledgerRecheck
		}
	}
	if cfg.RedisAddr != "" {
		pw := cfg.RedisPassword
		if cfg.RedisPasswordFile != "" {
			if pw, err = readSecret(cfg.RedisPasswordFile, "Redis_Password_File"); err != nil {
				s.closeStores()
				return nil, err
			}
		}
		s.secrets = append(s.secrets, pw)
		tc, err := cfg.redisTLS()
		if err != nil {
			s.closeStores()
			return nil, err
		}
		s.rd = newRedisWriter(&cfg, pw, newTiedDialer(s.ctx, cfg.CallTimeout, tc))
	}
	if s.pg != nil && s.rd != nil {
		s.pg.stored = &storedSet{
			rdb:     s.rd.rdb,
			key:     storedKey(cfg.RedisKeyPrefix(), knownStore(&cfg, pgAddr(pc), pc.ConnConfig.Database)),
			ttl:     storedTTL,
			timeout: max(cfg.CallTimeout/5, 100*time.Millisecond),
			c:       &s.rdC,
		}
	}

	var pgStore *store
	if s.pg != nil {
		pgStore = s.newStore("postgres", &s.pgC, s.writePG, s.pg.classify)
		pgStore.where = pgAddr(pc)
		pgStore.after = func(b *batch) {
			s.afterPG(b)
			if s.known != nil {
				s.known.confirmed(b.items) // created or known: stored either way
			}
			s.mergeHits(b)
			if len(b.hitIDs) > 0 {
				s.refreshKnown(b)
			}
		}
		pgStore.idle = s.pg.closeIdle
		pgStore.everyHits(cfg.PGHitsInterval)
		s.first = []*store{pgStore}
		s.hitStores = append(s.hitStores, pgStore)
	}
	if s.rd != nil {
		rs := s.newStore("redis", &s.rdC, s.rd.write, s.rd.classify)
		rs.where = cfg.RedisAddr
		if cfg.RedisTLS || cfg.RedisCAFile != "" {
			rs.hint = "with Redis_TLS on, a server that does not speak TLS never answers the handshake and fails this way"
		}
		rs.primary = true
		rs.everyHits(cfg.RedisHitsInterval)
		s.announce = append(s.announce, rs)
		s.hitStores = append(s.hitStores, rs)
	}
	if cfg.Events != nil {
		ew := &eventWriter{w: cfg.Events, node: cfg.NodeName}
		es := s.newStore("events", &s.evC, ew.write, ew.classify)
		es.primary = s.rd == nil
		s.announce = append(s.announce, es)
	}
	if pgStore == nil {
		s.first = s.announce
	}
	if cfg.BufferPath != "" {
		where, db := "", ""
		if pc != nil {
			where, db = pgStore.where, pc.ConnConfig.Database
		}
		s.known = newKnownCache(cfg.BufferPath+".known", knownStore(&cfg, where, db), s.logf)
		s.known.load() // before any write confirms a template: they add to the file's
		if pgStore == nil {
			// Without PostgreSQL what the announcers confirmed is known.
			for _, st := range s.first {
				st.after = func(b *batch) { s.known.confirmed(b.items) }
			}
		}
	}
	s.hitWeight = int64(len(s.hitStores))
	s.tmplWt = int64(len(s.first))
	for _, st := range s.stores {
		st.upstream = s.dispDn
		if pgStore != nil && st != pgStore {
			st.upstream = pgStore.done
		}
	}
	if cfg.BufferPath != "" {
		s.replay()
	}
	for _, st := range s.stores {
		go s.run(st)
		st.signal()
	}
	go s.dispatch()
	go s.floodLoop()
	if s.rd != nil {
		go s.pollFlags()
	} else {
		close(s.pollDn)
	}
	return s, nil
}

// Template queues a new or generalized template. It never blocks: a template
// already pending under the same id is kept (first seen wins), and past the
// queue budget the template is dropped and counted.
func (s *Sink) Template(t Template) {
	if !validID(t.ID) || (t.Kind != KindNew && t.Kind != KindGeneralized) ||
		(t.ParentID != "" && !validID(t.ParentID)) || len(s.first) == 0 {
		if len(s.first) == 0 && validID(t.ID) {
			s.c.templates.Add(1) // no store, no event log: nothing to do
			return
		}
		s.c.invalid.Add(1)
		return
	}
	if s.known != nil && s.known.has(t.ID) {
		// Stored already (this node wrote or loaded it, or read it with
		// its hit counts: refreshKnown): counted as known, nothing to write.
		s.c.known.Add(1)
		s.c.templates.Add(1)
		return
	}
	s.fmu.Lock()
	if s.closed {
		s.refuseLocked(0)
		return
	}
	if _, ok := s.ftmpls[t.ID]; ok {
		s.fmu.Unlock()
		s.c.coalesced.Add(1)
		s.c.templates.Add(1)
		return
	}
	if s.units.Load()+s.tmplWt > int64(s.cfg.QueueBudget) {
		s.refuseLocked(0)
		return
	}
	// Bounded copies only: the sample may alias a record buffer, and the
	// budget's memory bound relies on the byte limits.
	var cutS, cutT bool
	t.Sample, cutS = truncate(t.Sample, s.cfg.SampleBytes)
	t.Sample = strings.Clone(t.Sample)
	t.Template, cutT = truncate(t.Template, s.cfg.TemplateBytes)
	if t.SeenAt.IsZero() {
		t.SeenAt = time.Now()
	}
	// PostgreSQL keeps microseconds; the row is recognised by exact equality.
	t.SeenAt = t.SeenAt.UTC().Truncate(time.Microsecond)
	s.units.Add(s.tmplWt)
	s.seq++
	s.ftmpls[t.ID] = &item{t: t, seq: s.seq}
	s.fmu.Unlock()
	if cutS {
		s.c.truncated.Add(1)
	}
	if cutT {
		s.c.truncated.Add(1)
	}
	s.c.queueDepth.Add(1)
	s.c.frontTemplates.Add(1)
	s.c.templates.Add(1)
}

// Hit adds n lines to template id's count. It never blocks and does not
// allocate for an id already queued; a new id past the queue budget is
// dropped and counted.
func (s *Sink) Hit(id string, n int64) {
	if n <= 0 || !validID(id) {
		s.c.invalid.Add(1)
		return
	}
	if s.hitWeight == 0 {
		s.c.hits.Add(1)
		return
	}
	s.fmu.Lock()
	if s.closed {
		s.refuseLocked(n)
		return
	}
	if v, ok := s.fhits[id]; ok {
		s.fhits[id] = addSat(v, n)
		s.fmu.Unlock()
		s.c.hits.Add(1)
		return
	}
	if s.units.Load()+s.hitWeight > int64(s.cfg.QueueBudget) {
		s.refuseLocked(n)
		return
	}
	s.units.Add(s.hitWeight)
	s.fhits[id] = n
	s.fmu.Unlock()
	s.c.queueDepth.Add(1)
	s.c.hits.Add(1)
}

// refuseLocked releases s.fmu and counts a template (lines 0) or a hit of
// lines lines that Template or Hit refused: the sink is closed or the queue
// budget is spent.
func (s *Sink) refuseLocked(lines int64) {
	s.fmu.Unlock()
	s.c.dropped.Add(1)
	if lines > 0 {
		s.c.droppedHits.Add(uint64(lines))
	}
}

// Flags returns the effective run-time flags: the Redis hash
// <prefix>:flags where it sets them, else the static configuration.
func (s *Sink) Flags() Flags {
	v := s.flags.Load()
	return Flags{Enabled: v&flagEnabled != 0, ShadowMode: v&flagShadow != 0}
}

// Stats returns a snapshot of the counters.
func (s *Sink) Stats() Stats {
	return Stats{
		Templates:        s.c.templates.Load(),
		Hits:             s.c.hits.Load(),
		Coalesced:        s.c.coalesced.Load(),
		Dropped:          s.c.dropped.Load(),
		DroppedHits:      s.c.droppedHits.Load(),
		Invalid:          s.c.invalid.Load(),
		Truncated:        s.c.truncated.Load(),
		Created:          s.c.created.Load(),
		Known:            s.c.known.Load(),
		Unmatched:        s.c.unmatched.Load(),
		AlreadyApplied:   s.c.alreadyApplied.Load(),
		Unguarded:        s.c.unguarded.Load(),
		Merges:           s.c.merges.Load(),
		Merged:           s.c.merged.Load(),
		Announced:        s.c.announced.Load(),
		Buffered:         s.c.buffered.Load(),
		Replayed:         s.c.replayed.Load(),
		KnownCached:      s.c.knownCached.Load(),
		KnownRead:        s.c.knownRead.Load(),
		KnownStored:      s.c.knownStored.Load(),
		Lost:             s.c.lost.Load(),
		Panics:           s.c.panics.Load(),
		Floods:           s.fl.sent.Load(),
		FloodsLost:       s.fl.dropped.Load(),
		Muted:            s.c.muted.Load(),
		QueueDepth:       s.c.queueDepth.Load(),
		Pending:          s.units.Load(),
		PendingTemplates: s.c.frontTemplates.Load() + s.pgC.items.Load() + s.rdC.items.Load() + s.evC.items.Load(),
		Postgres:         s.pgC.snapshot(),
		Redis:            s.rdC.snapshot(),
		EventLog:         s.evC.snapshot(),
	}
}

// Close stops accepting work, flushes what is pending until ctx is done
// (Config.ShutdownTimeout when ctx has no deadline),
// then appends what is left to the buffer file (or counts it lost) and
// closes the connections. Calls after Close are dropped and counted.
func (s *Sink) Close(ctx context.Context) error {
	s.closeM.Lock()
	defer s.closeM.Unlock()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
		defer cancel()
	}
	s.fmu.Lock()
	if s.closed {
		s.fmu.Unlock()
		return nil
	}
	s.closed = true
	s.fmu.Unlock()

	stop := context.AfterFunc(ctx, s.cancel)
	defer stop()
	close(s.drain)
	<-s.dispDn
	for _, st := range s.stores {
		<-st.done
	}
	if s.pg != nil && s.pg.wroteDeltas && s.ctx.Err() == nil {
		// The last node to leave must not leave counts unmerged; another
		// node merging now makes this a no-op.
		s.merge(0)
	}
	s.cancel()
	<-s.pollDn
	<-s.fl.done
	s.saveKnown()

	var err error
	if n := s.pendingEntries(); n > 0 {
		if s.cfg.BufferPath != "" {
			if err = s.spill(); err == nil {
				s.logf("close: %d pending entries not written in time, kept in buffer file %s", n, s.cfg.BufferPath)
			}
		} else {
			s.discardPending()
			s.logf("close: %d pending entries not written in time and dropped (no Buffer_Path)", n)
			err = fmt.Errorf("sink: close: %d pending entries dropped", n)
		}
	}
	s.closeStores()
	return err
}

// saveKnown writes the known-templates cache if it changed; a failure is
// logged (the next start reads every template instead).
func (s *Sink) saveKnown() {
	if s.known == nil {
		return
	}
	if err := s.known.saveFile(); err != nil {
		s.evC.errors[causeIndex(CauseIO)].Add(1)
		s.logf("%v", err)
	}
}

// closeStores ends the sink's life (closing every store connection) and
// releases the drivers' pools.
func (s *Sink) closeStores() {
	s.cancel()
	if s.pg != nil {
		s.pg.close()
	}
	if s.rd != nil {
		s.rd.close()
	}
}

// dispatch hands the caller-side queue to the writers every FlushInterval,
// and one last time at Close.
func (s *Sink) dispatch() {
	defer close(s.dispDn)
	t := time.NewTicker(s.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			s.safeMove()
			if s.known != nil && s.known.saveDue(now) {
				s.saveKnown()
			}
		case <-s.drain:
			s.safeMove()
			return
		}
	}
}

// safeMove is move with a panic recovered and counted: the dispatcher
// runs inside Fluent Bit, where a panic would take the whole process down.
func (s *Sink) safeMove() {
	defer func() {
		if r := recover(); r != nil {
			s.c.panics.Add(1)
			s.logf("dispatcher panicked (recovered): %v", r)
		}
	}()
	s.move()
}

func (s *Sink) move() {
	s.fmu.Lock()
	hits, tmpls := s.fhits, s.ftmpls
	s.fhits, s.ftmpls = s.spareHits, s.spareTmps
	s.fmu.Unlock()
	if len(hits) == 0 && len(tmpls) == 0 {
		s.spareHits, s.spareTmps = hits, tmpls
		return
	}
	s.c.queueDepth.Add(-int64(len(hits) + len(tmpls)))
	s.c.frontTemplates.Add(-int64(len(tmpls)))
	now := time.Now().UnixMicro()
	shadow := s.Flags().ShadowMode
	for id, it := range tmpls {
		s.cleanTemplate(&it.t)
		it.shadow = shadow
		if s.pg == nil {
			s.markMuted(it) // announced now: without PostgreSQL, first = announce
		}
		for i, st := range s.first {
			cp := it
			if i > 0 {
				dup := *it
				cp = &dup
			}
			if !st.addItem(id, cp) {
				s.units.Add(-1)
				s.c.coalesced.Add(1)
			}
		}
	}
	for id, n := range hits {
		for _, st := range s.hitStores {
			if !st.addHit(id, n, now) {
				s.units.Add(-1)
			}
		}
	}
	clear(hits)
	clear(tmpls)
	s.spareHits, s.spareTmps = hits, tmpls
	for _, st := range s.first {
		st.signal()
	}
	for _, st := range s.hitStores {
		st.signal()
	}
}

// mergeHits merges the cluster's hit-count deltas into the templates' rows
// after a batch of hit counts went in as one, when no other node is
// merging and the oldest is PGMergeInterval old; Close merges whatever is
// pending. The nodes writing deltas take turns this way, about
// one merge per interval. A failure leaves the deltas for the next merge;
// it is counted and logged at most once a minute.
func (s *Sink) mergeHits(b *batch) {
	if len(b.hitIDs) == 0 || !s.pg.deltasOK.ok {
		return
	}
	s.pg.wroteDeltas = true
	if b.mergeAge > 0 && !b.mergeDue {
		return // the batch's transaction asked: no merge due
	}
	s.merge(s.cfg.PGMergeInterval)
}

// writePG writes b to PostgreSQL; with hit counts, the same round trip
// asks whether a merge is due and reads the rows created since the
// known-templates cache's mark (mergeHits, refreshKnown use the answers).
func (s *Sink) writePG(ctx context.Context, b *batch) error {
	b.mergeAge, b.mergeDue, b.refreshSince, b.refresh = 0, false, time.Time{}, nil
	if len(b.hitIDs) > 0 {
		b.mergeAge = s.cfg.PGMergeInterval
		if s.known != nil {
			b.refreshSince, b.refreshPage = s.known.since(s.knownMargin()), s.cfg.LoadPageSize
		}
	}
	return s.pg.write(ctx, b)
}

// merge runs one merge if due (see mergeHits), from the writer goroutine
// or from Close once the writer has stopped.
func (s *Sink) merge(age time.Duration) {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.CallTimeout)
	n, unmatched, err := s.pg.merge(ctx, age)
	cancel()
	if err != nil {
		cause, _ := classifyPG(err)
		if s.ctx.Err() != nil {
			cause = CauseTimeout
		}
		s.pgC.errors[causeIndex(cause)].Add(1)
		if time.Since(s.pg.mergeLogAt) >= time.Minute {
			s.pg.mergeLogAt = time.Now()
			s.logf("postgres: merging hit-count deltas failed (%s), left for the next merge: %s", cause, s.redact(err.Error()))
		}
		return
	}
	if n > 0 {
		s.c.merges.Add(1)
		s.c.merged.Add(uint64(n))
	}
	s.c.unmatched.Add(uint64(unmatched))
}

// afterPG announces the templates whose rows this node created.
func (s *Sink) afterPG(b *batch) {
	s.c.created.Add(uint64(len(b.created)))
	s.c.known.Add(uint64(b.known))
	s.c.knownStored.Add(uint64(b.fromSet))
	s.c.unmatched.Add(uint64(b.unmatched))
	if b.unguarded {
		s.c.unguarded.Add(1)
	}
	for _, it := range b.created {
		s.markMuted(it)
		for i, st := range s.announce {
			cp := it
			if i > 0 {
				dup := *it
				cp = &dup
			}
			if st.addItem(it.t.ID, cp) {
				s.units.Add(1)
			}
		}
	}
	for _, st := range s.announce {
		st.signal()
	}
}

func (s *Sink) logf(format string, args ...any) {
	if s.log == nil {
		return
	}
	s.log.Printf("%s", s.redact("[drain] sink: "+fmt.Sprintf(format, args...)))
}

// redact removes every configured secret from a log line: drivers are
// careful, but a DSN echoed in an error must still not reach the logs.
func (s *Sink) redact(line string) string {
	for _, sec := range s.secrets {
		if len(sec) >= 3 {
			line = strings.ReplaceAll(line, sec, "[redacted]")
		}
	}
	return line
}

// backoff is the wait before attempt n+1 after n consecutive failures:
// exponential from RetryMin to RetryMax, with jitter in [d/2, d).
func (s *Sink) backoff(n int) time.Duration {
	d := s.cfg.RetryMin
	for i := 1; i < n && d < s.cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, s.cfg.RetryMax)
	return d/2 + rand.N(d/2+1)
}

var errPanic = errors.New("sink: writer panicked")

// addSat adds two non-negative counts, saturating instead of wrapping.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
