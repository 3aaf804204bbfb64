package drain

import (
	"strings"

	"github.com/awoooi/fluent-bit-drain/internal/wordeq"
)

// defaultScorer is the similarity and merge step of the "default" preset.
//
// Tokens come from defaultTokenizer, so a token may hold a variable inside
// it ("uid=<*>", "node-<*>"). A template token matches a line token when
// they are equal or the template's wildcards cover it. Similarity is the
// share of the template's constant tokens that match, but one mismatch
// between two word-like constants ("Started" vs "Paused", "cupsd" vs
// "syslogd") rules the candidate out: such words name events, not values.
// So does another key name ("num=…" against "topActivity=…"), and a
// mismatch between names of different letter stems when one has
// digits (HTTPS/SOCKS5, ee0/alt0; not eth0/eth1, nor aadmin1/badmin1).
// Values are exempt where the line says they are values: after '=' or a
// glued "key:", a quoted part glued to a key (pod="shop/web-1",
// object-"kube-system"/), the rest of a "KEY=value with spaces" field of a
// ";"-separated record, absolute DNS names (redis.cache.svc.cluster.local.),
// after a naming keyword (user, host, node, domain, for), a word closing a
// "label: value," field, and units
// after a number.
// Merging widens only the part of a token that differs, cut back to a
// delimiter, so "user=root" and "user=news" give "user=<*>".
type defaultScorer struct{}

// valueKeywords are words after which a word-like token is a value.
var valueKeywords = [...]string{"user", "host", "node", "domain", "for"}

// isValueKeyword reports whether w is one of valueKeywords in any ASCII
// case. It runs on every word mismatch, so it dispatches on the length
// first instead of five strings.EqualFold calls (15 % of a flush of varied
// lines in a profile).
func isValueKeyword(w string) bool {
	switch len(w) {
	case 3:
		return foldEq(w, "for")
	case 4:
		return foldEq(w, "user") || foldEq(w, "host") || foldEq(w, "node")
	case 6:
		return foldEq(w, "domain")
	}
	return false
}

// foldEq reports whether w equals k, a lower-case ASCII word of the same
// length, in any ASCII case: c|0x20 maps an upper-case letter to its lower
// case and nothing else onto a letter.
func foldEq(w, k string) bool {
	for i := 0; i < len(k); i++ {
		if w[i]|0x20 != k[i] {
			return false
		}
	}
	return true
}

// unitWords are units that may vary after a number ("5.2 KB", "160 B").
var unitWords = map[string]bool{"B": true, "KB": true, "MB": true, "GB": true, "TB": true, "KiB": true,
	"MiB": true, "GiB": true, "bytes": true, "ms": true, "s": true, "us": true, "ns": true, "sec": true,
	"secs": true, "seconds": true}

// isUnit reports whether s, less trailing ',', ';' and ')', is one of
// unitWords (as unitWords[strings.TrimRight(s, ",;)")], without building a
// cutset or hashing the word: it runs on every word mismatch after a
// "<*>"). TestIsUnit keeps the two lists equal.
func isUnit(s string) bool {
	for len(s) > 0 {
		if c := s[len(s)-1]; c != ',' && c != ';' && c != ')' {
			break
		}
		s = s[:len(s)-1]
	}
	switch len(s) { // unitWords, spelled out: a map lookup hashes the word
	case 1:
		return s == "B" || s == "s"
	case 2:
		switch s {
		case "KB", "MB", "GB", "TB", "ms", "us", "ns":
			return true
		}
	case 3:
		return s == "KiB" || s == "MiB" || s == "GiB" || s == "sec"
	case 4:
		return s == "secs"
	case 5:
		return s == "bytes"
	case 7:
		return s == "seconds"
	}
	return false
}

func (defaultScorer) best(cands []*cluster, toks []string, simTh float64) (*cluster, bool) {
	// The first template that covers the line wins (its share is 1, and
	// every earlier one's is below 1). Looking for it costs a token compare
	// per token up to the first difference; scoring takes a closer look at
	// each difference (hardMismatch), so it runs only when none covers.
	for _, c := range cands {
		if covers(c.tokens, toks) {
			return c, true
		}
	}
	var bestC *cluster
	bestSim, bestCovers := -1.0, false
	for _, c := range cands {
		s, covers := defaultSim(c, toks, simTh, bestSim)
		if s > bestSim {
			bestSim, bestC, bestCovers = s, c, covers
		}
		if covers {
			break // nothing scores higher, and ties go to the first
		}
	}
	if bestC != nil && bestSim >= simTh {
		return bestC, bestCovers
	}
	return nil, false
}

