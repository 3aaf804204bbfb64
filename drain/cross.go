package drain

import (
	"slices"
	"strings"
)

// Cross-leaf joins (the "default" scoring only).
//
// Drain compares a line only with the clusters of the leaf its first tokens
// lead to, so a variable in a key position (the sudo user in "ops : TTY=…",
// "admin : TTY=…") makes a new cluster, and a false "new pattern", for every
// value. When a line finds no cluster in its leaf, crossSearch also scores a
// bounded number of the partition's other clusters of the same token count:
// the scorer's own rules for the other tokens, and for a key token that
// differs a stricter one (keyValue: the line must mark it as a value; word
// mismatches stay decisive). If the line joins one, the key tokens that
// differ become "<*>" and the cluster moves to the leaf of its new template,
// under the "<*>" child, where later lines with yet another value in that
// position find it through the tree (or, when their own key has a leaf,
// through the wildcard leaf this search probes first).
//
// Only the miss path pays: a line that finds its cluster in its leaf never
// gets here.

// maxCross bounds the clusters one miss looks at outside its leaf (skipped
// ones included), so a stream of all-new lines costs O(maxCross) per line,
// never O(clusters). At most half of them come from the wildcard leaf. A
// flooding partition (budget.go), whose misses create nothing, looks at a
// quarter: its lines are nearly all misses, and the clusters it joined
// across leaves wait in the wildcard leaf, which is looked at first.
const maxCross = 64

// linkLen puts c, new, at the front of its partition's list of clusters of
// its token count. Ids grow with creation, so the list is in descending id
// order, which Restore rebuilds.
func (p *partition) linkLen(c *cluster) {
	n := len(c.tokens)
	if n >= len(p.newest) {
		p.newest = append(p.newest, make([]*cluster, n+1-len(p.newest))...)
	}
	c.lprev, c.lnext = nil, p.newest[n]
	if c.lnext != nil {
		c.lnext.lprev = c
	}
	p.newest[n] = c
}

// unlinkLen takes c out of its token count's list.
func (p *partition) unlinkLen(c *cluster) {
	if c.lprev != nil {
		c.lprev.lnext = c.lnext
	} else if n := len(c.tokens); n < len(p.newest) && p.newest[n] == c {
		p.newest[n] = c.lnext
	}
	if c.lnext != nil {
		c.lnext.lprev = c.lprev
	}
	c.lprev, c.lnext = nil, nil
}

