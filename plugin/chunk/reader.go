// Package chunk walks the msgpack chunks Fluent Bit hands to an output's
// flush callback, in place: no copy of the chunk, no maps, no reflection.
//
// A chunk is a concatenation of events, v1 [TIMESTAMP, BODY] or v2
// [[TIMESTAMP, METADATA], BODY] (docs/fluent-bit.md#chunks). Every timestamp encoding of
// docs/fluent-bit.md#timestamps is accepted; group markers (negative timestamps) and events
// with an invalid timestamp or shape are skipped and counted. A malformed
// chunk stops the walk at the broken event; the events before it stand.
//
// Everything returned aliases the chunk and is valid only during the flush
// call that owns it.
package chunk

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Event is one decoded log event.
type Event struct {
	Sec  int64  // seconds since the epoch
	Nsec uint32 // nanoseconds
	// Body is the body map's encoding, aliasing the chunk.
	Body []byte
	// Values holds the query's values, in path order (Missing when absent).
	Values []Value
}

// Stats counts what a Reader saw. Skipped events are well-formed msgpack
// that is not a usable log event.
type Stats struct {
	Events       int // returned by Next
	GroupMarkers int // timestamp -1 or -2 (v2 group start/end)
	BadTime      int // timestamp of another type, ext type/size, or negative
	BadShape     int // not a 2-element array, short v2 header, body not a map
}

// Skipped is the number of events skipped for any reason.
func (s Stats) Skipped() int { return s.GroupMarkers + s.BadTime + s.BadShape }

// Error reports where a chunk is malformed.
type Error struct {
	Event  int // index of the broken event (events returned + skipped before it)
	Offset int // byte offset where the broken event starts
	Reason error
}

func (e *Error) Error() string {
	return fmt.Sprintf("chunk: malformed event %d at offset %d: %v", e.Event, e.Offset, e.Reason)
}

func (e *Error) Unwrap() error { return e.Reason }

// Reader iterates the events of one chunk. The zero value is not usable;
// call Reset.
type Reader struct {
	data  []byte
	off   int
	query *Query
	vals  out
	err   error
	stats Stats
	memo  memo
	one   oneKey
	// noMemo turns the memo and oneKey off, so tests can check they
	// change nothing.
	noMemo bool
}

// oneKey is what starts the last one-key body whose key ended a path
// without deeper ones, as Fluent Bit's tail input writes every record
// ({"log": line}): the map header and the fixstr key, "\x81\xa3log", at
// most 7 bytes, little-endian in word (mask selects them). A body that
// starts with the same bytes, after the event header Fluent Bit writes,
// and holds a string is read without body's scan.
type oneKey struct {
	word, mask uint64
	n          int // bytes of header and key; 0: none learned
	leaf       int // the path's index
}

// Reset points r at a new chunk; q may be nil (no lookups). The Values
// buffer is kept, so a Reader reused across flushes does not allocate.
func (r *Reader) Reset(data []byte, q *Query) {
	n := 0
	if q != nil {
		n = q.paths
	}
	v := r.vals.v[:cap(r.vals.v)]
	if len(v) < n {
		v = make([]Value, n)
	}
	// The values are cleared once here (they alias the last chunk) and
	// then only where a record wrote them (out).
	clear(v)
	r.memo.reset()
	*r = Reader{data: data, query: q, vals: out{v: v[:n]}, memo: r.memo, noMemo: r.noMemo}
}

// Stats returns the counts so far.
func (r *Reader) Stats() Stats { return r.stats }

// Err returns the malformation that stopped the walk, or nil once Next has
// returned false at the end of a well-formed chunk.
func (r *Reader) Err() error { return r.err }

// Offset is the number of bytes consumed so far.
func (r *Reader) Offset() int { return r.off }

// Next decodes the next usable event into ev and reports whether there was
// one. ev.Values shares a buffer that the next call overwrites.
func (r *Reader) Next(ev *Event) bool {
	for r.err == nil && r.off < len(r.data) {
		start := r.off
		end, verdict, err := r.event(ev)
		if err != nil {
			r.err = &Error{Event: r.stats.Events + r.stats.Skipped(), Offset: start, Reason: err}
			return false
		}
		if verdict != ok {
			// Well-formed but unusable: skip the whole value.
			if end, err = skip(r.data, start, 1); err != nil {
				r.err = &Error{Event: r.stats.Events + r.stats.Skipped(), Offset: start, Reason: err}
				return false
			}
			switch verdict {
			case group:
				r.stats.GroupMarkers++
			case badTime:
				r.stats.BadTime++
			default:
				r.stats.BadShape++
			}
			r.off = end
			continue
		}
		r.off = end
		r.stats.Events++
		return true
	}
	return false
}

type verdict uint8

const (
	ok verdict = iota
	group
	badTime
	badShape
)

// event decodes the event at r.off. A verdict other than ok leaves the end
// unset: the caller skips the event from its start.
func (r *Reader) event(ev *Event) (end int, v verdict, err error) {
	b, off := r.data, r.off
	// Fast path: the header exactly as Fluent Bit v2.1+ writes it,
	// dd00000002 dd00000002 d700<sec><nsec> 80 (empty metadata).
	if len(b)-off > 21 && string(b[off:off+12]) == fbHeader && b[off+20] == 0x80 {
		p := b[off+12:]
		ev.Sec = int64(binary.BigEndian.Uint32(p))
		ev.Nsec = binary.BigEndian.Uint32(p[4:])
		if r.one.n > 0 {
			if end, found := r.oneValue(ev, off+21); found {
				return end, ok, nil
			}
		}
		return r.body(ev, off+21)
	}
	h, err := readHead(b, off)
	if err != nil {
		return 0, 0, err
	}
	if h.kind != Array || h.n != 2 {
		return 0, badShape, nil
	}
	off += h.hdr
	th, err := readHead(b, off)
	if err != nil {
		return 0, 0, err
	}
	extra := uint64(0) // header elements after [ts, meta]
	if th.kind == Array {
		// v2: [[ts, meta], body]
		if th.n < 2 {
			return 0, badShape, nil
		}
		extra = uint64(th.n) - 1 // meta and anything after it
		off += th.hdr
	}
	if v, err = r.time(ev, off); v != ok || err != nil {
		return 0, v, err
	}
	if off, err = skip(b, off, 1+extra); err != nil {
		return 0, 0, err
	}
	return r.body(ev, off)
}

