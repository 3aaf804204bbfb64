package chunk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"unsafe"

	ct "github.com/awoooi/fluent-bit-drain/plugin/chunk/chunktest"
)

// refValue is the reference decoder's tree: a deliberately naive,
// recursive, allocation-heavy msgpack decoder written independently of the
// walker, to check it against.
type refExt struct {
	typ  int8
	data []byte
}

type refMap [][2]any

var errRef = errors.New("ref: malformed")

func refDecode(b []byte, off, depth int) (any, int, error) {
	if depth > 5000 {
		return nil, 0, errors.New("ref: too deep")
	}
	if off >= len(b) {
		return nil, 0, errRef
	}
	c := b[off]
	off++
	need := func(n int) ([]byte, error) {
		if n < 0 || off+n > len(b) {
			return nil, errRef
		}
		p := b[off : off+n]
		off += n
		return p, nil
	}
	size := func(w int) (int, error) {
		p, err := need(w)
		if err != nil {
			return 0, err
		}
		switch w {
		case 1:
			return int(p[0]), nil
		case 2:
			return int(binary.BigEndian.Uint16(p)), nil
		}
		return int(binary.BigEndian.Uint32(p)), nil
	}
	seq := func(n int, pairs bool) (any, int, error) {
		if pairs {
			m := refMap{}
			for i := 0; i < n; i++ {
				k, o, err := refDecode(b, off, depth+1)
				if err != nil {
					return nil, 0, err
				}
				v, o, err := refDecode(b, o, depth+1)
				if err != nil {
					return nil, 0, err
				}
				off = o
				m = append(m, [2]any{k, v})
			}
			return m, off, nil
		}
		a := []any{}
		for i := 0; i < n; i++ {
			v, o, err := refDecode(b, off, depth+1)
			if err != nil {
				return nil, 0, err
			}
			off = o
			a = append(a, v)
		}
		return a, off, nil
	}
	var n int
	var err error
	switch {
	case c <= 0x7f:
		return uint64(c), off, nil
	case c >= 0xe0:
		return int64(int8(c)), off, nil
	case c <= 0x8f:
		return seq(int(c&0xf), true)
	case c <= 0x9f:
		return seq(int(c&0xf), false)
	case c <= 0xbf:
		p, err := need(int(c & 0x1f))
		return string(p), off, err
	case c == 0xc0:
		return nil, off, nil
	case c == 0xc2 || c == 0xc3:
		return c == 0xc3, off, nil
	case c >= 0xc4 && c <= 0xc6:
		if n, err = size(1 << (c - 0xc4)); err != nil {
			return nil, 0, err
		}
		p, err := need(n)
		return []byte(p), off, err
	case c >= 0xc7 && c <= 0xc9:
		if n, err = size(1 << (c - 0xc7)); err != nil {
			return nil, 0, err
		}
		t, err := need(1)
		if err != nil {
			return nil, 0, err
		}
		p, err := need(n)
		return refExt{int8(t[0]), p}, off, err
	case c == 0xca:
		p, err := need(4)
		if err != nil {
			return nil, 0, err
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(p))), off, nil
	case c == 0xcb:
		p, err := need(8)
		if err != nil {
			return nil, 0, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(p)), off, nil
	case c >= 0xcc && c <= 0xcf:
		p, err := need(1 << (c - 0xcc))
		if err != nil {
			return nil, 0, err
		}
		var u uint64
		for _, x := range p {
			u = u<<8 | uint64(x)
		}
		return u, off, nil
	case c >= 0xd0 && c <= 0xd3:
		p, err := need(1 << (c - 0xd0))
		if err != nil {
			return nil, 0, err
		}
		var u uint64
		for _, x := range p {
			u = u<<8 | uint64(x)
		}
		shift := 64 - 8*len(p)
		i := int64(u<<shift) >> shift
		if i >= 0 {
			return uint64(i), off, nil
		}
		return i, off, nil
	case c >= 0xd4 && c <= 0xd8:
		t, err := need(1)
		if err != nil {
			return nil, 0, err
		}
		p, err := need(1 << (c - 0xd4))
		return refExt{int8(t[0]), p}, off, err
	case c >= 0xd9 && c <= 0xdb:
		if n, err = size(1 << (c - 0xd9)); err != nil {
			return nil, 0, err
		}
		p, err := need(n)
		return string(p), off, err
	case c == 0xdc || c == 0xdd:
		if n, err = size(2 << (c - 0xdc)); err != nil {
			return nil, 0, err
		}
		return seq(n, false)
	case c == 0xde || c == 0xdf:
		if n, err = size(2 << (c - 0xde)); err != nil {
			return nil, 0, err
		}
		return seq(n, true)
	}
	return nil, 0, errRef // 0xc1
}

