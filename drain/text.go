package drain

// The text step both presets share: the scratch memory, the tokenizer
// seam (the default tokenizer is in default_scan.go, the drain3 one in
// drain3_text.go), repairing and cutting lines.

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// wildcard is Drain3's param_str: a template slot that matches any token.
const wildcard = "<*>"

// lineInfo reports which bounds or repairs a line needed, for Stats.
type lineInfo uint8

const (
	infoCut       lineInfo = 1 << iota // longer than MaxLineBytes
	infoRepaired                       // invalid UTF-8 or NUL bytes
	infoTruncated                      // more than MaxTokens tokens
)

// scratch is the per-call working memory of the text step, pooled so that
// tokenising a known line allocates nothing. toks point into the line or buf.
type scratch struct {
	toks []string
	sigs []uint64 // sig of each of toks when the tokenizer computed them (drain3), else empty
	buf  []byte
	sc   scanState // the default tokenizer's, kept here so a line does not zero it
	// own: toks point only into buf, never into the caller's line, so
	// they need not be cleared before the scratch is reused.
	own bool
	// key is toks joined by single spaces when the tokenizer has it at
	// hand (the default one does), else ""; hash is its line-memo hash.
	key  string
	hash uint64
	// lazy: toks are still to be cut from buf, ntok of them (tokList).
	lazy bool
	ntok int
}

// tokList returns the line's tokens, cutting them first if need be.
func (s *scratch) tokList() []string {
	if s.lazy {
		s.cut()
	}
	return s.toks
}

// tokenizer is the text seam: raw line → tokens. Implementations must leave
// s.toks (or s.tokList(), when they set s.lazy) valid UTF-8 without NUL and
// at most MaxTokens long, and must not
// retain line (it may point into C memory valid only during the call).
type tokenizer interface {
	// tokens splits line into s.toks; with mask set, masking rules apply.
	tokens(s *scratch, line string, mask bool) lineInfo
	// mask returns line sanitised, cut and masked: what a stored sample looks like.
	mask(line string) string
}

// tokenizers maps Config.Tokenizer to a constructor.
var tokenizers = map[string]func(*Config) tokenizer{
	"":        newDrain3Tokenizer,
	"drain3":  newDrain3Tokenizer,
	"default": newDefaultTokenizer,
}

type compiledMask struct {
	re   *regexp.Regexp
	repl string
}

// sanitizeCut is the first step of every mask: line cut to max bytes,
// repaired (U+FFFD for invalid UTF-8, no NUL; repaired reports a new
// string), and cut again if the repair made it longer.
func sanitizeCut(line string, max int) (clean string, repaired bool) {
	if len(line) > max {
		line = cutUTF8(line, max)
	}
	clean, repaired = sanitize(line)
	if repaired && len(clean) > max {
		clean = cutUTF8(clean, max)
	}
	return clean, repaired
}

// compileMasks compiles the Config.Masks rules (Validate checked them).
func compileMasks(ms []Mask) []compiledMask {
	var out []compiledMask
	for _, mk := range ms {
		out = append(out, compiledMask{regexp.MustCompile(mk.Pattern), "<" + mk.Name + ">"})
	}
	return out
}

// applyMasks replaces every match of each rule in turn, as Drain3's
// RegexMasker does.
func applyMasks(masks []compiledMask, s string) string {
	for _, mk := range masks {
		s = mk.re.ReplaceAllLiteralString(s, mk.repl)
	}
	return s
}

// isPySpace is Python's str.isspace for one code point: Go's unicode.IsSpace
// plus the ASCII information separators U+001C..U+001F.
func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f
}

// sanitize returns s as valid UTF-8 without NUL bytes, and whether it had to
// change it. Each invalid byte becomes U+FFFD; NUL bytes are removed.
func sanitize(s string) (string, bool) {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s, false
	}
	b := appendSanitized(make([]byte, 0, len(s)+8), s)
	return unsafe.String(unsafe.SliceData(b), len(b)), true
}

func appendSanitized(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c != 0 {
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}

// cutUTF8 shortens s to at most max bytes without splitting a UTF-8 sequence.
func cutUTF8(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for j := 0; j < utf8.UTFMax && i > 0 && !utf8.RuneStart(s[i]); j++ {
		i--
	}
	return s[:i]
}

// hasDigit is Drain3's has_numbers: any(ch.isdigit() for ch in token).
func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			return true
		}
		if c >= utf8.RuneSelf {
			for _, r := range s[i:] {
				if r >= '0' && r <= '9' || r >= utf8.RuneSelf && (unicode.IsDigit(r) || unicode.Is(pyOtherDigits, r)) {
					return true
				}
			}
			return false
		}
	}
	return false
}

// pyOtherDigits are the characters for which Python's str.isdigit is true but
// that are not decimal digits (Nd): superscripts, circled digits, ...
// (Numeric_Type=Digit, from Python 3.11's unicodedata 14.0).
var pyOtherDigits = &unicode.RangeTable{
	R16: []unicode.Range16{
		{0xB2, 0xB3, 1}, {0xB9, 0xB9, 1}, {0x1369, 0x1371, 1}, {0x19DA, 0x19DA, 1},
		{0x2070, 0x2070, 1}, {0x2074, 0x2079, 1}, {0x2080, 0x2089, 1}, {0x2460, 0x2468, 1},
		{0x2474, 0x247C, 1}, {0x2488, 0x2490, 1}, {0x24EA, 0x24EA, 1}, {0x24F5, 0x24FD, 1},
		{0x24FF, 0x24FF, 1}, {0x2776, 0x277E, 1}, {0x2780, 0x2788, 1}, {0x278A, 0x2792, 1},
	},
	R32: []unicode.Range32{
		{0x10A40, 0x10A43, 1}, {0x10E60, 0x10E68, 1}, {0x11052, 0x1105A, 1}, {0x1F100, 0x1F10A, 1},
	},
	LatinOffset: 2,
}
