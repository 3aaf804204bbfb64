package drain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kind says what a line did to its cluster.
type Kind uint8

const (
	Known       Kind = iota // the template already covered the line
	Created                 // a new cluster (Drain3's cluster_created)
	Generalized             // the template widened (Drain3's cluster_template_changed)
	Throttled               // no cluster took the line and its partition is over its new-template budget (budget.go)
	Flood                   // Throttled, the first such line of its partition in a flood period
)

func (k Kind) String() string {
	switch k {
	case Known:
		return "known"
	case Created:
		return "new"
	case Generalized:
		return "generalized"
	case Throttled:
		return "throttled"
	case Flood:
		return "flood"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Result describes the cluster a line went to. Its strings belong to the
// miner and never alias the caller's input. A Throttled or Flood line went
// to no cluster: only Kind and Partition are set, and for Flood, Size is the
// number of lines of the partition throttled since its previous Flood.
type Result struct {
	Kind           Kind
	Partition      string // miner-owned copy
	ClusterID      uint64 // per partition, 1, 2, ... in creation order (Drain3's ids)
	TemplateID     string // TemplateID(Partition, Template)
	Template       string // the cluster's template after this line
	ParentID       string // Generalized only: id of the template before this line
	ParentTemplate string // Generalized only
	Size           uint64 // lines seen by the cluster (seeded clusters start at 0)
	// Absorbed lists, on a Generalized line of a sibling merge
	// (siblings.go), the siblings folded into this cluster. They no longer
	// exist, and their lines, counted in Size, are this cluster's now: a
	// consumer that remembers clusters by id (the CLI's final templates)
	// moves theirs here. Nil otherwise.
	Absorbed []uint64
}

// Stats are the miner's counters. Bounds are counted each time they bite.
type Stats struct {
	Lines, Known, Created, Generalized uint64 // Add calls and their outcomes
	Seeded                             uint64 // Seed calls that created a cluster
	Clusters, Partitions               int    // live now
	EvictedClusters                    uint64 // MaxClusters
	EvictedPartitions                  uint64 // MaxPartitions
	LinesCut                           uint64 // MaxLineBytes
	LinesTruncated                     uint64 // MaxTokens
	LinesRepaired                      uint64 // invalid UTF-8 or NUL bytes
	MemoHits                           uint64 // lines the line memo answered (memo.go)
	Scored                             uint64 // clusters scored against lines, in their leaves and across (cross.go)
	ScoreCapped                        uint64 // lines whose leaf was past MaxScored (leaf.go)
	Throttled                          uint64 // lines that created nothing: partition over its new-template budget (budget.go)
	Floods                             uint64 // of those, the first of a partition in a flood period
	SiblingMerges                      uint64 // templates widened by sibling evidence (siblings.go), in Generalized
	Absorbed                           uint64 // siblings folded by those merges (Result.Absorbed)
}

// Miner mines templates from lines, one Drain tree per partition, under one
// global budget of clusters. It is safe for concurrent use; see the package
// documentation for the locking.
type Miner struct {
	cfg          Config
	text         tokenizer
	score        scorer
	maxNodeDepth int
	pool         sync.Pool // *scratch
	bpool        sync.Pool // *batchScratch

	// Counted before the lock is taken.
	cut, truncated, repaired atomic.Uint64

	mu         sync.Mutex
	parts      map[string]*partition
	last       *partition // == plru.next when non-nil: the Add fast path
	lru        cluster    // sentinel of the global LRU list of clusters
	plru       partition  // sentinel of the LRU list of partitions
	nClusters  int
	lines      uint64
	known      uint64
	created    uint64
	generalize uint64
	seeded     uint64
	evictedC   uint64
	evictedP   uint64

	// Cross-leaf joins (cross.go), the default scoring only.
	cross     bool
	crossBuf  []*cluster // crossSearch's candidates, reused under mu
	crossToks []string   // crossSearch's view of the line, reused under mu
	crossSeen uint64     // clusters crossSearch looked at, for the tests of its bound

	memo     lineMemo // the default preset's line memo (memo.go); tab nil: off
	memoHits uint64   // lines it answered

	winBuf    []*cluster           // a leaf's window (leaf.go), reused under mu
	scored    uint64               // clusters handed to the scorer from leaves
	capped    uint64               // lines whose leaf was scored through its window
	clock     func() time.Duration // monotonic, for the new-template budget (budget.go)
	throttled uint64
	floods    uint64

	indexed bool             // the drain3 scorer: leaves past idxMin clusters are indexed (leafindex.go)
	idxSeen map[string]int32 // buildIndex's scratch, under mu
	idxVid  []int32          // buildIndex's scratch, under mu
	sigBuf  []uint64         // search's sigs of a line whose tokenizer gave none, under mu

	sibBuf   []sibling // mergeSiblings' finds, reused under mu
	merged   uint64    // sibling merges (siblings.go)
	absorbed uint64    // siblings they folded
}

// New returns an empty miner for cfg.
func New(cfg Config) (*Miner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.ExtraDelimiters = append([]string(nil), cfg.ExtraDelimiters...)
	cfg.Masks = append([]Mask(nil), cfg.Masks...)
	m := &Miner{
		cfg:          cfg,
		text:         tokenizers[cfg.Tokenizer](&cfg),
		score:        scorings[cfg.Scoring],
		maxNodeDepth: cfg.Depth - 2,
		parts:        make(map[string]*partition),
		cross:        cfg.Scoring == "default",
		indexed:      cfg.Scoring != "default",
	}
	start := time.Now()
	m.clock = func() time.Duration { return time.Since(start) }
	if cfg.Tokenizer == "default" {
		m.memo = newLineMemo()
	}
	m.lru.prev, m.lru.next = &m.lru, &m.lru
	m.plru.prev, m.plru.next = &m.plru, &m.plru
	m.pool.New = func() any {
		// One allocation: the race detector's sync.Pool drops items at
		// random, and TestAllocs counts what replacing one costs.
		b := new(struct {
			s    scratch
			toks [64]string
			sigs [64]uint64
		})
		b.s.toks, b.s.sigs = b.toks[:0], b.sigs[:0]
		return &b.s
	}
	return m, nil
}

// Config returns the miner's configuration.
func (m *Miner) Config() Config {
	c := m.cfg
	c.ExtraDelimiters = append([]string(nil), c.ExtraDelimiters...)
	c.Masks = append([]Mask(nil), c.Masks...)
	return c
}

// tokens runs the text step outside the lock and counts the bounds it hit.
func (m *Miner) tokens(line string, mask bool) (*scratch, lineInfo) {
	s := m.pool.Get().(*scratch)
	return s, m.textStep(s, line, mask)
}

// textStep tokenises line into s and counts the bounds it hit.
func (m *Miner) textStep(s *scratch, line string, mask bool) lineInfo {
	s.key, s.lazy, s.sigs = "", false, s.sigs[:0]
	info := m.text.tokens(s, line, mask)
	if s.key != "" && m.memo.tab != nil {
		s.hash = m.memo.hash(s.key)
	} else {
		s.key = ""
	}
	if info != 0 {
		if info&infoCut != 0 {
			m.cut.Add(1)
		}
		if info&infoRepaired != 0 {
			m.repaired.Add(1)
		}
		if info&infoTruncated != 0 {
			m.truncated.Add(1)
		}
	}
	return info
}

func (m *Miner) release(s *scratch) {
	s.reset()
	m.pool.Put(s)
}

// reset drops the references to the line and a buffer grown by a huge one.
func (s *scratch) reset() {
	if !s.own || cap(s.buf) > 64<<10 {
		clear(s.toks)
	}
	s.toks, s.sigs, s.key, s.lazy = s.toks[:0], s.sigs[:0], "", false
	if cap(s.buf) > 64<<10 {
		s.buf = nil
	}
}

// batchMax is how many lines AddBatch tokenises before it takes the lock
// once for all of them.
const batchMax = 16

// batchScratch is AddBatch's working memory: one scratch per line of a group.
type batchScratch [batchMax]scratch

// AddBatch is Add for several lines: lines[i] of partition parts[i], in
// order, what each did stored in out[i]. It returns the number of lines
// mined, min(len(parts), len(lines), len(out)). The results are those of
// calling Add for each line in turn; the difference is the locking: lines
// are tokenised in groups of up to batchMax (still outside the lock), and
// the lock is taken once per group, so another caller's lines never fall
// inside a group. It never retains parts or lines.
func (m *Miner) AddBatch(parts, lines []string, out []Result) int {
	total := min(len(parts), len(lines), len(out))
	bs, _ := m.bpool.Get().(*batchScratch)
	if bs == nil {
		bs = new(batchScratch)
	}
	for done := 0; done < total; {
		n := min(total-done, batchMax)
		for i := 0; i < n; i++ {
			m.textStep(&bs[i], lines[done+i], true)
		}
		m.mu.Lock()
		for i := 0; i < n; i++ {
			m.add(parts[done+i], &bs[i], &out[done+i])
		}
		m.mu.Unlock()
		done += n
	}
	// The scratches are reset once, not after each line: the next line's
	// text step sets everything a line reads, and the tokens still held
	// point into lines the caller holds until AddBatch returns. Clearing
	// them after each line cost the drain3 preset 70 instructions a line.
	for i := range min(total, batchMax) {
		s := &bs[i]
		clear(s.toks[:cap(s.toks)])
		s.reset()
	}
	m.bpool.Put(bs)
	return total
}

// Add mines one line of a partition and returns what it did. It never
// retains partition or line.
func (m *Miner) Add(partition, line string) Result {
	s, _ := m.tokens(line, true)
	m.mu.Lock()
	var r Result
	m.add(partition, s, &r)
	m.mu.Unlock()
	m.release(s)
	return r
}

// add is the tree step for the line tokenised into s; it writes what it did
// to r (in place: a Result is 112 bytes, and AddBatch's go to a slice).
func (m *Miner) add(key string, s *scratch, r *Result) {
	m.lines++
	p := m.partition(key)
	if s.key != "" {
		if c := m.memo.get(p, s.key, s.hash); c != nil {
			m.memoHits++
			c.size++
			m.touch(c)
			m.promote(c) // as the tree step: a leaf scored through its window keeps c hot
			m.known++
			*r = m.result(Known, c)
			return
		}
	}
	toks := s.tokList()
	leaf, c, covered := m.search(p, toks, s.sigs)
	cross := false
	if c == nil && m.cross {
		c, covered = m.crossSearch(p, toks, leaf)
		cross = c != nil
	}
	if c == nil {
		if m.cfg.SiblingValues > 0 && m.cross && !m.flooding(p) {
			if sc, oldID, oldTmpl, folded := m.mergeSiblings(p, toks, leaf); sc != nil {
				m.generalize++
				m.promote(sc)
				*r = m.result(Generalized, sc)
				r.ParentID, r.ParentTemplate, r.Absorbed = oldID, oldTmpl, folded
				return
			}
		}
		var n uint64
		if k := m.admit(p, s, &n); k != Created {
			*r = Result{Kind: k, Partition: p.name, Size: n}
			return
		}
		c = m.create(p, toks, false)
		m.created++
		*r = m.result(Created, c)
		return
	}
	c.size++
	m.touch(c)
	oldID, oldTmpl := c.templateID, c.template
	// Key tokens first: merge would widen them too, hiding the move.
	moved := !covered && cross && m.widenKeys(c, toks)
	changed := !covered && m.score.merge(c.tokens, toks)
	if !changed && !moved {
		m.known++
		if s.key != "" {
			m.memo.put(p, s.key, s.hash, c)
		}
		m.promote(c)
		*r = m.result(Known, c)
		return
	}
	c.setTemplate(c.tokens)
	if moved {
		m.rehome(p, c)
	}
	m.promote(c)
	m.generalize++
	*r = m.result(Generalized, c)
	r.ParentID, r.ParentTemplate = oldID, oldTmpl
}

func (m *Miner) result(k Kind, c *cluster) Result {
	return Result{
		Kind:       k,
		Partition:  c.part.name,
		ClusterID:  c.id,
		TemplateID: c.templateID,
		Template:   c.template,
		Size:       c.size,
	}
}

// Match returns the cluster line belongs to without learning: the cluster Add
// would choose, when its template already covers the line (Add would report
// Known). Nothing changes, not even the LRU order.
//
// This differs from Drain3's match(), which among the clusters of the leaf
// whose template covers the line prefers the one with most wildcards; here
// Match and Add always agree.
func (m *Miner) Match(partition, line string) (Result, bool) {
	s, _ := m.tokens(line, true)
	defer m.release(s)
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.lookup(partition)
	if p == nil {
		return Result{}, false
	}
	// Not even the work counters move.
	defer func(sc, cp, cs uint64) { m.scored, m.capped, m.crossSeen = sc, cp, cs }(m.scored, m.capped, m.crossSeen)
	toks := s.tokList()
	leaf, c, covered := m.search(p, toks, s.sigs)
	if c == nil && m.cross {
		c, covered = m.crossSearch(p, toks, leaf)
	}
	if c == nil || !covered {
		return Result{}, false
	}
	return m.result(Known, c), true
}

// Seed adds a template known from elsewhere (the templates already in
// PostgreSQL at start-up), so that lines it covers are Known, not Created.
// The template is tokenised like a line but not masked. Seeding a template the
// partition already has returns its cluster as Known; a new one is Created
// with size 0.
func (m *Miner) Seed(partition, template string) (Result, error) {
	s, info := m.tokens(template, false)
	defer m.release(s)
	if info&(infoCut|infoTruncated) != 0 {
		// Refuse rather than store a template that differs from the one given.
		return Result{}, fmt.Errorf("drain: seed template of partition %q is over MaxLineBytes %d or MaxTokens %d", partition, m.cfg.MaxLineBytes, m.cfg.MaxTokens)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.partition(partition)
	toks := s.tokList()
	leaf, _, _ := m.search(p, toks, s.sigs)
	if leaf != nil {
		for _, c := range leaf.clusters {
			if equalTokens(c.tokens, toks) {
				m.touch(c)
				return m.result(Known, c), nil
			}
		}
	}
	c := m.create(p, toks, true)
	c.size = 0
	m.seeded++
	return m.result(Created, c), nil
}

func equalTokens(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// MaskSample returns line as the miner sees it before tokenising: valid UTF-8
// without NUL, cut to MaxLineBytes, masking rules applied. Use it for samples
// stored next to templates, so secrets the rules mask are never stored.
func (m *Miner) MaskSample(line string) string {
	return m.text.mask(line)
}

// Stats returns a snapshot of the counters.
func (m *Miner) Stats() Stats {
	m.mu.Lock()
	st := Stats{
		Lines:             m.lines,
		Known:             m.known,
		Created:           m.created,
		Generalized:       m.generalize,
		Seeded:            m.seeded,
		Clusters:          m.nClusters,
		Partitions:        len(m.parts),
		EvictedClusters:   m.evictedC,
		EvictedPartitions: m.evictedP,
		MemoHits:          m.memoHits,
		Scored:            m.scored + m.crossSeen,
		ScoreCapped:       m.capped,
		Throttled:         m.throttled,
		Floods:            m.floods,
		SiblingMerges:     m.merged,
		Absorbed:          m.absorbed,
	}
	m.mu.Unlock()
	st.LinesCut = m.cut.Load()
	st.LinesTruncated = m.truncated.Load()
	st.LinesRepaired = m.repaired.Load()
	return st
}

// TemplateID is the content address of a template: the first 16 hex digits
// of SHA-256 over partition + "\x00" + template, so that every node and every
// restart agree.
func TemplateID(partition, template string) string {
	var sum [sha256.Size]byte
	if n := len(partition) + 1 + len(template); n <= 512 {
		var buf [512]byte // the common case hashes from the stack
		b := append(append(append(buf[:0], partition...), 0), template...)
		sum = sha256.Sum256(b)
	} else {
		h := sha256.New()
		io.WriteString(h, partition)
		h.Write([]byte{0})
		io.WriteString(h, template)
		h.Sum(sum[:0])
	}
	var out [16]byte
	hex.Encode(out[:], sum[:8])
	return string(out[:])
}

// partition returns the partition for key, creating it (and evicting the
// least recently used one beyond MaxPartitions) on demand, and marks it used.
func (m *Miner) partition(key string) *partition {
	if p := m.last; p != nil && p.name == key {
		return p
	}
	p := m.lookup(key)
	if p == nil {
		for len(m.parts) >= m.cfg.MaxPartitions {
			m.dropPartition(m.plru.prev)
			m.evictedP++
		}
		p = m.newPartition(key)
		m.parts[p.name] = p
	} else {
		p.prev.next, p.next.prev = p.next, p.prev
	}
	p.prev, p.next = &m.plru, m.plru.next
	m.plru.next.prev = p
	m.plru.next = p
	m.last = p
	return p
}

// lookup finds the partition for key without changing anything. Keys are
// stored repaired, so an invalid UTF-8 key finds the partition of its repair.
func (m *Miner) lookup(key string) *partition {
	if p := m.parts[key]; p != nil {
		return p
	}
	if name, repaired := sanitize(key); repaired {
		return m.parts[name]
	}
	return nil
}

// newPartition returns an empty partition for key with a full
// new-template budget.
func (m *Miner) newPartition(key string) *partition {
	name, repaired := sanitize(key)
	if !repaired {
		name = strings.Clone(key)
	}
	return &partition{name: name, budget: float64(m.cfg.NewTemplateBurst), refilled: m.clock(), sigs: m.indexed}
}

// dropPartition removes p and all its clusters.
func (m *Miner) dropPartition(p *partition) {
	walk(p, func(c *cluster) {
		c.prev.next, c.next.prev = c.next, c.prev
		c.prev, c.next = nil, nil
		m.nClusters--
	})
	p.prev.next, p.next.prev = p.next, p.prev
	delete(m.parts, p.name)
	if m.last == p {
		m.last = nil
	}
}

// walk calls fn for every cluster in p's tree.
func walk(p *partition, fn func(*cluster)) {
	var rec func(*node)
	rec = func(nd *node) {
		for _, c := range nd.clusters {
			fn(c)
		}
		for _, ch := range nd.children {
			rec(ch)
		}
	}
	for _, nd := range p.byLen {
		if nd != nil {
			rec(nd)
		}
	}
}

// create makes a cluster of toks in p: evict first (as Drain3's LRU cache
// does on insert), then insert into the tree (seeded: a template from Seed).
func (m *Miner) create(p *partition, toks []string, seeded bool) *cluster {
	for m.nClusters >= m.cfg.MaxClusters {
		m.evict(m.lru.prev)
	}
	p.nextID++
	c := &cluster{id: p.nextID, size: 1, part: p}
	c.setTemplate(toks)
	m.pushFront(c)
	m.insert(p, c, seeded)
	p.linkLen(c)
	return c
}

func (m *Miner) evict(c *cluster) {
	m.fold(c)
	m.evictedC++
}

func (m *Miner) pushFront(c *cluster) {
	c.prev, c.next = &m.lru, m.lru.next
	m.lru.next.prev = c
	m.lru.next = c
	c.part.live++
	m.nClusters++
}

// touch marks c most recently used.
func (m *Miner) touch(c *cluster) {
	if m.lru.next == c {
		return
	}
	c.prev.next, c.next.prev = c.next, c.prev
	c.prev, c.next = &m.lru, m.lru.next
	m.lru.next.prev = c
	m.lru.next = c
}
