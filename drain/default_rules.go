package drain

import "math/bits"

// The default scanner's masking rules. A rule is one recogniser plus a
// gate: the bytes a match can start with, the lengths of the raw word at
// that position (the bytes up to a space or delimiter) it can have, and
// what else it needs (a ':' right after the word, a digit, '.' or '-' in
// it), and for a span rule the byte classes its raw word can hold (want,
// forbid: the word's class union, which the scanner has at hand, excludes
// most words a rule would only reject). The gates are folded at start-up
// into tables, one indexed by the first byte, one by the length and one
// by the class union and what follows the word, so that the scanner asks a
// rule only when all admit it, and plainRun, which copies runs of plain words
// without classifying each, stops before any word some rule's gate
// admits (and its plain check, if any, claims). rules is the one place
// both consult.
//
// To add a rule: write its recogniser (next to the others in
// default_scan.go), give it a gate that admits every word it can match
// (FuzzRuleGates checks this on the fuzz corpus), add it to rules at the
// place its precedence calls for (span rules are tried in this order, the
// first match wins), and add rows to TestRules.
type rule struct {
	name  string
	kind  ruleKind
	first string // the bytes a match can start with
	lens  lenSet // the raw word lengths it can have
	need  ruleNeed

	// span, for a span rule: the end of the value starting at s[i], whose
	// raw word ends at k and has the class union seen; the value may run
	// past k (a URL, a timestamp).
	span func(s string, i, k int, seen uint16) (int, bool)
	// word, for a word rule: whether the word line[i:j] (letters and
	// punctuation, no digit) is a value; it may write more (secretWord).
	word func(sc *scanState, line string, i, j int) bool
	// plain, if set, is the exact test plainRun applies when the gate
	// admits a plain word (letters and dashes): it stops only before a word
	// plain claims. Without it plainRun stops on the gate alone.
	plain func(w string) bool

	// want and forbid, for a span rule, are byteClass bits of the raw
	// word's bytes: a match holds at least one of want (when not 0) and
	// none of forbid. Both must follow from the recogniser (FuzzRuleGates).
	want, forbid uint16
}

type ruleKind uint8

const (
	spanRule   ruleKind = iota // tried at a word's start, before it is classified
	wordRule                   // a word without digits that is a value as a whole
	secretRule                 // decides secretValue's trigger; the value is masked
	schemeRule                 // a word whose next word secretValue masks ("Bearer x")
)

type ruleNeed uint8

const (
	needColon  ruleNeed = 1 << iota // a ':' right after the raw word
	needMarked                      // a digit, '.' or '-' in the raw word
	needSlash                       // ":/" right after the raw word (a URL's "://")
)

// lenSet is a set of raw word lengths: bit n for length n, bit 63 for 63
// and more.
type lenSet uint64

func lensOf(ns ...int) lenSet {
	var l lenSet
	for _, n := range ns {
		l |= 1 << min(n, 63)
	}
	return l
}

// lensFrom is every length from n on.
func lensFrom(n int) lenSet { return ^lenSet(0) << n }

const anyLen = ^lenSet(0)

// Byte sets of the gates.
const (
	asciiLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	asciiDigits  = "0123456789"
)

