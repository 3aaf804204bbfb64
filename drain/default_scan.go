package drain

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"unsafe"
)

// defaultTokenizer is the text step of the "default" preset: one hand-written
// pass over the line that masks variables and secrets (no regexes) and splits
// on whitespace. Delimiters that glue a value to a word (= , ; : brackets,
// quotes) stay inside the token, so "uid=0" becomes the token "uid=<*>" and
// the template prints like the line. Runs of variables separated only by
// spaces collapse into one "<*>", so lists of any length share a
// template. Tokens are slices of s.buf. The masking rules (which value a
// word or span is) are registered in one place, rules in default_rules.go,
// which says how to add one.
//
// The operator's Config.Masks rules (the plugin's Mask key) run first, on
// the repaired line, and their "<NAME>" replacements then pass through the
// scanner as words. Without such rules the line goes to the scanner as it
// is: the regexes cost nothing unless configured.
type defaultTokenizer struct {
	maxBytes  int
	maxTokens int
	masks     []compiledMask
}

func newDefaultTokenizer(cfg *Config) tokenizer {
	return &defaultTokenizer{maxBytes: cfg.MaxLineBytes, maxTokens: cfg.MaxTokens, masks: compileMasks(cfg.Masks)}
}

func (t *defaultTokenizer) tokens(s *scratch, line string, mask bool) lineInfo {
	var info lineInfo
	if len(line) > t.maxBytes {
		line, info = cutUTF8(line, t.maxBytes), infoCut
	}
	if mask && len(t.masks) > 0 {
		// The operator's rules need a valid string: repair first.
		clean, repaired := sanitize(line)
		if repaired {
			info |= infoRepaired
			if len(clean) > t.maxBytes {
				clean = cutUTF8(clean, t.maxBytes)
			}
		}
		line = applyMasks(t.masks, clean)
	}
	if mask {
		// Scan first: only a line whose kept text has a NUL or non-ASCII
		// byte is checked, and repaired and scanned again when invalid.
		line = line[kernelStampEnd(line):]
		sc := &s.sc
		sc.reset(s.buf[:0])
		special := sc.scan(line)
		sc.listPrefix = "" // it aliases line, which must not be retained
		if special {
			if clean, repaired := sanitize(line); repaired {
				info |= infoRepaired
				if len(clean) > t.maxBytes {
					clean = cutUTF8(clean, t.maxBytes)
				}
				sc.reset(sc.dst[:0])
				sc.scan(clean)
				sc.listPrefix = ""
			}
		}
		s.buf = sc.dst
		if !sc.spill {
			// The tokens are cut from buf only when the tree step needs
			// them (scratch.tokList): a line the memo answers never is.
			buf := unsafe.String(unsafe.SliceData(s.buf), len(s.buf))
			k := min(sc.nsp, t.maxTokens)
			start := 0
			if k > 0 {
				start = int(sc.spaces[k-1]) + 1
			}
			s.ntok = k
			if start < len(buf) {
				if k == t.maxTokens {
					info |= infoTruncated
				} else {
					s.ntok++
				}
			}
			s.toks, s.own, s.lazy = s.toks[:0], true, true
			if info&infoTruncated == 0 {
				s.key = buf
			}
			return info
		}
	} else {
		if clean, repaired := sanitize(line); repaired {
			info |= infoRepaired
			if len(clean) > t.maxBytes {
				clean = cutUTF8(clean, t.maxBytes)
			}
			line = clean
		}
		s.buf = appendFields(s.buf[:0], line)
	}
	buf := unsafe.String(unsafe.SliceData(s.buf), len(s.buf))
	toks := s.toks[:0]
	for len(buf) > 0 {
		if len(toks) == t.maxTokens {
			info |= infoTruncated
			break
		}
		i := strings.IndexByte(buf, ' ')
		if i < 0 {
			toks = append(toks, buf)
			break
		}
		toks = append(toks, buf[:i])
		buf = buf[i+1:]
	}
	s.toks, s.own = toks, true
	return info
}

// cut fills s.toks from s.buf at the spaces the scanner recorded.
func (s *scratch) cut() {
	buf := unsafe.String(unsafe.SliceData(s.buf), len(s.buf))
	spaces := s.sc.spaces[:min(s.sc.nsp, s.ntok)]
	toks := s.toks[:0]
	if cap(toks) < s.ntok {
		toks = make([]string, 0, max(s.ntok, 2*cap(toks)))
	}
	toks = toks[:len(spaces)] // sized once, then filled by index
	start := 0
	for x, p := range spaces {
		toks[x] = buf[start:p]
		start = int(p) + 1
	}
	if len(toks) < s.ntok {
		toks = append(toks, buf[start:])
	}
	s.toks, s.lazy = toks, false
}

// mask masks line as tokens does, in the same order: the operator's rules
// on the repaired line, then the scanner, repairing and scanning again only
// when the text the scanner kept has a NUL or a non-ASCII byte. (Repairing
// first, as it once did, could differ from tokens where the scanner masks
// a NUL inside a variable: FuzzScanner's seed 279ad426bbb44c94.)
func (t *defaultTokenizer) mask(line string) string {
	if len(line) > t.maxBytes {
		line = cutUTF8(line, t.maxBytes)
	}
	if len(t.masks) > 0 {
		clean, _ := sanitizeCut(line, t.maxBytes)
		line = applyMasks(t.masks, clean)
	}
	out, special := appendMasked(nil, line)
	if special {
		if clean, repaired := sanitize(line); repaired {
			if len(clean) > t.maxBytes {
				clean = cutUTF8(clean, t.maxBytes)
			}
			out, _ = appendMasked(out[:0], clean)
		}
	}
	return string(out)
}

// appendFields appends the whitespace-separated fields of s joined by one
// space: how a template (already masked) is tokenised.
func appendFields(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		for i < len(s) && isSpaceByte(s[i]) {
			i++
		}
		j := i
		for j < len(s) && !isSpaceByte(s[j]) {
			j++
		}
		if j > i {
			if len(dst) > 0 {
				dst = append(dst, ' ')
			}
			dst = append(dst, s[i:j]...)
		}
		i = j
	}
	return dst
}

// Byte classes of the scanner, one table lookup each.
const (
	bSpace = 1 << iota
	bDelim // punctuation that glues a value to a word
	bDigit
	bAlpha
	bHex
	bSpecial // NUL or a non-ASCII byte: the line may need repair
	bDot
	bDash
	bAt
	bMark // '_' or '#', which isVarWord splits a word at, as '.', '-' and '@'
	// bOther is any other byte ('/', '+', '<', a control byte), so that a
	// class union of bDigit|bHex means digits alone. It is outside the 8
	// bits spanShape reads: no rule's gate depends on it.
	bOther
)

var byteClass = func() (t [256]uint16) {
	for _, c := range []byte{' ', '\t', '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x1f} {
		t[c] = bSpace
	}
	for _, c := range []byte("=,;:()[]{}\"'|") {
		t[c] = bDelim
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = bDigit | bHex
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = bAlpha
		t[c-32] = bAlpha
	}
	t['.'], t['-'], t['@'], t['_'], t['#'] = bDot, bDash, bAt, bMark, bMark
	t[0] = bSpecial
	for c := 0x80; c < 256; c++ {
		t[c] = bSpecial
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] |= bHex
		t[c-32] |= bHex
	}
	for c := range t {
		if t[c] == 0 {
			t[c] = bOther
		}
	}
	return t
}()

func isSpaceByte(c byte) bool { return byteClass[c]&bSpace != 0 }
func isDelim(c byte) bool     { return byteClass[c]&bDelim != 0 }
func isDigitB(c byte) bool    { return byteClass[c]&bDigit != 0 }
func isAlphaB(c byte) bool    { return byteClass[c]&bAlpha != 0 }
func isHexB(c byte) bool      { return byteClass[c]&bHex != 0 }

// wordEnds reports whether position i of s ends a word: end of line, a space, a
// delimiter, or a '.' that is itself followed by such an end (sentence dots).
func wordEnds(s string, i int) bool {
	if i >= len(s) || isSpaceByte(s[i]) || isDelim(s[i]) {
		return true
	}
	if s[i] == '.' {
		return i+1 >= len(s) || isSpaceByte(s[i+1]) || isDelim(s[i+1]) || s[i+1] == '.'
	}
	return false
}

