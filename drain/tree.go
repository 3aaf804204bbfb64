package drain

import (
	"math/bits"
	"strings"
	"time"
)

// node is a prefix-tree node. Internal nodes have children keyed by token
// (or wildcard); leaves hold the clusters in Drain3's order, which decides ties.
type node struct {
	children map[string]*node
	kids     *kidTable // children but the wildcard, by sig, for the drain3 scorer's search; nil when none or another scorer
	wild     *node     // children[wildcard]
	clusters []*cluster
	hot      []*cluster // past Config.MaxScored: the most recently matched (leaf.go)
	parent   *node      // nil for the token-count node
	key      string     // in parent.children
	idx      *leafIndex // the drain3 scorer's index of clusters (leafindex.go)
	ver      uint64     // moved by every change to clusters or their templates (leafIndex.ver)
	seenVer  uint64     // 1 + the version seenN counts at
	seenN    int        // times the leaf was scored at that version
}

// cluster is a template and its place in the tree and in the global LRU list.
type cluster struct {
	id         uint64
	size       uint64
	template   string   // tokens joined by one space; the cluster's one owned copy
	tokens     []string // slices of template, or the wildcard constant
	sigs       []uint64 // sig of each of tokens when part.sigs (bestSigs), else nil
	templateID string   // TemplateID(partition, template), recomputed only on change
	fixed      int      // non-wildcard tokens (the most a line can score against the template); the rest are "<*>"
	part       *partition
	leaf       *node
	prev, next *cluster // global LRU list, most recent at lru.next
	lprev      *cluster // partition's list of clusters of this token count,
	lnext      *cluster // newest first (see cross.go)
}

// partition is one independent Drain tree.
type partition struct {
	name       string        // valid UTF-8 without NUL (the caller's key, repaired)
	byLen      []*node       // first tree level: token count → node
	newest     []*cluster    // token count → its clusters, newest first (cross.go)
	nextID     uint64        // Drain3's clusters_counter
	live       int           // clusters of this partition in the LRU list
	gen        uint64        // moved by every change to the tree or a template (memo.go)
	budget     float64       // new templates it may still create (budget.go)
	refilled   time.Duration // Miner.clock when budget was last refilled
	flood      *floodState   // from its first throttled line, else nil
	sigs       bool          // its clusters keep their tokens' sigs (the drain3 scorer's bestSigs)
	prev, next *partition
}

// scorer is the similarity / merge seam: which cluster of a leaf a line joins
// and how a template widens to cover it.
type scorer interface {
	// best returns the candidate toks joins, or nil when none is similar
	// enough, and whether its template already covers toks. All candidates
	// have len(toks) tokens; len(toks) > 0.
	best(cands []*cluster, toks []string, simTh float64) (c *cluster, covered bool)
	// merge widens tmpl in place to cover toks and reports whether it changed.
	merge(tmpl, toks []string) bool
}

// scorings maps Config.Scoring to a scorer.
var scorings = map[string]scorer{
	"":        drain3Scorer{},
	"drain3":  drain3Scorer{},
	"default": defaultScorer{},
}

// search is Drain3's tree_search: the leaf for toks, the cluster toks joins
// (nil if none) and whether its template already covers toks. sigs are the
// tokens' sigs when the tokenizer computed them (else empty: computed here
// as needed).
func (m *Miner) search(p *partition, toks []string, sigs []uint64) (*node, *cluster, bool) {
	if len(sigs) != len(toks) {
		sigs = nil
	}
	n := len(toks)
	if n >= len(p.byLen) || p.byLen[n] == nil {
		return nil, nil, false
	}
	nd := p.byLen[n]
	if n == 0 {
		if len(nd.clusters) == 0 {
			return nd, nil, false
		}
		return nd, nd.clusters[0], true
	}
	depth := 1
	for i, t := range toks {
		if depth >= m.maxNodeDepth || depth == n {
			break
		}
		var ch *node
		if m.indexed {
			h := uint64(0)
			if sigs != nil {
				h = sigs[i]
			} else {
				h = sig(t)
			}
			ch = nd.kid(t, h)
		} else {
			// The default preset's memo answers most lines before the
			// tree: its nodes keep no table (memory), the map serves.
			ch = nd.children[t]
		}
		if ch == nil {
			if ch = nd.wild; ch == nil {
				return nil, nil, false
			}
		}
		nd = ch
		depth++
	}
	cands, windowed := m.candidates(p, nd)
	m.scored += uint64(len(cands))
	if windowed {
		m.capped++
	} else if m.indexed && len(cands) >= idxMin {
		if sigs == nil {
			sigs = m.sigsOf(toks)
		}
		if c, covered, ok := m.indexedBest(nd, toks, sigs); ok {
			return nd, c, covered
		}
	}
	var c *cluster
	var covered bool
	if m.indexed && sigs != nil {
		c, covered = bestSigs(cands, toks, sigs, m.cfg.SimTh)
	} else {
		c, covered = m.score.best(cands, toks, m.cfg.SimTh)
	}
	return nd, c, covered
}

