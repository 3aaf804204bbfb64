// Code generated from main's drain/default_scan.go and default_rules.go; DO NOT EDIT.
//
// The scanner as it was before the span rules' class gates, identifiers
// suffixed Old: the frozen reference of TestScanDifferential and
// FuzzScanDifferential (default_scan_diff_test.go).

package drain

import (
	"math/bits"
	"strings"
	"unsafe"
)

type defaultTokenizerOld struct {
	maxBytes  int
	maxTokens int
	masks     []compiledMask
}

func appendFieldsOld(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		for i < len(s) && isSpaceByteOld(s[i]) {
			i++
		}
		j := i
		for j < len(s) && !isSpaceByteOld(s[j]) {
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

const (
	bSpaceOld = 1 << iota
	bDelimOld // punctuation that glues a value to a word
	bDigitOld
	bAlphaOld
	bHexOld
	bSpecialOld // NUL or a non-ASCII byte: the line may need repair
	bDotOld
	bDashOld
	bAtOld
)

var byteClassOld = func() (t [256]uint16) {
	for _, c := range []byte{' ', '\t', '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x1f} {
		t[c] = bSpaceOld
	}
	for _, c := range []byte("=,;:()[]{}\"'|") {
		t[c] = bDelimOld
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = bDigitOld | bHexOld
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = bAlphaOld
		t[c-32] = bAlphaOld
	}
	t['.'], t['-'], t['@'] = bDotOld, bDashOld, bAtOld
	t[0] = bSpecialOld
	for c := 0x80; c < 256; c++ {
		t[c] = bSpecialOld
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] |= bHexOld
		t[c-32] |= bHexOld
	}
	return t
}()

func isSpaceByteOld(c byte) bool { return byteClassOld[c]&bSpaceOld != 0 }

func isDelimOld(c byte) bool { return byteClassOld[c]&bDelimOld != 0 }

func isDigitBOld(c byte) bool { return byteClassOld[c]&bDigitOld != 0 }

func isAlphaBOld(c byte) bool { return byteClassOld[c]&bAlphaOld != 0 }

func isHexBOld(c byte) bool { return byteClassOld[c]&bHexOld != 0 }

func wordEndsOld(s string, i int) bool {
	if i >= len(s) || isSpaceByteOld(s[i]) || isDelimOld(s[i]) {
		return true
	}
	if s[i] == '.' {
		return i+1 >= len(s) || isSpaceByteOld(s[i+1]) || isDelimOld(s[i+1]) || s[i+1] == '.'
	}
	return false
}

func appendMaskedOld(dst []byte, line string) (out []byte, special bool) {
	sc := scanStateOld{dst: dst, pend: len(dst), sepClean: true}
	special = sc.scan(line[kernelStampEndOld(line):])
	return sc.dst, special
}

func (sc *scanStateOld) scan(line string) (special bool) {
	dst := sc.dst
	n := len(line)
	i := 0
	prevStart, prevEnd := 0, 0
	for i < n {

		st := i
		if line[i] == ' ' && i+1 < n && byteClassOld[line[i+1]]&(bAlphaOld|bDigitOld) != 0 {

			i++
			if len(sc.dst) > 0 && sc.dst[len(sc.dst)-1] != ' ' {
				sc.space()
			}
		} else {
			for i < n {
				c := line[i]
				if byteClassOld[c]&(bSpaceOld|bDelimOld) != 0 || c == '.' && (i > st && line[i-1] == '.' || i+1 < n && line[i+1] == '.' || wordEndsOld(line, i+1)) {
					i++
					continue
				}
				break
			}
			if i > st {
				sc.sep(line[st:i])
				if line[i-1] == '(' && i < n && isDigitBOld(line[i]) {
					if j := sc.restatedQuantity(line, i); j > 0 {
						i = j
						continue
					}
				}
			}
		}
		if i >= n {
			break
		}

		k := i
		var seen uint16 // union of the word's byte classes
		for k+4 <= n {
			b := line[k : k+4]
			c4 := byteClassOld[b[0]] | byteClassOld[b[1]] | byteClassOld[b[2]] | byteClassOld[b[3]]
			if c4&(bSpaceOld|bDelimOld) != 0 {
				break
			}
			seen |= c4
			k += 4
		}
		for k < n {
			cl := byteClassOld[line[k]]
			if cl&(bSpaceOld|bDelimOld) != 0 {
				break
			}
			seen |= cl
			k++
		}
		j := k
		if seen&bDotOld != 0 {

			if d := strings.Index(line[i:k], ".."); d >= 0 {
				j = i + d
			} else if line[k-1] == '.' {
				j = k - 1
			}
		}
		at, punct := seen&bAtOld != 0, seen&(bDotOld|bDashOld) != 0
		digit := seen&bDigitOld != 0
		special = special || seen&bSpecialOld != 0
		e := i - 1
		for e > st && (line[e] == ' ' || line[e] == '"' || line[e] == '\'') {
			e--
		}
		c := line[i]
		shape := ruleAtOld[c] & lenRulesOld(k-i)
		if at || shape&secretRulesOld != 0 || e >= st && (line[e] == '=' || line[e] == ':') && secretKeyTailOld(line, st) || prevEnd == st && schemeBeforeOld(line, prevStart, prevEnd) {
			if j, ok := secretValueOld(line, st, i, k, at, prevStart, prevEnd); ok {
				sc.variable()
				i = j
				continue
			}
		}
		prevStart, prevEnd = i, j
		if seen == bDigitOld|bHexOld && plainNumberOld(line, i, k) {

			sc.listPrefix = ""
			i, prevStart, prevEnd = sc.valueThenRun(line, i, j)
			continue
		}
		if m := spanGateOld(shape, k < n && line[k] == ':', digit || punct); m != 0 {
			if j, ok := matchSpanOld(line, i, k, m); ok {
				i, prevStart, prevEnd = sc.valueThenRun(line, i, j)
				continue
			}
		}
		w := line[i:j]
		if !digit && c != '/' {
			sc.listPrefix = ""
			if j < k {
				shape = ruleAtOld[c] & lenRulesOld(j-i)
			}
			if m := shape & wordRulesOld; m != 0 && sc.wordValue(line, i, j, m) {
				sc.variable()
				i, sc.skip = j+sc.skip, 0
				continue
			}
			sc.dst = appendPieceOld(sc.dst, line, i, j)
			sc.commit()
			sc.lastVar = false
			if !sc.noRuns {
				i, prevStart, prevEnd = sc.plainRun(line, j, i, j)
				continue
			}
			i = j
			continue
		}
		listPrefix, listStart := sc.listPrefix, sc.listStart
		sc.listPrefix = ""
		if (c == '<' || c == '>') && isBoundOld(w) {

			sc.variable()
			if e := unitAfterOld(line, j); e > 0 {
				j = e
			}
			i = j
			continue
		}
		if p := prefixNumOld(w); p > 0 {
			sc.word(w[:p+1])
			sc.variableGlued()
			i = j
			continue
		}
		switch {
		case isVarWordOld(w) || len(w) == 5 && klogDateOld(line, i):
			sc.variable()
		case nameNumOld(w) > 0:

			p := nameNumOld(w)
			if w[:p] == listPrefix && sc.sepClean {
				if listStart >= 0 {

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
		i = j
	}
	for len(sc.dst) > len(dst) && sc.dst[len(sc.dst)-1] == ' ' {
		sc.dst = sc.dst[:len(sc.dst)-1]
	}
	sc.popSpaces(len(sc.dst))
	return special
}

func (sc *scanStateOld) valueThenRun(line string, i, j int) (int, int, int) {
	sc.variable()
	if sc.noRuns {
		return j, i, j
	}
	return sc.plainRun(line, j, i, j)
}

func (sc *scanStateOld) plainRun(line string, i, ps, pe int) (int, int, int) {
	n, from, base := len(line), i, len(sc.dst)
	for i+1 < n && line[i] == ' ' {
		q := i + 1
		if byteClassOld[line[q]]&(bAlphaOld|bDigitOld) == 0 || schemeBeforeOld(line, ps, pe) {
			break
		}
		r := q
		var seen uint16
		for r < n {
			cl := byteClassOld[line[r]]
			if cl&(bSpaceOld|bDelimOld) != 0 {
				break
			}
			seen |= cl
			r++
		}
		if seen == bDigitOld|bHexOld {
			if i == from && sc.lastVar || !plainNumberOld(line, q, r) {
				break
			}
			sc.copyRun(line, from, i)
			sc.space()
			sc.variable()
			from, base = r, len(sc.dst)
			ps, pe, i = q, r, r
			continue
		}
		if seen&^(bAlphaOld|bHexOld|bDashOld) != 0 || r < n && line[r] == ':' || plainStopOld&ruleAtOld[line[q]]&lenRulesOld(r-q) != 0 && plainClaimedOld(line[q:r]) {
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

func (sc *scanStateOld) copyRun(line string, i, j int) {
	sc.dst = appendPieceOld(sc.dst, line, i, j)
	sc.commit()
	sc.lastVar, sc.listPrefix = false, ""
}

func appendPieceOld(dst []byte, line string, i, j int) []byte {
	n := len(dst)
	if j-i <= 16 && cap(dst)-n >= 16 && i+16 <= len(line) {
		src := unsafe.Slice(unsafe.StringData(line), len(line))
		*(*[16]byte)(dst[n : n+16]) = *(*[16]byte)(src[i : i+16])
		return dst[:n+j-i]
	}
	return append(dst, line[i:j]...)
}

func kernelStampEndOld(line string) int {
	if len(line) == 0 || line[0] != '[' {
		return 0
	}
	j := 1
	for j < len(line) && line[j] == ' ' {
		j++
	}
	st := j
	for j < len(line) && isDigitBOld(line[j]) {
		j++
	}
	if j == st || j >= len(line) || line[j] != '.' {
		return 0
	}
	j++
	st = j
	for j < len(line) && isDigitBOld(line[j]) {
		j++
	}
	if j == st || j >= len(line) || line[j] != ']' {
		return 0
	}
	return j + 1
}

type scanStateOld struct {
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
}

func (sc *scanStateOld) reset(dst []byte) {
	sc.dst, sc.pend, sc.lastVar, sc.sepClean = dst, 0, false, true
	sc.nsp, sc.spill = 0, false
	sc.listPrefix, sc.listStart, sc.listPend, sc.listLastVar, sc.listSepClean = "", 0, 0, false, false
}

func (sc *scanStateOld) space() {
	if sc.nsp < len(sc.spaces) {
		sc.spaces[sc.nsp] = int32(len(sc.dst))
		sc.nsp++
	} else {
		sc.spill = true
	}
	sc.dst = append(sc.dst, ' ')
}

func (sc *scanStateOld) popSpaces(end int) {
	for sc.nsp > 0 && int(sc.spaces[sc.nsp-1]) >= end {
		sc.nsp--
	}
}

func (sc *scanStateOld) sep(s string) {
	for k := 0; k < len(s); k++ {
		c := s[k]
		n := len(sc.dst)
		if isSpaceByteOld(c) {
			if n == 0 || sc.dst[n-1] == ' ' {
				continue
			}
			sc.space()
			continue
		}
		sc.sepClean = false
		if c == ')' && n > sc.pend && sc.dst[n-1] == '(' && (n == 1 || sc.dst[n-2] == ' ') {

			sc.dst = append(sc.dst, "<*>)"...)
			continue
		}
		sc.dst = append(sc.dst, c)
	}
}

func (sc *scanStateOld) commit() {
	sc.pend = len(sc.dst)
	sc.sepClean = true
}

func (sc *scanStateOld) word(w string) {
	sc.dst = append(sc.dst, w...)
	sc.commit()
	sc.lastVar = false
}

func (sc *scanStateOld) variable() {
	if sc.lastVar && sc.sepClean {
		sc.dst = sc.dst[:sc.pend]
		sc.popSpaces(sc.pend)
		return
	}
	sc.dst = append(sc.dst, wildcard...)
	sc.commit()
	sc.lastVar = true
}

func (sc *scanStateOld) variableGlued() {
	sc.dst = append(sc.dst, wildcard...)
	sc.commit()
	sc.lastVar = true
}

var secretKeysOld = []string{"password", "passwd", "pwd", "pass", "token", "secret", "apikey", "api_key", "api-key",
	"access_token", "refresh_token", "client_secret", "auth", "authorization", "credentials", "private_key", "session",
	"access_key", "secret_key", "cookie"}

func secretValueOld(line string, st, i, k int, at bool, ps, pe int) (int, bool) {
	if k-i > 20 && line[i] == 'e' && isJWTOld(line, i) || at && isEmailOld(line, i) {
		return endOfValueOld(line, i), true
	}
	if at {

		if _, e, ok := emailIn(line, i, k); ok {
			return max(e, endOfValueOld(line, i)), true
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

	if (sep[e] == '=' || sep[e] == ':') && (e == 0 || e == 1 && (sep[0] == '"' || sep[0] == '\'')) {
		k := st
		for k > 0 && (isAlphaBOld(line[k-1]) || line[k-1] == '_' || line[k-1] == '-') {
			k--
		}
		key := line[k:st]
		if key == "" {
			return 0, false
		}
		if !secretKeyTailOld(line, st) {
			return 0, false
		}
		for _, sk := range secretKeysOld {
			if len(key) >= len(sk) && strings.EqualFold(key[len(key)-len(sk):], sk) {
				if sk == "cookie" {
					return cookieEndOld(line, i), true
				}
				j := endOfValueOld(line, i)
				if w := line[i:j]; (strings.EqualFold(w, "bearer") || strings.EqualFold(w, "basic") || strings.EqualFold(w, "digest")) &&
					j+1 < len(line) && line[j] == ' ' {
					j = endOfValueOld(line, j+1)
				}
				return j, true
			}
		}

		if len(key) == 3 && strings.EqualFold(key, "key") && k > 0 && (line[k-1] == '?' || line[k-1] == '&') {
			return endOfValueOld(line, i), true
		}
	}
	if sep == " " && pe == st && (pe-ps == 5 || pe-ps == 6) {
		if w := line[ps:pe]; strings.EqualFold(w, "bearer") || strings.EqualFold(w, "basic") {
			return endOfValueOld(line, i), true
		}
	}
	return 0, false
}

func secretKeyTailOld(line string, end int) bool {
	if end < 3 {
		return false
	}
	switch string([]byte{line[end-3] | 0x20, line[end-2] | 0x20, line[end-1] | 0x20}) {
	case "ord", "swd", "pwd", "ass", "ken", "ret", "key", "uth", "ion", "als", "kie":
		return true
	}
	return false
}

func endOfValueOld(line string, i int) int {
	for i < len(line) && !isSpaceByteOld(line[i]) && line[i] != ',' && line[i] != ';' && line[i] != '"' && line[i] != '\'' && line[i] != '&' && line[i] != ')' && line[i] != ']' {
		i++
	}
	return i
}

func cookieEndOld(line string, i int) int {
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

func awsKeyIDOld(w string) bool {
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

func privateKeyBlockOld(line string, i int) (hdr, body, end int, ok bool) {
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

func (sc *scanStateOld) secretWord(line string, i, j int) bool {
	if awsKeyIDOld(line[i:j]) {
		return true
	}
	if j-i != len("-----BEGIN") {
		return false
	}
	hdr, body, _, ok := privateKeyBlockOld(line, i)
	if !ok {
		return false
	}
	sc.fields(line[i:hdr])
	sc.space()
	for body > hdr && isSpaceByteOld(line[body-1]) {
		body--
	}
	sc.skip = body - j
	return true
}

func (sc *scanStateOld) fields(s string) {
	first := true
	for q := 0; q < len(s); {
		for q < len(s) && isSpaceByteOld(s[q]) {
			q++
		}
		r := q
		for r < len(s) && !isSpaceByteOld(s[r]) {
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

func isJWTOld(s string, i int) bool {
	if !strings.HasPrefix(s[i:], "eyJ") {
		return false
	}
	dots := 0
	for j := i; j < len(s) && !isSpaceByteOld(s[j]); j++ {
		c := s[j]
		if c == '.' {
			dots++
		} else if !(isAlphaBOld(c) || isDigitBOld(c) || c == '-' || c == '_' || c == '=') {
			break
		}
	}
	return dots == 2
}

func isEmailOld(s string, i int) bool {
	j := i
	for j < len(s) && (isAlphaBOld(s[j]) || isDigitBOld(s[j]) || s[j] == '.' || s[j] == '_' || s[j] == '%' || s[j] == '+' || s[j] == '-') {
		j++
	}
	if j == i || j >= len(s) || s[j] != '@' {
		return false
	}
	j++
	st, dot := j, false
	for j < len(s) && (isAlphaBOld(s[j]) || isDigitBOld(s[j]) || s[j] == '.' || s[j] == '-') {
		if s[j] == '.' && j > st && j+1 < len(s) && isAlphaBOld(s[j+1]) {
			dot = true
		}
		j++
	}
	return dot
}

func matchURLOld(s string, i, k int) (int, bool) {
	n := len(s)
	if k+2 < n && s[k] == ':' && s[k+1] == '/' && s[k+2] == '/' && validSchemeOld(s[i:k]) {
		j := k + 3
		for j < n && !isSpaceByteOld(s[j]) && s[j] != '"' && s[j] != '\'' && s[j] != ']' && s[j] != ')' {
			j++
		}
		return j, true
	}
	return 0, false
}

func matchUNCPathOld(s string, i, _ int) (int, bool) {
	if i+2 < len(s) && s[i] == '\\' && s[i+1] == '\\' {
		return windowsPathEndOld(s, i), true
	}
	return 0, false
}

func matchDrivePathOld(s string, i, _ int) (int, bool) {
	if i+2 < len(s) && isAlphaBOld(s[i]) && s[i+1] == ':' && s[i+2] == '\\' {
		return windowsPathEndOld(s, i), true
	}
	return 0, false
}

func windowsPathEndOld(s string, i int) int {
	j := i + 2
	for j < len(s) && !isSpaceByteOld(s[j]) && s[j] != '"' && s[j] != '\'' && s[j] != ',' && s[j] != ')' && s[j] != ']' {
		j++
	}
	for j > i+2 && (s[j-1] == ':' || s[j-1] == '.') {
		j--
	}
	return j
}

func matchAbsPathOld(s string, i, _ int) (int, bool) {
	n := len(s)
	if s[i] == '/' && (i+1 < n && !isSpaceByteOld(s[i+1]) || protocolAfterOld(s, i+1) > 0) {
		j := i + 1
		for j < n && !isSpaceByteOld(s[j]) && !(isDelimOld(s[j]) && s[j] != ':' && s[j] != '=') {
			j++
		}
		for j > i+1 && (s[j-1] == ':' || s[j-1] == '.') {
			j--
		}
		if e := protocolAfterOld(s, j); e > 0 {
			j = e
		}
		return j, true
	}
	return 0, false
}

func matchIPv4PortOld(s string, i, _ int) (int, bool) {
	n := len(s)
	j, ok := matchIPv4Old(s, i)
	if !ok {
		return 0, false
	}
	if j+1 < n && s[j] == ':' && isDigitBOld(s[j+1]) {
		j++
		for j < n && isDigitBOld(s[j]) {
			j++
		}
	}
	return endOrStopOld(s, j)
}

func matchClockSpanOld(s string, i, _ int) (int, bool) {
	if j, ok := matchClockOld(s, i); ok {
		return endOrStopOld(s, j)
	}
	return 0, false
}

func matchIPv6SpanOld(s string, i, _ int) (int, bool) {
	if j, ok := matchIPv6Old(s, i); ok {
		return endOrStopOld(s, j)
	}
	return 0, false
}

const spanStopOld = -1

func endOrStopOld(s string, j int) (int, bool) {
	if e, ok := spanEndOld(s, j); ok {
		return e, true
	}
	return spanStopOld, false
}

func protocolAfterOld(s string, j int) int {
	k := j
	for k < len(s) && isSpaceByteOld(s[k]) {
		k++
	}
	if k == j || k+5 >= len(s) || s[k:k+5] != "HTTP/" {
		return 0
	}
	k += 5
	for k < len(s) && (isDigitBOld(s[k]) || s[k] == '.') {
		k++
	}
	return k
}

func spanEndOld(s string, j int) (int, bool) {
	if j >= len(s) || isSpaceByteOld(s[j]) || isDelimOld(s[j]) || s[j] == '.' || s[j] == '/' {
		return j, true
	}
	return 0, false
}

func matchIPv4Old(s string, i int) (int, bool) {
	j := i
	for part := 0; part < 4; part++ {
		st := j
		for j < len(s) && isDigitBOld(s[j]) && j-st < 3 {
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
	if j < len(s) && (isDigitBOld(s[j]) || isAlphaBOld(s[j]) || s[j] == '-' || s[j] == '_') {
		return 0, false
	}
	if j+1 < len(s) && s[j] == '.' && (isAlphaBOld(s[j+1]) || isDigitBOld(s[j+1])) {
		return 0, false
	}
	return j, true
}

func matchHostPortOld(s string, i, k int) (int, bool) {

	if k+1 >= len(s) || !isDigitBOld(s[k+1]) {
		return 0, false
	}
	j := i
	marks, letters := 0, 0
	for j < len(s) && (isAlphaBOld(s[j]) || isDigitBOld(s[j]) || s[j] == '.' || s[j] == '-' || s[j] == '_' || s[j] == '/') {
		if s[j] == '.' || isDigitBOld(s[j]) {
			marks++
		} else {
			letters++
		}
		j++
	}
	if marks == 0 || letters+marks < 2 || j >= len(s) || s[j] != ':' || s[j-1] == '.' {
		return 0, false
	}
	if sourceFileOld(s[i:j]) {
		return 0, false
	}
	p := j + 1
	for p < len(s) && isDigitBOld(s[p]) {
		p++
	}
	if p == j+1 || p-j-1 > 5 {
		return 0, false
	}
	return spanEndOld(s, p)
}

func matchClockOld(s string, i int) (int, bool) {
	j := i
	two := func() bool {
		st := j
		for j < len(s) && isDigitBOld(s[j]) && j-st < 2 {
			j++
		}
		return j > st
	}
	if !two() || j >= len(s) || s[j] != ':' {
		return 0, false
	}
	j++
	if !two() || j >= len(s) || s[j] != ':' {
		return 0, false
	}
	j++
	if !two() {
		return 0, false
	}
	if j+1 < len(s) && (s[j] == '.' || s[j] == ',') && isDigitBOld(s[j+1]) {
		j++
		for j < len(s) && isDigitBOld(s[j]) {
			j++
		}
	}
	return j, true
}

func matchISOTimeOld(s string, i, _ int) (int, bool) {
	digits := func(j, n int) bool {
		if j+n > len(s) {
			return false
		}
		for k := j; k < j+n; k++ {
			if !isDigitBOld(s[k]) {
				return false
			}
		}
		return true
	}
	if !digits(i, 4) || i+10 > len(s) || s[i+4] != '-' || !digits(i+5, 2) || s[i+7] != '-' || !digits(i+8, 2) {
		return 0, false
	}
	j := i + 10
	if j+1 < len(s) && (s[j] == 'T' || s[j] == ' ') {
		if k, ok := matchClockOld(s, j+1); ok {
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
	return spanEndOld(s, j)
}

func matchIPv6Old(s string, i int) (int, bool) {
	j, colons, hexd, run := i, 0, 0, 0
	for j < len(s) && (isHexBOld(s[j]) || s[j] == ':') {
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
	if j < len(s) && (isAlphaBOld(s[j]) || isDigitBOld(s[j])) {
		return 0, false
	}
	return j, true
}

func isMonthOld(w string) bool {
	switch w {
	case "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec":
		return true
	}
	return false
}

func isWeekdayOld(w string) bool {
	switch w {
	case "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun":
		return true
	}
	return false
}

func nameAtOld(s string, i int, is func(string) bool) bool {
	if i+3 > len(s) || i+3 < len(s) && !isSpaceByteOld(s[i+3]) {
		return false
	}
	return is(s[i : i+3])
}

func matchSyslogTimeOld(s string, i, _ int) (int, bool) {
	j := i
	if nameAtOld(s, j, isWeekdayOld) {
		j += 3
		for j < len(s) && s[j] == ' ' {
			j++
		}
	}
	if !nameAtOld(s, j, isMonthOld) {
		return 0, false
	}
	j += 3
	for j < len(s) && s[j] == ' ' {
		j++
	}
	st := j
	for j < len(s) && isDigitBOld(s[j]) {
		j++
	}
	if j == st || j-st > 2 || j >= len(s) || s[j] != ' ' {
		return 0, false
	}
	k, ok := matchClockOld(s, j+1)
	if !ok {
		return 0, false
	}
	j = k
	if j+5 < len(s) && s[j] == ' ' && s[j+1] >= 'A' && s[j+1] <= 'Z' {

		z := j + 1
		for z < len(s) && z-j <= 5 && s[z] >= 'A' && s[z] <= 'Z' {
			z++
		}
		if z-j-1 >= 3 && z+5 <= len(s) && s[z] == ' ' && isDigitBOld(s[z+1]) && isDigitBOld(s[z+2]) && isDigitBOld(s[z+3]) && isDigitBOld(s[z+4]) && (z+5 == len(s) || !isDigitBOld(s[z+5])) {
			j = z
		}
	}
	if j+5 <= len(s) && s[j] == ' ' && isDigitBOld(s[j+1]) && isDigitBOld(s[j+2]) && isDigitBOld(s[j+3]) && isDigitBOld(s[j+4]) && (j+5 == len(s) || !isDigitBOld(s[j+5])) {
		j += 5
	}
	return j, true
}

func (sc *scanStateOld) otherWord(w string) {
	if p := symbolOffsetOld(w); p > 0 {
		sc.word(w[:p+1])
		sc.variableGlued()
		return
	}
	if dateWordOld(w) || hexAddressOld(w) {
		sc.variable()
		return
	}
	sc.word(w)
}

func klogDateOld(line string, i int) bool {
	if c := line[i]; c != 'I' && c != 'W' && c != 'E' && c != 'F' {
		return false
	}
	if !monthDayOld(line[i+1:i+5]) || i+8 > len(line) || line[i+5] != ' ' {
		return false
	}
	_, ok := matchClockOld(line, i+6)
	return ok
}

func monthDayOld(s string) bool {
	if !allDigitsOld(s) {
		return false
	}
	m, d := (s[0]-'0')*10+s[1]-'0', (s[2]-'0')*10+s[3]-'0'
	return m >= 1 && m <= 12 && d >= 1 && d <= 31
}

func dateWordOld(w string) bool {
	switch {
	case len(w) == 10 && w[4] == '/' && w[7] == '/':
		return allDigitsOld(w[:4]) && allDigitsOld(w[5:7]) && allDigitsOld(w[8:])
	case len(w) == 10 && w[2] == '/' && w[5] == '/':
		return allDigitsOld(w[:2]) && allDigitsOld(w[3:5]) && allDigitsOld(w[6:])
	case len(w) == 11 && w[2] == '/' && w[6] == '/':
		return allDigitsOld(w[:2]) && isMonthOld(w[3:6]) && allDigitsOld(w[7:])
	}
	return false
}

func hexAddressOld(w string) bool {
	return len(w) >= 10 && w[0] == '<' && w[len(w)-1] == '>' && allHexOld(w[1:len(w)-1])
}

func symbolOffsetOld(w string) int {
	p := strings.IndexByte(w, '+')
	if p <= 0 || !hexNumAtOld(w, p+1) {
		return -1
	}
	e := p + 3
	for e < len(w) && isHexBOld(w[e]) {
		e++
	}
	if e < len(w) {
		if w[e] != '/' || !hexNumAtOld(w, e+1) {
			return -1
		}
		e += 3
		for e < len(w) && isHexBOld(w[e]) {
			e++
		}
		if e < len(w) {
			return -1
		}
	}
	name := false
	for q := 0; q < p; q++ {
		switch c := w[q]; {
		case isAlphaBOld(c) || c == '_':
			name = true
		case isDigitBOld(c) || c == '.':
		default:
			return -1
		}
	}
	if !name {
		return -1
	}
	return p
}

func hexNumAtOld(w string, i int) bool {
	return i+2 < len(w) && w[i] == '0' && w[i+1]|0x20 == 'x' && isHexBOld(w[i+2])
}

func prefixNumOld(w string) int {
	k := 0
	for k < len(w) && (isAlphaBOld(w[k]) || w[k] == '_') {
		k++
	}
	if k == 0 || k+1 >= len(w) || w[k] != '-' && w[k] != '.' || w[k-1] == '_' {
		return -1
	}
	for q := k + 1; q < len(w); q++ {
		if !isDigitBOld(w[q]) {
			return -1
		}
	}
	return k
}

func isVarWordOld(w string) bool {
	if len(w) == 0 {
		return false
	}
	if w[0] == '/' && len(w) > 1 {
		return true
	}
	if !hasASCIIDigitOld(w) {
		return false
	}
	i := 0
	if w[0] == '-' || w[0] == '+' {
		i++
	}
	if i < len(w) && isDigitBOld(w[i]) {
		j := i
		for j < len(w) && (isDigitBOld(w[j]) || w[j] == '.' || w[j] == ',') {
			j++
		}
		k := j
		for k < len(w) && (isAlphaBOld(w[k]) || w[k] == '%') {
			k++
		}
		if k == len(w) && k-j <= 3 || isDurationOld(w[i:]) {
			return true
		}
	}
	if len(w) > 2 && w[0] == '0' && w[1]|0x20 == 'x' {
		ok := true
		for k := 2; k < len(w); k++ {
			if !isHexBOld(w[k]) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	hx, ok := 0, true
	for k := 0; k < len(w); k++ {
		if isHexBOld(w[k]) {
			hx++
		} else if w[k] != '-' {
			ok = false
			break
		}
	}
	if ok && (hx >= 8 || hx >= 5 && hx == len(w) && shortHexIDOld(w)) {
		return true
	}
	st := 0
	for k := 0; k <= len(w); k++ {
		if k == len(w) || w[k] == '_' || w[k] == '-' || w[k] == '.' || w[k] == '#' || w[k] == '@' {
			if seg := w[st:k]; len(seg) > 0 {
				all := true
				for q := 0; q < len(seg); q++ {
					if !isDigitBOld(seg[q]) {
						all = false
						break
					}
				}
				if all || len(seg) >= 16 && allHexOld(seg) {
					return true
				}
			}
			st = k + 1
		}
	}
	return len(w) == 20 && w[0] == 'A' && awsKeyIDOld(w)
}

func shortHexIDOld(w string) bool {
	digits := 0
	for i := 0; i < len(w); i++ {
		if isDigitBOld(w[i]) {
			digits++
		}
	}
	if digits == 0 || digits == len(w) {
		return false
	}
	p := nameNumOld(w)
	return p < 0 || len(w)-p >= 6
}

func plainNumberOld(line string, i, k int) bool {
	if k+1 < len(line) && line[k] == ':' {
		if c := line[k+1]; byteClassOld[c]&bHexOld != 0 || c == ':' || c == '/' {
			return false
		}
	}
	return allDigitsOld(line[i:k])
}

func allDigitsOld(w string) bool {
	for i := 0; i < len(w); i++ {
		if !isDigitBOld(w[i]) {
			return false
		}
	}
	return true
}

func allHexOld(w string) bool {
	for i := 0; i < len(w); i++ {
		if !isHexBOld(w[i]) {
			return false
		}
	}
	return true
}

func hasASCIIDigitOld(w string) bool {
	for i := 0; i < len(w); i++ {
		if isDigitBOld(w[i]) {
			return true
		}
	}
	return false
}

func isDurationOld(w string) bool {
	i, pairs := 0, 0
	for i < len(w) {
		st := i
		for i < len(w) && (isDigitBOld(w[i]) || w[i] == '.') {
			i++
		}
		if i == st {
			return false
		}
		u := i
		for i < len(w) && isAlphaBOld(w[i]) {
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

func validSchemeOld(w string) bool {
	for i := 0; i < len(w); i++ {
		if c := w[i]; !isAlphaBOld(c) && !isDigitBOld(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return len(w) > 0
}

func nameNumOld(w string) int {
	k := 0
	for k < len(w) && isAlphaBOld(w[k]) {
		k++
	}
	if k == 0 || k == len(w) {
		return -1
	}
	for q := k; q < len(w); q++ {
		if !isDigitBOld(w[q]) {
			return -1
		}
	}
	return k
}

func (sc *scanStateOld) restatedQuantity(line string, i int) int {
	j := i
	for j < len(line) && (isDigitBOld(line[j]) || line[j] == '.' || line[j] == ',') {
		j++
	}
	if j >= len(line) || line[j] != ' ' {
		return 0
	}
	u := j + 1
	e := u
	for e < len(line) && isAlphaBOld(line[e]) {
		e++
	}
	if e >= len(line) || line[e] != ')' || !unitWords[line[u:e]] {
		return 0
	}

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

func isBoundOld(w string) bool {
	if len(w) < 2 {
		return false
	}
	for k := 1; k < len(w); k++ {
		if !isDigitBOld(w[k]) && (w[k] != '.' || k == 1) {
			return false
		}
	}
	return true
}

func unitAfterOld(line string, j int) int {
	if j+1 >= len(line) || line[j] != ' ' {
		return 0
	}
	e := j + 1
	for e < len(line) && isAlphaBOld(line[e]) {
		e++
	}
	if !wordEndsOld(line, e) || !unitWords[line[j+1:e]] {
		return 0
	}
	return e
}

func isLiteralOld(w string) bool {

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

func sourceFileOld(name string) bool {
	d := strings.LastIndexByte(name, '.')
	if d < 1 {
		return false
	}
	switch ext := name[d+1:]; {
	case len(ext) == 1:
		return isAlphaBOld(ext[0])
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

type ruleOld struct {
	name  string
	kind  ruleKindOld
	first string    // the bytes a match can start with
	lens  lenSetOld // the raw word lengths it can have
	need  ruleNeedOld

	// span, for a span rule: the end of the value starting at s[i], whose
	// raw word ends at k; the value may run past k (a URL, a timestamp).
	span func(s string, i, k int) (int, bool)
	// word, for a word rule: whether the word line[i:j] (letters and
	// punctuation, no digit) is a value; it may write more (secretWord).
	word func(sc *scanStateOld, line string, i, j int) bool
	// plain, if set, is the exact test plainRun applies when the gate
	// admits a plain word (letters and dashes): it stops only before a word
	// plain claims. Without it plainRun stops on the gate alone.
	plain func(w string) bool
}

type ruleKindOld uint8

const (
	spanRuleOld   ruleKindOld = iota // tried at a word's start, before it is classified
	wordRuleOld                      // a word without digits that is a value as a whole
	secretRuleOld                    // decides secretValue's trigger; the value is masked
	schemeRuleOld                    // a word whose next word secretValue masks ("Bearer x")
)

type ruleNeedOld uint8

const (
	needColonOld  ruleNeedOld = 1 << iota // a ':' right after the raw word
	needMarkedOld                         // a digit, '.' or '-' in the raw word
)

type lenSetOld uint64

func lensOfOld(ns ...int) lenSetOld {
	var l lenSetOld
	for _, n := range ns {
		l |= 1 << min(n, 63)
	}
	return l
}

func lensFromOld(n int) lenSetOld { return ^lenSetOld(0) << n }

const anyLenOld = ^lenSetOld(0)

const (
	asciiLettersOld = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	asciiDigitsOld  = "0123456789"
)

var rulesOld = [...]ruleOld{

	{name: "url", kind: spanRuleOld, first: asciiLettersOld + asciiDigitsOld + "+-.", lens: anyLenOld, need: needColonOld, span: matchURLOld},
	{name: "unc path", kind: spanRuleOld, first: `\`, lens: anyLenOld, span: matchUNCPathOld},
	{name: "drive path", kind: spanRuleOld, first: asciiLettersOld, lens: lensOfOld(1), need: needColonOld, span: matchDrivePathOld},
	{name: "absolute path", kind: spanRuleOld, first: "/", lens: anyLenOld, span: matchAbsPathOld},
	{name: "syslog time", kind: spanRuleOld, first: "MTWFSJAOND", lens: lensOfOld(3), span: matchSyslogTimeOld,
		plain: func(w string) bool { return isMonthOld(w) || isWeekdayOld(w) }},
	{name: "iso time", kind: spanRuleOld, first: asciiDigitsOld, lens: lensFromOld(10), need: needMarkedOld, span: matchISOTimeOld},
	{name: "ipv4", kind: spanRuleOld, first: asciiDigitsOld, lens: anyLenOld, need: needMarkedOld, span: matchIPv4PortOld},
	{name: "clock", kind: spanRuleOld, first: asciiDigitsOld, lens: anyLenOld, need: needColonOld | needMarkedOld, span: matchClockSpanOld},
	{name: "host:port", kind: spanRuleOld, first: asciiLettersOld + asciiDigitsOld + ".-_/", lens: anyLenOld, need: needColonOld | needMarkedOld, span: matchHostPortOld},
	{name: "ipv6", kind: spanRuleOld, first: "0123456789abcdefABCDEF", lens: anyLenOld, need: needColonOld | needMarkedOld, span: matchIPv6SpanOld},

	{name: "literal", kind: wordRuleOld, first: "tfnTFN", lens: lensOfOld(4, 5), word: wordLiteralOld, plain: isLiteralOld},
	{name: "aws key id", kind: wordRuleOld, first: "A", lens: lensOfOld(20), word: wordSecretOld, plain: awsKeyIDOld},
	{name: "private key", kind: wordRuleOld, first: "-", lens: lensOfOld(10), word: wordSecretOld},

	{name: "jwt", kind: secretRuleOld, first: "e", lens: lensFromOld(21)},
	{name: "auth scheme", kind: schemeRuleOld, first: "bB", lens: lensOfOld(5, 6)},
}

type ruleSetOld uint32

var (
	ruleAtOld    [256]ruleSetOld // rules whose match can start with the byte
	ruleLenOld   [256]ruleSetOld // rules admitting a raw word of that length (255: or more)
	ruleKindsOld [4]ruleSetOld   // rules of each kind
	ruleNeedsOld [4]ruleSetOld   // by the needs met (bit 0 colon, bit 1 marked): the span rules allowed
	plainStopOld ruleSetOld      // rules plainRun must stop for

	// The kinds the scanner asks on every word, without an index.
	wordRulesOld, secretRulesOld, schemeRulesOld ruleSetOld
)

func init() {
	for x, r := range rulesOld {
		bit := ruleSetOld(1) << x
		for q := 0; q < len(r.first); q++ {
			ruleAtOld[r.first[q]] |= bit
		}
		for n := range ruleLenOld {
			if r.lens>>min(n, 63)&1 != 0 {
				ruleLenOld[n] |= bit
			}
		}
		ruleKindsOld[r.kind] |= bit
		for met := range ruleNeedsOld {
			if r.kind == spanRuleOld && r.need&^ruleNeedOld(met) == 0 {
				ruleNeedsOld[met] |= bit
			}
		}

		if r.need == 0 && r.kind != schemeRuleOld {
			plainStopOld |= bit
		}
	}
	wordRulesOld, secretRulesOld, schemeRulesOld = ruleKindsOld[wordRuleOld], ruleKindsOld[secretRuleOld], ruleKindsOld[schemeRuleOld]
}

func lenRulesOld(n int) ruleSetOld { return ruleLenOld[uint8(min(n, 255))] }

func gateOld(s string, i, k int, m ruleSetOld) ruleSetOld {
	return m & ruleAtOld[s[i]] & lenRulesOld(k-i)
}

func spanGateOld(shape ruleSetOld, colon, marked bool) ruleSetOld {
	met := 0
	if colon {
		met = int(needColonOld)
	}
	if marked {
		met |= int(needMarkedOld)
	}
	return shape & ruleNeedsOld[met&3]
}

func matchSpanOld(s string, i, k int, m ruleSetOld) (int, bool) {
	for ; m != 0; m &= m - 1 {
		j, ok := rulesOld[bits.TrailingZeros32(uint32(m))].span(s, i, k)
		if ok {
			return j, true
		}
		if j == spanStopOld {
			break
		}
	}
	return 0, false
}

func (sc *scanStateOld) wordValue(line string, i, j int, m ruleSetOld) bool {
	for ; m != 0; m &= m - 1 {
		if rulesOld[bits.TrailingZeros32(uint32(m))].word(sc, line, i, j) {
			return true
		}
	}
	return false
}

func plainClaimedOld(w string) bool {
	for m := gateOld(w, 0, len(w), plainStopOld); m != 0; m &= m - 1 {
		if p := rulesOld[bits.TrailingZeros32(uint32(m))].plain; p == nil || p(w) {
			return true
		}
	}
	return false
}

func schemeBeforeOld(line string, ps, pe int) bool {
	return lenRulesOld(pe-ps)&schemeRulesOld != 0 && ruleAtOld[line[ps]]&schemeRulesOld != 0
}

func wordLiteralOld(_ *scanStateOld, line string, i, j int) bool { return isLiteralOld(line[i:j]) }

func wordSecretOld(sc *scanStateOld, line string, i, j int) bool { return sc.secretWord(line, i, j) }
