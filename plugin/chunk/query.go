package chunk

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"strings"
)

// MaxPathDepth bounds the segments of one path, and with it the only
// recursion in this package (descending into nested maps along a path).
const MaxPathDepth = 8

// MaxPaths bounds the paths of one Query (node.first holds 16-bit indexes).
const MaxPaths = 1024

// Query is a set of record paths to look up in every body during one scan,
// without building maps. Path i's value lands in Event.Values[i].
// A Query is read-only after NewQuery and safe for concurrent use.
type Query struct {
	root  node
	paths int
}

type node struct {
	name string
	// word and word2 are the name's bytes 0-7 and 8-15, little-endian,
	// zero-padded: a key of up to 16 bytes is compared as two machine
	// words, a longer one then byte by byte.
	word, word2 uint64
	leaf        int // index into Values, or -1
	kids        []node
	// lens has bit n set when a kid's name is n bytes long (n < 64), or
	// bit 63 for longer names: most keys are rejected by one AND.
	lens uint64
	// leaves are the Values indexes of the paths below n (n's own
	// excluded), for the memo of repeated maps; leafBits is their
	// out.set bits.
	leaves   []int
	leafBits uint64
	// kids are sorted by lenBucket; the kids of bucket n are
	// kids[first[n]:first[n+1]], so a key is compared only with kids of
	// its length.
	first [65]uint16
}

// lenBucket is a name length as lens and first index it.
func lenBucket(n int) int { return min(n, 63) }

func lenBit(n int) uint64 { return 1 << min(n, 63) }

// NewQuery compiles dotted paths ("log", "kubernetes.namespace_name").
// A path names map keys from the body root; each segment must be non-empty.
func NewQuery(paths ...string) (*Query, error) {
	if len(paths) > MaxPaths {
		return nil, fmt.Errorf("chunk: %d paths, at most %d", len(paths), MaxPaths)
	}
	q := &Query{root: node{leaf: -1}, paths: len(paths)}
	for i, p := range paths {
		segs := strings.Split(p, ".")
		if len(segs) > MaxPathDepth {
			return nil, fmt.Errorf("chunk: path %q has more than %d segments", p, MaxPathDepth)
		}
		n := &q.root
		for _, s := range segs {
			if s == "" {
				return nil, fmt.Errorf("chunk: path %q has an empty segment", p)
			}
			n = n.child(s)
		}
		if n.leaf >= 0 {
			return nil, fmt.Errorf("chunk: path %q given twice", p)
		}
		n.leaf = i
	}
	q.root.index()
	return q, nil
}

func (n *node) index() {
	slices.SortStableFunc(n.kids, func(a, b node) int { return lenBucket(len(a.name)) - lenBucket(len(b.name)) })
	k := 0
	for l := range n.first {
		for k < len(n.kids) && lenBucket(len(n.kids[k].name)) < l {
			k++
		}
		n.first[l] = uint16(k)
	}
	for i := range n.kids {
		k := &n.kids[i]
		n.lens |= lenBit(len(k.name))
		var w [16]byte
		copy(w[:], k.name)
		k.word = binary.LittleEndian.Uint64(w[:])
		k.word2 = binary.LittleEndian.Uint64(w[8:])
		k.index()
		if k.leaf >= 0 {
			n.leaves = append(n.leaves, k.leaf)
		}
		n.leaves = append(n.leaves, k.leaves...)
	}
	for _, li := range n.leaves {
		n.leafBits |= setBit(li)
	}
}

// out is where a scan puts the query's values: v[i] for path i. set has
// a bit for each value written in this record (bit i for path i, bit 63
// for any path from 63 on), prev the same for the last record. A record
// usually writes the same paths as the last one, so a value below 63 is
// not cleared before the scan: set tells whether it is this record's, and
// end clears those the last record wrote and this one did not.
type out struct {
	v         []Value
	set, prev uint64
	// rec counts the records begun; it skips one where begin clears
	// every value, so that a memo entry placed in record rec-1 (its
	// placed) still holds in v.
	rec uint64
}

func setBit(i int) uint64 { return 1 << min(i, 63) }

// put writes path i's value.
func (o *out) put(i int, v Value) {
	o.v[i] = v
	o.set |= setBit(i)
}

// missing reports whether path i has no value in this record yet.
func (o *out) missing(i int) bool {
	if i < 63 {
		return o.set&(1<<i) == 0
	}
	return o.v[i].Kind == Missing
}

// get is path i's value in this record, Missing if none.
func (o *out) get(i int) Value {
	if o.missing(i) {
		return Value{}
	}
	return o.v[i]
}