// Lines of at least minHeadTokens tokens, of which at least minHeadFixed
// after the first are constants in the template, may join a cluster under
// another first token of the same namespace (crossSearch, headValue).
const minHeadTokens, minHeadFixed = 6, 4

// coversTail reports whether tmpl covers toks in every token but the first
// and has at least minHeadFixed constants there.
func coversTail(tmpl, toks []string) bool {
	fixed := 0
	for i := 1; i < len(tmpl); i++ {
		if !tokenCovers(tmpl[i], toks[i]) {
			return false
		}
		if !strings.Contains(tmpl[i], wildcard) {
			fixed++
		}
	}
	return fixed >= minHeadFixed
}

// wildRoute reports whether a seeded template's key token t goes to the
// <*> child: a token holding a wildcard ("<*>:" widened from names that had
// digits, or joined from other leaves). The cluster it was learnt from sat
// there, reached by its lines' tokens (the values the wildcard replaced);
// keyed literally, it would be found only by a cross-leaf search, which
// would widen it again. Only the default preset seeds this way (the drain3
// preset keys such tokens literally, as Drain3 does), and only seeded
// templates: lines create clusters where Drain puts them.
func (m *Miner) wildRoute(t string, seeded bool) bool {
	return seeded && m.cross && t != wildcard && strings.Contains(t, wildcard)
}

// insert is Drain3's add_seq_to_prefix_tree for a new cluster (seeded: a
// template from Seed, see wildRoute).
func (m *Miner) insert(p *partition, c *cluster, seeded bool) {
	p.changed()
	n := len(c.tokens)
	if n >= len(p.byLen) {
		p.byLen = append(p.byLen, make([]*node, n+1-len(p.byLen))...)
	}
	nd := p.byLen[n]
	if nd == nil {
		nd = &node{}
		p.byLen[n] = nd
	}
	depth := 1
	for _, t := range c.tokens {
		if depth >= m.maxNodeDepth || depth >= n {
			break
		}
		ch := nd.children[t]
		if ch == nil {
			if nd.children == nil {
				nd.children = make(map[string]*node)
			}
			hasWild := nd.wild != nil
			switch {
			case m.cfg.ParametrizeNumeric && hasDigit(t), m.wildRoute(t, seeded):
				ch = nd.child(wildcard, m.indexed)
			case hasWild && len(nd.children) < m.cfg.MaxChildren:
				ch = nd.child(t, m.indexed)
			case hasWild:
				ch = nd.children[wildcard]
			case len(nd.children)+1 < m.cfg.MaxChildren:
				ch = nd.child(t, m.indexed)
			default:
				// len+1 == MaxChildren in Drain3; more only after a
				// Restore with a smaller MaxChildren: overflow either way.
				ch = nd.child(wildcard, m.indexed)
			}
		}
		nd = ch
		depth++
	}
	nd.clusters = append(nd.clusters, c)
	nd.ver++
	c.leaf = nd
	if len(nd.clusters) == m.hotFrom()+1 {
		m.seedHot(nd)
	}
}

// child returns the child for key, creating it with an owned copy of key
// (and keeping the child table when table is set: the drain3 scorer's
// miners, whose search uses it).
func (nd *node) child(key string, table bool) *node {
	ch := nd.children[key]
	if ch == nil {
		if key != wildcard {
			key = strings.Clone(key)
		}
		ch = &node{parent: nd, key: key}
		nd.setChild(key, ch, table)
	}
	return ch
}

// kidTable is a node's children but the wildcard, open addressing over the
// sig of their keys (the hash the drain3 tokenizer computed for the line's
// tokens), at most half full: search's lookup without hashing the token again.
type kidTable struct {
	slots []kidSlot
	shift uint8 // 64 - log2(len(slots)): a sig's top bits pick its slot
	n     int   // children held
}

type kidSlot struct {
	sig uint64
	ch  *node // nil: empty
}

// kid returns the child keyed t (h is sig(t)), nil when none; never the
// wildcard child unless t is "<*>" itself.
func (nd *node) kid(t string, h uint64) *node {
	kt := nd.kids
	if kt == nil {
		if t == wildcard {
			return nd.wild
		}
		return nil
	}
	mask := len(kt.slots) - 1
	for s := int(h >> kt.shift); ; s = (s + 1) & mask {
		e := &kt.slots[s]
		if e.ch == nil {
			if t == wildcard {
				return nd.wild
			}
			return nil
		}
		// sig is injective below 8 bytes (it holds them and the length).
		if e.sig == h && (len(t) < 8 || sameLong(t, e.ch.key)) {
			return e.ch
		}
	}
}

// setChild makes ch the child keyed key (ch.key), in the map, and in the
// table when table is set.
func (nd *node) setChild(key string, ch *node, table bool) {
	if nd.children == nil {
		nd.children = make(map[string]*node)
	}
	nd.children[key] = ch
	if key == wildcard {
		nd.wild = ch
		return
	}
	if !table {
		return
	}
	kt := nd.kids
	if kt == nil || 2*(kt.n+1) > len(kt.slots) {
		nd.rebuildKids(kt) // from the map, which holds ch already
		return
	}
	kt.put(sig(key), ch)
	kt.n++
}

