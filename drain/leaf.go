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
// When a leaf outgrows the bound, the templates that took most lines start
// hot (seedHot). A template that took no line in the window's time is no
// longer found: a line of it makes a new cluster (a seeded template in a
// leaf loaded past the bound, or a rare one in a leaf that keeps growing).
// The new-template budget (budget.go) keeps a flood from growing a leaf
// fast, and Max_Scored can be raised where big leaves are normal.
// A leaf within the bound is scored whole, in Drain's order, so the
// window changes nothing (the drain3 preset stays Drain3-exact) until a
// leaf grows past it.

// candidates returns the clusters of nd to score against a line: all of
// them within the bound, else the window, built in m.winBuf (valid until
// the next call, under mu). It counts what it hands out.
func (m *Miner) candidates(nd *node) []*cluster {
	cs := nd.clusters
	if len(cs) <= m.cfg.MaxScored {
		m.scored += uint64(len(cs))
		return cs
	}
	m.capped++
	w := append(m.winBuf[:0], nd.hot...)
	w = append(w, cs[len(cs)-(m.cfg.MaxScored-len(w)):]...)
	m.winBuf = w
	m.scored += uint64(len(w))
	return w
}

// promote makes c, which just took a line, the first of its leaf's hot
// clusters, when the leaf is scored through a window.
func (m *Miner) promote(c *cluster) {
	nd := c.leaf
	if nd == nil || len(nd.clusters) <= m.cfg.MaxScored {
		return
	}
	h := nd.hot
	if len(h) > 0 && h[0] == c {
		return
	}
	i := 0
	for i < len(h) && h[i] != c {
		i++
	}
	if i == len(h) {
		if len(h) < m.cfg.MaxScored/2 {
			h = append(h, nil)
		} else {
			i = len(h) - 1 // the least recent leaves the hot list
		}
	}
	copy(h[1:i+1], h[:i])
	h[0] = c
	nd.hot = h
}

// seedHot fills nd's hot list as it outgrows MaxScored: its clusters that
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
func dropHot(nd *node, c *cluster) {
	h := nd.hot
	for i, x := range h {
		if x == c {
			copy(h[i:], h[i+1:])
			h[len(h)-1] = nil
			nd.hot = h[:len(h)-1]
			return
		}
	}
}
