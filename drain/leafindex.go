package drain

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// The drain3 scorer's leaf index.
//
// Drain3 scores a line against every cluster of its leaf, token by token.
// On a varied stream in one partition a leaf holds dozens of clusters
// (Drain3 keys the tree by the first tokens only, and lines that begin with
// a number all go to the "<*>" child), most of them of other events, so the
// comparisons are most of the miner's time. A leaf scored again while its
// clusters are unchanged gets an index instead: per token position, the
// distinct constants of its templates there and which clusters hold each.
// A line then looks up each of its tokens once and adds one to the score
// of the clusters that hold it; the pick over those counts is Drain3's
// (drain3Scorer.best's comparison, first cluster on a tie). The index holds
// while the leaf's version (node.ver) is the one it was built at: a cluster
// added to the leaf or taken out, or a template of it changed, moves it;
// changes elsewhere in the partition do not.

// idxMin is the fewest candidates for which a leaf is indexed: below it,
// comparing tokens costs about as much as looking them up.
const idxMin = 6

// idxAfter is how many times a leaf is scored at one version before it is
// indexed.
const idxAfter = 8

// leafIndex is a leaf's clusters as of its version ver.
type leafIndex struct {
	ver   uint64
	cl    []*cluster // the leaf's clusters, in order
	pc    []int32    // wildcards of each
	score []int32    // matches of each against the current line, when seen is stamp
	seen  []uint32   // the line stamp score was counted at
	stamp uint32     // moved by every line
	hits  []int32    // clusters the line matches minScore times, scratch
	nw    int        // words of 64 clusters counted in bit planes (bestSmall, bestWide); 0: none
	wide  []uint64   // posVal.mask's further words, nw-1 a value, for clusters 64 on
	pos   []posIndex // per token position
	vals  []posVal   // every position's distinct constants
	post  []int32    // their clusters (indexes into cl), posVal.from:to
	tabs  []int32    // every position's hash table, posIndex.tab
}

// posIndex is one token position's table: open addressing over the sig of
// a constant (its bits from slotShift up pick the slot), slot → 1 + index
// into leafIndex.vals, 0 when empty.
type posIndex struct {
	tab []int32
}

// slotShift is where the bits of a sig that pick a table's slot start: a
// constant shift, where one by the table's size took a register and a test
// of the count at every token. The product in sigMix mixes every bit of the
// token into the bits from here up; a table of more than 1<<(64-slotShift)
// slots (none in practice) is still correct, only less evenly filled.
const slotShift = 40

type posVal struct {
	sig      uint64
	tok      string
	from, to int32
	mask     uint64 // the clusters that hold it, bit k for cl[k] (k < 64; the rest in leafIndex.wide)
}

// sig is a cheap hash of a token: its length and its first and last eight
// bytes (a token under 8 bytes: its bytes, little-endian). The drain3
// tokenizer computes it while splitting (drain3Tokenizer.split); the tree's
// child tables (tree.go) and the leaf index probe by it.
func sig(s string) uint64 {
	n := len(s)
	b := unsafe.Slice(unsafe.StringData(s), n)
	var a uint64
	if n >= 8 {
		a = longWord(binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[n-8:]))
	} else {
		for j := n - 1; j >= 0; j-- {
			a = a<<8 | uint64(b[j])
		}
	}
	return sigMix(a, n)
}

// sameLong reports whether a and b are equal, for a of at least 8 bytes
// (it reads a's last 8): a word at a time, inlined, where the callers'
// a == b was a call to compare the bytes. Its callers compare tokens whose
// sigs are equal, so the strings are mostly equal and short.
func sameLong(a, b string) bool {
	n := len(a)
	if n != len(b) {
		return false
	}
	pa, pb := unsafe.Pointer(unsafe.StringData(a)), unsafe.Pointer(unsafe.StringData(b))
	for i := 0; i < n-8; i += 8 {
		if *(*uint64)(unsafe.Add(pa, i)) != *(*uint64)(unsafe.Add(pb, i)) {
			return false
		}
	}
	return *(*uint64)(unsafe.Add(pa, n-8)) == *(*uint64)(unsafe.Add(pb, n-8))
}

// sigMix is sig's last step, from its word a of the bytes and the length n:
// the length in bits 58 to 62, which a leaves clear under 8 bytes (so the
// pair is kept whole; from 8 on sig is not injective anyway), and the
// multiplier is odd, so the product is injective. Bit 63 stays a's: set
// from 8 bytes on (longWord), clear under, so a token under 8 bytes shares
// its sig with no other token, and equal sigs need a compare of the strings
// only when the tokens are long (the tree, the index and bestSigs rely on
// it: without the bit, a crafted long token could pass for a short
// constant, TestSigShortLong).
func sigMix(a uint64, n int) uint64 {
	return (a ^ uint64(n&31)<<58) * 0x9e3779b97f4a7c15
}

