package sink

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// hitEntry is one template's coalesced count waiting for a store; last is
// the latest hand-over time in Unix microseconds (last_seen_at).
type hitEntry struct {
	n, last int64
}

// batch is what one write sends: a snapshot of a store's pending entries,
// sorted by id so concurrent nodes lock rows in the same order.
type batch struct {
	token   string // identifies the batch across retries and restarts (idempotency)
	attempt int    // 1 on the first write, 2+ on retries of the same batch
	items   []*item
	hitIDs  []string
	hitN    []int64
	hitLast []int64
	created []*item // PostgreSQL: items whose row this write created
	known   int     // PostgreSQL: items whose row existed
	// fromSet of them known from the Redis set of stored templates
	fromSet   int
	unmatched int64 // PostgreSQL: hit ids without a row
	applied   bool  // the store had applied it already (an attempt's reply was lost): not applied again
	unguarded bool  // PostgreSQL: hit counts written without the batch ledger

	// PostgreSQL, with hit counts: what the write's transaction also
	// asked, in the same round trip (pgWriter.sendTx). mergeAge > 0 asks
	// whether a merge of the deltas is due (mergeDue); a non-zero
	// refreshSince reads the rows created since then (refresh).
	mergeAge     time.Duration
	mergeDue     bool
	refreshSince time.Time
	refreshPage  int
	refresh      *knownRows
}

func (b *batch) size() int { return len(b.items) + len(b.hitIDs) }

// split divides b by template id into two batches written in turn, each
// id's template and hit count staying together (the count needs the row).
// Items and hit ids are sorted, so the halves keep the lock order. It
// reports false when b holds a single id.
func (b *batch) split() (x, y *batch, ok bool) {
	ids := make([]string, 0, b.size())
	for _, it := range b.items {
		ids = append(ids, it.t.ID)
	}
	ids = append(ids, b.hitIDs...)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) < 2 {
		return nil, nil, false
	}
	pivot := ids[len(ids)/2] // x takes ids below it, y the rest
	ni, _ := slices.BinarySearchFunc(b.items, pivot, func(it *item, id string) int { return strings.Compare(it.t.ID, id) })
	nh, _ := slices.BinarySearch(b.hitIDs, pivot)
	x = &batch{token: newToken(), items: b.items[:ni:ni], hitIDs: b.hitIDs[:nh:nh], hitN: b.hitN[:nh:nh], hitLast: b.hitLast[:nh:nh]}
	y = &batch{token: newToken(), items: b.items[ni:], hitIDs: b.hitIDs[nh:], hitN: b.hitN[nh:], hitLast: b.hitLast[nh:]}
	return x, y, true
}

// describe names what a dropped batch held, for the log.
func (b *batch) describe() string {
	switch {
	case len(b.items) == 1 && len(b.hitIDs) <= 1:
		return "template " + b.items[0].t.ID
	case len(b.items) == 0 && len(b.hitIDs) == 1:
		return "hit count of " + b.hitIDs[0]
	}
	return fmt.Sprintf("batch of %d entries", b.size())
}

func newToken() string { return strconv.FormatUint(rand.Uint64(), 16) }

// validToken accepts what newToken makes; a token read back from the buffer
// file becomes part of a Redis value, never of a key.
func validToken(tok string) bool {
	_, err := strconv.ParseUint(tok, 16, 64)
	return err == nil && len(tok) <= 16
}

// sortByID restores take's order on a batch rebuilt from the buffer file;
// a hit id appearing twice is summed.
func (b *batch) sortByID() {
	slices.SortFunc(b.items, func(x, y *item) int { return strings.Compare(x.t.ID, y.t.ID) })
	type hit struct {
		id      string
		n, last int64
	}
	hs := make([]hit, len(b.hitIDs))
	for i := range hs {
		hs[i] = hit{b.hitIDs[i], b.hitN[i], b.hitLast[i]}
	}
	slices.SortFunc(hs, func(x, y hit) int { return strings.Compare(x.id, y.id) })
	b.hitIDs, b.hitN, b.hitLast = b.hitIDs[:0], b.hitN[:0], b.hitLast[:0]
	for _, h := range hs {
		if k := len(b.hitIDs) - 1; k >= 0 && b.hitIDs[k] == h.id {
			b.hitN[k] = addSat(b.hitN[k], h.n)
			b.hitLast[k] = max(b.hitLast[k], h.last)
			continue
		}
		b.hitIDs = append(b.hitIDs, h.id)
		b.hitN = append(b.hitN, h.n)
		b.hitLast = append(b.hitLast, h.last)
	}
}