// defaultSim returns the share of c's constant tokens that match toks
// (1 when it has none), or -1 when a word-like constant is contradicted,
// and whether c's template covers toks as it is.
//
// It also returns -1 as soon as the mismatches so far keep the share below
// simTh or at most beat: best then ignores the candidate either way (it
// takes only a share above beat, and in the end only one of at least
// simTh), so the outcome is the same, with less work.
func defaultSim(c *cluster, toks []string, simTh, beat float64) (float64, bool) {
	tmpl := c.tokens
	toks = toks[:len(tmpl)]
	fixed := c.fixed // constant (non-"<*>") tokens of tmpl
	match, wild := 0, 0
	for i, t := range tmpl {
		l := toks[i]
		if isWildcard(t) {
			wild++
			continue
		}
		if wordeq.Equal(t, l) {
			match++
			continue
		}
		if tokenCovers(t, l) {
			match++
			continue
		}
		// The best share still possible: every later constant matching.
		// Checked first: it is cheaper than hardMismatch, which returns
		// the same.
		mism := i + 1 - match - wild
		if up := float64(fixed-mism) / float64(fixed); up < simTh || up <= beat {
			return -1, false
		}
		if hardMismatch(tmpl, toks, i) {
			return -1, false
		}
	}
	if match+wild == len(tmpl) {
		return 1, true
	}
	if fixed == 0 {
		return 1, false
	}
	return float64(match) / float64(fixed), false
}

// covers reports whether every token of tmpl is "<*>", equal to or covers
// its token of toks: what defaultSim reports as covering.
func covers(tmpl, toks []string) bool {
	toks = toks[:len(tmpl)]
	for i, t := range tmpl {
		if !isWildcard(t) && !wordeq.Equal(t, toks[i]) && !tokenCovers(t, toks[i]) {
			return false
		}
	}
	return true
}

// isWildcard is t == wildcard without a call to the runtime's memequal.
func isWildcard(t string) bool {
	return len(t) == 3 && t[0] == '<' && t[1] == '*' && t[2] == '>'
}

// hardMismatch reports whether tmpl[i] and toks[i] differ in a word-like
// part that is not a value.
func hardMismatch(tmpl, toks []string, i int) bool {
	t, l := tmpl[i], toks[i]
	p, s := commonEnds(t, l)
	if p > 0 && (t[p-1] == '=' || t[p-1] == ':' && p > 1 && isAlphaB(t[p-2])) {
		return false // a value: "key=value", "key:value"
	}
	if i > 0 && isValueKeyword(tmpl[i-1]) {
		return false
	}
	if i > 0 && labelValue(tmpl, i) {
		return false
	}
	if i > 0 && tmpl[i-1] == wildcard && isUnit(t) && isUnit(l) {
		return false
	}
	a, b := t[p:len(t)-s], l[p:len(l)-s]
	if !(a == "" || wordLike(a)) || !(b == "" || wordLike(b)) {
		if otherKey(a, b) {
			return true
		}
		if wa, wb := symbolEnds(a, b); wordLike(wa) && wordLike(wb) {
			// Words glued to a value by a symbol: the kernel's
			// "do_page_fault+<*>" against "schedule+<*>".
			a, b = wa, wb
		} else if !otherName(a, b) {
			return false
		}
	}
	// Word against word: decisive unless the line marks it as a value.
	// These checks run only here, on the rare word mismatches.
	if p > 1 && s > 0 && isQuote(t[p-1]) && t[len(t)-s] == t[p-1] {
		return false // a quoted value glued to a key: pod="shop/web-1", object-"kube-system"/
	}
	if seriesName(a, b) {
		return false // one of a lettered series: LNKA, LNKB, …
	}
	if hostLike(t) && hostLike(l) {
		return false // an absolute DNS name: redis.cache.svc.cluster.local.
	}
	return !inFieldValue(tmpl, i)
}