// longWord is a's word for a token of 8 bytes or more, from its first and
// last eight bytes, with bit 63 set (sigMix).
func longWord(first, last uint64) uint64 {
	return first ^ bits.RotateLeft64(last, 29) | 1<<63
}

// indexedBest is drain3Scorer.best over nd's clusters through nd's index,
// or ok false when nd has none for its version (the caller scores the
// candidates itself). A leaf is indexed once it was scored at one version
// idxAfter times, so a leaf that keeps changing builds none and a build (a
// few times the work of scoring the leaf once) is paid for by the lines
// before it.
func (m *Miner) indexedBest(nd *node, toks []string, sigs []uint64) (c *cluster, covered, ok bool) {
	ix := nd.idx
	if ix == nil || ix.ver != nd.ver {
		if nd.seenVer != nd.ver+1 {
			nd.seenVer, nd.seenN = nd.ver+1, 0
		}
		if nd.seenN++; nd.seenN < idxAfter {
			return nil, false, false
		}
		ix = m.buildIndex(nd, ix, len(toks))
	}
	n := len(toks)
	minSim := minScore(n, m.cfg.SimTh)
	if minSim > n {
		return nil, false, true
	}
	if ix.nw > 0 && n < 1<<len(countPlanes{}) && minSim > 0 {
		if ix.nw == 1 {
			c, covered := ix.bestSmall(toks, sigs, minSim)
			return c, covered, true
		}
		c, covered := ix.bestWide(toks, sigs, minSim)
		return c, covered, true
	}
	if minSim == 0 {
		minSim = 1 // a cluster that matches nothing is found by the pass below
	}
	// Count each cluster's matches; those that reach minSim are the only
	// ones that can be returned (a best below it returns nil).
	ix.stamp++
	if ix.stamp == 0 { // wrapped: every cluster's count is stale anyway
		clear(ix.seen)
		ix.stamp = 1
	}
	st := ix.stamp
	hits := ix.hits[:0]
	sigs = sigs[:len(toks)]
	for i, t := range toks {
		if j := ix.lookup(i, t, sigs[i]); j >= 0 {
			v := &ix.vals[j]
			for _, k := range ix.post[v.from:v.to] {
				if ix.seen[k] != st {
					ix.seen[k], ix.score[k] = st, 0
				}
				if ix.score[k]++; ix.score[k] == int32(minSim) {
					hits = append(hits, k)
				}
			}
		}
	}
	ix.hits = hits
	// drain3Scorer.best's pick: the most matches, then the most wildcards,
	// then the first cluster.
	bestK, maxSim, maxPC := int32(-1), int32(-1), int32(-1)
	for _, k := range hits {
		sim, pc := ix.score[k], ix.pc[k]
		if sim > maxSim || sim == maxSim && (pc > maxPC || pc == maxPC && k < bestK) {
			bestK, maxSim, maxPC = k, sim, pc
		}
	}
	if m.cfg.SimTh == 0 {
		// Any cluster qualifies, those without a match included.
		for k, pc := range ix.pc {
			if ix.seen[k] != st && (maxSim < 0 || maxSim == 0 && (pc > maxPC || pc == maxPC && int32(k) < bestK)) {
				bestK, maxSim, maxPC = int32(k), 0, pc
			}
		}
	}
	if bestK >= 0 && float64(maxSim)/float64(n) >= m.cfg.SimTh {
		return ix.cl[bestK], int(maxSim+maxPC) == n, true
	}
	return nil, false, true
}

// lookup returns the index in ix.vals of the constant t of token position
// i (h is sig(t)), or -1 when no cluster holds t there.
func (ix *leafIndex) lookup(i int, t string, h uint64) int {
	ps := &ix.pos[i]
	if len(ps.tab) == 0 {
		return -1
	}
	mask := len(ps.tab) - 1
	for s := int(h>>slotShift) & mask; ; s = (s + 1) & mask {
		e := int(ps.tab[s])
		if e == 0 {
			return -1
		}
		v := &ix.vals[e-1]
		// sig is injective below 8 bytes (it holds them and the length).
		if v.sig == h && (len(t) < 8 || sameLong(t, v.tok)) {
			return e - 1
		}
	}
}

// sigsOf returns the sigs of toks, in m.sigBuf (for lines whose tokenizer
// computed none).
func (m *Miner) sigsOf(toks []string) []uint64 {
	sigs := m.sigBuf[:0]
	for _, t := range toks {
		sigs = append(sigs, sig(t))
	}
	m.sigBuf = sigs
	return sigs
}

