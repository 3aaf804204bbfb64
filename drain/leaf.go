package drain

import (
	"cmp"
	"slices"
)

// Bounded leaf scoring.
//
// Drain scores a line against every cluster of its leaf. A leaf normally
// holds a handful, but the "<*>" child of a node past MaxChildren takes
// every line whose key token is new, so a flood of never-seen lines piles
// thousands of clusters of one length into one leaf, and each further line
// would cost O(leaf). Past Config.MaxScored clusters a leaf is scored
// through a window instead: the clusters that most recently took a line
// (hot, at most MaxScored/2, most recent first), then the newest clusters
// up to MaxScored in all. A template that keeps matching stays hot however
// many new ones arrive; a new one is scored until MaxScored/2 newer ones
// push it out of the window, so its second line finds it and makes it hot.
// The hot list is kept from floodScored clusters on (the window of a
// flooding partition, below); when a leaf grows past that, the templates
// that took most lines start hot (seedHot). A template that took no line
// in the window's time is no longer found: a line of it makes a new
// cluster (a seeded template in a leaf loaded past the bound, or a rare one
// in a leaf that keeps growing).
// The new-template budget (budget.go) keeps a flood from growing a leaf
// fast, and Max_Scored can be raised where big leaves are normal.
// A leaf within the bound is scored whole, in Drain's order, so the
// window changes nothing (the drain3 preset stays Drain3-exact) until a
// leaf grows past it.

// floodScored is the window of a leaf in a flooding partition (budget.go):
// its lines create nothing, so the newest clusters change only with the
// reserve's rare admissions, and the templates its real events match are
// hot. A flood that keeps one leaf per length (lines behind a masked
// timestamp) then costs a fraction of MaxScored per line.
const floodScored = 32

// hotFrom is the leaf size from which the hot list is kept: the smaller of
// the two windows.
func (m *Miner) hotFrom() int { return min(m.cfg.MaxScored, floodScored) }

// candidates returns the clusters of nd to score against a line of p: all
// of them within the bound (MaxScored, or floodScored while p is
// flooding), else the window (windowed), built in m.winBuf (valid until
// the next call, under mu).
func (m *Miner) candidates(p *partition, nd *node) (cs []*cluster, windowed bool) {
	cs = nd.clusters
	limit := m.scoreLimit(p, nd)
	if len(cs) <= limit {
		return cs, false
	}
	w := append(m.winBuf[:0], nd.hot[:min(len(nd.hot), limit/2)]...)
	w = append(w, cs[len(cs)-(limit-len(w)):]...)
	m.winBuf = w
	return w, true
}

// scoreLimit is how many clusters of nd a line of p is scored against
// before the window applies: MaxScored, or floodScored while p floods.
func (m *Miner) scoreLimit(p *partition, nd *node) int {
	if len(nd.clusters) > floodScored && m.flooding(p) {
		return min(m.cfg.MaxScored, floodScored)
	}
	return m.cfg.MaxScored
}

// promote makes c, which just took a line, the first of its leaf's hot
// clusters, when the leaf may be scored through a window (hotFrom). In a
// leaf scored through its window now, the new order is part of what a
// line's search finds (which clusters, and which first on a tie), so the
// partition's line memo is stale (memo.go).
func (m *Miner) promote(c *cluster) {
	nd := c.leaf
	if nd == nil || len(nd.clusters) <= m.hotFrom() {
		return
	}
	h := nd.hot
	if len(h) > 0 && h[0] == c {
		return
	}
	// One pass finds c and moves the clusters before it one down, each
	// carried in prev to the next one's place (a search then a copy cost
	// twice as much: the copy's call, with its write barriers, alone).
	prev, found := c, false
	for i := range h {
		h[i], prev = prev, h[i]
		if prev == c {
			found = true
			break
		}
	}
	if !found && len(h) < m.cfg.MaxScored/2 {
		h = append(h, prev) // else the least recent (prev) leaves the hot list
	}
	nd.hot = h
	if p := c.part; len(nd.clusters) > m.scoreLimit(p, nd) {
		p.changed()
	}
}

// seedHot fills nd's hot list as it outgrows hotFrom: its clusters that
// took most lines (at least two; ties to the newer), so the templates it
// matched while it was scored whole stay in its window.
func (m *Miner) seedHot(nd *node) {
	cs := m.winBuf[:0]
	for _, c := range nd.clusters {
		if c.size > 1 {
			cs = append(cs, c)
		}
	}
	slices.SortStableFunc(cs, func(a, b *cluster) int { return cmp.Compare(b.size, a.size) })
	nd.hot = append(nd.hot[:0], cs[:min(len(cs), m.cfg.MaxScored/2)]...)
	clear(cs)
	m.winBuf = cs[:0]
}

// dropHot takes c out of its leaf's hot clusters (c leaves the leaf).
func dropHot(nd *node, c *cluster) { nd.hot = without(nd.hot, c) }

// without removes c from cs in place, keeping the order of the others and
// clearing the freed slot.
func without(cs []*cluster, c *cluster) []*cluster {
	for i, x := range cs {
		if x == c {
			copy(cs[i:], cs[i+1:])
			cs[len(cs)-1] = nil
			return cs[:len(cs)-1]
		}
	}
	return cs
}
