package sink

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// spillRecord is one line of the buffer file: a template or event waiting
// for a store, or a coalesced hit count. The file is JSON lines so that a
// person can read it and a torn last line costs only that line.
type spillRecord struct {
	Store  string    `json:"store"` // "postgres" | "redis" | "events"
	Item   *Template `json:"item,omitempty"`
	Shadow bool      `json:"shadow,omitempty"`
	Muted  bool      `json:"muted,omitempty"` // an event that was on the mute list
	ID     string    `json:"id,omitempty"`    // hit count
	N      int64     `json:"n,omitempty"`
	Last   int64     `json:"last,omitempty"` // Unix microseconds
	// Batch is the token of the batch the entry was part of when a write
	// of it had been attempted (its reply lost or not): the next start
	// retries that batch under the same token, so Redis, which records the
	// token of the last batch applied, does not apply it twice.
	Batch string `json:"batch,omitempty"`
}

// pendingEntries counts what the writers left behind; it runs after they
// have stopped.
func (s *Sink) pendingEntries() int {
	n := 0
	for _, st := range s.stores {
		st.mu.Lock()
		n += len(st.items) + len(st.hits)
		st.mu.Unlock()
	}
	return n
}

// drainStore empties st, calling fn for each entry; token is set for the
// entries (or the part of a hit count) of a batch already attempted. It runs
// after the writer goroutine has stopped.
func (s *Sink) drainStore(st *store, fn func(it *item, id string, h hitEntry, token string)) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.queue) > 0 && st.queue[0].attempt > 0 {
		b := st.queue[0]
		for _, it := range b.items {
			if st.items[it.t.ID] == it {
				fn(it, it.t.ID, hitEntry{}, b.token)
				delete(st.items, it.t.ID)
				st.c.items.Add(-1)
				s.units.Add(-1)
				st.c.pending.Add(-1)
			}
		}
		for i, id := range b.hitIDs {
			e, ok := st.hits[id]
			if !ok {
				continue
			}
			fn(nil, id, hitEntry{n: b.hitN[i], last: b.hitLast[i]}, b.token)
			if e.n -= b.hitN[i]; e.n <= 0 {
				delete(st.hits, id)
				s.units.Add(-1)
				st.c.pending.Add(-1)
				continue
			}
			st.hits[id] = e // the rest, counted after the batch was taken
		}
	}
	st.queue = nil
	for id, it := range st.items {
		fn(it, id, hitEntry{}, "")
	}
	for id, h := range st.hits {
		fn(nil, id, h, "")
	}
	n := int64(len(st.items) + len(st.hits))
	s.units.Add(-n)
	st.c.pending.Add(-n)
	st.c.items.Add(-int64(len(st.items)))
	clear(st.items)
	clear(st.hits)
}

func (s *Sink) discardPending() {
	for _, st := range s.stores {
		s.drainStore(st, func(it *item, _ string, h hitEntry, _ string) {
			s.c.lost.Add(1)
			s.c.droppedHits.Add(uint64(h.n))
		})
	}
}

