package chunk

import (
	"fmt"
	"strings"
	"testing"

	ct "github.com/awoooi/fluent-bit-drain/plugin/chunk/chunktest"
)

// TestQueryKeyLengths: keys are compared only with paths of their length
// (node.first), so paths of equal, short, 8-, 16-, 17- and 64+-byte names,
// declared out of length order, must each still land in their own value.
func TestQueryKeyLengths(t *testing.T) {
	long := strings.Repeat("k", 70)
	paths := []string{long + "2", "abc", "abcdefgh", "b", "abd", long + "1", "abcdefghijklmnop", "abcdefghijklmnopq", "x.abc", "x.abd"}
	body := ct.M{}
	for i, p := range paths {
		if p == "x.abc" || p == "x.abd" {
			continue
		}
		body = append(body, ct.KV{p, fmt.Sprint("v", i)})
	}
	body = append(body, ct.KV{"x", ct.M{{"abd", "xd"}, {"abc", "xc"}, {"abe", "no"}}})
	body = append(body, ct.KV{long + "3", "no"}, ct.KV{"abe", "no"})
	q, err := NewQuery(paths...)
	if err != nil {
		t.Fatal(err)
	}
	var r Reader
	r.Reset(ct.Build(func(e *ct.Enc) { e.V2(et, nil, body) }), q)
	var ev Event
	if !r.Next(&ev) {
		t.Fatalf("no event: %v", r.Err())
	}
	for i, p := range paths {
		want := fmt.Sprint("v", i)
		switch p {
		case "x.abc":
			want = "xc"
		case "x.abd":
			want = "xd"
		}
		if got := string(ev.Values[i].Bytes); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	if _, err := NewQuery(make([]string, MaxPaths+1)...); err == nil {
		t.Errorf("NewQuery with %d paths succeeded", MaxPaths+1)
	}
}