// fbHeader is the start of every event Fluent Bit v2.1+ writes: two
// array32 headers of 2 elements and an EventTime (fixext8, type 0).
const fbHeader = "\xdd\x00\x00\x00\x02\xdd\x00\x00\x00\x02\xd7\x00"

// body reads the event body at off: it must be a map.
func (r *Reader) body(ev *Event, off int) (end int, v verdict, err error) {
	b := r.data
	bh, err := readHead(b, off)
	if err != nil {
		return 0, 0, err
	}
	if bh.kind != Map {
		return 0, badShape, nil
	}
	r.vals.begin()
	bodyStart := off
	if r.query != nil {
		mm := &r.memo
		if r.noMemo {
			mm = nil
		}
		off, err = scanMap(b, off, &r.query.root, &r.vals, mm)
	} else {
		off, err = skip(b, off, 1)
	}
	if err != nil {
		return 0, 0, err
	}
	r.vals.end()
	ev.Body = b[bodyStart:off:off]
	ev.Values = r.vals.v
	if bh.n == 1 && !r.noMemo {
		r.learnOne(bodyStart)
	}
	return off, ok, nil
}

// oneValue reads the body at off when it starts with r.one's bytes and
// its value is a string that fits in the chunk: then it gives what body
// would and reports true. Only the header Fluent Bit writes is followed
// by this shortcut (event), so that body stays as it was for any other.
func (r *Reader) oneValue(ev *Event, off int) (int, bool) {
	b := r.data
	k := &r.one
	if len(b)-off < 8 || binary.LittleEndian.Uint64(b[off:])&k.mask != k.word {
		return 0, false
	}
	p := off + k.n // < len(b): the 8 bytes at off hold the key
	var s, e int
	switch c := b[p]; {
	case c&0xe0 == 0xa0:
		s, e = p+1, p+1+int(c&0x1f)
	case c == 0xd9 && p+1 < len(b):
		s, e = p+2, p+2+int(b[p+1])
	case c == 0xda && p+2 < len(b):
		s, e = p+3, p+3+int(binary.BigEndian.Uint16(b[p+1:]))
	default:
		return 0, false
	}
	if e > len(b) {
		return 0, false // the scan reports it
	}
	r.vals.only(k.leaf, Value{Kind: Str, Bytes: b[s:e:e]})
	ev.Body = b[off:e:e]
	ev.Values = r.vals.v
	return e, true
}

// learnOne remembers the one-key body just scanned at off in r.one when
// its fixstr key ends a path without deeper ones.
func (r *Reader) learnOne(off int) {
	b := r.data
	c := b[off+1] // the scan read the key
	n := 2 + int(c&0x1f)
	if b[off] != 0x81 || c&0xe0 != 0xa0 || n > 7 || r.query == nil {
		return
	}
	kid := r.query.root.match(b, off+2, off+n)
	if kid == nil || kid.leaf < 0 || len(kid.kids) > 0 {
		return
	}
	var w [8]byte
	copy(w[:], b[off:off+n])
	r.one = oneKey{word: binary.LittleEndian.Uint64(w[:]), mask: 1<<(8*n) - 1, n: n, leaf: kid.leaf}
}

// time decodes the timestamp at b[off] into ev (docs/fluent-bit.md#timestamps).
func (r *Reader) time(ev *Event, off int) (verdict, error) {
	b := r.data
	h, err := readHead(b, off)
	if err != nil {
		return 0, err
	}
	switch h.kind {
	case Ext:
		// EventTime: ext type 0, 8 bytes, in any ext header width.
		if h.ext != 0 || h.n != 8 {
			return badTime, nil
		}
		p := off + h.hdr
		if p+8 > len(b) {
			return 0, errTruncated
		}
		ev.Sec = int64(uint32(b[p])<<24 | uint32(b[p+1])<<16 | uint32(b[p+2])<<8 | uint32(b[p+3]))
		ev.Nsec = uint32(b[p+4])<<24 | uint32(b[p+5])<<16 | uint32(b[p+6])<<8 | uint32(b[p+7])
		return ok, nil
	case Uint:
		u := uintAt(b, off)
		if u > math.MaxInt64 {
			return badTime, nil
		}
		ev.Sec, ev.Nsec = int64(u), 0
		return ok, nil
	case Int:
		// Encoders may write a non-negative value with a signed header.
		switch i := intAt(b, off); {
		case i >= 0:
			ev.Sec, ev.Nsec = i, 0
			return ok, nil
		case i == -1 || i == -2:
			return group, nil
		}
		return badTime, nil
	case Float:
		f := floatAt(b, off)
		if !(f >= 0 && f < math.MaxInt64) { // also rejects NaN
			return badTime, nil
		}
		sec := math.Floor(f)
		ev.Sec, ev.Nsec = int64(sec), min(uint32((f-sec)*1e9), 999999999)
		return ok, nil
	}
	return badTime, nil
}