// appendMasked appends the masked, whitespace-normalised form of line to dst.
// special reports a NUL or non-ASCII byte in the text kept (masked spans are
// replaced, so their bytes never reach dst): only then may line need repair.
func appendMasked(dst []byte, line string) (out []byte, special bool) {
	sc := scanState{dst: dst, pend: len(dst), sepClean: true}
	special = sc.scan(line[kernelStampEnd(line):])
	return sc.dst, special
}

// scan appends the masked form of line to sc.dst (see appendMasked).
func (sc *scanState) scan(line string) (special bool) {
	dst := sc.dst
	n, lp := len(line), unsafe.Pointer(unsafe.StringData(line))
	i := 0
	prevStart, prevEnd := 0, 0 // the last word, for "Bearer <token>"
	for i < n {
		// Separator run: whitespace, delimiters, runs of dots, sentence dots.
		st := i
		keyed := false // the separator ends a key that may be a secret's ("token=")
		if line[i] == ' ' && i+1 < n && byteClass[line[i+1]]&(bAlpha|bDigit) != 0 {
			// The common separator: one space before a word.
			i++
			sc.sepSpace()
		} else if c := line[i]; byteClass[c]&bDelim != 0 && c != '(' && c != ')' && i+1 < n &&
			(byteClass[line[i+1]]&(bAlpha|bDigit) != 0 || line[i+1] == ' ' && i+2 < n && byteClass[line[i+2]]&(bAlpha|bDigit) != 0) {
			// The next common: one delimiter, or one and a space, before a
			// word (": ", "=", ", ", "] "), written as sep writes them.
			sc.sepClean = false
			sc.dst = append(sc.dst, c)
			i++
			if line[i] == ' ' {
				i++
				sc.space()
			}
			keyed = (c == '=' || c == ':') && secretKeyTail(line, st)
		} else if sp := spacesBeforeWord(line, i); sp > i {
			// Spaces before another word, as sep writes them.
			i = sp
			sc.sepSpace()
		} else {
			for i < n {
				c := line[i]
				if byteClass[c]&(bSpace|bDelim) != 0 || c == '.' && (i > st && line[i-1] == '.' || i+1 < n && line[i+1] == '.' || wordEnds(line, i+1)) {
					i++
					continue
				}
				break
			}
			if i > st {
				sc.sep(line[st:i])
				if line[i-1] == '(' && i < n && isDigitB(line[i]) {
					if j := sc.restatedQuantity(line, i); j > 0 {
						i = j
						continue
					}
				}
				e := i - 1
				for e > st && (line[e] == ' ' || line[e] == '"' || line[e] == '\'') {
					e--
				}
				keyed = (line[e] == '=' || line[e] == ':') && secretKeyTail(line, st)
			}
		}
		if i >= n {
			break
		}
		// One look at the raw word (to a space or delimiter) decides which matchers apply.
		k, seen := sc.nextEnd, sc.nextSeen // seen: the union of the word's byte classes
		if i+1 != sc.next {
			k, seen = i, 0
			for k+4 <= n {
				c4 := pairAt(lp, k) | pairAt(lp, k+2)
				if c4&(bSpace|bDelim) != 0 {
					break
				}
				seen |= c4
				k += 4
			}
			// The word (or the line) ends within the next 4 bytes: a pair, then a byte, find where.
			if k+2 <= n {
				if c2 := pairAt(lp, k); c2&(bSpace|bDelim) == 0 {
					seen |= c2
					k += 2
				}
			}
			if k < n {
				if cl := classAt(lp, k); cl&(bSpace|bDelim) == 0 {
					seen |= cl
					k++
				}
			}
		}
		j := k
		if seen&bDot != 0 {
			// A sentence dot ends the word ("job_42."): the first of two dots, or a last one (wordEnds).
			if d := dotsAt(line, i, k); d >= 0 {
				j = d
			} else if line[k-1] == '.' {
				j = k - 1
			}
		}
		at := seen&(bAt|bDot) == bAt|bDot // an e-mail address needs both
		digit := seen&bDigit != 0
		special = special || seen&bSpecial != 0
		c := line[i]
		shape := ruleAt[c] & lenRules(k-i) // the rules this word's gate admits
		if at || shape&secretRules != 0 || keyed || prevEnd == st && schemeBefore(line, prevStart, prevEnd) {
			if j, ok := secretValue(line, st, i, k, at, prevStart, prevEnd); ok {
				sc.variable()
				i = j
				continue
			}
		}
		prevStart, prevEnd = i, j
		if seen == bDigit|bHex && plainNumber(line, k) {
			// A number, which isVarWord would call a value.
			sc.listPrefix = ""
			i, prevStart, prevEnd = sc.plainRun(line, j, i, j, true)
			continue
		}
		after := 0 // what follows the raw word: ':' (1), ":/" (2)
		if k < n && line[k] == ':' {
			after = 1
			if k+1 < n && line[k+1] == '/' {
				after = 2
			}
		}
		if m := spanGate(shape, after, seen); m != 0 {
			if j, ok := matchSpan(line, i, k, seen, m); ok {
				i, prevStart, prevEnd = sc.plainRun(line, j, i, j, true)
				continue
			}
		}
		// A word of letters: a word rule's value, or written as it is.
		if !digit && c != '/' {
			sc.listPrefix = ""
			if j < k {
				shape = ruleAt[c] & lenRules(j-i)
			}
			if m := shape & wordRules; m != 0 && sc.wordValue(line, i, j, m) {
				sc.variable() // true, false, null, a secret (secretWord): always a value
				i, sc.skip = j+sc.skip, 0
				continue
			}
			sc.dst = appendPiece(sc.dst, line, i, j) // copyRun written out: a call here costs 6 ns a line
			sc.commit()
			sc.lastVar = false
			if !sc.noRuns {
				i, prevStart, prevEnd = sc.plainRun(line, j, i, j, false)
				continue
			}
			i = j
			continue
		}
		i = sc.digitWord(line, i, j, k, seen)
	}
	for len(sc.dst) > len(dst) && sc.dst[len(sc.dst)-1] == ' ' {
		sc.dst = sc.dst[:len(sc.dst)-1]
	}
	sc.popSpaces(len(sc.dst))
	return special
}

// digitWord writes the word line[i:j] that holds a digit or starts with
// '/' and that no secret, number or span check took (seen is the class
// union of its raw word, which ends at k), and returns where scan goes on.
// It is a function of its own so that scan's loop, which PGO inlines
// plainRun into, keeps fewer values live.
func (sc *scanState) digitWord(line string, i, j, k int, seen uint16) int {
	c, w := line[i], line[i:j]
	listPrefix, listStart := sc.listPrefix, sc.listStart
	sc.listPrefix = ""
	if (c == '<' || c == '>') && isBound(w) {
		// A bound printed in place of a figure ("lifetime <1 sec" where
		// others read "lifetime 00:02") is one value, its unit included.
		sc.variable()
		if e := unitAfter(line, j); e > 0 {
			j = e
		}
		return j
	}
	wseen := seen // the class union of w
	if j < k {
		wseen = classesOf(w)
	}
	if p := prefixNum(w, wseen); p > 0 {
		sc.word(w[:p+1])
		sc.variableGlued()
		return j
	}
	switch {
	case isVarWord(w, wseen) || len(w) == 5 && klogDate(line, i): // klogDate: "I1125 17:40:07.1"
		sc.variable()
	case nameNum(w) > 0:
		// Names such as "an14": one stays a word (an interface, a
		// tty), two or more of the same stem in a row are a list.
		p := nameNum(w)
		if w[:p] == listPrefix && sc.sepClean {
			if listStart >= 0 {
				// Take the first name back and write a variable in
				// its place, as if it had been one all along.
				sc.dst = sc.dst[:listStart]
				sc.popSpaces(listStart)
				sc.pend, sc.lastVar, sc.sepClean = sc.listPend, sc.listLastVar, sc.listSepClean
				sc.variable()
			} else {
				sc.variable()
			}
			sc.listPrefix, sc.listStart = w[:p], -1
			break
		}
		sc.listPrefix, sc.listStart = w[:p], len(sc.dst)
		sc.listPend, sc.listLastVar, sc.listSepClean = sc.pend, sc.lastVar, sc.sepClean
		sc.word(w)
	default:
		sc.otherWord(w)
	}
	return j
}