// relinkLen rebuilds p's lists from its clusters (Restore): newest first is
// descending id.
func (p *partition) relinkLen(cs []*cluster) {
	slices.SortFunc(cs, func(a, b *cluster) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	for _, c := range cs {
		p.linkLen(c)
	}
}

// keyCount is how many leading tokens of an n-token line are tree keys.
func (m *Miner) keyCount(n int) int {
	if n < 2 {
		return 0
	}
	return min(m.maxNodeDepth-1, n-1)
}

// wildLeaf is the leaf of the n-token tree reached through "<*>" children
// only, or nil.
func (m *Miner) wildLeaf(p *partition, n int) *node {
	nd := p.byLen[n]
	for k := m.keyCount(n); k > 0 && nd != nil; k-- {
		nd = nd.children[wildcard]
	}
	return nd
}

// crossSearch is search's fallback when leaf (the leaf search chose, nil if
// none) has no cluster for toks: the cluster of another leaf toks joins, or
// nil, and whether it takes toks unchanged (its template covers toks and its
// key tokens already lead there). It changes nothing but m.crossSeen.
//
// A candidate is scored as defaultScorer.best would score it, with one
// difference at the key positions: a key token that differs must be marked
// as a value by the line itself (keyValue); a mismatch that is merely not
// word-like ("kubelet.service:" vs "<*>:") is not enough there, since the
// tree has always kept such lines apart. Ties go to the first candidate.
func (m *Miner) crossSearch(p *partition, toks []string, leaf *node) (*cluster, bool) {
	n := len(toks)
	if n < 2 || n >= len(p.newest) || p.newest[n] == nil {
		return nil, false
	}
	cands, seen := m.crossBuf[:0], 0
	limit := maxCross
	if m.flooding(p) {
		limit = maxCross / 4
	}
	wl := m.wildLeaf(p, n)
	if wl != nil && wl != leaf {
		for _, c := range wl.clusters {
			if seen == limit/2 {
				break
			}
			cands = append(cands, c)
			seen++
		}
	}
	for c := p.newest[n]; c != nil && seen < limit; c = c.lnext {
		seen++
		if c.leaf != leaf && c.leaf != wl {
			cands = append(cands, c)
		}
	}
	m.crossSeen += uint64(seen)
	k := m.keyCount(n)
	free := firstKeyFree(toks)
	// view is toks with the key tokens a candidate may take as values
	// replaced by the candidate's, so defaultSim scores the rest unchanged.
	view := append(m.crossToks[:0], toks...)
	var bestC *cluster
	bestSim, bestCovers := -1.0, false
	for _, c := range cands {
		keyMism, ok := 0, true
		if k > 0 && !free && !mayTakeFirstKey(c.tokens[0], toks[0]) {
			continue
		}
		for i, t := range c.tokens[:k] {
			view[i] = toks[i]
			if tokenCovers(t, toks[i]) {
				continue
			}
			if !keyValue(c.tokens, toks, i) && !(i == 0 && headValue(c.tokens, toks)) {
				ok = false
				break
			}
			view[i] = t
			keyMism++
		}
		if !ok {
			continue
		}
		s, covers := defaultSim(c, view, m.cfg.SimTh, bestSim)
		if s < 0 {
			continue
		}
		if keyMism > 0 {
			s -= float64(keyMism) / float64(c.fixed)
			covers = false
		}
		if s > bestSim {
			bestSim, bestC, bestCovers = s, c, covers
		}
		if covers {
			break
		}
	}
	clear(cands)
	clear(view)
	m.crossBuf, m.crossToks = cands[:0], view[:0]
	if bestC == nil || bestSim < m.cfg.SimTh {
		return nil, false
	}
	for i, t := range bestC.tokens[:k] {
		if t != toks[i] && t != wildcard {
			bestCovers = false // widenKeys will change the template
		}
	}
	return bestC, bestCovers
}

// firstKeyFree reports whether the line alone may let its first token
// differ from a template's: what keyValue and headValue accept without a
// prefix shared with the template's token (an absolute DNS name, a
// "subject : key=value" record, a code or a value as first token of a long
// line).
func firstKeyFree(toks []string) bool {
	l := toks[0]
	return hostLike(l) || len(toks) > 1 && toks[1] == ":" ||
		len(toks) >= minHeadTokens && (l == wildcard || acronym(l))
}

// mayTakeFirstKey is the screen crossSearch applies before the key rules
// when the line is not firstKeyFree: tokenCovers, keyValue and headValue
// each need the template's first token t to start with a wildcard or with
// the byte l starts with (a common prefix). Two byte compares rule out most
// candidates of a flood of never-seen lines; TestFirstKeyScreen checks the
// screen never refuses what the rules accept.
func mayTakeFirstKey(t, l string) bool {
	return len(t) == 0 || len(l) == 0 || t[0] == l[0] || t[0] == '<'
}

// keyValue reports whether the line marks key token toks[i], which differs
// from tmpl[i], as a value: after "=" or a glued "key:", a quoted part glued
// to a key, an absolute DNS name, after a naming keyword or inside a
// ";"-separated field's value (defaultScorer's exemptions), or the subject
// of a record of key=value fields ("ops : TTY=pts/1 ; …", sudo's user).
func keyValue(tmpl, toks []string, i int) bool {
	t, l := tmpl[i], toks[i]
	p, s := commonEnds(t, l)
	switch {
	case p > 0 && (t[p-1] == '=' || t[p-1] == ':' && p > 1 && isAlphaB(t[p-2])):
		return true
	case p > 1 && s > 0 && isQuote(t[p-1]) && t[len(t)-s] == t[p-1]:
		return true
	case hostLike(t) && hostLike(l):
		return true
	case i > 0 && (isValueKeyword(tmpl[i-1]) || inFieldValue(tmpl, i)):
		return true
	}
	return i+2 < len(tmpl) && tmpl[i+1] == ":" && toks[i+1] == ":" &&
		strings.IndexByte(tmpl[i+2], '=') > 0 && strings.IndexByte(toks[i+2], '=') > 0
}

// headValue reports whether a line's first token, which differs from the
// template's, may stand in its place: a first token of the same namespace
// or both upper-case codes ("com.apple.x.daily:" / "com.apple.y.hourly:",
// "DSDT" / "FADT", sameNamespace), on a line of at least minHeadTokens
// whose every other token the template covers, minHeadFixed of them
// constants. Other first tokens ("Failed" / "Accepted password for …")
// name the event.
func headValue(tmpl, toks []string) bool {
	return len(toks) >= minHeadTokens && sameNamespace(tmpl[0], toks[0]) && coversTail(tmpl, toks)
}

// widenKeys turns the key tokens of c's template that differ from toks into
// "<*>" (c.tokens only; the caller sets the template) and reports whether
// any did.
func (m *Miner) widenKeys(c *cluster, toks []string) bool {
	changed := false
	for i, t := range c.tokens[:m.keyCount(len(toks))] {
		if t != toks[i] && t != wildcard {
			c.tokens[i] = wildcard
			changed = true
		}
	}
	return changed
}

// rehome moves c to the leaf its (changed) template leads to, appended last
// as a new cluster would be; the old leaf is pruned if left empty.
func (m *Miner) rehome(p *partition, c *cluster) {
	if m.leafOf(p, c.tokens) == c.leaf {
		return
	}
	old := unleaf(c)
	m.insert(p, c, false)
	prune(p, old, len(c.tokens))
}

// leafOf is the existing leaf insert would put toks in, or nil when insert
// would create a node on the way.
func (m *Miner) leafOf(p *partition, toks []string) *node {
	n := len(toks)
	if n >= len(p.byLen) {
		return nil
	}
	nd := p.byLen[n]
	for i := 0; i < m.keyCount(n) && nd != nil; i++ {
		nd = nd.children[toks[i]]
	}
	return nd
}