// begin starts a record. Values from path 63 on (set does not say which)
// are cleared now, all of them.
func (o *out) begin() {
	o.rec++
	if o.set&(1<<63) != 0 {
		clear(o.v)
		o.set = 0
		o.rec++
	}
	o.prev, o.set = o.set, 0
}

// only is a record whose one value is path i's: begin, put and end, in
// short when the last record too wrote path i alone.
func (o *out) only(i int, v Value) {
	if i < 63 && o.set == 1<<i {
		o.rec++
		o.v[i] = v
		return
	}
	o.begin()
	o.put(i, v)
	o.end()
}

// end clears the values the last record wrote and this one did not.
func (o *out) end() {
	for m := o.prev &^ o.set; m != 0; m &= m - 1 {
		o.v[bits.TrailingZeros64(m)] = Value{}
	}
	o.prev = 0
}

// keyWord is the key b[ks:ke] as node.word would hold it.
func keyWord(b []byte, ks, ke int) uint64 {
	if ks+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[ks:])
		if l := ke - ks; l < 8 {
			w &= 1<<(8*uint(l)) - 1
		}
		return w
	}
	var w [8]byte
	copy(w[:], b[ks:ke])
	return binary.LittleEndian.Uint64(w[:])
}

// strAt returns the payload bounds of a fixstr or str8 at b[off], or s == 0
// for any other value; e may lie past the end of b.
func strAt(b []byte, off int) (s, e int) {
	if off >= len(b) {
		return 0, 0
	}
	c := b[off]
	if c&0xe0 == 0xa0 {
		return off + 1, off + 1 + int(c&0x1f)
	}
	if c == 0xd9 && off+1 < len(b) {
		return off + 2, off + 2 + int(b[off+1])
	}
	return 0, 0
}

// match returns the kid named b[ks:ke], or nil.
func (n *node) match(b []byte, ks, ke int) *node {
	l := ke - ks
	w := keyWord(b, ks, ke)
	bk := lenBucket(l)
	for j := int(n.first[bk]); j < int(n.first[bk+1]); j++ {
		k := &n.kids[j]
		if k.word != w || len(k.name) != l {
			continue
		}
		if l <= 8 || keyWord(b, ks+8, ke) == k.word2 && (l <= 16 || string(b[ks+16:ke]) == k.name[16:]) {
			return k
		}
	}
	return nil
}

func (n *node) child(name string) *node {
	for i := range n.kids {
		if n.kids[i].name == name {
			return &n.kids[i]
		}
	}
	n.kids = append(n.kids, node{name: name, leaf: -1})
	return &n.kids[len(n.kids)-1]
}

// scanMap walks the map at b[off] once, filling vals for the paths under n,
// and returns the offset after the map. The first occurrence of a duplicated
// key wins. Values of keys not asked for are skipped without decoding.
func scanMap(b []byte, off int, n *node, vals *out, mm *memo) (int, error) {
	h, err := readHead(b, off)
	if err != nil {
		return 0, err
	}
	if h.kind != Map {
		return skip(b, off, 1)
	}
	off += h.hdr
	if uint64(h.n)*2 > uint64(len(b)-off) {
		return 0, errTruncated
	}
	for i := h.n; i > 0; i-- {
		if off >= len(b) {
			return 0, errTruncated
		}
		var kid *node
		if c := b[off]; c&0xe0 == 0xa0 { // fixstr, the usual key
			ks := off + 1
			off = ks + int(c&0x1f)
			// A key past the end is caught by the value's bounds check.
			if n.lens&(1<<(c&0x1f)) != 0 && off <= len(b) {
				kid = n.match(b, ks, off)
			}
		} else if kid, off, err = n.otherKey(b, off); err != nil {
			return 0, err
		}
		if kid == nil {
			// Inline the common scalar and short-string values.
			if off < len(b) {
				if c := b[off]; c&0xe0 == 0xa0 {
					off += 1 + int(c&0x1f)
					continue
				} else if c == 0xd9 && off+1 < len(b) {
					off += 2 + int(b[off+1])
					continue
				} else if c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3 {
					off++
					continue
				}
			}
			if off, err = skip(b, off, 1); err != nil {
				return 0, err
			}
			continue
		}
		if mm != nil && kid.leaf < 0 && len(kid.kids) > 0 {
			off, err = mm.take(kid, b, off, vals)
		} else {
			off, err = kid.take(b, off, vals)
		}
		if err != nil {
			return 0, err
		}
	}
	if off > len(b) { // an inlined string ran past the end
		return 0, errTruncated
	}
	return off, nil
}