// countPlanes counts, for each of up to 64 clusters, the line's tokens it
// holds: plane p holds bit p of every cluster's count (a bit-sliced
// counter), so that adding the clusters of one token value is a few word
// operations however many hold it.
type countPlanes [8]uint64

// add adds one to the count of every cluster in m.
func (cp *countPlanes) add(m uint64) {
	for p := 0; m != 0 && p < len(cp); p++ {
		cp[p], m = cp[p]^m, cp[p]&m
	}
}

// most returns the clusters of cs with the highest count, and that count;
// np is at least the bit length of every count (planes np and up are
// zero). It walks the planes from the top, keeping the clusters with the
// bit set whenever any has it: one AND a plane instead of a count per
// cluster.
func (cp *countPlanes) most(cs uint64, np int) (uint64, int32) {
	var c int32
	for p := min(np, len(cp)) - 1; p >= 0; p-- {
		if x := cs & cp[p]; x != 0 {
			cs, c = x, c|1<<p
		}
	}
	return cs, c
}

// bestSmall is indexedBest's count and pick for a leaf of at most 64
// clusters, with minSim at least 1: the matches counted in bit planes
// (posVal.mask), the pick the same.
func (ix *leafIndex) bestSmall(toks []string, sigs []uint64, minSim int) (*cluster, bool) {
	var cp countPlanes
	// lookup, inlined: a call per token cost about a sixth of the loop. The
	// table and vals are read without bounds checks (a slot is masked, an
	// entry is 1 + an index into vals), and the token only once its sig
	// matched: fewer values live across the loop, fewer spills.
	pos, vp := ix.pos[:len(toks)], unsafe.Pointer(unsafe.SliceData(ix.vals))
	sigs = sigs[:len(toks)]
	for i := range pos {
		ps := &pos[i]
		if len(ps.tab) == 0 {
			continue
		}
		tp, mask, h := unsafe.Pointer(unsafe.SliceData(ps.tab)), len(ps.tab)-1, sigs[i]
		for s := int(h>>slotShift) & mask; ; s = (s + 1) & mask {
			e := *(*int32)(unsafe.Add(tp, s*4))
			if e == 0 {
				break
			}
			if v := (*posVal)(unsafe.Add(vp, uintptr(e-1)*unsafe.Sizeof(posVal{}))); v.sig == h {
				if t := toks[i]; len(t) < 8 || sameLong(t, v.tok) {
					cp.add(v.mask)
					break
				}
			}
		}
	}
	// drain3Scorer.best's pick among those that reach minSim: the most
	// matches, then the most wildcards, then the first cluster. A count is
	// at most len(toks), so only its bit length's planes are read.
	top, sim := cp.most(1<<len(ix.cl)-1, bits.Len(uint(len(toks))))
	if int(sim) < minSim {
		return nil, false
	}
	bestK, maxPC := bits.TrailingZeros64(top), ix.pc[bits.TrailingZeros64(top)]
	for top &= top - 1; top != 0; top &= top - 1 {
		if k := bits.TrailingZeros64(top); ix.pc[k] > maxPC {
			bestK, maxPC = k, ix.pc[k]
		}
	}
	return ix.cl[bestK], int(sim+maxPC) == len(toks)
}

// planeWords is the most words of 64 clusters a leaf's counts take in bit
// planes: MaxScored's 256 in the presets. Only a larger MaxScored makes
// wider leaves, counted per cluster (indexedBest).
const planeWords = 4

// bestWide is bestSmall for a leaf of 65 to 64*planeWords clusters: a
// value's clusters are its mask and its words in ix.wide, counted in a set
// of planes per word, and the pick is bestSmall's in each word, then across
// them (a later word wins only with more matches, or as many and more
// wildcards).
func (ix *leafIndex) bestWide(toks []string, sigs []uint64, minSim int) (*cluster, bool) {
	var cps [planeWords]countPlanes
	nx := ix.nw - 1
	sigs = sigs[:len(toks)]
	for i, t := range toks {
		if j := ix.lookup(i, t, sigs[i]); j >= 0 {
			cps[0].add(ix.vals[j].mask)
			for w, m := range ix.wide[j*nx : j*nx+nx] {
				cps[1+w].add(m)
			}
		}
	}
	np := bits.Len(uint(len(toks)))
	bestK, sim, maxPC := -1, int32(-1), int32(-1)
	for w := range ix.nw {
		// All ones below the last word: the shift is 64 or more.
		top, s := cps[w].most(1<<(len(ix.cl)-64*w)-1, np)
		if s < sim || int(s) < minSim {
			continue
		}
		k := 64*w + bits.TrailingZeros64(top)
		pc := ix.pc[k]
		for top &= top - 1; top != 0; top &= top - 1 {
			if j := 64*w + bits.TrailingZeros64(top); ix.pc[j] > pc {
				k, pc = j, ix.pc[j]
			}
		}
		if s > sim || pc > maxPC {
			bestK, sim, maxPC = k, s, pc
		}
	}
	if bestK < 0 {
		return nil, false
	}
	return ix.cl[bestK], int(sim+maxPC) == len(toks)
}

