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
	toks, ok, trunc := t.split(s.toks[:0], line)
	if !ok {
		// NUL or invalid UTF-8: repair into s.buf, cut again (repair can grow
		// the line) and split the clean copy.
		s.buf = appendSanitized(s.buf[:0], line)
		clean := unsafe.String(unsafe.SliceData(s.buf), len(s.buf))
		if len(clean) > t.maxBytes {
			clean = cutUTF8(clean, t.maxBytes)
		}
		info |= infoRepaired
		toks, _, trunc = t.split(s.toks[:0], clean)
	}
	if trunc {
		info |= infoTruncated
	}
	s.toks, s.own = toks, false
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

// split appends the whitespace-separated tokens of line to dst, as Python's
// str.split() with no argument. ok is false when line holds a NUL byte or
// invalid UTF-8 (dst is then unusable); trunc reports tokens beyond maxTokens.
func (t *drain3Tokenizer) split(dst []string, line string) (toks []string, ok, trunc bool) {
	cls := &t.cls
	i, n := 0, len(line)
	for {
		for i < n && cls[line[i]] == clsSpace {
			i++
		}
		if i >= n {
			return dst, true, false
		}
		if cls[line[i]] == clsSpecial {
			r, size := utf8.DecodeRuneInString(line[i:])
			if r == 0 || r == utf8.RuneError && size == 1 {
				return dst, false, false
			}
			if isPySpace(r) {
				i += size
				continue
			}
		}
		if len(dst) == t.maxTokens {
			return dst, validRest(line[i:]), true
		}
		start := i
		for {
			if t.swar {
				i = skipPlain(line, i)
			}
			for i < n && cls[line[i]] == clsToken {
				i++
			}
			if i >= n || cls[line[i]] == clsSpace {
				break
			}
			r, size := utf8.DecodeRuneInString(line[i:])
			if r == 0 || r == utf8.RuneError && size == 1 {
				return dst, false, false
			}
			if isPySpace(r) {
				break
			}
			i += size
		}
		dst = append(dst, line[start:i])
	}
}

// skipPlain returns the index of the first byte at or after i that is not
// in 0x21..0x7f (so may be a space, NUL or non-ASCII), testing 8 bytes at a
// time; near the end of s it stops early and leaves the rest to the caller.
func skipPlain(s string, i int) int {
	const ones, highs, lows = 0x0101010101010101, 0x8080808080808080, 0x21 * 0x0101010101010101
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	for i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i:])
		// High bit of a byte set: the byte is >= 0x80, or < 0x21 (the lowest
		// such byte is exact; borrows only run upwards).
		if m := (x | (x-lows)&^x) & highs; m != 0 {
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