// store is one destination's backlog and its writer goroutine. Only the
// writer goroutine calls write; the backlog is shared with the dispatcher
// under mu.
type store struct {
	name     string
	where    string // server address for log lines (never credentials), "" if none
	hint     string // appended to timeout failures: their likely cause
	c        *storeCounters
	primary  bool // counts Stats.Announced
	write    func(ctx context.Context, b *batch) error
	classify func(err error) (cause string, retry bool)
	after    func(b *batch)
	idle     func() // called when the writer stops writing for a while: close connections

	// Hit counts are written every hitsEvery (jittered), templates at once;
	// hitsDue is when the next hit counts are due. Guarded by mu.
	hitsEvery time.Duration
	hitsDue   time.Time

	mu    sync.Mutex
	items map[string]*item
	hits  map[string]hitEntry
	// queue holds batches taken but not yet written, head first: a failed
	// batch retried as is, or the halves of a rejected one. Written by the
	// writer goroutine; read by spill once the writer has stopped.
	queue []*batch

	wake     chan struct{}
	done     chan struct{}
	upstream <-chan struct{} // closed when nothing more can arrive during Close

	lmu      sync.Mutex // failure log state
	failing  bool
	lastMsg  string
	lastLog  time.Time
	repeated int
}

func (s *Sink) newStore(name string, c *storeCounters, write func(context.Context, *batch) error,
	classify func(error) (string, bool)) *store {
	st := &store{
		name:     name,
		c:        c,
		write:    write,
		classify: classify,
		items:    make(map[string]*item),
		hits:     make(map[string]hitEntry),
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	s.stores = append(s.stores, st)
	return st
}

// everyHits sets how often st writes hit counts; the first write is due at a
// random point of the first interval, so that nodes started together spread.
func (st *store) everyHits(d time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.hitsEvery = d
	st.hitsDue = time.Now().Add(rand.N(d + 1))
}

// ready reports whether the writer has something to write now; when it has
// not, wait is how long until pending hit counts fall due (0: none pending).
// During Close (draining) every hit count is due.
func (st *store) ready(draining bool, now time.Time) (ok bool, wait time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.queue) > 0 || len(st.items) > 0 {
		return true, 0
	}
	if len(st.hits) == 0 {
		return false, 0
	}
	if draining || !now.Before(st.hitsDue) {
		return true, 0
	}
	return false, st.hitsDue.Sub(now)
}

func (st *store) signal() {
	select {
	case st.wake <- struct{}{}:
	default:
	}
}

// addItem queues it unless an item with the same id is pending (first wins).
func (st *store) addItem(id string, it *item) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.items[id]; ok {
		return false
	}
	st.items[id] = it
	st.c.items.Add(1)
	st.c.pending.Add(1)
	return true
}

// addHit adds n to id's count and reports whether id was new here.
func (st *store) addHit(id string, n, now int64) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	e, ok := st.hits[id]
	e.n = addSat(e.n, n)
	e.last = max(e.last, now)
	st.hits[id] = e
	if !ok {
		st.c.pending.Add(1)
	}
	return !ok
}

func (st *store) empty() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.items) == 0 && len(st.hits) == 0
}