// refEvent classifies one decoded event the way docs/fluent-bit.md#chunks says and
// returns the first "log" string value if usable.
func refEvent(v any) (verdict, string, bool) {
	a, isArr := v.([]any)
	if !isArr || len(a) != 2 {
		return badShape, "", false
	}
	ts := a[0]
	if h, ok := ts.([]any); ok {
		if len(h) < 2 {
			return badShape, "", false
		}
		ts = h[0]
	}
	switch t := ts.(type) {
	case refExt:
		if t.typ != 0 || len(t.data) != 8 {
			return badTime, "", false
		}
	case uint64:
		if t > math.MaxInt64 {
			return badTime, "", false
		}
	case int64:
		if t == -1 || t == -2 {
			return group, "", false
		}
		return badTime, "", false
	case float64:
		if !(t >= 0 && t < math.MaxInt64) {
			return badTime, "", false
		}
	default:
		return badTime, "", false
	}
	body, isMap := a[1].(refMap)
	if !isMap {
		return badShape, "", false
	}
	for _, kv := range body {
		k, isStr := kv[0].(string)
		if b, isBin := kv[0].([]byte); isBin {
			k, isStr = string(b), true
		}
		if isStr && k == "log" {
			if s, ok := kv[1].(string); ok {
				return ok_, s, true
			}
			return ok_, "", false
		}
	}
	return ok_, "", false
}

const ok_ = ok