// dotsAt returns the index of the first ".." in line[i:k], or -1. It
// reads line 8 bytes at a time (7 ahead, so that a pair across two reads
// is seen), as far as line has them: raw words with a dot are long (host
// names, class names, addresses), and strings.Index is a call.
func dotsAt(line string, i, k int) int {
	const ones, low7, dots = 0x0101010101010101, 0x7f7f7f7f7f7f7f7f, 0x2e2e2e2e2e2e2e2e
	p := unsafe.Pointer(unsafe.StringData(line))
	q := i
	for ; q+1 < k && q+8 <= len(line); q += 7 {
		d := binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(p, q))[:]) ^ dots
		z := ^((d&low7 + low7) | d | low7) // the high bit of each '.' byte
		if pair := z & (z >> 8) & (ones << 7 >> 8); pair != 0 {
			if e := q + bits.TrailingZeros64(pair)>>3; e+1 < k {
				return e
			}
			return -1
		}
	}
	for ; q+1 < k; q++ {
		if line[q] == '.' && line[q+1] == '.' {
			return q
		}
	}
	return -1
}

// spacesBeforeWord returns the end of the run of ' ' at line[i:] when a
// byte other than whitespace, a delimiter or a '.' follows it, else i.
func spacesBeforeWord(line string, i int) int {
	j := i
	for j < len(line) && line[j] == ' ' {
		j++
	}
	if j == i || j == len(line) || byteClass[line[j]]&(bSpace|bDelim) != 0 || line[j] == '.' {
		return i
	}
	return j
}

// classAt returns the class of the byte at p+k, unchecked: k must be
// within the string p points to. The class loops of scan and plainRun
// read the line with it and pairAt: with the slice checks they were a
// third longer.
func classAt(p unsafe.Pointer, k int) uint16 { return byteClass[*(*byte)(unsafe.Add(p, k))] }

// pairClass is the union of the classes of two bytes, indexed by the
// little-endian 16-bit word they form, so that the class loops of scan
// and plainRun take a word's bytes two at a time: one load and one lookup
// for two bytes. It takes 128 KiB, of which the pairs of printable ASCII
// bytes, the ones text reads, span about 18 KiB.
var pairClass [1 << 16]uint16

func init() {
	for x := range pairClass {
		pairClass[x] = byteClass[x&0xff] | byteClass[x>>8]
	}
}

// pairAt returns the union of the classes of the bytes at p+k and p+k+1,
// unchecked: both must be within the string p points to.
func pairAt(p unsafe.Pointer, k int) uint16 {
	return pairClass[binary.LittleEndian.Uint16((*[2]byte)(unsafe.Add(p, k))[:])]
}

// plainRun copies, with one append, the run of plain words that follows the
// word or value line[ps:pe] just written (a number or span written as
// "<*>"), each after a single space: words of letters and dashes starting
// with a letter, which the loop of scan would check one by one and write
// unchanged. It stops before any word that loop must look at closely (a
// digit, unless the word is a number, see below; a dot, '@' or non-ASCII
// byte; a ':' after it; a word a masking rule may claim, plainClaimed; the
// word after an auth scheme, schemeBefore: both read the rules registry,
// default_rules.go) and returns where the loop goes on and the last word
// written.
//
// With value, line[ps:pe] is a value (a number or span) that plainRun
// writes as a variable first, and then the run, unless runs are off: one
// call where scan has a value and the words after it.
//
// A number between words ("served in 12 ms") is written as the loop writes
// it, a space and "<*>", and the run goes on after it; a number right after
// a value (nothing copied yet, lastVar set) is left to the loop, which joins
// the two.
func (sc *scanState) plainRun(line string, i, ps, pe int, value bool) (int, int, int) {
	if value {
		sc.variable()
		if sc.noRuns {
			return i, ps, pe
		}
	}
	n, from, base := len(line), i, len(sc.dst)
	lp := unsafe.Pointer(unsafe.StringData(line))
	for i+1 < n && line[i] == ' ' {
		q := i + 1
		if byteClass[line[q]]&(bAlpha|bDigit) == 0 || schemeBefore(line, ps, pe) {
			break
		}
		r, seen := q, uint16(0)
		for r+2 <= n {
			c2 := pairAt(lp, r)
			if c2&(bSpace|bDelim) != 0 {
				break
			}
			seen |= c2
			r += 2
		}
		if r < n {
			if cl := classAt(lp, r); cl&(bSpace|bDelim) == 0 {
				seen |= cl
				r++
			}
		}
		sc.next, sc.nextEnd, sc.nextSeen = q+1, r, seen // scan's, should the run stop before it
		if seen == bDigit|bHex {
			if i == from && sc.lastVar || !plainNumber(line, r) {
				break
			}
			sc.copyRun(line, from, i)
			sc.space()
			sc.variable()
			from, base = r, len(sc.dst)
			ps, pe, i = q, r, r
			continue
		}
		if seen&^(bAlpha|bHex|bDash|bMark|bOther) != 0 || r < n && line[r] == ':' || plainStop&ruleAt[line[q]]&lenRules(r-q) != 0 && plainClaimed(line[q:r]) {
			break
		}
		if sc.nsp < len(sc.spaces) {
			sc.spaces[sc.nsp] = int32(base + i - from)
			sc.nsp++
		} else {
			sc.spill = true
		}
		ps, pe, i = q, r, r
	}
	if i > from {
		sc.copyRun(line, from, i)
	}
	return i, ps, pe
}

// copyRun writes line[i:j], plain words and their spaces, as one word.
func (sc *scanState) copyRun(line string, i, j int) {
	sc.dst = appendPiece(sc.dst, line, i, j)
	sc.commit()
	sc.lastVar, sc.listPrefix = false, ""
}

// appendPiece appends line[i:j] to dst. A piece of up to 16 bytes is
// copied as one 16-byte block when dst has the room and line the bytes:
// memmove chooses its method by length, a branch that the varying lengths
// of words mispredict. Up to 16 bytes of dst's spare capacity may be
// overwritten (the scanner owns its buffer).
func appendPiece(dst []byte, line string, i, j int) []byte {
	n := len(dst)
	if j-i <= 16 && cap(dst)-n >= 16 && i+16 <= len(line) {
		src := unsafe.Slice(unsafe.StringData(line), len(line))
		*(*[16]byte)(dst[n : n+16]) = *(*[16]byte)(src[i : i+16])
		return dst[:n+j-i]
	}
	return append(dst, line[i:j]...)
}

// kernelStampEnd returns the end of a printk boot timestamp opening line
// ("[ 123.456789]", "[864213.123456]": '[', optional spaces, seconds, '.',
// fraction, ']'), or 0 when line does not start with one. The syslog file's
// kernel lines carry it, journald's do not: without it, one event has one
// token count in both.
func kernelStampEnd(line string) int {
	if len(line) == 0 || line[0] != '[' {
		return 0
	}
	j := 1
	for j < len(line) && line[j] == ' ' {
		j++
	}
	st := j
	for j < len(line) && isDigitB(line[j]) {
		j++
	}
	if j == st || j >= len(line) || line[j] != '.' {
		return 0
	}
	j++
	st = j
	for j < len(line) && isDigitB(line[j]) {
		j++
	}
	if j == st || j >= len(line) || line[j] != ']' {
		return 0
	}
	return j + 1
}

