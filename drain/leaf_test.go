package drain

import (
	"fmt"
	"slices"
	"testing"
)

// TestLeafWindowKeepsHotTemplates: once a leaf holds more than MaxScored
// clusters, a template that matched is still found however many new
// clusters arrive after it, and a new one is found by its second line while
// fewer than MaxScored/2 newer ones came (a later one would make a second
// cluster: the price of the bound, which the new-template budget keeps
// from mattering in a flood: TestFloodLearnsRecurringLines).
func TestLeafWindowKeepsHotTemplates(t *testing.T) {
	for _, preset := range []string{"default", "drain3"} {
		t.Run(preset, func(t *testing.T) {
			cfg, _ := Preset(preset)
			cfg.NewTemplateBurst = 0
			cfg.MaxChildren = 4 // the first tokens fill the node at once: one <*> leaf
			cfg.MaxScored = 8
			m, _ := New(cfg)
			// Lines of 6 tokens, each of another first word; "hot" lines of
			// one template every 20 lines; "late" ones appear mid-run.
			n := 0
			newLine := func() string {
				n++
				return fmt.Sprintf("%s %s %s %s %s %s", letters(n+1000), letters(n+2000), letters(n+3000), letters(n+4000), letters(n+5000), letters(n+6000))
			}
			var hotID, lateID uint64
			for range cfg.MaxChildren { // the node's named children: the rest go to <*>
				m.Add("p", newLine())
			}
			for i := range 600 {
				m.Add("p", newLine())
				switch {
				case i%20 == 0 || i == 1: // its second line makes it hot
					r := m.Add("p", "zhot event started on worker alpha")
					if hotID == 0 {
						hotID = r.ClusterID
					} else if r.Kind != Known || r.ClusterID != hotID {
						t.Fatalf("line %d: the hot template went %v to cluster %d, want known %d", i, r.Kind, r.ClusterID, hotID)
					}
				case i == 305 || i == 307 || i == 451 || i == 599:
					// Created after the leaf outgrew the bound: hot once matched.
					r := m.Add("p", "zlate event stopped on worker beta")
					if i == 305 {
						lateID = r.ClusterID
					} else if r.Kind != Known || r.ClusterID != lateID {
						t.Fatalf("line %d: the late template went %v to cluster %d, want known %d", i, r.Kind, r.ClusterID, lateID)
					}
				}
			}
			st := m.Stats()
			if st.ScoreCapped == 0 {
				t.Fatal("no line was scored through a window: the test does not reach the bound")
			}
			if st.Scored > st.Lines*maxWork(m) {
				t.Errorf("%d clusters scored for %d lines, bound %d a line", st.Scored, st.Lines, maxWork(m))
			}
			checkTree(t, m)
		})
	}
}

// TestPromote: a leaf's hot list is most recent first, bounded by
// MaxScored/2, and loses a cluster that leaves the leaf.
func TestPromote(t *testing.T) {
	cfg, _ := Preset("drain3")
	cfg.MaxScored = 6
	m, _ := New(cfg)
	nd := &node{}
	cs := make([]*cluster, 8)
	for i := range cs {
		cs[i] = &cluster{id: uint64(i), leaf: nd, part: &partition{}}
		nd.clusters = append(nd.clusters, cs[i])
	}
	ids := func() (out []uint64) {
		for _, c := range nd.hot {
			out = append(out, c.id)
		}
		return out
	}
	for _, i := range []int{1, 2, 3, 2, 4} {
		m.promote(cs[i])
	}
	if got := fmt.Sprint(ids()); got != "[4 2 3]" {
		t.Errorf("hot %s, want [4 2 3] (bounded at 3, most recent first)", got)
	}
	unleaf(cs[2])
	if got := fmt.Sprint(ids()); got != "[4 3]" {
		t.Errorf("hot %s after cluster 2 left the leaf, want [4 3]", got)
	}
	w, _ := m.candidates(cs[0].part, nd)
	if len(w) != 6 || w[0] != cs[4] || w[1] != cs[3] || w[5] != cs[7] {
		t.Errorf("window %v, want the 2 hot then the 4 newest", w)
	}
	// A long run against a plain move-to-front list of at most 3.
	want := ids()
	for k := range 200 {
		i := (k*k + k/3) % len(cs)
		if i == 2 {
			continue // left the leaf
		}
		m.promote(cs[i])
		want = slices.Insert(slices.DeleteFunc(want, func(id uint64) bool { return id == uint64(i) }), 0, uint64(i))
		want = want[:min(len(want), 3)]
		if got := ids(); !slices.Equal(got, want) {
			t.Fatalf("promote %d: hot %v, want %v", i, got, want)
		}
	}
}

// TestFloodWindow: in a flooding partition a leaf past floodScored is
// scored through the smaller window, and the templates its lines matched
// before (hot) are still found there.
func TestFloodWindow(t *testing.T) {
	cfg, _ := Preset("default")
	cfg.NewTemplateBurst, cfg.NewTemplateRate = 60, 0 // reserve 6
	m, _ := New(cfg)
	fakeClock(m)
	event := func(i int) string { // one leaf: same first token and length; capitalised words stay apart
		return fmt.Sprintf("svc Event%s stopped on worker %d now", letters(i+100), i)
	}
	for i := range 50 {
		if r := m.Add("p", event(i)); r.Kind != Created {
			t.Fatalf("event %d: %v", i, r.Kind)
		}
	}
	for _, i := range []int{3, 7} { // matched again: hot
		if r := m.Add("p", event(i)); r.Kind != Known {
			t.Fatalf("event %d again: %v", i, r.Kind)
		}
	}
	for i := 50; !m.flooding(m.parts["p"]); i++ {
		m.Add("p", event(i))
	}
	st0 := m.Stats()
	for _, i := range []int{3, 7, 3} {
		if r := m.Add("p", event(i)); r.Kind != Known {
			t.Errorf("hot event %d in the flooding partition: %v, want known", i, r.Kind)
		}
	}
	st := m.Stats()
	if per := (st.Scored - st0.Scored) / 3; per > floodScored+maxCross/4 || st.ScoreCapped == st0.ScoreCapped {
		t.Errorf("%d clusters scored a line (bound %d), %d lines windowed", per, floodScored+maxCross/4, st.ScoreCapped-st0.ScoreCapped)
	}
	checkTree(t, m)
}