// take snapshots up to max items and, when they are due (always when
// draining), up to max hit counts. Taking every pending count schedules the
// next ones one jittered interval later.
func (st *store) take(max int, draining bool) *batch {
	st.mu.Lock()
	b := &batch{}
	now := time.Now()
	withHits := draining || !now.Before(st.hitsDue)
	for _, it := range st.items {
		b.items = append(b.items, it)
	}
	if len(b.items) > max {
		// The oldest first: a later event must not be announced before an
		// earlier one left for the next batch.
		slices.SortFunc(b.items, func(x, y *item) int { return cmp.Compare(x.seq, y.seq) })
		clear(b.items[max:])
		b.items = b.items[:max]
	}
	// Hits of a template left for a later batch wait with it: the row
	// they update must exist first.
	var taken map[string]bool
	if len(b.items) < len(st.items) {
		taken = make(map[string]bool, len(b.items))
		for _, it := range b.items {
			taken[it.t.ID] = true
		}
	}
	var ids []string
	if withHits {
		ids = make([]string, 0, min(len(st.hits), max))
	}
	for id := range st.hits {
		if !withHits {
			break
		}
		if len(ids) == max {
			break
		}
		if _, waiting := st.items[id]; waiting && taken != nil && !taken[id] {
			continue
		}
		ids = append(ids, id)
	}
	if withHits && len(ids) == len(st.hits) && st.hitsEvery > 0 {
		st.hitsDue = now.Add(jitter(st.hitsEvery))
	}
	slices.Sort(ids)
	b.hitIDs = ids
	b.hitN = make([]int64, len(ids))
	b.hitLast = make([]int64, len(ids))
	for i, id := range ids {
		e := st.hits[id]
		b.hitN[i], b.hitLast[i] = e.n, e.last
	}
	st.mu.Unlock()
	b.token = newToken()
	slices.SortFunc(b.items, func(x, y *item) int { return strings.Compare(x.t.ID, y.t.ID) })
	return b
}

// commit removes what b wrote and returns the number of entries released.
func (st *store) commit(b *batch) int64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	var freed int64
	for _, it := range b.items {
		if st.items[it.t.ID] == it {
			delete(st.items, it.t.ID)
			freed++
			st.c.items.Add(-1)
		}
	}
	for i, id := range b.hitIDs {
		e, ok := st.hits[id]
		if !ok {
			continue
		}
		e.n -= b.hitN[i]
		if e.n == 0 {
			delete(st.hits, id)
			freed++
			continue
		}
		st.hits[id] = e
	}
	st.c.pending.Add(-freed)
	return freed
}

// run is a store's writer goroutine: write whenever something is pending,
// back off after a failure, and during Close keep going until the backlog and
// everything upstream is written or Close's deadline cancels s.ctx.
func (s *Sink) run(st *store) {
	defer close(st.done)
	for !s.runLoop(st) {
		select { // a recovered panic: start over after a pause
		case <-time.After(s.cfg.RetryMin):
		case <-s.ctx.Done():
			return
		}
	}
}

// runLoop reports false when it stopped on a recovered panic.
func (s *Sink) runLoop(st *store) (finished bool) {
	defer func() {
		if r := recover(); r != nil {
			s.c.panics.Add(1)
			st.c.errors[causeIndex(CausePanic)].Add(1)
			s.logf("%s: writer panicked (recovered, restarting): %v", st.name, r)
			finished = false
		}
	}()
	fails, busy := 0, false
	for {
		if s.ctx.Err() != nil {
			return true
		}
		draining := isClosed(s.drain)
		ok, due := st.ready(draining, time.Now())
		if !ok {
			if draining && isClosed(st.upstream) {
				if st.empty() {
					return true
				}
				continue
			}
			if busy && st.idle != nil {
				st.idle() // nothing to write now: give the connection back to the server
			}
			busy = false
			var drainC, upC <-chan struct{}
			if draining {
				upC = st.upstream
			} else {
				drainC = s.drain
			}
			var dueC <-chan time.Time
			var timer *time.Timer
			if due > 0 {
				timer = time.NewTimer(due)
				dueC = timer.C
			}
			stop := false
			select {
			case <-st.wake:
			case <-dueC:
			case <-drainC:
			case <-upC:
			case <-s.ctx.Done():
				stop = true
			}
			if timer != nil {
				timer.Stop()
			}
			if stop {
				return true
			}
			continue
		}
		busy = true
		if err := s.flush(st, draining); err != nil {
			fails++
			if st.idle != nil {
				st.idle() // no connection held through the backoff
			}
			select {
			case <-time.After(s.backoff(fails)):
			case <-s.ctx.Done():
				return true
			}
			continue
		}
		fails = 0
	}
}