func isQuote(c byte) bool { return c == '"' || c == '\'' }

// inFieldValue reports whether tmpl[i] continues the value of a "key=value
// with spaces" field in a record whose fields are separated by standalone
// ";" tokens ("USER=root ; COMMAND=/usr/bin/systemctl restart kubelet"):
// such a value runs to the next ";" or the end of the line.
// It looks back at most maxFieldWords tokens.
func inFieldValue(tmpl []string, i int) bool {
	for j := i - 1; j > 0 && j >= i-maxFieldWords; j-- {
		switch {
		case tmpl[j] == ";":
			return false
		case strings.IndexByte(tmpl[j], '=') > 0:
			return tmpl[j-1] == ";"
		}
	}
	return false
}

// maxFieldWords bounds the words of a field value inFieldValue recognises,
// so a word mismatch costs O(1) whatever the line's length.
const maxFieldWords = 4

// hostLike: an absolute DNS name (a lower-case dotted name of two or more
// labels ending with its root dot, with a letter): resolvers log the names
// they look up. Dotted names without the root dot are not taken: they are
// as often logger or class names (nova.compute.manager), which name events.
func hostLike(s string) bool {
	for len(s) > 0 && isDelim(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	if len(s) < 4 || s[len(s)-1] != '.' {
		return false // the common case, decided without a scan
	}
	for len(s) > 0 && isDelim(s[0]) {
		s = s[1:]
	}
	dots, letter := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			if i == 0 || s[i-1] == '.' {
				return false
			}
			dots++
		case c >= 'a' && c <= 'z':
			letter = true
		case c >= '0' && c <= '9' || c == '-':
		default:
			return false
		}
	}
	return dots >= 2 && letter
}

// wordLike: letters with '.', '_' or '-' and no digit (names, not values).
func wordLike(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlphaB(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return len(s) > 0
}

// commonEnds returns the lengths of the common prefix and suffix of a and b,
// each cut back to end (start) at a delimiter so a word is never split.
func commonEnds(a, b string) (int, int) {
	return endsCut(a, b, &notDelim)
}

// symbolEnds cuts from a and b their common prefix and suffix that start
// (end) at a symbol, a byte no word or path holds (wordByte), and returns
// what differs: "do_page_fault" and "schedule" of "do_page_fault+<*>" and
// "schedule+<*>".
func symbolEnds(a, b string) (string, string) {
	p, s := endsCut(a, b, &wordBytes)
	return a[p : len(a)-s], b[p : len(b)-s]
}

// endsCut returns the lengths of the common prefix and suffix of a and b,
// each cut back while the byte at its inner end is inside (inner[c]): the
// prefix ends, and the suffix starts, at a byte inner does not hold. A
// table, not a func: a call per byte cost the cold path of new lines 2 %.
func endsCut(a, b string, inner *[256]bool) (int, int) {
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	for p > 0 && inner[a[p-1]] {
		p--
	}
	s := 0
	for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	for s > 0 && inner[a[len(a)-s]] {
		s--
	}
	return p, s
}

// notDelim holds the bytes commonEnds cuts through: all but delimiters and
// '.'. wordBytes holds those symbolEnds cuts through: a word's, or a
// path's, whose parts are values as often as names ("config/SAM",
// "config/SYSTEM").
var notDelim, wordBytes = func() (nd, wb [256]bool) {
	for c := range 256 {
		b := byte(c)
		nd[c] = !isDelim(b) && b != '.'
		wb[c] = byteClass[b]&(bAlpha|bDigit) != 0 || b == '.' || b == '_' || b == '-' || b == '/' || b == '\\'
	}
	return
}()

// maxGlob bounds the bytes tokenCovers will glob-match (its cost is
// O(len(t)*len(l)) at worst); longer tokens must match exactly.
const maxGlob = 512

// tokenCovers reports whether template token t matches line token l:
// equal, or equal once each "<*>" in t stands for any run of bytes.
func tokenCovers(t, l string) bool {
	if t == l || t == wildcard {
		return true
	}
	if !strings.Contains(t, wildcard) {
		return false
	}
	if len(t)+len(l) > maxGlob {
		return false // bound the matcher on hostile tokens; merge still widens
	}
	// Iterative glob with backtracking to the last wildcard: O(len(t)*len(l)).
	ti, li, star, mark := 0, 0, -1, 0
	for li < len(l) {
		switch {
		case strings.HasPrefix(t[ti:], wildcard):
			star, mark = ti, li
			ti += len(wildcard)
		case ti < len(t) && t[ti] == l[li]:
			ti++
			li++
		case star >= 0:
			mark++
			li = mark
			ti = star + len(wildcard)
		default:
			return false
		}
	}
	for strings.HasPrefix(t[ti:], wildcard) {
		ti += len(wildcard)
	}
	return ti == len(t)
}

func (defaultScorer) merge(tmpl, toks []string) bool {
	changed := false
	for i, t := range tmpl {
		if tokenCovers(t, toks[i]) {
			continue
		}
		p, s := commonEnds(t, toks[i])
		nt := wildcard
		if p > 0 || s > 0 {
			nt = t[:p] + wildcard + t[len(t)-s:]
		}
		if nt != t {
			tmpl[i] = nt
			changed = true
		}
	}
	return changed
}

// coversAll reports whether merge(tmpl, toks) would leave tmpl unchanged.
func coversAll(tmpl, toks []string) bool {
	for i, t := range tmpl {
		if !tokenCovers(t, toks[i]) {
			return false
		}
	}
	return true
}

// otherName reports whether a and b are names (letters, or letters then
// digits: HTTPS, SOCKS5, eth0), at least one with digits, whose letter stems
// differ: SOCKS5 against HTTPS names another event, as a word would, while
// eth0 against eth1 is a value (one stem).
func otherName(a, b string) bool {
	sa, sb := nameStem(a), nameStem(b)
	return sa != "" && sb != "" && sa != sb && (len(sa) < len(a) || len(sb) < len(b)) && !siblings(sa, sb)
}

// siblings: stems of 4+ letters that differ in one letter only, as the
// hosts of one family do (aadmin1, badmin1).
func siblings(a, b string) bool {
	if len(a) != len(b) || len(a) < 4 {
		return false
	}
	d := 0
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] {
			d++
		}
	}
	return d == 1
}

