package chunk

import (
	"encoding/binary"
	"errors"
	"math"
)

// Reasons a chunk is malformed. Decoding stops at the first one: msgpack
// has no way to find the start of the next value after a broken one.
var (
	errTruncated = errors.New("value runs past the end of the chunk")
	errReserved  = errors.New("reserved byte 0xc1")
)

// Kind is the msgpack family of a value found in a record.
type Kind uint8

// Kinds of values. Missing means the key was not present.
const (
	Missing Kind = iota
	Nil
	Bool
	Int   // negative integer (Int64 holds it)
	Uint  // non-negative integer (Uint64 holds it)
	Float // float32 or float64 (Float64 holds it)
	Str
	Bin
	Array
	Map
	Ext
)

var kindNames = [...]string{"missing", "nil", "bool", "int", "uint", "float", "str", "bin", "array", "map", "ext"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "invalid"
}

// Value is one value found in a record. Bytes aliases the chunk: for Str and
// Bin it is the payload, for Array, Map and Ext the whole encoding. It is
// valid only while the chunk is (during one flush call).
type Value struct {
	Kind  Kind
	Bytes []byte
	U     uint64  // Uint, Bool (0 or 1)
	I     int64   // Int
	F     float64 // Float
}

// IsText reports whether the value is a string or bytes. The receiver is
// a pointer: with a value one, each call on the flush path copied the
// 56-byte Value.
func (v *Value) IsText() bool { return v.Kind == Str || v.Kind == Bin }

// head describes the msgpack header at b[off]: the kind, the header length,
// and n = payload length (str, bin, ext), element count (array), pair count
// (map). For scalars, the header length covers the whole value.
type head struct {
	kind Kind
	hdr  int
	n    uint32
	ext  int8 // ext type
}

// readHead decodes the header at b[off]. It checks that the header itself
// fits, not that the payload does.
func readHead(b []byte, off int) (head, error) {
	if off >= len(b) {
		return head{}, errTruncated
	}
	c := b[off]
	switch {
	case c <= 0x7f:
		return head{kind: Uint, hdr: 1}, nil
	case c >= 0xe0:
		return head{kind: Int, hdr: 1}, nil
	case c <= 0x8f:
		return head{kind: Map, hdr: 1, n: uint32(c & 0x0f)}, nil
	case c <= 0x9f:
		return head{kind: Array, hdr: 1, n: uint32(c & 0x0f)}, nil
	case c <= 0xbf:
		return head{kind: Str, hdr: 1, n: uint32(c & 0x1f)}, nil
	}
	// Fixed-width headers: size of the length field or scalar that follows.
	need := 0
	var h head
	switch c {
	case 0xc0:
		return head{kind: Nil, hdr: 1}, nil
	case 0xc1:
		return head{}, errReserved
	case 0xc2, 0xc3:
		return head{kind: Bool, hdr: 1}, nil
	case 0xc4, 0xc5, 0xc6:
		h.kind, need = Bin, 1<<(c-0xc4)
	case 0xc7, 0xc8, 0xc9:
		h.kind, need = Ext, 1<<(c-0xc7)
	case 0xca:
		return fixed(b, off, Float, 5)
	case 0xcb:
		return fixed(b, off, Float, 9)
	case 0xcc, 0xcd, 0xce, 0xcf:
		return fixed(b, off, Uint, 1+1<<(c-0xcc))
	case 0xd0, 0xd1, 0xd2, 0xd3:
		return fixed(b, off, Int, 1+1<<(c-0xd0))
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		if off+2 > len(b) {
			return head{}, errTruncated
		}
		return head{kind: Ext, hdr: 2, n: 1 << (c - 0xd4), ext: int8(b[off+1])}, nil
	case 0xd9, 0xda, 0xdb:
		h.kind, need = Str, 1<<(c-0xd9)
	case 0xdc, 0xdd:
		h.kind, need = Array, 2<<(c-0xdc)
	case 0xde, 0xdf:
		h.kind, need = Map, 2<<(c-0xde)
	}
	if off+1+need > len(b) {
		return head{}, errTruncated
	}
	p := b[off+1:]
	switch need {
	case 1:
		h.n = uint32(p[0])
	case 2:
		h.n = uint32(binary.BigEndian.Uint16(p))
	case 4:
		h.n = binary.BigEndian.Uint32(p)
	}
	h.hdr = 1 + need
	if h.kind == Ext {
		if off+h.hdr >= len(b) {
			return head{}, errTruncated
		}
		h.ext = int8(b[off+h.hdr])
		h.hdr++
	}
	return h, nil
}

