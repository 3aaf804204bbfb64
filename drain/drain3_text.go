package drain

// The "drain3" preset's tokenizer: Drain3's masking and Python's str.split().

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Byte classes for the tokenising loop.
const (
	clsToken   = 0
	clsSpace   = 1
	clsSpecial = 2 // NUL or a non-ASCII byte: decide rune by rune
)

// drain3Tokenizer is TemplateMiner's masking followed by Drain3's
// get_content_as_tokens: strip, replace extra delimiters, str.split().
type drain3Tokenizer struct {
	masks     []compiledMask
	cls       [256]uint8 // single-byte extra delimiters are spaces here
	delims    []string   // the other extra delimiters, replaced after strip
	swar      bool       // no single-byte delimiters: scan tokens 8 bytes at a time
	maxBytes  int
	maxTokens int
}

func newDrain3Tokenizer(cfg *Config) tokenizer {
	t := &drain3Tokenizer{maxBytes: cfg.MaxLineBytes, maxTokens: cfg.MaxTokens, masks: compileMasks(cfg.Masks)}
	t.cls[0] = clsSpecial
	for c := 0x80; c < 256; c++ {
		t.cls[c] = clsSpecial
	}
	for _, c := range []byte{'\t', '\n', '\v', '\f', '\r', 0x1c, 0x1d, 0x1e, 0x1f, ' '} {
		t.cls[c] = clsSpace
	}
	t.swar = true
	for _, d := range cfg.ExtraDelimiters {
		if len(d) == 1 && d[0] != 0 && d[0] < 0x80 {
			t.cls[d[0]] = clsSpace
			t.swar = false
		} else {
			t.delims = append(t.delims, d)
		}
	}
	return t
}

func (t *drain3Tokenizer) tokens(s *scratch, line string, mask bool) lineInfo {
	var info lineInfo
	if len(line) > t.maxBytes {
		line, info = cutUTF8(line, t.maxBytes), infoCut
	}
	if mask && len(t.masks) > 0 || len(t.delims) > 0 {
		// Slow path: masks and multi-byte delimiters work on a clean string.
		clean, repaired := sanitize(line)
		if repaired {
			info |= infoRepaired
			if len(clean) > t.maxBytes {
				clean = cutUTF8(clean, t.maxBytes)
			}
		}
		if mask {
			clean = t.applyMasks(clean)
		}
		if len(t.delims) > 0 {
			clean = pyStrip(clean)
			for _, d := range t.delims {
				clean = strings.ReplaceAll(clean, d, " ")
			}
		}
		line = clean
	}
	toks, sigs, ok, trunc := t.split(s.toks, s.sigs, line)
	if !ok {
		// NUL or invalid UTF-8: repair into s.buf, cut again (repair can grow
		// the line) and split the clean copy.
		s.buf = appendSanitized(s.buf[:0], line)
		clean := unsafe.String(unsafe.SliceData(s.buf), len(s.buf))
		if len(clean) > t.maxBytes {
			clean = cutUTF8(clean, t.maxBytes)
		}
		info |= infoRepaired
		clear(toks) // the tokens cut before the bad byte point into line
		toks, sigs, _, trunc = t.split(toks, sigs, clean)
	}
	if trunc {
		info |= infoTruncated
	}
	s.toks, s.sigs, s.own = toks, sigs, false
	return info
}

func (t *drain3Tokenizer) mask(line string) string {
	clean, repaired := sanitizeCut(line, t.maxBytes)
	clean = t.applyMasks(clean)
	if !repaired && len(t.masks) == 0 {
		clean = strings.Clone(clean) // never hand back the caller's memory
	}
	return clean
}

func (t *drain3Tokenizer) applyMasks(s string) string {
	return applyMasks(t.masks, s)
}