// nameStem returns the letters of w when w is letters optionally followed by
// digits, else "".
func nameStem(w string) string {
	k := 0
	for k < len(w) && isAlphaB(w[k]) {
		k++
	}
	if k == 0 {
		return ""
	}
	for q := k; q < len(w); q++ {
		if !isDigitB(w[q]) {
			return ""
		}
	}
	return w[:k]
}

// labelValue: tmpl[i] follows a "label:" token and ends its field with a
// ',': "hive: SOFTWARE, into". The last word of a line after a label is
// not taken: there it named the event as often as not.
func labelValue(tmpl []string, i int) bool {
	k := tmpl[i-1]
	if len(k) < 2 || k[len(k)-1] != ':' || !isAlphaB(k[len(k)-2]) {
		return false
	}
	t := tmpl[i]
	return t[len(t)-1] == ','
}

// otherKey reports whether a and b both start with a key ("num=",
// "topActivity=": a name then '=') and the keys differ: key names are
// written by the program, so another key is another event.
func otherKey(a, b string) bool {
	ka, kb := keyName(a), keyName(b)
	return ka != "" && kb != "" && ka != kb
}

// keyName returns the name before the first '=' of w when it is made of
// letters, digits, '.', '_' or '-' and holds a letter, else "".
func keyName(w string) string {
	e := strings.IndexByte(w, '=')
	if e <= 0 {
		return ""
	}
	letter := false
	for i := 0; i < e; i++ {
		c := w[i]
		if isAlphaB(c) {
			letter = true
		} else if !isDigitB(c) && c != '.' && c != '_' && c != '-' {
			return ""
		}
	}
	if !letter {
		return ""
	}
	return w[:e]
}

// seriesName: upper-case names of 4+ letters equal but for the last
// letter, members of a lettered series (LNKA … LNKH, SDA/SDB are too
// short to tell from words).
func seriesName(a, b string) bool {
	n := len(a)
	if n < 4 || len(b) != n || a[:n-1] != b[:n-1] {
		return false
	}
	for i := 0; i < n; i++ {
		if a[i] < 'A' || a[i] > 'Z' || b[i] < 'A' || b[i] > 'Z' {
			return false
		}
	}
	return true
}
