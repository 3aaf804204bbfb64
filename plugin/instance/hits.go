package instance

import (
	"math/bits"
	"unsafe"
)

// hitCounts coalesces a chunk's hits per template id. Ids are the miner's
// strings, one per template, so a repeat is the same pointer: the counts
// are found through an open-addressing table keyed by the id's address,
// one multiply and compare per hit however many templates a chunk holds.
// Only an address not seen yet in the chunk looks its id up by content, so
// that equal ids in distinct strings (rare) still count as one.
type hitCounts struct {
	tab   []hitSlot        // by address; len a power of two, at most half full
	used  []int32          // the slots filled, cleared by reset
	list  []hitCount       // one per distinct id, in first-seen order
	byID  map[string]int32 // index into list by content
	shift uint8            // 64 - log2(len(tab))
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
	k, ok := h.byID[id]
	if ok {
		h.list[k].n++
	} else {
		k = int32(len(h.list))
		h.list = append(h.list, hitCount{id, 1})
		if h.byID == nil {
			h.byID = make(map[string]int32)
		}
		h.byID[id] = k
	}
	h.tab[s] = hitSlot{p, len(id), k}
	h.used = append(h.used, int32(s))
	if 2*len(h.used) > len(h.tab) {
		h.resize(2 * len(h.tab))
	}
}

// resize makes the table size slots (a power of two) and re-files the
// filled ones.
func (h *hitCounts) resize(size int) {
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
