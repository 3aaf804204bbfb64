package drain

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// checkKids: nd's child table (when table: else it has none) and wildcard
// pointer agree with its map.
func checkKids(t *testing.T, nd *node, table bool) {
	t.Helper()
	if !table {
		if nd.kids != nil || nd.wild != nd.children[wildcard] {
			t.Errorf("a node without tables holds table %+v, wildcard child %p (map %p)", nd.kids, nd.wild, nd.children[wildcard])
		}
		return
	}
	named := 0
	for k, ch := range nd.children {
		if ch.key != k || ch.parent != nd {
			t.Errorf("child %q keyed %q, parent %p (want %p)", k, ch.key, ch.parent, nd)
		}
		if k == wildcard {
			continue
		}
		named++
		if got := nd.kid(k, sig(k)); got != ch {
			t.Errorf("kid(%q) = %p; the map holds %p", k, got, ch)
		}
	}
	if nd.wild != nd.children[wildcard] || nd.kid(wildcard, sig(wildcard)) != nd.children[wildcard] {
		t.Errorf("wildcard child %p; the map holds %p", nd.wild, nd.children[wildcard])
	}
	if named == 0 && nd.kids != nil || named > 0 && (nd.kids == nil || nd.kids.n != named || 2*named > len(nd.kids.slots)) {
		t.Errorf("%d named children; table %+v", named, nd.kids)
	}
	if nd.kids != nil {
		held := 0
		for _, e := range nd.kids.slots {
			if e.ch != nil {
				held++
				if e.sig != sig(e.ch.key) || nd.children[e.ch.key] != e.ch {
					t.Errorf("slot of %q: sig %x, want %x, or not in the map", e.ch.key, e.sig, sig(e.ch.key))
				}
			}
		}
		if held != named {
			t.Errorf("table holds %d, map %d", held, named)
		}
	}
}

// TestKidTable adds and drops random children, some sharing their sig's
// slot or their first and last eight bytes, and checks every lookup against
// the map after each step.
func TestKidTable(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	keys := []string{wildcard, "a", "b", "ab", "ba", "", "abcdefgh", "abcdefgh-x-abcdefgh", "abcdefgh-y-abcdefgh", "0123456789abcdef"}
	for i := 0; i < 200; i++ {
		keys = append(keys, fmt.Sprintf("k%d", i), fmt.Sprintf("longer-key-%d-of-the-tree", i))
	}
	nd := &node{}
	for step := 0; step < 20000; step++ {
		k := keys[r.IntN(len(keys))]
		if ch := nd.children[k]; ch != nil {
			if r.IntN(3) > 0 {
				nd.dropChild(k)
			}
		} else {
			nd.setChild(k, &node{parent: nd, key: k}, true)
		}
		if step%97 == 0 {
			checkKids(t, nd, true)
		}
		for _, q := range keys[:12] {
			if got := nd.kid(q, sig(q)); got != nd.children[q] {
				t.Fatalf("step %d: kid(%q) = %p; map %p", step, q, got, nd.children[q])
			}
		}
	}
	checkKids(t, nd, true)
}
