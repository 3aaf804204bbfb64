package drain

import (
	"cmp"
	"slices"
	"strings"
)

// Evidence-based generalization (the "default" scoring only).
//
// The default scorer keeps two templates apart when they differ in a
// word-like constant ("Accepted" / "Failed password for …"): such words
// usually name the event. But a position filled by letters only can be a
// variable too: the daemon in "klogd startup succeeded", the process in
// "Killed process 6980 (httpd).", the driver in "registered new driver hub".
// No rule on the word itself tells the two apart; the logs do. When a line
// that found no cluster differs from existing templates decisively at one
// position only (siblingOf), and they hold at least SiblingValues distinct
// values there (the line's included; Config.SiblingValues, 0: off), that
// position is a variable: the oldest of those siblings widens there (as
// merge widens a token, cut back to delimiters: "(httpd)." and "(python)."
// give "(<*>)."), takes the line, and the other siblings are folded into it
// (their lines counted in its size, their clusters removed). Two values are not evidence: "Accepted" and "Failed"
// stay two events.
//
// The search looks only where a miss already looks (the leaf's window and
// the newest clusters of the line's length), so it is bounded like the
// scoring, runs only for lines that would create a cluster, and never in a
// flooding partition (budget.go).

// minSiblingFixed is how many constant tokens the siblings must share
// besides the varying one: one is enough ("removing chargen", "removing
// daytime", … become "removing <*>"), since the values must be lower-case
// names, SiblingValues of them.
const minSiblingFixed = 1

// siblingOf reports the one position at which c's template and toks differ
// decisively (hardMismatch), or -1. Other positions must cover the line's
// tokens, or differ in a value the scorer would widen (comm="klogd") or in
// the same text as that position ("dev devpts, type devpts"), no more of
// them than covered constants. The values there must be names:
// lower-case (nameValue), or of any case where the line labels them as
// names (labelled).
func siblingOf(c *cluster, toks []string) int {
	diff, fixed, miss := -1, 0, 0
	for i, t := range c.tokens {
		if tokenCovers(t, toks[i]) {
			if !isWildcard(t) {
				fixed++
			}
			continue
		}
		if diff < 0 {
			diff = i
		}
		// The other differences may be at most as many as the covered
		// constants: given up as soon as the tokens left cannot make it.
		if miss++; miss-1 > fixed+len(c.tokens)-1-i {
			return -1
		}
	}
	// Decided on the counts alone: the common case, a line that differs
	// in many places (a flood of new lines costs no closer look).
	if fixed < minSiblingFixed || diff < 0 || miss-1 > fixed {
		return -1
	}
	if miss > 1 {
		diff = -1
		for i, t := range c.tokens {
			if tokenCovers(t, toks[i]) || !hardMismatch(c.tokens, toks, i) {
				continue // covered, or a value the scorer would widen: comm="klogd"
			}
			if diff < 0 {
				diff = i
			} else if !sameValue(c.tokens, toks, diff, i) {
				return -1
			}
		}
		if diff < 0 {
			return -1
		}
	}
	t, l := c.tokens[diff], toks[diff]
	p, s := commonEnds(t, l)
	name := nameValue
	if labelled(c.tokens, diff, p, t[len(t)-s:]) {
		name = anyCaseName
	}
	if !name(t[p:len(t)-s]) || !name(l[p:len(l)-s]) {
		return -1
	}
	return diff
}

// sameValue reports whether positions i and j of tmpl and toks differ in
// the same text: the template holds one value at both, the line another.
func sameValue(tmpl, toks []string, i, j int) bool {
	differs := func(k int) (string, string) {
		p, s := commonEnds(tmpl[k], toks[k])
		return tmpl[k][p : len(tmpl[k])-s], toks[k][p : len(toks[k])-s]
	}
	a, b := differs(i)
	c, d := differs(j)
	return a == c && b == d
}

// labelled reports whether the log itself says the value at toks[i] (after
// a common prefix of p bytes, before the common suffix suf) is a name: a
// process id follows it ("Safari(412)", "sshd[31]"), or a label ends the
// token before it ("Name: Foo", "Owner: AirPort"). Such a value may have
// capitals: capitals alone do not make it the event.
func labelled(toks []string, i, p int, suf string) bool {
	if strings.HasPrefix(suf, "(<*>)") || strings.HasPrefix(suf, "[<*>]") {
		return true
	}
	return p == 0 && i > 0 && strings.HasSuffix(toks[i-1], ":")
}

