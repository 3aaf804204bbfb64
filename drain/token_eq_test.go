package drain

import "testing"

// TestIsWildcard: the wildcard test without memequal.
func TestIsWildcard(t *testing.T) {
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
