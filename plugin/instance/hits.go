package instance

import "unsafe"

// hitCounts coalesces a chunk's hits per template id. A chunk mostly
// repeats a few templates, so the counts live in a short list, found
// through a small table indexed by the id's address (ids are the miner's
// strings, so a repeat is usually the same pointer); a map takes over past
// maxHitList ids.
type hitCounts struct {
	slot [hitSlots]uint8 // 1 + index into list, by address; 0: none
	list []hitCount
	more map[string]int64
}

type hitCount struct {
	id string
	n  int64
}

const (
	maxHitList = 32
	hitSlots   = 64
)

// slotOf is the table slot of an id's address (a Fibonacci hash).
func slotOf(id string) int {
	return int(uint64(uintptr(unsafe.Pointer(unsafe.StringData(id)))) * 0x9e3779b97f4a7c15 >> 58)
}

func (h *hitCounts) add(id string) {
	sl := slotOf(id)
	if k := int(h.slot[sl]) - 1; k >= 0 && sameString(h.list[k].id, id) {
		h.list[k].n++
		return
	}
	for k := range h.list {
		if sameString(h.list[k].id, id) {
			h.list[k].n++
			h.slot[sl] = uint8(k + 1)
			return
		}
	}
	// Equal ids in distinct strings: rare (a cluster's id string is
	// shared by all its results), so compared only here.
	for k := range h.list {
		if h.list[k].id == id {
			h.list[k].n++
			return
		}
	}
	if len(h.list) < maxHitList {
		h.list = append(h.list, hitCount{id, 1})
		h.slot[sl] = uint8(len(h.list))
		return
	}
	if h.more == nil {
		h.more = make(map[string]int64)
	}
	h.more[id]++
}

// sameString reports whether a and b are the same string in memory.
func sameString(a, b string) bool {
	return len(a) == len(b) && unsafe.StringData(a) == unsafe.StringData(b)
}

// each calls fn once per id with its count.
func (h *hitCounts) each(fn func(id string, n int64)) {
	for _, c := range h.list {
		fn(c.id, c.n)
	}
	for id, n := range h.more {
		fn(id, n)
	}
}

func (h *hitCounts) reset() {
	clear(h.list)
	h.list = h.list[:0]
	h.slot = [hitSlots]uint8{}
	clear(h.more)
}
