package drain

import (
	"encoding/binary"
	"unsafe"
)

// The line memo (the "default" preset).
//
// Masking makes the lines of one template mostly identical after the text
// step ("GET <*> HTTP/1.1 <*> <*>"), so on a node in its steady state the
// tree step keeps answering the same question: which cluster covers this
// token sequence? The memo remembers the answer for recently mined token
// sequences whose cluster already covered them (Known), and a line that
// finds its sequence there skips the tree walk and the scoring.
//
// The answer depends on the partition's tree and templates, and, in a leaf
// scored through its window (leaf.go), on the window: so each partition
// carries a generation, moved by every change to them (insert, unleaf,
// setTemplate: a new, widened, moved or evicted cluster), by a new order of
// a windowed leaf's hot clusters (promote), and by the end or start of a
// flood, which resizes the windows (admit); an entry holds only while its
// partition's generation is the one it was written under. A hit updates the
// cluster counts, the LRU order and the leaf's hot list exactly as the tree
// step would, so the results and the state are those of a miner without the
// memo (TestMemoChangesNothing, hot lists included).

// memoSize entries, in sets of memoWays chosen by hash, the least
// recently used of a set replaced first; lines longer than memoMaxLine
// bytes are not remembered, so the memo holds at most about 4 MiB (about
// 1 MiB for lines of 100 bytes). An entry keeps its partition and cluster
// reachable until it is overwritten, evicted ones included: at most
// memoSize of each. On the 16 Loghub-2k sets interleaved in one partition
// (5,092 distinct token sequences in 32,000 lines) one entry per hash (no
// sets) answered 91 % of the lines replayed, sets of 8 answer 98 %: the
// misses there were lines whose slot another line had taken, and a miss is
// scored in full, most of the cost of a line then.
const (
	memoSize    = 8192
	memoWays    = 8
	memoSets    = memoSize / memoWays
	memoMaxLine = 512
)

// memoSet is one set: the ways' hashes side by side, so that a lookup
// compares them without touching the entries.
type memoSet struct {
	hash [memoWays]uint64
	used [memoWays]uint32 // lineMemo.clock at the way's last use; 0: never
	e    [memoWays]memoEntry
}

type memoEntry struct {
	p    *partition
	gen  uint64
	c    *cluster
	line []byte // the token sequence joined by single spaces; reused in place
}

type lineMemo struct {
	tab   []memoSet // nil: the memo is off
	clock uint32    // moved by every hit and put (wraps: then LRU is only approximate)
}

func newLineMemo() lineMemo {
	return lineMemo{tab: make([]memoSet, memoSets)}
}

// memoSeed is fixed, so that two miners fed the same lines share slots and
// count the same hits (Stats are comparable, benchmarks repeatable). Lines
// crafted to share a slot only take turns in it: they cost the tree step
// they would cost without the memo, never a wrong answer.
const memoSeed = 0x243f6a8885a308d3

// hash returns the memo hash of line: every 8-byte word of it (and its
// last, overlapping) mixed in with one multiply each. Hashing only a few
// words (first, middle, last) cost less but made the lines of one template,
// which share their length and most words, take turns in one slot: on the
// Loghub-2k sets interleaved, 80 % hits instead of 91 % at 8192 entries.
// Lines crafted to share a slot still only take turns in it: a miss, never
// a wrong answer (get compares the whole line).
func (lm *lineMemo) hash(line string) uint64 {
	n := len(line)
	h := memoSeed ^ uint64(n)*0x9e3779b97f4a7c15
	if n < 8 {
		var w [8]byte
		copy(w[:], line)
		return mix(h ^ binary.LittleEndian.Uint64(w[:]))
	}
	// Two words a turn, read through p after the length tests (no bounds
	// checks, half the loop's branches); the hash is the one word a turn
	// gives.
	p := unsafe.Pointer(unsafe.StringData(line))
	word := func(i int) uint64 { return binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(p, i))[:]) }
	i := 0
	for ; i+16 <= n; i += 16 {
		h = (h ^ word(i)) * 0x9e3779b97f4a7c15
		h ^= h >> 29
		h = (h ^ word(i+8)) * 0x9e3779b97f4a7c15
		h ^= h >> 29
	}
	if i+8 <= n {
		h = (h ^ word(i)) * 0x9e3779b97f4a7c15
		h ^= h >> 29
	}
	return mix(h ^ word(n-8))
}

// mix is MurmurHash3's 64-bit finaliser: every input bit reaches every
// output bit, the low ones the table index uses included.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// get returns the cluster of p that covered line when p's tree was last as
// it is now, or nil.
func (lm *lineMemo) get(p *partition, line string, h uint64) *cluster {
	set := &lm.tab[h&(memoSets-1)]
	for w := range memoWays {
		if set.hash[w] != h {
			continue
		}
		if e := &set.e[w]; e.p == p && e.gen == p.gen && string(e.line) == line {
			lm.clock++
			set.used[w] = lm.clock
			return e.c
		}
	}
	return nil
}

// put remembers that c, of p, covers line as p's tree is now: in the way
// that held line before, if any, else in the set's least recently used.
func (lm *lineMemo) put(p *partition, line string, h uint64, c *cluster) {
	if len(line) > memoMaxLine {
		return
	}
	set := &lm.tab[h&(memoSets-1)]
	v := 0
	for w := range memoWays {
		if set.hash[w] == h && set.e[w].p == p && string(set.e[w].line) == line {
			v = w
			break
		}
		if set.used[w] < set.used[v] {
			v = w
		}
	}
	lm.clock++
	set.hash[v], set.used[v] = h, lm.clock
	e := &set.e[v]
	e.p, e.gen, e.c = p, p.gen, c
	e.line = append(e.line[:0], line...)
}

// changed marks a change to p's tree or templates: every memo entry of p
// is stale.
func (p *partition) changed() {
	if p != nil {
		p.gen++
	}
}