// nameValue: a lower-case name (letters, then letters, digits, '.', '_',
// '-'): what programs, drivers, users and file systems are called. Words
// with capitals ("Started", "GET", "DMA") are as often the event itself, and
// are left to the scorer's rules, unless the line labels the value as a
// name (labelled): then anyCaseName.
func nameValue(w string) bool { return isName(w, false) }

// anyCaseName is nameValue with capitals allowed.
func anyCaseName(w string) bool { return isName(w, true) }

func isName(w string, capitals bool) bool {
	letter := func(c byte) bool {
		if capitals {
			c |= 0x20 // upper to lower case; nothing else becomes a letter
		}
		return c >= 'a' && c <= 'z'
	}
	if w == "" || !letter(w[0]) {
		return false
	}
	for i := 1; i < len(w); i++ {
		c := w[i]
		if !(letter(c) || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// mergeSiblings widens the oldest sibling of toks when the evidence holds
// (see above) and returns it with its template before the change and the
// ids of the siblings folded into it; nil if not. leaf is the leaf search
// chose (nil if none).
func (m *Miner) mergeSiblings(p *partition, toks []string, leaf *node) (*cluster, string, string, []uint64) {
	n := len(toks)
	if n < minSiblingFixed+1 || n >= len(p.newest) {
		return nil, "", "", nil
	}
	sibs := m.sibBuf[:0]
	add := func(c *cluster) {
		if i := siblingOf(c, toks); i >= 0 {
			for _, s := range sibs {
				if s.c == c {
					return
				}
			}
			sibs = append(sibs, sibling{c, i})
		}
	}
	if leaf != nil {
		cands, _ := m.candidates(p, leaf) // the line's window, counted by search
		for _, c := range cands {
			add(c)
		}
		m.scored += uint64(len(cands))
	}
	seen := 0
	for c := p.newest[n]; c != nil && seen < maxCross; c = c.lnext {
		seen++
		add(c)
	}
	m.scored += uint64(seen)
	defer func() {
		clear(sibs)
		m.sibBuf = sibs[:0]
	}()
	// The position with the most distinct values among the siblings (the
	// line's own value counted): sorted by position, then value.
	slices.SortFunc(sibs, func(x, y sibling) int {
		if c := cmp.Compare(x.pos, y.pos); c != 0 {
			return c
		}
		return strings.Compare(x.c.tokens[x.pos], y.c.tokens[y.pos])
	})
	best, bestN := -1, 0
	for i := 0; i < len(sibs); {
		pos, vals := sibs[i].pos, 1
		for j := i; j < len(sibs) && sibs[j].pos == pos; j++ {
			if v := sibs[j].c.tokens[pos]; v != toks[pos] && (j == i || v != sibs[j-1].c.tokens[pos]) {
				vals++
			}
			i = j + 1
		}
		if vals > bestN {
			best, bestN = pos, vals
		}
	}
	if bestN < m.cfg.SiblingValues {
		return nil, "", "", nil
	}
	var oldest *cluster
	for _, s := range sibs {
		if s.pos == best && (oldest == nil || s.c.id < oldest.id) {
			oldest = s.c
		}
	}
	oldID, oldTmpl := oldest.templateID, oldest.template
	var folded []uint64
	for _, s := range sibs {
		if s.pos == best && s.c != oldest {
			m.score.merge(oldest.tokens, s.c.tokens) // cover its lines too
			oldest.size += s.c.size
			m.fold(s.c)
			m.absorbed++
			folded = append(folded, s.c.id)
		}
	}
	m.score.merge(oldest.tokens, toks)
	oldest.size++
	key := best < m.keyCount(n)
	if key {
		// A key token is a value as a whole (widenKeys): the template moves
		// to the wildcard leaf, where every later value finds it.
		oldest.tokens[best] = wildcard
	}
	oldest.setTemplate(oldest.tokens)
	if key {
		m.rehome(p, oldest)
	}
	m.touch(oldest)
	m.merged++
	return oldest, oldID, oldTmpl, folded
}

type sibling struct {
	c   *cluster
	pos int
}

// fold removes c from the miner: from the LRU list, its tree (pruning
// emptied nodes), its length list and the counts. An eviction is a fold
// that is counted; a sibling merge folds the siblings it absorbed.
func (m *Miner) fold(c *cluster) {
	c.prev.next, c.next.prev = c.next, c.prev
	c.prev, c.next = nil, nil
	removeFromTree(c.part, c)
	c.part.unlinkLen(c)
	c.part.live--
	m.nClusters--
}
