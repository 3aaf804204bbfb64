package drain

import "testing"

// TestSameToken checks the word-wise comparison against ==, on every length
// class it handles differently (0, 1–3, 4–7, 8–16, longer) and with the
// difference at the first, middle and last byte.
func TestSameToken(t *testing.T) {
	base := "abcdefghijklmnopqrstuvwxyz"
	for n := 0; n <= 20; n++ {
		a := base[:n]
		if !sameToken(a, string([]byte(a))) {
			t.Errorf("sameToken(%q, copy) = false", a)
		}
		for _, at := range []int{0, n / 2, n - 1} {
			if n == 0 {
				break
			}
			b := []byte(a)
			b[at] = 'X'
			if sameToken(a, string(b)) {
				t.Errorf("sameToken(%q, %q) = true", a, b)
			}
		}
		if n > 0 && sameToken(a, a[:n-1]) {
			t.Errorf("sameToken(%q, %q) = true", a, a[:n-1])
		}
	}
	for _, tc := range []struct {
		tok  string
		want bool
	}{{"<*>", true}, {wildcard, true}, {"<*", false}, {"<*>)", false}, {"<+>", false}, {"", false}} {
		if got := isWildcard(tc.tok); got != tc.want {
			t.Errorf("isWildcard(%q) = %v, want %v", tc.tok, got, tc.want)
		}
	}
}

func TestIsLiteral(t *testing.T) {
	for w, want := range map[string]bool{
		"true": true, "TRUE": true, "True": true, "null": true, "NuLl": true, "false": true, "FALSE": true,
		"tru": false, "truee": false, "trud": false, "fals": false, "falsy": false, "nul": false, "nulls": false,
		"TRU\x05": false, "\x14rue": false, "4rue": false, "": false, "f@lse": false,
	} {
		if len(w) > 0 && isLiteral(w) != want {
			t.Errorf("isLiteral(%q) = %v, want %v", w, !want, want)
		}
	}
}
