package wordeq

import "testing"

// TestEqual checks the word-wise comparison against ==, on every length
// class it handles differently (0, 1–3, 4–7, 8–16, longer) and with the
// difference at the first, middle and last byte.
func TestEqual(t *testing.T) {
	base := "abcdefghijklmnopqrstuvwxyz"
	for n := 0; n <= 20; n++ {
		a := base[:n]
		if !Equal(a, string([]byte(a))) || !EqualBytes([]byte(a), []byte(a)) {
			t.Errorf("Equal(%q, copy) = false", a)
		}
		for _, at := range []int{0, n / 2, n - 1} {
			if n == 0 {
				break
			}
			b := []byte(a)
			b[at] = 'X'
			if Equal(a, string(b)) || EqualBytes([]byte(a), b) {
				t.Errorf("Equal(%q, %q) = true", a, b)
			}
		}
		if n > 0 && Equal(a, a[:n-1]) {
			t.Errorf("Equal(%q, %q) = true", a, a[:n-1])
		}
	}
	if !EqualBytes(nil, []byte{}) {
		t.Error("EqualBytes(nil, empty) = false")
	}
}
