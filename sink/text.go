package sink

import (
	"strings"
	"unicode/utf8"
)

// clean makes s safe for both stores: valid UTF-8 (invalid bytes become
// U+FFFD, as PostgreSQL rejects them), no NUL (PostgreSQL text cannot hold
// it), and at most max bytes, cut on a rune boundary. It reports whether it
// had to cut. Clean input is returned as is, without allocating.
func clean(s string, max int) (string, bool) {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	return truncate(s, max)
}

// truncate cuts s to at most max bytes on a rune boundary without checking
// validity; the caller's copy is then small before clean runs off the hot path.
func truncate(s string, max int) (string, bool) {
	if max <= 0 || len(s) <= max {
		return s, false
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut], true
}

// validID reports whether id looks like a template id: 16 lowercase hex
// digits (drain.TemplateID). Anything else is refused before it reaches a
// store or a Redis key name.
func validID(id string) bool {
	if len(id) != 16 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