// split cuts line into the whitespace-separated tokens of Python's
// str.split() with no argument, written to toks from index 0 with each
// token's sig (leafindex.go) at the same index of sigs; both grow as needed
// and come back cut to the tokens. ok is false when line holds a NUL byte or
// invalid UTF-8 (the slices then hold the tokens before it); trunc reports
// tokens beyond maxTokens. The sigs save the tree and the leaf index hashing
// the tokens again: the bytes are at hand here. splitPlain takes the runs
// of plain tokens; this loop the rest, one token at a time.
func (t *drain3Tokenizer) split(toks []string, sigs []uint64, line string) (_ []string, _ []uint64, ok, trunc bool) {
	cls := &t.cls
	toks, sigs = toks[:cap(toks)], sigs[:cap(sigs)]
	i, n, k := 0, len(line), 0
	for {
		i, k = t.splitPlain(toks, sigs, line, i, k)
		for i < n && cls[line[i]] == clsSpace {
			i++
		}
		if i >= n {
			return toks[:k], sigs[:k], true, false
		}
		if cls[line[i]] == clsSpecial {
			r, size := utf8.DecodeRuneInString(line[i:])
			if r == 0 || r == utf8.RuneError && size == 1 {
				return toks[:k], sigs[:k], false, false
			}
			if isPySpace(r) {
				i += size
				continue
			}
		}
		if k == t.maxTokens {
			return toks[:k], sigs[:k], validRest(line[i:]), true
		}
		start := i
		if i, ok = t.tokenEnd(line, i); !ok {
			return toks[:k], sigs[:k], false, false
		}
		if k >= len(toks) || k >= len(sigs) {
			toks, sigs = growTokens(toks, sigs)
		}
		toks[k], sigs[k] = line[start:i], sig(line[start:i])
		k++
	}
}

// splitPlain is split's loop for the common tokens, without a call (so
// without spilling its registers): from i, tokens of single-byte token
// classes separated by single-byte spaces are written at toks[k:] with
// their sigs, while toks, sigs and maxTokens have room. It returns where
// it stopped: at the end of line, at the start of a token it left to split
// (holding a NUL or non-ASCII byte), or after the last token it had room for.
func (t *drain3Tokenizer) splitPlain(toks []string, sigs []uint64, line string, i, k int) (int, int) {
	cls := &t.cls
	// Bytes are read through p, after the bounds tests below (the
	// compiler's own would be repeated at every read).
	p, n := unsafe.Pointer(unsafe.StringData(line)), len(line)
	at := func(i int) byte { return *(*byte)(unsafe.Add(p, i)) }
	word := func(i int) uint64 { return binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(p, i))[:]) }
	lim := min(len(toks), len(sigs), t.maxTokens)
	tp, sp := unsafe.Pointer(unsafe.SliceData(toks)), unsafe.Pointer(unsafe.SliceData(sigs))
	for k < lim {
		// The common case 8 bytes at a time: tokens of bytes 0x21..0x7f,
		// each after a single ' ' (or at the line's start) and ending at a
		// ' ' or the line's end. The word read at each separator holds the
		// next token's first 7 bytes: its end and, when shorter, its sig.
		// Past the last whole word the line's last 8 bytes are read,
		// shifted so that zeros stand for the bytes past its end. Anything
		// else is left to the loop below, from the separator.
		if t.swar && i+8 <= n {
			x := word(i)
			if uint8(x) != ' ' && i == 0 {
				x, i = x<<8|' ', -1 // as if after a space at -1
			}
		fast:
			for uint8(x) == ' ' && k < lim {
				// The high bit of the bytes not in 0x21..0x7f: byte 0's
				// borrow marks byte 1 when it is '!', left to the loop
				// below; from there on the lowest mark is exact.
				nt := (x | (x - swarLows)) & swarHighs &^ 0x80
				if nt&0x8000 != 0 {
					break
				}
				// a: the token's bytes for its sig, when under 8: those
				// of x>>8 below the lowest mark's byte (the bits below the
				// mark, less a byte), or all 7 when there is none.
				start, e, a := i+1, 0, x>>8
				if nt != 0 {
					e = i + bits.TrailingZeros64(nt)>>3
					a &= (nt ^ (nt - 1)) >> 16
				} else {
					for j := i + 8; ; j += 8 {
						if j+8 > n {
							e = n
							if j < n {
								w := word(n-8) >> ((j + 8 - n) * 8 & 63)
								e = j + bits.TrailingZeros64((w|(w-swarLows))&swarHighs)>>3
							}
							break
						}
						if w := word(j); (w|(w-swarLows))&swarHighs != 0 {
							e = j + bits.TrailingZeros64((w|(w-swarLows))&swarHighs)>>3
							break
						}
					}
				}
				var y uint64
				if e+8 <= n {
					if y = word(e); uint8(y) != ' ' {
						break fast
					}
				} else if e < n {
					if y = word(n-8) >> ((e + 8 - n) * 8 & 63); uint8(y) != ' ' {
						break fast
					}
				}
				l := e - start
				if l >= 8 {
					a = longWord(word(start), word(e-8))
				}
				*(*strHeader)(unsafe.Add(tp, k*int(unsafe.Sizeof("")))) = strHeader{unsafe.Add(p, start), l}
				*(*uint64)(unsafe.Add(sp, k*8)) = sigMix(a, l)
				k++
				i, x = e, y
			}
			if i = max(i, 0); k == lim || i >= n {
				return i, k
			}
		}
		for i < n && cls[at(i)] == clsSpace {
			i++
		}
		if i >= n {
			return i, k
		}
		start := i
		if t.swar {
			for i+8 <= n {
				x := word(i)
				if m := (x | (x - swarLows)) & swarHighs; m != 0 {
					i += bits.TrailingZeros64(m) >> 3
					break
				}
				i += 8
			}
		}
		for i < n && cls[at(i)] == clsToken {
			i++
		}
		if i < n && cls[at(i)] != clsSpace || i == start {
			return start, k
		}
		// sig(line[start:i]), reading the bytes in words where they lie.
		l := i - start
		var a uint64
		switch {
		case l >= 8:
			a = longWord(word(start), word(i-8))
		case start+8 <= n:
			a = word(start) & lowBytes[l&7]
		default:
			for j := i - 1; j >= start; j-- {
				a = a<<8 | uint64(at(j))
			}
		}
		// The token and its sig written directly: unsafe.String checks its
		// length, and toks[k] and sigs[k] their bounds, at every token
		// (k < lim).
		*(*strHeader)(unsafe.Add(tp, k*int(unsafe.Sizeof("")))) = strHeader{unsafe.Add(p, start), l}
		*(*uint64)(unsafe.Add(sp, k*8)) = sigMix(a, l)
		k++
	}
	return i, k
}