// scanState writes normalised output: whitespace collapses to one space, a
// standalone "()" becomes "(<*>)", and a variable that follows another with
// only spaces between them is absorbed into it. Separator text is
// written at once but stays pending (dst[pend:]) until a word or variable
// follows, so that a collapsing variable can take it back.
type scanState struct {
	dst      []byte
	pend     int  // start of the pending separator in dst
	lastVar  bool // the last thing written was a variable
	sepClean bool // the pending separator holds only spaces

	// Offsets of the spaces in dst, i.e. the token boundaries, so that
	// tokens need no second pass; spill is set when there were too many.
	spaces [128]int32
	nsp    int
	spill  bool

	// noRuns turns plainRun off, so tests can check that it writes what
	// the word-by-word loop writes.
	noRuns bool

	// The stem of the name word just written ("an" of "an14") and where it
	// starts in dst (-1 once it became a list variable), "" after any other.
	listPrefix   string
	listStart    int
	listPend     int // the writer's state before that name word
	listLastVar  bool
	listSepClean bool

	// skip is how far past the word scan goes on after secretWord (the
	// key material of a private key block); zero otherwise.
	skip int

	// The raw word plainRun classified last (and may have stopped
	// before): it starts at next-1 (next is 0 when there is none), ends
	// at nextEnd and its class union is nextSeen, so that scan need not
	// read it again.
	next, nextEnd int
	nextSeen      uint16
}

// reset prepares sc to write to dst. The spaces array is not cleared:
// only spaces[:nsp] is ever read.
func (sc *scanState) reset(dst []byte) {
	sc.dst, sc.pend, sc.lastVar, sc.sepClean = dst, 0, false, true
	sc.nsp, sc.spill, sc.next = 0, false, 0
	sc.listPrefix, sc.listStart, sc.listPend, sc.listLastVar, sc.listSepClean = "", 0, 0, false, false
}

func (sc *scanState) space() {
	if sc.nsp < len(sc.spaces) {
		sc.spaces[sc.nsp] = int32(len(sc.dst))
		sc.nsp++
	} else {
		sc.spill = true
	}
	sc.dst = append(sc.dst, ' ')
}

// popSpaces forgets the spaces at or after offset end (dst was cut there).
func (sc *scanState) popSpaces(end int) {
	for sc.nsp > 0 && int(sc.spaces[sc.nsp-1]) >= end {
		sc.nsp--
	}
}

func (sc *scanState) sep(s string) {
	for k := 0; k < len(s); k++ {
		c := s[k]
		n := len(sc.dst)
		if isSpaceByte(c) {
			if n == 0 || sc.dst[n-1] == ' ' {
				continue
			}
			sc.space()
			continue
		}
		sc.sepClean = false // a comma too: "Rect(0, 0 - 720, 1280)" keeps its four values
		if c == ')' && n > sc.pend && sc.dst[n-1] == '(' && (n == 1 || sc.dst[n-2] == ' ') {
			// "()" standing alone is an empty value.
			sc.dst = append(sc.dst, "<*>)"...)
			continue
		}
		sc.dst = append(sc.dst, c)
	}
}

// sepSpace writes a separator of spaces only, as sep writes it: one
// space, unless dst is empty or ends with one.
func (sc *scanState) sepSpace() {
	if len(sc.dst) > 0 && sc.dst[len(sc.dst)-1] != ' ' {
		sc.space()
	}
}

func (sc *scanState) commit() {
	sc.pend = len(sc.dst)
	sc.sepClean = true
}

func (sc *scanState) word(w string) {
	sc.dst = append(sc.dst, w...)
	sc.commit()
	sc.lastVar = false
}

func (sc *scanState) variable() {
	if sc.lastVar && sc.sepClean {
		sc.dst = sc.dst[:sc.pend]
		sc.popSpaces(sc.pend)
		return
	}
	sc.dst = append(sc.dst, wildcard...)
	sc.commit()
	sc.lastVar = true
}

// variableGlued writes a variable directly after a word prefix ("node-<*>").
func (sc *scanState) variableGlued() {
	sc.dst = append(sc.dst, wildcard...)
	sc.commit()
	sc.lastVar = true
}

// secretKeys name values that must never reach a template or a sample.
// A Cookie or Set-Cookie header's value runs to the end of the line (or its
// closing quote), whatever it holds.
var secretKeys = []string{"password", "passwd", "pwd", "pass", "token", "secret", "apikey", "api_key", "api-key",
	"access_token", "refresh_token", "client_secret", "auth", "authorization", "credentials", "private_key", "session",
	"access_key", "secret_key", "cookie"}

// secretValue masks the value at line[i:] when the separator before it
// (line[st:i]) ends a secret key ("password=", "token: ") or the word
// before is an auth scheme ("Bearer x", "Basic x"). It also catches JWTs and
// e-mail addresses anywhere.
// k is the end of the raw word at i, at whether it holds an '@';
// line[ps:pe] is the word before.
func secretValue(line string, st, i, k int, at bool, ps, pe int) (int, bool) {
	if k-i > 20 && line[i] == 'e' && isJWT(line, i) || at && isEmail(line, i) {
		return endOfValue(line, i), true
	}
	if at {
		// An address inside the word ("<bob@example.org>"): to the end of
		// the value, and at least past the address, since the word may
		// start with a byte that ends a value ("&bob@example.org"), where
		// the value alone would be empty and scan would loop forever.
		if _, e, ok := emailIn(line, i, k); ok {
			return max(e, endOfValue(line, i)), true
		}
	}
	sep := line[st:i]
	if sep == "" {
		return 0, false
	}
	e := len(sep) - 1
	for e > 0 && (sep[e] == ' ' || sep[e] == '"' || sep[e] == '\'') {
		e--
	}
	// The key must touch its '=' or ':' (a JSON key's closing quote aside):
	// "password=x", "token: x", "\"secret\":\"x\"", not "f(session): x".
	if (sep[e] == '=' || sep[e] == ':') && (e == 0 || e == 1 && (sep[0] == '"' || sep[0] == '\'')) {
		k := st
		for k > 0 && (isAlphaB(line[k-1]) || line[k-1] == '_' || line[k-1] == '-') {
			k--
		}
		key := line[k:st]
		if key == "" {
			return 0, false
		}
		if !secretKeyTail(line, st) {
			return 0, false
		}
		for _, sk := range secretKeys {
			if len(key) >= len(sk) && strings.EqualFold(key[len(key)-len(sk):], sk) {
				if sk == "cookie" {
					return cookieEnd(line, i), true
				}
				j := endOfValue(line, i)
				if w := line[i:j]; (strings.EqualFold(w, "bearer") || strings.EqualFold(w, "basic") || strings.EqualFold(w, "digest")) &&
					j+1 < len(line) && line[j] == ' ' {
					j = endOfValue(line, j+1) // "Authorization: Bearer <token>"
				}
				return j, true
			}
		}
		// "?key=" or "&key=": an API key in a URL's query.
		if len(key) == 3 && strings.EqualFold(key, "key") && k > 0 && (line[k-1] == '?' || line[k-1] == '&') {
			return endOfValue(line, i), true
		}
	}
	if sep == " " && pe == st && (pe-ps == 5 || pe-ps == 6) {
		if w := line[ps:pe]; strings.EqualFold(w, "bearer") || strings.EqualFold(w, "basic") {
			return endOfValue(line, i), true
		}
	}
	return 0, false
}

// secretKeyTail reports whether the key ending at line[end] (exclusive) ends
// like one of the secretKeys: a cheap filter before comparing them.
func secretKeyTail(line string, end int) bool {
	if end < 3 {
		return false
	}
	switch string([]byte{line[end-3] | 0x20, line[end-2] | 0x20, line[end-1] | 0x20}) {
	case "ord", "swd", "pwd", "ass", "ken", "ret", "key", "uth", "ion", "als", "kie":
		return true
	}
	return false
}

func endOfValue(line string, i int) int {
	for i < len(line) && !isSpaceByte(line[i]) && line[i] != ',' && line[i] != ';' && line[i] != '"' && line[i] != '\'' && line[i] != '&' && line[i] != ')' && line[i] != ']' {
		i++
	}
	return i
}

// cookieEnd returns the end of a cookie header's value at line[i:]: the
// closing quote when the value is quoted, else the end of the line.
func cookieEnd(line string, i int) int {
	if q := line[i-1]; q == '"' || q == '\'' {
		if e := strings.IndexByte(line[i:], q); e >= 0 {
			return i + e
		}
		return len(line)
	}
	if e := strings.IndexAny(line[i:], "\r\n"); e >= 0 {
		return i + e
	}
	return len(line)
}