func inside(b, whole []byte) bool {
	if len(b) == 0 {
		return true
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	s := uintptr(unsafe.Pointer(unsafe.SliceData(whole)))
	return p >= s && p+uintptr(len(b)) <= s+uintptr(len(whole))
}

func FuzzReader(f *testing.F) {
	f.Add(ct.KubeChunk(3))
	f.Add(ct.Build(func(e *ct.Enc) {
		e.GroupStart(ct.M{{"a", 1}})
		e.V1(float64(1.5), ct.M{{"log", "x"}, {"log", "y"}})
		e.V2(ct.Raw{0xc7, 0x08, 0x00, 0, 0, 0, 9, 0, 0, 0, 1}, ct.M{{"m", []any{1, "2"}}}, ct.M{{"log", ct.Bin("b")}})
		e.GroupEnd()
	}))
	f.Add([]byte{0xdd, 0, 0, 0, 2, 0x92, 0xd7, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0x80, 0x81, 0xa3, 'l', 'o', 'g', 0xa1, 'z'})
	f.Add(ct.Build(func(e *ct.Enc) { // repeated maps, a duplicated key, a map that changes
		k := ct.M{{"namespace_name", "ns"}, {"x", 1}}
		e.V1(1, ct.M{{"kubernetes", k}, {"a", ct.M{{"b", ct.M{{"c", "v"}}}}}})
		e.V1(2, ct.M{{"kubernetes", k}, {"a", ct.M{{"b", ct.M{{"c", "v"}}}}}})
		e.V1(3, ct.M{{"kubernetes", ct.M{{"x", 1}}}, {"kubernetes", k}})
		e.V1(4, ct.M{{"kubernetes", k}, {"kubernetes", ct.M{{"namespace_name", "other"}}}})
		e.V1(5, ct.M{{"kubernetes", "not a map"}, {"kubernetes", k}})
		e.V1(6, ct.M{{"kubernetes", ct.M{{"namespace_name", "first"}}}, {"kubernetes", k}})
		e.V1(7, ct.M{{"kubernetes", k}})
	}))
	f.Add(ct.Build(func(e *ct.Enc) { // tail records, read through oneKey
		e.V2(ct.EventTime{Sec: 1}, nil, ct.M{{"log", "x"}})
		e.V2(ct.EventTime{Sec: 2}, nil, ct.M{{"log", strings.Repeat("y", 300)}})
		e.V2(ct.EventTime{Sec: 3}, nil, ct.M{{"log", 7}})
		e.V2(ct.EventTime{Sec: 4}, nil, ct.M{{"log", "z"}})
	}))
	q, err := NewQuery("log", "kubernetes.namespace_name", "a.b.c")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r, plain Reader
		r.Reset(data, q)
		plain.noMemo = true
		plain.Reset(data, q)
		var ev, pev Event
		var logs []string
		for r.Next(&ev) {
			// The memo of repeated maps changes nothing a plain walk sees.
			if !plain.Next(&pev) || !sameValues(ev.Values, pev.Values) || ev.Sec != pev.Sec || !bytes.Equal(ev.Body, pev.Body) {
				t.Fatalf("memo: event %d differs from a walk without it: %v vs %v", r.Stats().Events, ev.Values, pev.Values)
			}
			if !inside(ev.Body, data) {
				t.Fatal("Body outside the chunk")
			}
			for _, v := range ev.Values {
				if !inside(v.Bytes, data) {
					t.Fatal("value outside the chunk")
				}
			}
			if ev.Values[0].Kind == Str {
				logs = append(logs, string(ev.Values[0].Bytes))
			} else {
				logs = append(logs, "\x00none")
			}
		}
		if plain.Next(&pev) || plain.Stats() != r.Stats() || plain.Offset() != r.Offset() || (plain.Err() == nil) != (r.Err() == nil) {
			t.Fatalf("memo: walk ends differ: %+v %d %v vs %+v %d %v", r.Stats(), r.Offset(), r.Err(), plain.Stats(), plain.Offset(), plain.Err())
		}
		st := r.Stats()
		if r.Offset() > len(data) || (r.Err() == nil && r.Offset() != len(data)) {
			t.Fatalf("offset %d of %d, err %v", r.Offset(), len(data), r.Err())
		}
		// Differential check against the reference decoder.
		var want Stats
		var wantLogs []string
		off, events := 0, 0
		for off < len(data) {
			v, next, err := refDecode(data, off, 0)
			if err != nil {
				if err != errRef {
					t.Skip("reference decoder depth limit")
				}
				var ce *Error
				if !errors.As(r.Err(), &ce) || ce.Event != events || ce.Offset != off {
					t.Fatalf("reference: malformed event %d at %d; walker: %v", events, off, r.Err())
				}
				break
			}
			events++
			off = next
			vd, s, isStr := refEvent(v)
			switch vd {
			case group:
				want.GroupMarkers++
			case badTime:
				want.BadTime++
			case badShape:
				want.BadShape++
			default:
				want.Events++
				if isStr {
					wantLogs = append(wantLogs, s)
				} else {
					wantLogs = append(wantLogs, "\x00none")
				}
			}
		}
		if off == len(data) && r.Err() != nil {
			t.Fatalf("reference decoded everything; walker: %v", r.Err())
		}
		if st != want {
			t.Fatalf("stats %+v, reference %+v", st, want)
		}
		if !slices.Equal(logs, wantLogs) {
			t.Fatalf("logs %q, reference %q", logs, wantLogs)
		}
	})
}

// sameValues compares two events' values by content.
func sameValues(a, b []Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Kind != y.Kind || x.U != y.U || x.I != y.I || math.Float64bits(x.F) != math.Float64bits(y.F) || !bytes.Equal(x.Bytes, y.Bytes) {
			return false
		}
	}
	return true
}
