package chunk

import (
	"fmt"
	"math/rand/v2"
	"reflect"
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

// TestValuesPerRecord checks that each record of a chunk decodes to the
// values a fresh Reader gives it alone: the Reader clears only the values
// the last record wrote, and the memo reuses repeated maps. Records take
// random subsets of the keys (duplicates, nested maps that repeat or not,
// a duplicated map key that fills what the first map lacked),
// with queries of fewer and more than 63 paths (out.set's exact bits and
// its shared bit 63).
func TestValuesPerRecord(t *testing.T) {
	for _, npaths := range []int{6, 70} {
		var paths []string
		for i := range npaths - 2 {
			paths = append(paths, fmt.Sprintf("p%d", i))
		}
		paths = append(paths, "k.a", "k.b")
		q, err := NewQuery(paths...)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, uint64(npaths)))
		var records [][]byte
		var all []byte
		for range 400 {
			var m ct.M
			for range rng.IntN(8) {
				key := fmt.Sprintf("p%d", rng.IntN(npaths))
				switch rng.IntN(4) {
				case 0:
					m = append(m, ct.KV{key, rng.IntN(3)})
				case 1:
					m = append(m, ct.KV{key, fmt.Sprint("v", rng.IntN(3))})
				default:
					m = append(m, ct.KV{key, "same"})
				}
			}
			switch rng.IntN(5) {
			case 0:
				m = append(m, ct.KV{"k", ct.M{{"a", "x"}, {"b", 1}}})
			case 3: // a repeated map, then a duplicate key filling what it lacks
				m = append(m, ct.KV{"k", ct.M{{"a", "x"}}}, ct.KV{"k", ct.M{{"b", rng.IntN(2)}}})
			case 1:
				m = append(m, ct.KV{"k", ct.M{{"a", fmt.Sprint(rng.IntN(2))}}})
			case 2:
				m = append(m, ct.KV{"k", ct.M{{"b", 2}}}, ct.KV{"k", ct.M{{"a", "x"}, {"b", 1}}})
			}
			rng.Shuffle(len(m), func(i, j int) { m[i], m[j] = m[j], m[i] })
			rec := ct.Build(func(e *ct.Enc) { e.V1(1, m) })
			records = append(records, rec)
			all = append(all, rec...)
		}
		var r, one Reader
		var ev, oev Event
		r.Reset(all, q)
		for i, rec := range records {
			one.Reset(rec, q)
			if !r.Next(&ev) || !one.Next(&oev) {
				t.Fatalf("%d paths, record %d: no event: %v %v", npaths, i, r.Err(), one.Err())
			}
			if !sameValues(ev.Values, oev.Values) {
				t.Fatalf("%d paths, record %d: values %v, alone %v", npaths, i, ev.Values, oev.Values)
			}
			for j, v := range ev.Values {
				if v.Kind == Missing && !reflect.DeepEqual(v, Value{}) {
					t.Fatalf("%d paths, record %d: missing value %d not zero: %+v", npaths, i, j, v)
				}
			}
		}
	}
}
