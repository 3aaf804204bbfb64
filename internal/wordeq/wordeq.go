// Package wordeq compares short strings as machine words: the tokens and
// partition values of the hot paths are mostly 1 to 16 bytes long and
// mostly equal, where a call to the runtime's memequal costs more than the
// comparison itself.
package wordeq

import (
	"encoding/binary"
	"unsafe"
)

// Equal is a == b. Up to 16 bytes it compares two possibly overlapping
// words (under 4 bytes, bytes 0, n/2 and n-1, which are every byte);
// longer strings go to ==.
func Equal(a, b string) bool {
	n := len(a)
	if n != len(b) {
		return false
	}
	if n > 16 {
		return a == b
	}
	x, y := unsafe.Slice(unsafe.StringData(a), n), unsafe.Slice(unsafe.StringData(b), n)
	if n < 4 {
		return n == 0 || x[0] == y[0] && x[n/2] == y[n/2] && x[n-1] == y[n-1]
	}
	le := binary.LittleEndian
	if n >= 8 {
		return le.Uint64(x) == le.Uint64(y) && le.Uint64(x[n-8:]) == le.Uint64(y[n-8:])
	}
	return le.Uint32(x) == le.Uint32(y) && le.Uint32(x[n-4:]) == le.Uint32(y[n-4:])
}

// EqualBytes is Equal for byte slices.
func EqualBytes(a, b []byte) bool {
	return Equal(unsafe.String(unsafe.SliceData(a), len(a)), unsafe.String(unsafe.SliceData(b), len(b)))
}