// dropChild removes the child keyed key.
func (nd *node) dropChild(key string) {
	delete(nd.children, key)
	if key == wildcard {
		nd.wild = nil
		return
	}
	if nd.kids != nil {
		nd.rebuildKids(nd.kids)
	}
}

// rebuildKids lays the table out again for the children in the map but
// the wildcard, at most half full after one more is added (reusing old's
// memory when the size is the same); no table when there are none.
func (nd *node) rebuildKids(old *kidTable) {
	n := len(nd.children)
	if nd.wild != nil {
		n--
	}
	if n == 0 {
		nd.kids = nil
		return
	}
	size := 4
	for size < 2*(n+1) {
		size <<= 1
	}
	kt := old
	if kt == nil || len(kt.slots) != size {
		kt = &kidTable{slots: make([]kidSlot, size), shift: uint8(64 - bits.TrailingZeros(uint(size)))}
	} else {
		clear(kt.slots)
	}
	kt.n = 0
	for k, ch := range nd.children {
		if k != wildcard {
			kt.put(sig(k), ch)
			kt.n++
		}
	}
	nd.kids = kt
}

// put stores ch under h in the first free slot of its probe sequence.
func (kt *kidTable) put(h uint64, ch *node) {
	mask := len(kt.slots) - 1
	for s := int(h >> kt.shift); ; s = (s + 1) & mask {
		if kt.slots[s].ch == nil {
			kt.slots[s] = kidSlot{sig: h, ch: ch}
			return
		}
	}
}

// removeFromTree drops an evicted cluster from its leaf, keeping the order
// of the others (Drain3 skips evicted ids in place, which orders the same),
// then removes the nodes left empty, so that the tree stays bounded by the
// live clusters. Drain3 keeps empty nodes, which counts against max_children;
// that difference shows only after an eviction.
func removeFromTree(p *partition, c *cluster) {
	prune(p, unleaf(c), len(c.tokens))
}

// unleaf takes c out of its leaf, keeping the order of the others, and
// returns the leaf.
func unleaf(c *cluster) *node {
	c.part.changed()
	nd := c.leaf
	if len(nd.hot) > 0 {
		dropHot(nd, c)
	}
	nd.clusters = without(nd.clusters, c)
	nd.ver++
	c.leaf = nil
	return nd
}

// prune removes nd and its ancestors while they are empty, in the tree for
// n-token lines.
func prune(p *partition, nd *node, n int) {
	for len(nd.clusters) == 0 && len(nd.children) == 0 {
		if nd.parent == nil {
			if n < len(p.byLen) && p.byLen[n] == nd {
				p.byLen[n] = nil
			}
			return
		}
		nd.parent.dropChild(nd.key)
		nd = nd.parent
	}
}

// setTemplate makes toks the cluster's template: one new string, tokens
// re-sliced into it, wildcard slots pointing at the constant. toks may be
// c.tokens itself.
func (c *cluster) setTemplate(toks []string) {
	size := len(toks)
	for _, t := range toks {
		size += len(t)
	}
	var b strings.Builder
	b.Grow(size)
	for i, t := range toks {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t)
	}
	s := b.String()
	if len(c.tokens) != len(toks) {
		c.tokens = make([]string, len(toks))
	}
	off, wild := 0, 0
	for i, t := range toks {
		l := len(t)
		if t == wildcard {
			c.tokens[i] = wildcard
			wild++
		} else {
			c.tokens[i] = s[off : off+l]
		}
		off += l + 1
	}
	c.fixed = len(toks) - wild
	if c.part.sigs {
		if len(c.sigs) != len(toks) {
			c.sigs = make([]uint64, len(toks))
		}
		for i, t := range c.tokens {
			c.sigs[i] = sig(t)
		}
	}
	c.template = s
	c.part.changed()
	if c.leaf != nil {
		c.leaf.ver++
	}
	c.templateID = TemplateID(c.part.name, s)
}

// sameNamespace reports whether line token l can stand where template token
// t is: t covers it, or both start with a common prefix that ends at a
// delimiter or dot ("com.apple.x.daily:" and "com.apple.Safari.Update:"),
// or both are upper-case codes (acronym).
func sameNamespace(t, l string) bool {
	if tokenCovers(t, l) || l == wildcard {
		return true // a value in the line's first token: "<url>: scheduler…"
	}
	p, _ := commonEnds(t, l)
	return p > 0 || acronym(t) && acronym(l)
}

// acronym: 3 to 5 upper-case letters, digits after the first ("DSDT",
// "FADT", "HPET"): a code whose line is otherwise identical is one event
// ("DSDT (v001 DELL PE BKC …) @ 0x…").
func acronym(w string) bool {
	if len(w) < 3 || len(w) > 5 {
		return false
	}
	for i := 0; i < len(w); i++ {
		if !(w[i] >= 'A' && w[i] <= 'Z' || i > 0 && w[i] >= '0' && w[i] <= '9') {
			return false
		}
	}
	return true
}
