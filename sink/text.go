package sink

import (
	"encoding/binary"
	"strings"
	"unicode/utf8"
	"unsafe"
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
// store or a Redis key name. Hit checks every id it is given, once a chunk
// each, so the check takes both 8-byte halves at once: in each byte, adding
// 0x80-lo sets the top bit when the byte is at least lo, adding 0x7f-hi
// when it is above hi (no carry crosses bytes below 0x80).
func validID(id string) bool {
	if len(id) != 16 {
		return false
	}
	b := unsafe.Slice(unsafe.StringData(id), 16)
	return hexWord(binary.LittleEndian.Uint64(b)) && hexWord(binary.LittleEndian.Uint64(b[8:]))
}

// hexWord reports whether every byte of w is in 0-9 or a-f.
func hexWord(w uint64) bool {
	const ones, high = 0x0101010101010101, 0x8080808080808080
	digit := (w + (0x80-'0')*ones) &^ (w + (0x7f-'9')*ones)
	letter := (w + (0x80-'a')*ones) &^ (w + (0x7f-'f')*ones)
	return w&high == 0 && (digit|letter)&high == high
}