// spill appends every pending entry to the buffer file and syncs it.
func (s *Sink) spill() error {
	f, err := os.OpenFile(s.cfg.BufferPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		s.discardPending()
		s.evC.errors[causeIndex(CauseIO)].Add(1)
		s.logf("close: cannot open buffer file, pending entries dropped: %v", err)
		return fmt.Errorf("sink: buffer file: %w", err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	var n uint64
	for _, st := range s.stores {
		s.drainStore(st, func(it *item, id string, h hitEntry, token string) {
			r := spillRecord{Store: st.name, Batch: token}
			if it != nil {
				r.Item, r.Shadow, r.Muted = &it.t, it.shadow, it.muted
			} else {
				r.ID, r.N, r.Last = id, h.n, h.last
			}
			if enc.Encode(&r) == nil {
				n++
			}
		})
	}
	err = errors.Join(w.Flush(), f.Sync(), f.Close())
	if err != nil {
		s.evC.errors[causeIndex(CauseIO)].Add(1)
		s.c.lost.Add(n)
		s.logf("close: writing buffer file failed, %d entries lost: %v", n, err)
		return fmt.Errorf("sink: buffer file: %w", err)
	}
	s.c.buffered.Add(n)
	return nil
}

// replay loads the buffer file left by an earlier Close into the stores and
// removes it. A record for a store no longer configured is routed the way
// new work is (templates to the first stage, events to the announcers).
// Malformed lines are skipped and counted; at most QueueBudget entries are
// loaded, the rest counted lost.
func (s *Sink) replay() {
	f, err := os.Open(s.cfg.BufferPath)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		s.logf("buffer file %s not replayed: %v", s.cfg.BufferPath, err)
		return
	}
	byName := map[string]*store{}
	for _, st := range s.stores {
		byName[st.name] = st
	}
	// Per store, the batch being rebuilt from records with a token; a later
	// token replaces it (its entries stay, written as new work).
	rebuilt := map[*store]*batch{}
	inBatch := func(st *store, r spillRecord) *batch {
		token := r.Batch
		if token == "" || st.name != r.Store || !validToken(token) {
			return nil
		}
		b := rebuilt[st]
		if b == nil || b.token != token {
			b = &batch{token: token}
			rebuilt[st] = b
		}
		return b
	}
	var loaded, bad, over uint64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var r spillRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			bad++
			continue
		}
		if s.units.Load() >= int64(s.cfg.QueueBudget) {
			over++
			continue
		}
		switch {
		case r.Item != nil:
			t := *r.Item
			if !validID(t.ID) || (t.Kind != KindNew && t.Kind != KindGeneralized) || (t.ParentID != "" && !validID(t.ParentID)) {
				bad++
				continue
			}
			s.cleanTemplate(&t)
			dst := s.first
			if st, ok := byName[r.Store]; ok {
				dst = []*store{st}
			} else if r.Store != "postgres" {
				dst = s.announce
			}
			for _, st := range dst {
				// An entry of an attempted batch may have its row already.
				it := &item{t: t, shadow: r.Shadow, muted: r.Muted, tried: r.Batch != ""}
				if st.addItem(t.ID, it) {
					s.units.Add(1)
					if b := inBatch(st, r); b != nil {
						b.items = append(b.items, it)
					}
				}
			}
		case validID(r.ID) && r.N > 0:
			dst := s.hitStores
			if st, ok := byName[r.Store]; ok {
				dst = []*store{st}
			}
			if r.Last <= 0 {
				r.Last = time.Now().UnixMicro()
			}
			for _, st := range dst {
				if st.addHit(r.ID, r.N, r.Last) {
					s.units.Add(1)
				}
				if b := inBatch(st, r); b != nil {
					b.hitIDs = append(b.hitIDs, r.ID)
					b.hitN = append(b.hitN, r.N)
					b.hitLast = append(b.hitLast, r.Last)
				}
			}
		default:
			bad++
			continue
		}
		loaded++
	}
	if err := sc.Err(); err != nil {
		s.logf("buffer file %s: read stopped early: %v", s.cfg.BufferPath, err)
	}
	for st, b := range rebuilt {
		if b.size() == 0 {
			continue
		}
		b.sortByID()
		b.attempt = 1 // attempted before: the store checks whether it was applied
		st.queue = []*batch{b}
	}
	f.Close()
	if err := os.Remove(s.cfg.BufferPath); err != nil {
		s.logf("buffer file %s replayed but not removed (it will be replayed again): %v", s.cfg.BufferPath, err)
	}
	s.c.replayed.Add(loaded)
	s.c.lost.Add(over)
	s.c.invalid.Add(bad)
	s.logf("buffer file %s replayed: %d entries, %d malformed, %d over budget", s.cfg.BufferPath, loaded, bad, over)
}

// cleanTemplate makes a template safe to store (see clean).
func (s *Sink) cleanTemplate(t *Template) {
	var cut bool
	t.Partition, _ = clean(t.Partition, 1024)
	t.Source, _ = clean(t.Source, 256)
	if t.Template, cut = clean(t.Template, s.cfg.TemplateBytes); cut {
		s.c.truncated.Add(1)
	}
	if t.Sample, cut = clean(t.Sample, s.cfg.SampleBytes); cut {
		s.c.truncated.Add(1)
	}
	t.SeenAt = t.SeenAt.UTC().Truncate(time.Microsecond)
}