// tokenEnd returns the end of the token that starts at i, or ok false at a
// NUL byte or invalid UTF-8 in it.
func (t *drain3Tokenizer) tokenEnd(line string, i int) (int, bool) {
	cls := &t.cls
	n := len(line)
	for {
		if t.swar {
			i = skipPlain(line, i)
		}
		for i < n && cls[line[i]] == clsToken {
			i++
		}
		if i >= n || cls[line[i]] == clsSpace {
			return i, true
		}
		r, size := utf8.DecodeRuneInString(line[i:])
		if r == 0 || r == utf8.RuneError && size == 1 {
			return i, false
		}
		if isPySpace(r) {
			return i, true
		}
		i += size
	}
}

// growTokens doubles split's slices (at least 64 entries), keeping their
// contents.
func growTokens(toks []string, sigs []uint64) ([]string, []uint64) {
	c := max(2*len(toks), 64)
	nt, ns := make([]string, c), make([]uint64, c)
	copy(nt, toks)
	copy(ns, sigs)
	return nt, ns
}

// strHeader is a string's header, for splitPlain.
type strHeader struct {
	p unsafe.Pointer
	n int
}

// lowBytes[l] keeps the low l bytes of a word.
var lowBytes = [8]uint64{0, 0xff, 0xffff, 0xffffff, 0xffffffff, 0xffffffffff, 0xffffffffffff, 0xffffffffffffff}

// skipPlain's constants: the high bit of every byte, 0x21 in every byte.
// (x | x-swarLows) & swarHighs marks the bytes of x not in 0x21..0x7f, the
// lowest exactly: a byte from 0x80 has the bit itself, one under 0x21
// borrows to set it, one in 0x21..0x7f does neither and passes no borrow
// up: the bits of x | (x-swarLows)&^x in two operations fewer (the
// compiler does not simplify that form).
const swarHighs, swarLows = 0x8080808080808080, 0x21 * 0x0101010101010101

// skipPlain returns the index of the first byte at or after i that is not
// in 0x21..0x7f (so may be a space, NUL or non-ASCII), testing 8 bytes at a
// time; near the end of s it stops early and leaves the rest to the caller.
func skipPlain(s string, i int) int {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	for i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i:])
		// High bit of a byte set: the byte is >= 0x80, or < 0x21 (the lowest
		// such byte is exact; borrows only run upwards).
		if m := (x | (x - swarLows)) & swarHighs; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	return i
}

// validRest reports whether the dropped tail of a truncated line is clean, so
// that a repair of the whole line gives the same tokens.
func validRest(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// pyStrip is Python's str.strip() with no argument.
func pyStrip(s string) string {
	return strings.TrimFunc(s, isPySpace)
}
