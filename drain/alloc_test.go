package drain

import (
	"strconv"
	"testing"
)

// letters spells i without digits, so that tokens are not numeric.
func letters(i int) string {
	s := strconv.FormatInt(int64(i), 26)
	b := []byte(s)
	for j, c := range b {
		if c >= '0' && c <= '9' {
			b[j] = 'q' + (c - '0')
		}
	}
	return string(b)
}

// TestAllocs: a known line allocates nothing; a new cluster a small, fixed set.
func TestAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	m := newMiner(t, nil)
	m.Add("p", "user 42 logged in from 10.0.0.1")
	m.Add("p", "user 43 logged in from 10.0.0.2")
	if n := testing.AllocsPerRun(200, func() { m.Add("p", "user 44 logged in from 10.0.0.3") }); n != 0 {
		t.Errorf("known line: %v allocs, want 0", n)
	}
	if n := testing.AllocsPerRun(200, func() { m.Match("p", "user 44 logged in from 10.0.0.3") }); n != 0 {
		t.Errorf("Match: %v allocs, want 0", n)
	}
	lines := make([]string, 300)
	for i := range lines {
		lines[i] = "a" + letters(i) + " b" + letters(i) + " c" + letters(i) + " d" + letters(i)
	}
	i := 0
	n := testing.AllocsPerRun(len(lines)-1, func() {
		if r := m.Add("p", lines[i]); r.Kind != Created {
			t.Fatalf("%q: %v", lines[i], r.Kind)
		}
		i++
	})
	t.Logf("new cluster: %v allocs", n)
	if n > 8 {
		t.Errorf("new cluster: %v allocs, want at most 8", n)
	}
}