// minScore is the least sim with float64(sim)/float64(n) >= simTh (the
// drain3 scorer's test), or n+1 when there is none.
func minScore(n int, simTh float64) int {
	s := max(int(simTh*float64(n))-1, 0)
	for s <= n && float64(s)/float64(n) < simTh {
		s++
	}
	return s
}

// buildIndex makes nd's index of its n-token clusters as they are (its
// version), reusing old's memory.
func (m *Miner) buildIndex(nd *node, old *leafIndex, n int) *leafIndex {
	ix := old
	if ix == nil {
		ix = &leafIndex{}
	}
	ix.ver = nd.ver
	ix.cl = append(ix.cl[:0], nd.clusters...)
	clear(ix.cl[len(ix.cl):cap(ix.cl)]) // drop references to clusters gone
	nc := len(ix.cl)
	ix.pc = ix.pc[:0]
	for _, c := range ix.cl {
		ix.pc = append(ix.pc, int32(len(c.tokens)-c.fixed))
	}
	ix.nw = 0
	if nc <= 64*planeWords {
		ix.nw = (nc + 63) / 64
	}
	nx := max(ix.nw-1, 0) // words in ix.wide a value
	ix.score = append(ix.score[:0], make([]int32, nc)...)
	ix.seen = append(ix.seen[:0], make([]uint32, nc)...)
	ix.stamp = 0
	if cap(ix.pos) < n {
		ix.pos = make([]posIndex, n)
	}
	ix.pos = ix.pos[:n]
	clear(ix.vals[:cap(ix.vals)])
	ix.vals, ix.post, ix.tabs, ix.wide = ix.vals[:0], ix.post[:0], ix.tabs[:0], ix.wide[:0]
	// Per position: distinct constants in first-seen order, then their
	// clusters, then the table. vid is each cluster's value there.
	vid := m.idxVid[:0]
	if m.idxSeen == nil {
		m.idxSeen = make(map[string]int32)
	}
	seen := m.idxSeen
	for i := 0; i < n; i++ {
		first := len(ix.vals)
		vid = vid[:0]
		clear(seen)
		for _, c := range ix.cl {
			t := c.tokens[i]
			if isWildcard(t) {
				vid = append(vid, -1)
				continue
			}
			v, ok := seen[t]
			if !ok {
				v = int32(len(ix.vals))
				seen[t] = v
				ix.vals = append(ix.vals, posVal{sig: sig(t), tok: t})
			}
			ix.vals[v].to++ // a count until the lists are laid out
			vid = append(vid, v)
		}
		for j := first; j < len(ix.vals); j++ {
			cnt := ix.vals[j].to
			ix.vals[j].from = int32(len(ix.post))
			ix.vals[j].to = ix.vals[j].from
			ix.post = append(ix.post, make([]int32, cnt)...)
		}
		ix.wide = append(ix.wide, make([]uint64, (len(ix.vals)-first)*nx)...)
		for k, v := range vid {
			if v >= 0 {
				ix.post[ix.vals[v].to] = int32(k)
				ix.vals[v].to++
				if k < 64 {
					ix.vals[v].mask |= 1 << k
				} else if nx > 0 {
					ix.wide[int(v)*nx+k/64-1] |= 1 << (k % 64)
				}
			}
		}
		nv := len(ix.vals) - first
		ps := &ix.pos[i]
		if nv == 0 {
			ps.tab = nil
			continue
		}
		size := 2 << bits.Len(uint(nv)) // at most half full
		at := len(ix.tabs)
		ix.tabs = append(ix.tabs, make([]int32, size)...)
		ps.tab = ix.tabs[at : at+size : at+size]
		for j := first; j < len(ix.vals); j++ {
			for s := int(ix.vals[j].sig>>slotShift) & (size - 1); ; s = (s + 1) & (size - 1) {
				if ps.tab[s] == 0 {
					ps.tab[s] = int32(j + 1)
					break
				}
			}
		}
	}
	m.idxVid = vid[:0]
	clear(seen)
	// ix.tabs may have moved while growing: re-slice every table.
	at := 0
	for i := range ix.pos {
		if l := len(ix.pos[i].tab); l > 0 {
			ix.pos[i].tab = ix.tabs[at : at+l : at+l]
			at += l
		}
	}
	nd.idx = ix
	return ix
}