func fixed(b []byte, off int, k Kind, size int) (head, error) {
	if off+size > len(b) {
		return head{}, errTruncated
	}
	return head{kind: k, hdr: size}, nil
}

// decode fills a Value for the value at b[off] and returns the offset after
// it. Containers are skipped without recursion.
func decode(b []byte, off int) (Value, int, error) {
	h, err := readHead(b, off)
	if err != nil {
		return Value{}, 0, err
	}
	v := Value{Kind: h.kind}
	switch h.kind {
	case Str, Bin:
		start := off + h.hdr
		end := start + int(h.n)
		if end > len(b) {
			return Value{}, 0, errTruncated
		}
		v.Bytes = b[start:end:end]
		return v, end, nil
	case Array, Map, Ext:
		end, err := skip(b, off, 1)
		if err != nil {
			return Value{}, 0, err
		}
		v.Bytes = b[off:end:end]
		return v, end, nil
	case Nil:
	case Bool:
		if b[off] == 0xc3 {
			v.U = 1
		}
	case Uint:
		v.U = uintAt(b, off)
	case Int:
		v.I = intAt(b, off)
	case Float:
		v.F = floatAt(b, off)
	}
	return v, off + h.hdr, nil
}

// uintAt reads a positive fixint or uint8..uint64 at b[off] (header checked).
func uintAt(b []byte, off int) uint64 {
	switch c := b[off]; c {
	case 0xcc:
		return uint64(b[off+1])
	case 0xcd:
		return uint64(binary.BigEndian.Uint16(b[off+1:]))
	case 0xce:
		return uint64(binary.BigEndian.Uint32(b[off+1:]))
	case 0xcf:
		return binary.BigEndian.Uint64(b[off+1:])
	default:
		return uint64(c)
	}
}

// intAt reads a negative fixint or int8..int64 at b[off] (header checked).
func intAt(b []byte, off int) int64 {
	switch c := b[off]; c {
	case 0xd0:
		return int64(int8(b[off+1]))
	case 0xd1:
		return int64(int16(binary.BigEndian.Uint16(b[off+1:])))
	case 0xd2:
		return int64(int32(binary.BigEndian.Uint32(b[off+1:])))
	case 0xd3:
		return int64(binary.BigEndian.Uint64(b[off+1:]))
	default:
		return int64(int8(c))
	}
}

// floatAt reads a float32 or float64 at b[off] (header checked).
func floatAt(b []byte, off int) float64 {
	if b[off] == 0xca {
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b[off+1:])))
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b[off+1:]))
}

// skip returns the offset after n consecutive values starting at b[off].
// It keeps a count of values still to skip instead of recursing, so nesting
// depth costs nothing; a count larger than the bytes left is rejected at
// once, which bounds the work by the chunk length.
func skip(b []byte, off int, n uint64) (int, error) {
	for n > 0 {
		if off >= len(b) {
			return 0, errTruncated
		}
		c := b[off]
		switch {
		case c <= 0x7f || c >= 0xe0:
			off++
		case c <= 0x8f:
			n += 2 * uint64(c&0x0f)
			off++
		case c <= 0x9f:
			n += uint64(c & 0x0f)
			off++
		case c <= 0xbf:
			off += 1 + int(c&0x1f)
		default:
			h, err := readHead(b, off)
			if err != nil {
				return 0, err
			}
			off += h.hdr
			switch h.kind {
			case Str, Bin, Ext:
				off += int(h.n)
			case Array:
				n += uint64(h.n)
			case Map:
				n += 2 * uint64(h.n)
			}
		}
		n--
		// Every value takes at least one byte.
		if off > len(b) || n > uint64(len(b)-off) {
			return 0, errTruncated
		}
	}
	return off, nil
}