// jitter spreads d over [0.9 d, 1.1 d).
func jitter(d time.Duration) time.Duration {
	return d - d/10 + rand.N(d/5+1)
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// flush writes one batch. A batch the server rejects as bad data is split
// in halves, down to a single template id, so that one bad row cannot take
// good ones with it; only that id's entries are dropped (counted lost). Any
// other failure leaves the batch pending for a retry.
//
// A failed batch is retried as is, so that a store can recognise an attempt
// that was applied although its reply was lost.
func (s *Sink) flush(st *store, draining bool) error {
	var b *batch
	if len(st.queue) > 0 {
		b = st.queue[0]
	} else {
		b = st.take(s.cfg.MaxBatch, draining)
		if b.size() == 0 {
			return nil
		}
		st.queue = append(st.queue, b)
	}
	b.attempt++
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.CallTimeout)
	err := safeWrite(ctx, st.write, b)
	cancel()
	if err != nil {
		cause, retry := CausePanic, false
		if err != errPanic {
			cause, retry = st.classify(err)
		}
		if s.ctx.Err() != nil {
			cause, retry = CauseTimeout, true // Close's deadline, not the store
		}
		st.c.errors[causeIndex(cause)].Add(1)
		st.c.down.Store(true)
		if !retry && cause == CauseRejected {
			if x, y, ok := b.split(); ok {
				// Not logged: the drop of the bad id will be, with the error.
				st.queue = append([]*batch{x, y}, st.queue[1:]...)
				return nil // no backoff: the server answered
			}
		}
		if !retry {
			st.queue = st.queue[1:]
			s.units.Add(-st.commit(b))
			s.c.lost.Add(uint64(b.size()))
			for _, n := range b.hitN {
				s.c.droppedHits.Add(uint64(n))
			}
			// Rate-limited by the error, not by what was dropped: many bad
			// rows with one cause make one line a minute.
			s.failedKey(st, cause, err.Error(), fmt.Sprintf("%s dropped: %v", b.describe(), err), false)
			return err
		}
		st.c.retries.Add(1)
		s.failed(st, cause, err.Error(), true)
		return err
	}
	st.queue = st.queue[1:]
	s.units.Add(-st.commit(b))
	st.c.batches.Add(1)
	st.c.rows.Add(uint64(b.size()))
	if b.applied {
		s.c.alreadyApplied.Add(1)
	}
	if st.primary {
		n := 0
		for _, it := range b.items {
			if !it.muted {
				n++
			}
		}
		s.c.announced.Add(uint64(n))
	}
	if st.after != nil {
		st.after(b)
	}
	if st.c.down.Swap(false) {
		s.recovered(st)
	}
	return nil
}

func safeWrite(ctx context.Context, write func(context.Context, *batch) error, b *batch) (err error) {
	defer func() {
		if recover() != nil {
			err = errPanic
		}
	}()
	return write(ctx, b)
}

// failed logs a store failure without flooding: the first one, a change of
// message, and then at most one line per minute with a repeat count.
func (s *Sink) failed(st *store, cause, msg string, retry bool) {
	s.failedKey(st, cause, msg, msg, retry)
}

// failedKey is failed with repeats recognised by key rather than by msg.
func (s *Sink) failedKey(st *store, cause, key, msg string, retry bool) {
	st.lmu.Lock()
	defer st.lmu.Unlock()
	now := time.Now()
	if st.failing && key == st.lastMsg && now.Sub(st.lastLog) < time.Minute {
		st.repeated++
		return
	}
	rep := ""
	if st.repeated > 0 {
		rep = fmt.Sprintf(" (%d more failures since last report)", st.repeated)
	}
	then := "will retry with backoff"
	if !retry {
		then = "not retried"
	}
	name := st.name
	if st.where != "" {
		name += " " + st.where
	}
	if cause == "timeout" && st.hint != "" {
		msg += " (" + st.hint + ")"
	}
	s.logf("%s: write failed (%s), %s: %s%s", name, cause, then, msg, rep)
	st.failing, st.lastMsg, st.lastLog, st.repeated = true, key, now, 0
}

func (s *Sink) recovered(st *store) {
	st.lmu.Lock()
	defer st.lmu.Unlock()
	if st.failing {
		s.logf("%s: writes succeed again", st.name)
	}
	st.failing, st.lastMsg, st.repeated = false, "", 0
}
