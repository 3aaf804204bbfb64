package instance

import (
	"hash/maphash"
	"math/bits"
	"unsafe"
)

// hitCounts coalesces a chunk's hits per template id. Ids are the miner's
// strings, one per template, so a repeat is the same pointer: the counts
// are found through an open-addressing table keyed by the id's address,
// one multiply and compare per hit however many templates a chunk holds.
// Only an address not seen yet in the chunk looks its id up by content, so
// that equal ids in distinct strings (rare) still count as one; that
// lookup is a second open-addressing table, not a map: a chunk meets a
// few hundred ids, and a map's insert cost about 40 instructions a record.
type hitCounts struct {
	tab   []hitSlot  // by address; len a power of two, at most half full
	used  []int32    // the slots filled, cleared by reset
	list  []hitCount // one per distinct id, in first-seen order
	byID  []int32    // by content: 1 + index into list, 0 empty; len(tab)
	shift uint8      // 64 - log2(len(tab))
}

type hitSlot struct {
	p *byte // the id's address; nil: empty
	n int   // its length
	k int32 // index into list
}

type hitCount struct {
	id string
	n  int64
}

const minHitSlots = 64

// slotOf is the table slot of an id's address (a Fibonacci hash).
func (h *hitCounts) slotOf(p *byte) int {
	return int(uint64(uintptr(unsafe.Pointer(p))) * 0x9e3779b97f4a7c15 >> h.shift)
}

func (h *hitCounts) add(id string) {
	if h.tab == nil {
		h.resize(minHitSlots)
	}
	p, mask := unsafe.StringData(id), len(h.tab)-1
	s := h.slotOf(p)
	for ; h.tab[s].p != nil; s = (s + 1) & mask {
		if e := &h.tab[s]; e.p == p && e.n == len(id) {
			h.list[e.k].n++
			return
		}
	}
	is := h.idSlot(id)
	k := h.byID[is] - 1
	if k < 0 {
		k = int32(len(h.list))
		h.list = append(h.list, hitCount{id: id})
		h.byID[is] = k + 1
	}
	h.list[k].n++
	h.tab[s] = hitSlot{p, len(id), k}
	h.used = append(h.used, int32(s))
	if 2*len(h.used) > len(h.tab) {
		h.resize(2 * len(h.tab))
	}
}

// hitSeed is the content hash's seed; list keeps the first-seen order
// whatever it is.
var hitSeed = maphash.MakeSeed()

// idSlot returns the byID slot of id's text: the one that holds it, else
// the empty one where it goes.
func (h *hitCounts) idSlot(id string) int {
	mask := len(h.byID) - 1
	s := int(maphash.String(hitSeed, id)) & mask
	for h.byID[s] != 0 && h.list[h.byID[s]-1].id != id {
		s = (s + 1) & mask
	}
	return s
}

// resize makes the tables size slots (a power of two) and re-files the
// filled ones.
func (h *hitCounts) resize(size int) {
	h.byID = make([]int32, size)
	for k, c := range h.list {
		h.byID[h.idSlot(c.id)] = int32(k) + 1
	}
	old := h.tab
	h.tab = make([]hitSlot, size)
	h.shift = uint8(64 - bits.Len(uint(size-1)))
	h.used = h.used[:0]
	for _, e := range old {
		if e.p == nil {
			continue
		}
		s := h.slotOf(e.p)
		for h.tab[s].p != nil {
			s = (s + 1) & (size - 1)
		}
		h.tab[s] = e
		h.used = append(h.used, int32(s))
	}
}

// each calls fn once per id with its count.
func (h *hitCounts) each(fn func(id string, n int64)) {
	for _, c := range h.list {
		fn(c.id, c.n)
	}
}

func (h *hitCounts) reset() {
	for _, s := range h.used {
		h.tab[s] = hitSlot{}
	}
	h.used = h.used[:0]
	clear(h.list)
	h.list = h.list[:0]
	clear(h.byID)
}