// rules, in precedence order among rules of a kind.
var rules = [...]rule{
	// Span rules, in the order matchSpan tries them.
	// The scheme: letters, digits, '+', '-', '.'.
	{name: "url", kind: spanRule, first: asciiLetters + asciiDigits + "+-.", lens: anyLen, need: needColon | needSlash, span: matchURL,
		forbid: bAt | bMark | bSpecial},
	{name: "unc path", kind: spanRule, first: `\`, lens: anyLen, span: matchUNCPath},
	{name: "drive path", kind: spanRule, first: asciiLetters, lens: lensOf(1), need: needColon, span: matchDrivePath},
	{name: "absolute path", kind: spanRule, first: "/", lens: anyLen, span: matchAbsPath},
	// A weekday or month name alone.
	{name: "syslog time", kind: spanRule, first: "MTWFSJAOND", lens: lensOf(3), span: matchSyslogTime,
		plain:  func(w string) bool { return isMonth(w) || isWeekday(w) },
		forbid: bDigit | bDot | bDash | bAt | bMark | bSpecial},
	// The date's '-' is within the first 10 bytes.
	{name: "iso time", kind: spanRule, first: asciiDigits, lens: lensFrom(10), need: needMarked, span: matchISOTime,
		want: bDash},
	{name: "ipv4", kind: spanRule, first: asciiDigits, lens: anyLen, need: needMarked, span: matchIPv4Port,
		want: bDot},
	// The hour alone, its ':' ends the raw word.
	{name: "clock", kind: spanRule, first: asciiDigits, lens: lensOf(1, 2), need: needColon | needMarked, span: matchClockSpan,
		forbid: bAlpha | bDot | bDash | bAt | bMark | bSpecial},
	// The host: letters, digits, '.', '-', '_', '/', with a digit or '.'.
	{name: "host:port", kind: spanRule, first: asciiLetters + asciiDigits + ".-_/", lens: anyLen, need: needColon | needMarked, span: matchHostPort,
		want: bDigit | bDot, forbid: bAt | bSpecial},
	// Hex digits up to the first ':'.
	{name: "ipv6", kind: spanRule, first: "0123456789abcdefABCDEF", lens: anyLen, need: needColon | needMarked, span: matchIPv6Span,
		forbid: bDot | bDash | bAt | bMark | bSpecial},
	// A quoted User-Agent: a product with a version first.
	{name: "user agent", kind: spanRule, first: asciiLetters, lens: lensFrom(3), need: needMarked, span: matchUserAgent,
		want: bDigit, forbid: bAt | bSpecial},

	// Word rules.
	{name: "literal", kind: wordRule, first: "tfnTFN", lens: lensOf(4, 5), word: wordLiteral, plain: isLiteral},
	{name: "aws key id", kind: wordRule, first: "A", lens: lensOf(20), word: wordSecret, plain: awsKeyID},
	{name: "private key", kind: wordRule, first: "-", lens: lensOf(10), word: wordSecret},

	// Secrets whose trigger is the word's own shape (secretValue). An
	// e-mail address needs an '@' and a keyed secret its separator: scan
	// asks for those by the word's bytes and the separator before it.
	{name: "jwt", kind: secretRule, first: "e", lens: lensFrom(21)},
	{name: "auth scheme", kind: schemeRule, first: "bB", lens: lensOf(5, 6)},
}

// ruleSet is a set of rules, bit x for rules[x].
type ruleSet uint32

var (
	ruleAt    [256]ruleSet // rules whose match can start with the byte
	ruleLen   [256]ruleSet // rules admitting a raw word of that length (255: or more)
	ruleKinds [4]ruleSet   // rules of each kind
	// The span rules allowed by what follows the raw word (0 nothing of
	// note, 1 ':', 2 ":/") and by its class union (seen>>2, 8 bits: the
	// union never holds bSpace or bDelim): their needs, want and forbid.
	spanShape [3][256]ruleSet
	plainStop ruleSet // rules plainRun must stop for

	// The kinds the scanner asks on every word, without an index.
	wordRules, secretRules, schemeRules ruleSet
)

func init() {
	for x, r := range rules {
		bit := ruleSet(1) << x
		for q := 0; q < len(r.first); q++ {
			ruleAt[r.first[q]] |= bit
		}
		for n := range ruleLen {
			if r.lens>>min(n, 63)&1 != 0 {
				ruleLen[n] |= bit
			}
		}
		ruleKinds[r.kind] |= bit
		for after := range spanShape {
			for u := range spanShape[after] {
				if r.kind == spanRule && spanAdmits(&r, after, uint16(u)<<2) {
					spanShape[after][u] |= bit
				}
			}
		}
		// plainRun's words have no digit, '.' or ':' after them: rules that
		// need those never claim one, and it stops before such words anyway.
		if r.need == 0 && r.kind != schemeRule {
			plainStop |= bit
		}
	}
	wordRules, secretRules, schemeRules = ruleKinds[wordRule], ruleKinds[secretRule], ruleKinds[schemeRule]
}

// lenRules returns the rules admitting a raw word of n bytes.
func lenRules(n int) ruleSet { return ruleLen[uint8(min(n, 255))] }

// gate returns the rules whose gate admits the raw word s[i:k], among m.
func gate(s string, i, k int, m ruleSet) ruleSet {
	return m & ruleAt[s[i]] & lenRules(k-i)
}

// spanAdmits reports whether the span rule r may match a raw word whose
// class union is seen, followed by after (see spanShape).
func spanAdmits(r *rule, after int, seen uint16) bool {
	switch {
	case r.need&needColon != 0 && after == 0,
		r.need&needSlash != 0 && after != 2,
		r.need&needMarked != 0 && seen&(bDigit|bDot|bDash) == 0,
		r.want != 0 && seen&r.want == 0,
		seen&r.forbid != 0:
		return false
	}
	return true
}

// spanGate returns the span rules to try at a word whose gate admits shape
// (ruleAt and lenRules of its raw word), followed by after (0, or 1 for a
// ':', 2 for ":/") and whose bytes' class union is seen.
func spanGate(shape ruleSet, after int, seen uint16) ruleSet {
	return shape & spanShape[after][seen>>2&255]
}

// matchSpan tries the span rules of m in order and returns the end of the
// first match, unless a rule stops the search first (spanStop).
func matchSpan(s string, i, k int, seen uint16, m ruleSet) (int, bool) {
	for ; m != 0; m &= m - 1 {
		j, ok := rules[bits.TrailingZeros32(uint32(m))].span(s, i, k, seen)
		if ok {
			return j, true
		}
		if j == spanStop {
			break
		}
	}
	return 0, false
}

// wordValue reports whether a word rule of m claims line[i:j].
func (sc *scanState) wordValue(line string, i, j int, m ruleSet) bool {
	for ; m != 0; m &= m - 1 {
		if rules[bits.TrailingZeros32(uint32(m))].word(sc, line, i, j) {
			return true
		}
	}
	return false
}

// plainClaimed reports whether a rule may claim the plain word w (letters
// and dashes, starting with a letter): plainRun stops before it.
func plainClaimed(w string) bool {
	for m := gate(w, 0, len(w), plainStop); m != 0; m &= m - 1 {
		if p := rules[bits.TrailingZeros32(uint32(m))].plain; p == nil || p(w) {
			return true
		}
	}
	return false
}

// schemeBefore reports whether the word line[ps:pe] may be an auth scheme
// whose next word is a secret ("Bearer x"): scan then asks secretValue,
// and plainRun stops.
func schemeBefore(line string, ps, pe int) bool {
	return lenRules(pe-ps)&schemeRules != 0 && ruleAt[line[ps]]&schemeRules != 0
}

func wordLiteral(_ *scanState, line string, i, j int) bool { return isLiteral(line[i:j]) }

func wordSecret(sc *scanState, line string, i, j int) bool { return sc.secretWord(line, i, j) }