// awsKeyID reports whether w is an AWS access key id: AKIA (long-term) or
// ASIA (temporary) and 16 upper-case letters or digits.
func awsKeyID(w string) bool {
	if len(w) != 20 || w[0] != 'A' || w[1] != 'K' && w[1] != 'S' || w[2] != 'I' || w[3] != 'A' {
		return false
	}
	for q := 4; q < len(w); q++ {
		if c := w[q]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// privateKeyBlock recognises a PEM private key at line[i:]: the BEGIN line
// "-----BEGIN [LABEL ]PRIVATE KEY-----" ends at hdr, the key material runs
// to body, where the END line starts, and the END line ends at end. A block
// cut before its END line (a line cut at MaxLineBytes) runs to the end of
// line, body = end = len(line).
func privateKeyBlock(line string, i int) (hdr, body, end int, ok bool) {
	const begin, dashes = "-----BEGIN ", "-----"
	if !strings.HasPrefix(line[i:], begin) {
		return 0, 0, 0, false
	}
	j := i + len(begin)
	for j < len(line) && j-i < 64 && (line[j] >= 'A' && line[j] <= 'Z' || line[j] == ' ') {
		j++
	}
	if !strings.HasPrefix(line[j:], dashes) || !strings.HasSuffix(line[i:j], "PRIVATE KEY") {
		return 0, 0, 0, false
	}
	hdr = j + len(dashes)
	e := strings.Index(line[hdr:], "-----END ")
	if e < 0 {
		return hdr, len(line), len(line), true
	}
	body = hdr + e
	k := body + len("-----END ")
	if f := strings.Index(line[k:min(len(line), k+64)], dashes); f >= 0 {
		return hdr, body, k + f + len(dashes), true
	}
	return hdr, body, len(line), true
}

// secretWord reports whether line[i:j], a word without digits, is an AWS
// key id or opens a private key block: a secret the caller writes as a
// variable. scan asks only when the gate of the "aws key id" or "private
// key" rule admits the word (rules).
// For a block it first writes the BEGIN line, and sets sc.skip so that scan
// goes on at the END line (written as the words it is): the template still
// says what leaked.
func (sc *scanState) secretWord(line string, i, j int) bool {
	if awsKeyID(line[i:j]) {
		return true
	}
	if j-i != len("-----BEGIN") {
		return false
	}
	hdr, body, _, ok := privateKeyBlock(line, i)
	if !ok {
		return false
	}
	sc.fields(line[i:hdr])
	sc.space()
	for body > hdr && isSpaceByte(line[body-1]) {
		body-- // the separator before the END line is scan's to write
	}
	sc.skip = body - j
	return true
}

// fields writes the whitespace-separated words of s, one space apart.
func (sc *scanState) fields(s string) {
	first := true
	for q := 0; q < len(s); {
		for q < len(s) && isSpaceByte(s[q]) {
			q++
		}
		r := q
		for r < len(s) && !isSpaceByte(s[r]) {
			r++
		}
		if r > q {
			if !first {
				sc.space()
			}
			sc.word(s[q:r])
			first = false
		}
		q = r
	}
}

// isJWT: three base64url segments, the first starting "eyJ" ({" in base64).
func isJWT(s string, i int) bool {
	if !strings.HasPrefix(s[i:], "eyJ") {
		return false
	}
	dots := 0
	for j := i; j < len(s) && !isSpaceByte(s[j]); j++ {
		c := s[j]
		if c == '.' {
			dots++
		} else if !(isAlphaB(c) || isDigitB(c) || c == '-' || c == '_' || c == '=') {
			break
		}
	}
	return dots == 2
}

// isEmail: local@domain.tld at i.
func isEmail(s string, i int) bool {
	j := i
	for j < len(s) && (isAlphaB(s[j]) || isDigitB(s[j]) || s[j] == '.' || s[j] == '_' || s[j] == '%' || s[j] == '+' || s[j] == '-') {
		j++
	}
	if j == i || j >= len(s) || s[j] != '@' {
		return false
	}
	j++
	st, dot := j, false
	for j < len(s) && (isAlphaB(s[j]) || isDigitB(s[j]) || s[j] == '.' || s[j] == '-') {
		if s[j] == '.' && j > st && j+1 < len(s) && isAlphaB(s[j+1]) {
			dot = true
		}
		j++
	}
	return dot
}

// The span rules (rules, default_rules.go): values that may contain
// delimiters or spaces. Each gets the value's start i and the end k of its
// raw word (up to a space or delimiter), and returns the end of the value.

// matchURL: scheme://... up to a space, quote or closing bracket.
func matchURL(s string, i, k int, _ uint16) (int, bool) {
	n := len(s)
	if k+2 < n && s[k] == ':' && s[k+1] == '/' && s[k+2] == '/' && validScheme(s[i:k]) {
		j := k + 3
		for j < n && !isSpaceByte(s[j]) && s[j] != '"' && s[j] != '\'' && s[j] != ']' && s[j] != ')' {
			j++
		}
		return j, true
	}
	return 0, false
}

// matchUserAgent: a User-Agent header as access logs quote it, from the
// quote before the word to the quote that closes it: products ("curl/8.5.0",
// "Safari/537.36", "Gecko") and comments in parentheses ("(X11; Linux
// x86_64)"), the first a name and a version with a digit (RFC 9110 §10.1.5).
// The whole string is one value: its words vary in number from one client to
// the next, so word by word one request event was a template per browser.
func matchUserAgent(s string, i, k int, _ uint16) (int, bool) {
	if i == 0 || s[i-1] != '"' || !isProduct(s[i:k], true) {
		return 0, false
	}
	for j := k; j < len(s); {
		switch c := s[j]; {
		case c == '"':
			return j, true
		case c == ' ':
			j++
		case c == '(':
			e := strings.IndexAny(s[j:], ")\"")
			if e < 0 || s[j+e] != ')' {
				return 0, false
			}
			j += e + 1
		default:
			e := j
			for e < len(s) && s[e] != ' ' && s[e] != '"' {
				e++
			}
			if !isProduct(s[j:e], false) {
				return 0, false
			}
			j = e
		}
	}
	return 0, false // no closing quote
}

// isProduct reports whether w is a User-Agent product: a token of letters,
// digits and "-._+!", starting with a letter, with a "/version" after it
// that, when versioned, must hold a digit.
func isProduct(w string, versioned bool) bool {
	name, version, slash := strings.Cut(w, "/")
	if name == "" || !isAlphaB(name[0]) || versioned && (!slash || !hasDigit(version)) || slash && version == "" {
		return false
	}
	for _, part := range []string{name, version} {
		for q := 0; q < len(part); q++ {
			if c := part[q]; !isAlphaB(c) && !isDigitB(c) && !strings.ContainsRune("-._+!", rune(c)) {
				return false
			}
		}
	}
	return true
}

// matchUNCPath: \\server\share, \\?\X.
func matchUNCPath(s string, i, _ int, _ uint16) (int, bool) {
	if i+2 < len(s) && s[i] == '\\' && s[i+1] == '\\' {
		return windowsPathEnd(s, i), true
	}
	return 0, false
}

// matchDrivePath: C:\dir.
func matchDrivePath(s string, i, _ int, _ uint16) (int, bool) {
	if i+2 < len(s) && isAlphaB(s[i]) && s[i+1] == ':' && s[i+2] == '\\' {
		return windowsPathEnd(s, i), true
	}
	return 0, false
}

// windowsPathEnd returns the end of the Windows path whose first two bytes
// stand at s[i:]: a space, quote, comma or closing bracket ends it, and a
// trailing ':' or '.' is not part of it.
func windowsPathEnd(s string, i int) int {
	j := i + 2
	for j < len(s) && !isSpaceByte(s[j]) && s[j] != '"' && s[j] != '\'' && s[j] != ',' && s[j] != ')' && s[j] != ']' {
		j++
	}
	for j > i+2 && (s[j-1] == ':' || s[j-1] == '.') {
		j--
	}
	return j
}

// matchAbsPath: an absolute path, which may hold ':' (/10.0.0.1:50010)
// and, in a request line, the protocol after it ("/x HTTP/1.1", and the
// root "/ HTTP/1.1").
func matchAbsPath(s string, i, k int, _ uint16) (int, bool) {
	n := len(s)
	if s[i] == '/' && (i+1 < n && !isSpaceByte(s[i+1]) || protocolAfter(s, i+1) > 0) {
		j := k // the raw word's bytes are path bytes: the path goes on from its end
		for j < n && !isSpaceByte(s[j]) && !(isDelim(s[j]) && s[j] != ':' && s[j] != '=') {
			j++
		}
		for j > i+1 && (s[j-1] == ':' || s[j-1] == '.') {
			j--
		}
		if e := protocolAfter(s, j); e > 0 {
			j = e
		}
		return j, true
	}
	return 0, false
}

// matchIPv4Port: an IPv4 address, with its ":port" if any.
func matchIPv4Port(s string, i, _ int, _ uint16) (int, bool) {
	n := len(s)
	j, ok := matchIPv4(s, i)
	if !ok {
		return 0, false
	}
	if j+1 < n && s[j] == ':' && isDigitB(s[j+1]) {
		j++
		for j < n && isDigitB(s[j]) {
			j++
		}
	}
	return endOrStop(s, j)
}

// matchClockSpan: a clock time (matchClock) that ends a value.
func matchClockSpan(s string, i, _ int, _ uint16) (int, bool) {
	if j, ok := matchClock(s, i); ok {
		return endOrStop(s, j)
	}
	return 0, false
}

// matchIPv6Span: an IPv6 address (matchIPv6) that ends a value.
func matchIPv6Span(s string, i, _ int, _ uint16) (int, bool) {
	if j, ok := matchIPv6(s, i); ok {
		return endOrStop(s, j)
	}
	return 0, false
}

// spanStop, returned by a span rule with false, says the word has the
// rule's shape but is not a value ("12:03:04.5+01" is a clock glued to
// more): no later rule is tried.
const spanStop = -1

// endOrStop is spanEnd, but spanStop where the value does not end at j.
func endOrStop(s string, j int) (int, bool) {
	if e, ok := spanEnd(s, j); ok {
		return e, true
	}
	return spanStop, false
}

// protocolAfter returns the end of the protocol of a request line at s[j:],
// whitespace then "HTTP/" and a version of digits and dots, with a byte
// after the slash; or 0. Any whitespace counts, as the scanner writes every
// run of it as one space: a second scan of its output must find the same.
func protocolAfter(s string, j int) int {
	k := j
	for k < len(s) && isSpaceByte(s[k]) {
		k++
	}
	if k == j || k+5 >= len(s) || s[k:k+5] != "HTTP/" {
		return 0
	}
	k += 5
	for k < len(s) && (isDigitB(s[k]) || s[k] == '.') {
		k++
	}
	return k
}

func spanEnd(s string, j int) (int, bool) {
	if j >= len(s) || isSpaceByte(s[j]) || isDelim(s[j]) || s[j] == '.' || s[j] == '/' {
		return j, true
	}
	return 0, false
}

func matchIPv4(s string, i int) (int, bool) {
	j := i
	for part := 0; part < 4; part++ {
		st := j
		for j < len(s) && isDigitB(s[j]) && j-st < 3 {
			j++
		}
		if j == st {
			return 0, false
		}
		if part < 3 {
			if j >= len(s) || s[j] != '.' {
				return 0, false
			}
			j++
		}
	}
	if j < len(s) && (isDigitB(s[j]) || isAlphaB(s[j]) || s[j] == '-' || s[j] == '_') {
		return 0, false
	}
	if j+1 < len(s) && s[j] == '.' && (isAlphaB(s[j+1]) || isDigitB(s[j+1])) {
		return 0, false // a host name such as 1.2.3.4.example.net
	}
	return j, true
}

// matchHostPort: a host name holding a digit or a dot (possibly host/ip),
// then ':' and a port of 1 to 5 digits.
func matchHostPort(s string, i, k int, seen uint16) (int, bool) {
	// The host's bytes are word bytes, so the host ends at k, the raw
	// word's end, and the port follows: without a digit there, no match
	// (the long "org.apache.x.Y:" names of Java loggers).
	if k+1 >= len(s) || s[k] != ':' || !isDigitB(s[k+1]) {
		return 0, false
	}
	// The host is the raw word s[i:k], seen its class union: letters,
	// digits, '.', '-', '_' and '/', with a digit or a '.', 2 bytes or
	// more, not ending in '.'. Only '_' and '/' share a class with bytes
	// a host cannot hold ('#', other punctuation): then the bytes are read.
	j := k
	if seen&(bDigit|bDot) == 0 || seen&(bAt|bSpecial) != 0 || k-i < 2 || s[k-1] == '.' {
		return 0, false
	}
	if seen&(bMark|bOther) != 0 {
		for q := i; q < k; q++ {
			if c := s[q]; byteClass[c]&(bMark|bOther) != 0 && c != '_' && c != '/' {
				return 0, false
			}
		}
	}
	if sourceFile(s[i:j]) {
		return 0, false // file:line, "ib_sm_sweep.c:1831": keep the file name
	}
	p := j + 1
	for p < len(s) && isDigitB(s[p]) {
		p++
	}
	if p == j+1 || p-j-1 > 5 {
		return 0, false
	}
	return spanEnd(s, p)
}

// matchClock: h:mm:ss or hh:mm:ss with optional fraction.
func matchClock(s string, i int) (int, bool) {
	j := clockPart(s, i)
	if j < 0 || j >= len(s) || s[j] != ':' {
		return 0, false
	}
	if j = clockPart(s, j+1); j < 0 || j >= len(s) || s[j] != ':' {
		return 0, false
	}
	if j = clockPart(s, j+1); j < 0 {
		return 0, false
	}
	if j+1 < len(s) && (s[j] == '.' || s[j] == ',') && isDigitB(s[j+1]) {
		j++
		for j < len(s) && isDigitB(s[j]) {
			j++
		}
	}
	return j, true
}

// clockPart returns the end of the one or two digits at s[j:], or -1.
func clockPart(s string, j int) int {
	if j >= len(s) || !isDigitB(s[j]) {
		return -1
	}
	if j+1 < len(s) && isDigitB(s[j+1]) {
		return j + 2
	}
	return j + 1
}

// twoDigits reports whether s[j] and s[j+1], both within s, are digits.
func twoDigits(s string, j int) bool {
	return byteClass[s[j]]&byteClass[s[j+1]]&bDigit != 0
}

// matchISOTime: 2006-01-02, optionally followed by T or ' ' and a clock
// time and a zone (Z, +hh:mm, -hhmm).
func matchISOTime(s string, i, _ int, _ uint16) (int, bool) {
	digits := func(j, n int) bool { return j+n <= len(s) && allDigits(s[j:j+n]) }
	// The date's 10 bytes at once: 4 digits, '-', 2, '-', 2.
	if i+10 > len(s) || s[i+4] != '-' || s[i+7] != '-' || !allDigits(s[i:i+4]) || !twoDigits(s, i+5) || !twoDigits(s, i+8) {
		return 0, false
	}
	j := i + 10
	if j+1 < len(s) && (s[j] == 'T' || s[j] == ' ') {
		if k, ok := matchClock(s, j+1); ok {
			j = k
			if j < len(s) && s[j] == 'Z' {
				j++
			} else if j+3 <= len(s) && (s[j] == '+' || s[j] == '-') && digits(j+1, 2) {
				j += 3
				if j+3 <= len(s) && s[j] == ':' && digits(j+1, 2) {
					j += 3
				} else if digits(j, 2) {
					j += 2
				}
			}
		}
	}
	return spanEnd(s, j)
}

func matchIPv6(s string, i int) (int, bool) {
	j, colons, hexd, run := i, 0, 0, 0
	for j < len(s) && (isHexB(s[j]) || s[j] == ':') {
		if s[j] == ':' {
			colons++
			run = 0
		} else {
			hexd++
			if run++; run > 4 {
				return 0, false
			}
		}
		j++
	}
	if colons < 2 || hexd == 0 || j-i < 3 {
		return 0, false
	}
	if j < len(s) && (isAlphaB(s[j]) || isDigitB(s[j])) {
		return 0, false
	}
	return j, true
}

func isMonth(w string) bool {
	switch w {
	case "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec":
		return true
	}
	return false
}

func isWeekday(w string) bool {
	switch w {
	case "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun":
		return true
	}
	return false
}

// nameAt reports whether a 3-letter word of the given kind stands at s[i:].
func nameAt(s string, i int, is func(string) bool) bool {
	if i+3 > len(s) || i+3 < len(s) && !isSpaceByte(s[i+3]) {
		return false
	}
	return is(s[i : i+3])
}

// matchSyslogTime: [Mon ]Jan _2 15:04:05[ 2006].
func matchSyslogTime(s string, i, _ int, _ uint16) (int, bool) {
	j := i
	if nameAt(s, j, isWeekday) {
		j += 3
		for j < len(s) && s[j] == ' ' {
			j++
		}
	}
	if !nameAt(s, j, isMonth) {
		return 0, false
	}
	j += 3
	for j < len(s) && s[j] == ' ' {
		j++
	}
	st := j
	for j < len(s) && isDigitB(s[j]) {
		j++
	}
	if j == st || j-st > 2 || j >= len(s) || s[j] != ' ' {
		return 0, false
	}
	k, ok := matchClock(s, j+1)
	if !ok {
		return 0, false
	}
	j = k
	if j+5 < len(s) && s[j] == ' ' && s[j+1] >= 'A' && s[j+1] <= 'Z' {
		// A zone between time and year: "19:02:14 EST 2004".
		z := j + 1
		for z < len(s) && z-j <= 5 && s[z] >= 'A' && s[z] <= 'Z' {
			z++
		}
		if z-j-1 >= 3 && z+5 <= len(s) && s[z] == ' ' && isDigitB(s[z+1]) && isDigitB(s[z+2]) && isDigitB(s[z+3]) && isDigitB(s[z+4]) && (z+5 == len(s) || !isDigitB(s[z+5])) {
			j = z
		}
	}
	if j+5 <= len(s) && s[j] == ' ' && isDigitB(s[j+1]) && isDigitB(s[j+2]) && isDigitB(s[j+3]) && isDigitB(s[j+4]) && (j+5 == len(s) || !isDigitB(s[j+5])) {
		j += 5
	}
	return j, true
}

// otherWord writes a word with a digit that every check of scan kept as a
// word, after the rarer values tried only here: a kernel symbol with its
// offset keeps its name ("do_page_fault+<*>"); a date with slashes and a
// stack frame's bracketed address are values. They are tried only here,
// off scan's common path.
func (sc *scanState) otherWord(w string) {
	if p := symbolOffset(w); p > 0 {
		sc.word(w[:p+1])
		sc.variableGlued()
		return
	}
	if dateWord(w) || hexAddress(w) {
		sc.variable()
		return
	}
	sc.word(w)
}

// klogDate reports whether the 5-byte word at line[i:] is the date of a
// klog header: a severity letter (I, W, E, F), a month and day as MMDD,
// then a space and a clock ("I1125 17:40:07.123456"). Without the clock
// after it such a word is a name (a class, a code) and stays.
func klogDate(line string, i int) bool {
	if c := line[i]; c != 'I' && c != 'W' && c != 'E' && c != 'F' {
		return false
	}
	if !monthDay(line[i+1:i+5]) || i+8 > len(line) || line[i+5] != ' ' {
		return false
	}
	_, ok := matchClock(line, i+6)
	return ok
}

// monthDay reports whether s is 4 digits MMDD of a month 01..12 and a day
// 01..31.
func monthDay(s string) bool {
	if !allDigits(s) {
		return false
	}
	m, d := (s[0]-'0')*10+s[1]-'0', (s[2]-'0')*10+s[3]-'0'
	return m >= 1 && m <= 12 && d >= 1 && d <= 31
}

// dateWord reports whether w is a date written with slashes: YYYY/MM/DD
// (Go's log package, nginx's error log), DD/MM/YYYY or MM/DD/YYYY, and
// DD/Mon/YYYY (the common log format).
func dateWord(w string) bool {
	switch {
	case len(w) == 10 && w[4] == '/' && w[7] == '/':
		return allDigits(w[:4]) && allDigits(w[5:7]) && allDigits(w[8:])
	case len(w) == 10 && w[2] == '/' && w[5] == '/':
		return allDigits(w[:2]) && allDigits(w[3:5]) && allDigits(w[6:])
	case len(w) == 11 && w[2] == '/' && w[6] == '/':
		return allDigits(w[:2]) && isMonth(w[3:6]) && allDigits(w[7:])
	}
	return false
}

// hexAddress reports whether w is a bracketed address of a kernel stack
// frame: '<', 8 or more hex digits, '>' ("[<0211476a>]",
// "[<ffffffff8101a2b3>]").
func hexAddress(w string) bool {
	return len(w) >= 10 && w[0] == '<' && w[len(w)-1] == '>' && allHex(w[1:len(w)-1])
}

// symbolOffset returns the index of the '+' of a kernel symbol with its
// offset, "do_page_fault+0x362/0x446" or "ext4_readdir+0x2a": a name of
// letters, digits, '_' and '.', with a letter or '_', then "+0x" hex and
// optionally "/0x" hex (the function's length). The offset and length
// vary between kernel builds; the symbol names the event. It returns -1
// for any other word.
func symbolOffset(w string) int {
	p := strings.IndexByte(w, '+')
	if p <= 0 || !hexNumAt(w, p+1) {
		return -1
	}
	e := p + 3
	for e < len(w) && isHexB(w[e]) {
		e++
	}
	if e < len(w) {
		if w[e] != '/' || !hexNumAt(w, e+1) {
			return -1
		}
		e += 3
		for e < len(w) && isHexB(w[e]) {
			e++
		}
		if e < len(w) {
			return -1
		}
	}
	name := false
	for q := 0; q < p; q++ {
		switch c := w[q]; {
		case isAlphaB(c) || c == '_':
			name = true
		case isDigitB(c) || c == '.':
		default:
			return -1
		}
	}
	if !name {
		return -1
	}
	return p
}

// hexNumAt reports whether "0x" and a hex digit stand at w[i:].
func hexNumAt(w string, i int) bool {
	return i+2 < len(w) && w[i] == '0' && w[i+1]|0x20 == 'x' && isHexB(w[i+2])
}

// prefixNum finds "word-123" or "word.123" (letters and '_', not ending
// in '_', then one '-' or '.', then digits: "__write_block_invoke.434")
// and returns the index of the separator, or -1: the word stays, the number
// is masked ("node-<*>", "core.<*>").
//
// seen is the union of w's byte classes: without a '-' or '.' it is -1
// at once.
func prefixNum(w string, seen uint16) int {
	if seen&(bDash|bDot) == 0 {
		return -1
	}
	k := 0
	for k < len(w) && (isAlphaB(w[k]) || w[k] == '_') {
		k++
	}
	if k == 0 || k+1 >= len(w) || w[k] != '-' && w[k] != '.' || w[k-1] == '_' {
		return -1
	}
	for q := k + 1; q < len(w); q++ {
		if !isDigitB(w[q]) {
			return -1
		}
	}
	return k
}

// isVarWord classifies a word without delimiters: a path, a number (signed,
// decimal, with a short unit: 41C, 15GB, 160ms), a duration (1h2m3s), 0x hex,
// a hex id or UUID (8+ hex digits), or an identifier with a numeric or long
// hex part (blk_-42, job_1445_0020, 2.6.5-1.358, cri-containerd-<64 hex>.scope).
//
// seen is the union of w's byte classes (classesOf): the checks it rules
// out are skipped.
func isVarWord(w string, seen uint16) bool {
	if len(w) == 0 {
		return false
	}
	if w[0] == '/' && len(w) > 1 {
		return true
	}
	if seen&bDigit == 0 {
		return false
	}
	i := 0
	if w[0] == '-' || w[0] == '+' {
		i++
	}
	if i < len(w) && isDigitB(w[i]) {
		j := i
		for j < len(w) && (isDigitB(w[j]) || w[j] == '.' || w[j] == ',') {
			j++
		}
		k := j
		for k < len(w) && (isAlphaB(w[k]) || w[k] == '%') {
			k++
		}
		if k == len(w) && k-j <= 3 || isDuration(w[i:]) {
			return true
		}
	}
	if len(w) > 2 && w[0] == '0' && w[1]|0x20 == 'x' {
		ok := true
		for k := 2; k < len(w); k++ {
			if !isHexB(w[k]) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	hx, ok := 0, seen&^(bDigit|bAlpha|bHex|bDash) == 0
	for k := 0; ok && k < len(w); k++ {
		if isHexB(w[k]) {
			hx++
		} else if w[k] != '-' {
			ok = false
			break
		}
	}
	if ok && (hx >= 8 || hx >= 5 && hx == len(w) && shortHexID(w)) {
		return true
	}
	if seen&(bDot|bDash|bAt|bMark) == 0 {
		// One segment, w itself.
		if allDigits(w) || len(w) >= 16 && allHex(w) {
			return true
		}
		return len(w) == 20 && w[0] == 'A' && awsKeyID(w)
	}
	// The segments between '.', '-', '@', '_' and '#', in one pass that
	// counts each one's digits: a number, or a long hex id (a container's).
	st, digits := 0, 0
	for k := 0; k < len(w); k++ {
		cl := byteClass[w[k]]
		if cl&(bDot|bDash|bAt|bMark) == 0 {
			digits += int(cl/bDigit) & 1
			continue
		}
		if k > st && (digits == k-st || k-st >= 16 && allHex(w[st:k])) {
			return true
		}
		st, digits = k+1, 0
	}
	if len(w) > st && (digits == len(w)-st || len(w)-st >= 16 && allHex(w[st:])) {
		return true
	}
	return len(w) == 20 && w[0] == 'A' && awsKeyID(w)
}

// shortHexID reports whether w, 5 to 7 hex digits, is a hex id: it has
// both a decimal digit and a letter ("19abed0", "186A7"), and when it is
// letters then digits, 6 or more digits ("a485420"): with fewer it is a
// name or a code ("e1000", "E1325", the key type "ED25519"), as "an14"
// is. Four hex digits or fewer stay words ("e820", "ee0"); letters alone
// are a word, digits alone a number.
func shortHexID(w string) bool {
	digits := 0
	for i := 0; i < len(w); i++ {
		if isDigitB(w[i]) {
			digits++
		}
	}
	if digits == 0 || digits == len(w) {
		return false
	}
	p := nameNum(w)
	return p < 0 || len(w)-p >= 6
}

// plainNumber reports whether the word line[i:k], of digits only (its class
// union is bDigit|bHex), is a number no span goes on from: no ':' after it
// that a clock, host:port, IPv6 or URL could continue (those need a hex
// digit, ':' or '/' after it; "(110: Connection timed out)" has none). scan
// and plainRun share it, so both write such a number alike.
func plainNumber(line string, k int) bool {
	if k+1 < len(line) && line[k] == ':' {
		if c := line[k+1]; byteClass[c]&bHex != 0 || c == ':' || c == '/' {
			return false
		}
	}
	return true
}

// allDigits reports whether w is all '0'..'9'.
func allDigits(w string) bool {
	for i := 0; i < len(w); i++ {
		if !isDigitB(w[i]) {
			return false
		}
	}
	return true
}

func allHex(w string) bool {
	for i := 0; i < len(w); i++ {
		if !isHexB(w[i]) {
			return false
		}
	}
	return true
}

// classesOf returns the union of the byte classes of w.
func classesOf(w string) uint16 {
	var seen uint16
	for i := 0; i < len(w); i++ {
		seen |= byteClass[w[i]]
	}
	return seen
}

// isDuration: one or more number+unit pairs, units h m s ms us ns d.
func isDuration(w string) bool {
	i, pairs := 0, 0
	for i < len(w) {
		st := i
		for i < len(w) && (isDigitB(w[i]) || w[i] == '.') {
			i++
		}
		if i == st {
			return false
		}
		u := i
		for i < len(w) && isAlphaB(w[i]) {
			i++
		}
		switch w[u:i] {
		case "h", "m", "s", "ms", "us", "ns", "d":
			pairs++
		default:
			return false
		}
	}
	return pairs > 0
}

// validScheme: a URL scheme (letters, digits, '+', '-', '.'), e.g. akka.tcp.
func validScheme(w string) bool {
	for i := 0; i < len(w); i++ {
		if c := w[i]; !isAlphaB(c) && !isDigitB(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return len(w) > 0
}

// nameNum returns the length of the letter stem of a name made of letters
// then digits ("an14", "cn304"), or -1.
func nameNum(w string) int {
	k := 0
	for k < len(w) && isAlphaB(w[k]) {
		k++
	}
	if k == 0 || k == len(w) {
		return -1
	}
	for q := k; q < len(w); q++ {
		if !isDigitB(w[q]) {
			return -1
		}
	}
	return k
}

// restatedQuantity drops a quantity in parentheses that restates the one
// just written in another unit ("1190 bytes (1.16 KB)" → "<*> bytes"): the
// parenthesis is printed only for some values, so keeping it would give one
// event two token counts. line[i] is the digit after the '('; dst must end
// "<*> unit (" where unit is a unitWord. It returns the index after the ')',
// or 0 (nothing changed).
func (sc *scanState) restatedQuantity(line string, i int) int {
	j := i
	for j < len(line) && (isDigitB(line[j]) || line[j] == '.' || line[j] == ',') {
		j++
	}
	if j >= len(line) || line[j] != ' ' {
		return 0
	}
	u := j + 1
	e := u
	for e < len(line) && isAlphaB(line[e]) {
		e++
	}
	if e >= len(line) || line[e] != ')' || !unitWords[line[u:e]] {
		return 0
	}
	// What was written: "<*> unit" then the pending " (".
	d := sc.dst
	if sc.pend < 1 || string(d[sc.pend:]) != " (" {
		return 0
	}
	w := sc.pend
	b := w
	for b > 0 && d[b-1] != ' ' {
		b--
	}
	if !unitWords[string(d[b:w])] || b < len(wildcard)+1 || string(d[b-len(wildcard)-1:b]) != wildcard+" " {
		return 0
	}
	sc.dst = d[:w]
	sc.popSpaces(w)
	sc.sepClean = true
	return e + 1
}

// isBound: '<' or '>' glued to a number ("<1", ">100", "<0.5").
func isBound(w string) bool {
	if len(w) < 2 {
		return false
	}
	for k := 1; k < len(w); k++ {
		if !isDigitB(w[k]) && (w[k] != '.' || k == 1) {
			return false
		}
	}
	return true
}

// unitAfter returns the end of a unitWord that follows line[:j] after one
// space ("<1 sec"), or 0.
func unitAfter(line string, j int) int {
	if j+1 >= len(line) || line[j] != ' ' {
		return 0
	}
	e := j + 1
	for e < len(line) && isAlphaB(line[e]) {
		e++
	}
	if !wordEnds(line, e) || !unitWords[line[j+1:e]] {
		return 0
	}
	return e
}

// isLiteral: true, false or null in any case, the values of flags and
// unset fields ("setLightsOn(true)", "ws=null").
func isLiteral(w string) bool {
	// A byte ORed with 0x20 equals a lower-case letter only when it is that
	// letter in either case: one OR and compare folds the case of 4 bytes.
	word := func(s string) uint32 {
		return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
	}
	const fold = 0x20202020
	switch len(w) {
	case 4:
		x := word(w) | fold
		return x == 't'|'r'<<8|'u'<<16|'e'<<24 || x == 'n'|'u'<<8|'l'<<16|'l'<<24
	case 5:
		return word(w)|fold == 'f'|'a'<<8|'l'<<16|'s'<<24 && w[4]|0x20 == 'e'
	}
	return false
}

// sourceFile reports whether name ends in a source file extension that no
// DNS name has: one letter (.c, .h, .m), cpp or cxx. Such a name before
// ":digits" is a file and line, not host:port. (.java was tried: Java stack
// frames "(X.java:49)" then split the plugin samples' exception events.)
func sourceFile(name string) bool {
	d := strings.LastIndexByte(name, '.')
	if d < 1 {
		return false
	}
	switch ext := name[d+1:]; {
	case len(ext) == 1:
		return isAlphaB(ext[0])
	case len(ext) < 2 || len(ext) > 5:
		return false
	default:
		switch ext {
		case "cpp", "cxx":
			return true
		}
	}
	return false
}
