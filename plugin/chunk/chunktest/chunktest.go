// Package chunktest builds Fluent Bit chunks byte for byte the way Fluent
// Bit v4 writes them (docs/fluent-bit.md#chunks, #fixtures), for tests and benchmarks
// of the packages that read them.
package chunktest

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
)

// Enc appends msgpack to B. Maps are written with their keys in the order
// given (KV pairs), as Fluent Bit's encoder does; use M for convenience.
type Enc struct{ B []byte }

// Build returns what build appends to a fresh Enc: a chunk, or any
// msgpack, in one expression.
func Build(build func(e *Enc)) []byte {
	var e Enc
	build(&e)
	return e.B
}

// KV is one key/value pair of an ordered map: {"key", value}. The key
// must be a string.
type KV [2]any

// M is an ordered map literal.
type M []KV

// Raw is msgpack written verbatim.
type Raw []byte

// Bin is written as msgpack bin.
type Bin []byte

// EventTime is written as ext type 0 (fixext8), the Fluent Bit default.
type EventTime struct{ Sec, Nsec uint32 }

// Array32 writes n elements under an array32 header (0xdd), as Fluent Bit
// writes event and header arrays.
type Array32 []any

// Str32 forces a str32 header.
type Str32 string

// Map32 forces a map32 header.
type Map32 M

// Array32 header for n elements.
func (e *Enc) array32(n int) {
	e.B = append(e.B, 0xdd)
	e.B = binary.BigEndian.AppendUint32(e.B, uint32(n))
}