// otherKey reads a key that is not a fixstr at b[off]: it returns the
// matching kid (str or bin keys only) and the offset after the key.
func (n *node) otherKey(b []byte, off int) (*node, int, error) {
	kh, err := readHead(b, off)
	if err != nil {
		return nil, 0, err
	}
	if kh.kind != Str && kh.kind != Bin {
		// Keys that are not strings (ints, say) can't match a path.
		off, err = skip(b, off, 1)
		return nil, off, err
	}
	ks := off + kh.hdr
	ke := ks + int(kh.n)
	if ke > len(b) {
		return nil, 0, errTruncated
	}
	if n.lens&lenBit(int(kh.n)) != 0 {
		return n.match(b, ks, ke), ke, nil
	}
	return nil, ke, nil
}

// take handles the value at b[off] of the key naming n: it fills n's
// value if n is a path's end and the key's first occurrence, descends if
// paths go deeper, and returns the offset after the value.
func (n *node) take(b []byte, off int, vals *out) (int, error) {
	if n.leaf >= 0 && vals.missing(n.leaf) {
		if s, e := strAt(b, off); s > 0 && len(n.kids) == 0 {
			// A fixstr or str8 value: the usual message or label.
			if e > len(b) {
				return 0, errTruncated
			}
			vals.put(n.leaf, Value{Kind: Str, Bytes: b[s:e:e]})
			return e, nil
		}
		v, end, err := decode(b, off)
		if err != nil {
			return 0, err
		}
		vals.put(n.leaf, v)
		if len(n.kids) == 0 || v.Kind != Map {
			return end, nil
		}
	}
	if len(n.kids) > 0 {
		// Paths go deeper: descend if the value is a map (scanMap skips
		// anything else).
		return scanMap(b, off, n, vals, nil)
	}
	return skip(b, off, 1)
}

// memo remembers, for each top-level path prefix ("kubernetes" of
// "kubernetes.namespace_name"), the encoding of the last map value scanned
// under it and the values it gave. The records of a chunk mostly come from
// one container and repeat that map byte for byte; a msgpack value is
// self-delimiting, so the same bytes are the same value, and comparing them
// costs far less than walking the map's keys again. It lives in a Reader
// (a Query is shared) and aliases the chunk, so Reset clears it.
type memo struct {
	entries []memoEntry
}

type memoEntry struct {
	n    *node
	raw  []byte  // the value's encoding, aliasing the chunk
	vals []Value // what it gave the paths of n.leaves, in that order
	set  uint64  // out.set bits of those that are not Missing
	// placed is the out.rec of the last record that took its values
	// (from it or while scanning them): when that is the record before,
	// out.v holds them still (a path written once a record, the other
	// values cleared by end only where they are Missing here).
	placed uint64
}

func (m *memo) reset() {
	for i := range m.entries {
		m.entries[i].raw, m.entries[i].placed = nil, 0
		clear(m.entries[i].vals)
	}
}

// take is n.take through the memo. A remembered value is reused only when
// none of n's paths has a value yet (a duplicated key keeps its first
// value), which is also the only case a scan is remembered from.
func (m *memo) take(n *node, b []byte, off int, vals *out) (int, error) {
	var e *memoEntry
	for i := range m.entries {
		if m.entries[i].n == n {
			e = &m.entries[i]
			break
		}
	}
	if e == nil {
		m.entries = append(m.entries, memoEntry{n: n})
		e = &m.entries[len(m.entries)-1]
	}
	// A path written in this record has a value (take writes no Missing);
	// one of n's paths from 63 on may share bit 63 with a path that is not
	// n's, which only makes this scan a plain one.
	fresh := vals.set&n.leafBits == 0
	if fresh && e.raw != nil && len(b)-off >= len(e.raw) && string(b[off:off+len(e.raw)]) == string(e.raw) {
		if e.placed != vals.rec-1 {
			for i, li := range n.leaves {
				vals.v[li] = e.vals[i]
			}
		}
		vals.set |= e.set
		e.placed = vals.rec
		return off + len(e.raw), nil
	}
	end, err := n.take(b, off, vals)
	if err != nil || !fresh {
		return end, err
	}
	e.raw = b[off:end:end]
	e.vals, e.set, e.placed = e.vals[:0], 0, vals.rec
	for _, li := range n.leaves {
		v := vals.get(li)
		e.vals = append(e.vals, v)
		if v.Kind != Missing {
			e.set |= setBit(li)
		}
	}
	return end, nil
}
