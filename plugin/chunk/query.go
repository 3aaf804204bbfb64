package chunk

import (
	"fmt"
	"strings"
)

// MaxPathDepth bounds the segments of one path, and with it the only
// recursion in this package (descending into nested maps along a path).
const MaxPathDepth = 8

// Query is a set of record paths to look up in every body during one scan,
// without building maps. Path i's value lands in Event.Values[i].
// A Query is read-only after NewQuery and safe for concurrent use.
type Query struct {
	root  node
	paths int
}

type node struct {
	name string
	leaf int // index into Values, or -1
	kids []node
	// lens has bit n set when a kid's name is n bytes long (n < 64), or
	// bit 63 for longer names: most keys are rejected by one AND.
	lens uint64
}

func lenBit(n int) uint64 { return 1 << min(n, 63) }

// NewQuery compiles dotted paths ("log", "kubernetes.namespace_name").
// A path names map keys from the body root; each segment must be non-empty.
func NewQuery(paths ...string) (*Query, error) {
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
	for i := range n.kids {
		n.lens |= lenBit(len(n.kids[i].name))
		n.kids[i].index()
	}
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
func scanMap(b []byte, off int, n *node, vals []Value) (int, error) {
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
	for i := uint32(0); i < h.n; i++ {
		var kid *node
		var kh head
		if off < len(b) && b[off]&0xe0 == 0xa0 { // fixstr, the usual key
			kh = head{kind: Str, hdr: 1, n: uint32(b[off] & 0x1f)}
		} else if kh, err = readHead(b, off); err != nil {
			return 0, err
		}
		if kh.kind == Str || kh.kind == Bin {
			ks := off + kh.hdr
			ke := ks + int(kh.n)
			if ke > len(b) {
				return 0, errTruncated
			}
			if n.lens&lenBit(int(kh.n)) != 0 {
				key := b[ks:ke]
				for j := range n.kids {
					if string(key) == n.kids[j].name {
						kid = &n.kids[j]
						break
					}
				}
			}
			off = ke
		} else {
			// Keys that are not strings (ints, say) can't match a path.
			if off, err = skip(b, off, 1); err != nil {
				return 0, err
			}
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
		if kid.leaf >= 0 && vals[kid.leaf].Kind == Missing {
			var v Value
			start := off
			if v, off, err = decode(b, off); err != nil {
				return 0, err
			}
			vals[kid.leaf] = v
			if len(kid.kids) == 0 || v.Kind != Map {
				continue
			}
			off = start
		}
		if len(kid.kids) > 0 {
			// Paths go deeper: descend if the value is a map (scanMap
			// skips anything else).
			if off, err = scanMap(b, off, kid, vals); err != nil {
				return 0, err
			}
			continue
		}
		if off, err = skip(b, off, 1); err != nil {
			return 0, err
		}
	}
	if off > len(b) { // an inlined string ran past the end
		return 0, errTruncated
	}
	return off, nil
}