// Value appends v. Supported: nil, bool, ints, uints, float32/64, string,
// []byte (str), Bin, Str32, Raw, EventTime, M, Map32, map[string]any
// (sorted keys), []any, []string, Array32.
func (e *Enc) Value(v any) {
	switch v := v.(type) {
	case nil:
		e.B = append(e.B, 0xc0)
	case bool:
		if v {
			e.B = append(e.B, 0xc3)
		} else {
			e.B = append(e.B, 0xc2)
		}
	case int:
		e.Int(int64(v))
	case int64:
		e.Int(v)
	case uint64:
		e.Uint(v)
	case uint32:
		e.Uint(uint64(v))
	case float64:
		e.B = append(e.B, 0xcb)
		e.B = binary.BigEndian.AppendUint64(e.B, math.Float64bits(v))
	case float32:
		e.B = append(e.B, 0xca)
		e.B = binary.BigEndian.AppendUint32(e.B, math.Float32bits(v))
	case string:
		e.Str(v)
	case []byte:
		e.Str(string(v))
	case Str32:
		e.B = append(e.B, 0xdb)
		e.B = binary.BigEndian.AppendUint32(e.B, uint32(len(v)))
		e.B = append(e.B, v...)
	case Bin:
		switch n := len(v); {
		case n <= 0xff:
			e.B = append(e.B, 0xc4, byte(n))
		case n <= 0xffff:
			e.B = append(e.B, 0xc5)
			e.B = binary.BigEndian.AppendUint16(e.B, uint16(n))
		default:
			e.B = append(e.B, 0xc6)
			e.B = binary.BigEndian.AppendUint32(e.B, uint32(n))
		}
		e.B = append(e.B, v...)
	case Raw:
		e.B = append(e.B, v...)
	case EventTime:
		e.B = append(e.B, 0xd7, 0x00)
		e.B = binary.BigEndian.AppendUint32(e.B, v.Sec)
		e.B = binary.BigEndian.AppendUint32(e.B, v.Nsec)
	case M:
		e.MapHeader(len(v))
		for _, kv := range v {
			e.Str(kv[0].(string))
			e.Value(kv[1])
		}
	case Map32:
		e.B = append(e.B, 0xdf)
		e.B = binary.BigEndian.AppendUint32(e.B, uint32(len(v)))
		for _, kv := range v {
			e.Str(kv[0].(string))
			e.Value(kv[1])
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		e.MapHeader(len(v))
		for _, k := range keys {
			e.Str(k)
			e.Value(v[k])
		}
	case []any:
		e.ArrayHeader(len(v))
		for _, x := range v {
			e.Value(x)
		}
	case []string:
		e.ArrayHeader(len(v))
		for _, x := range v {
			e.Str(x)
		}
	case Array32:
		e.array32(len(v))
		for _, x := range v {
			e.Value(x)
		}
	default:
		panic(fmt.Sprintf("chunktest: unsupported type %T", v))
	}
}

// Int appends the shortest encoding of i.
func (e *Enc) Int(i int64) {
	switch {
	case i >= 0:
		e.Uint(uint64(i))
	case i >= -32:
		e.B = append(e.B, byte(i))
	case i >= math.MinInt8:
		e.B = append(e.B, 0xd0, byte(i))
	case i >= math.MinInt16:
		e.B = append(e.B, 0xd1)
		e.B = binary.BigEndian.AppendUint16(e.B, uint16(i))
	case i >= math.MinInt32:
		e.B = append(e.B, 0xd2)
		e.B = binary.BigEndian.AppendUint32(e.B, uint32(i))
	default:
		e.B = append(e.B, 0xd3)
		e.B = binary.BigEndian.AppendUint64(e.B, uint64(i))
	}
}

// Uint appends the shortest encoding of u.
func (e *Enc) Uint(u uint64) {
	switch {
	case u <= 0x7f:
		e.B = append(e.B, byte(u))
	case u <= 0xff:
		e.B = append(e.B, 0xcc, byte(u))
	case u <= 0xffff:
		e.B = append(e.B, 0xcd)
		e.B = binary.BigEndian.AppendUint16(e.B, uint16(u))
	case u <= 0xffffffff:
		e.B = append(e.B, 0xce)
		e.B = binary.BigEndian.AppendUint32(e.B, uint32(u))
	default:
		e.B = append(e.B, 0xcf)
		e.B = binary.BigEndian.AppendUint64(e.B, u)
	}
}

// Str appends the shortest str encoding of s.
func (e *Enc) Str(s string) {
	switch n := len(s); {
	case n <= 31:
		e.B = append(e.B, 0xa0|byte(n))
	case n <= 0xff:
		e.B = append(e.B, 0xd9, byte(n))
	case n <= 0xffff:
		e.B = append(e.B, 0xda)
		e.B = binary.BigEndian.AppendUint16(e.B, uint16(n))
	default:
		e.B = append(e.B, 0xdb)
		e.B = binary.BigEndian.AppendUint32(e.B, uint32(n))
	}
	e.B = append(e.B, s...)
}

// MapHeader appends the shortest map header for n pairs.
func (e *Enc) MapHeader(n int) {
	switch {
	case n <= 15:
		e.B = append(e.B, 0x80|byte(n))
	case n <= 0xffff:
		e.B = append(e.B, 0xde)
		e.B = binary.BigEndian.AppendUint16(e.B, uint16(n))
	default:
		e.B = append(e.B, 0xdf)
		e.B = binary.BigEndian.AppendUint32(e.B, uint32(n))
	}
}

// ArrayHeader appends the shortest array header for n elements.
func (e *Enc) ArrayHeader(n int) {
	switch {
	case n <= 15:
		e.B = append(e.B, 0x90|byte(n))
	case n <= 0xffff:
		e.B = append(e.B, 0xdc)
		e.B = binary.BigEndian.AppendUint16(e.B, uint16(n))
	default:
		e.B = append(e.B, 0xdd)
		e.B = binary.BigEndian.AppendUint32(e.B, uint32(n))
	}
}

// V2 appends a v2 event exactly as Fluent Bit v4 does:
// dd 00000002 dd 00000002 <ts> <meta> <body>. meta nil means {}.
func (e *Enc) V2(ts any, meta, body any) {
	if meta == nil {
		meta = M{}
	}
	e.array32(2)
	e.array32(2)
	e.Value(ts)
	e.Value(meta)
	e.Value(body)
}

// V1 appends a legacy [ts, body] event.
func (e *Enc) V1(ts any, body any) {
	e.ArrayHeader(2)
	e.Value(ts)
	e.Value(body)
}

// GroupStart and GroupEnd append v2 group markers.
func (e *Enc) GroupStart(attrs M) { e.V2(int64(-1), attrs, M{}) }

// GroupEnd appends the marker that closes a group.
func (e *Enc) GroupEnd() { e.V2(int64(-2), M{}, M{}) }
