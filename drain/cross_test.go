package drain

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

func sudoLine(user, unit string) string {
	return fmt.Sprintf("%s : TTY=pts/1 ; PWD=/home/%s ; USER=root ; COMMAND=/usr/bin/systemctl restart %s", user, user, unit)
}

const sudoTemplate = "<*> : TTY=pts/1 ; PWD=<*> ; USER=root ; COMMAND=<*> restart <*>"

// TestCrossLeaf feeds lines to a fresh default miner and checks what each
// did: a line whose key token (the first, at depth 4) differs joins a
// cluster of another leaf only when the line marks that token as a value.
func TestCrossLeaf(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		kinds []Kind
		last  string // template of the last line's cluster
	}{
		{"sudo user joins, then found through the <*> child",
			[]string{sudoLine("deploy", "containerd"), sudoLine("ops", "kubelet"), sudoLine("admin", "chrony"), sudoLine("deploy", "kubelet")},
			[]Kind{Created, Generalized, Known, Known}, sudoTemplate},
		{"key=value key token",
			[]string{"user=alice logged in from console", "user=bob logged in from console", "user=carol logged in from console"},
			[]Kind{Created, Generalized, Known}, "<*> logged in from console"},
		{"quoted value glued to a key",
			[]string{`pod="shop/web" probe failed twice`, `pod="db/pg" probe failed twice`},
			[]Kind{Created, Generalized}, "<*> probe failed twice"},
		{"absolute DNS names",
			[]string{"redis.cache.svc.cluster.local. resolved in time", "api.example.com. resolved in time"},
			[]Kind{Created, Generalized}, "<*> resolved in time"},
		{"words that name events stay apart",
			[]string{"cupsd startup succeeded", "syslogd startup succeeded"},
			[]Kind{Created, Created}, "syslogd startup succeeded"},
		{"process names stay apart",
			[]string{"java invoked oom-killer: order=0", "nginx invoked oom-killer: order=0"},
			[]Kind{Created, Created}, "nginx invoked oom-killer: order=<*>"},
		{"an unmarked non-word key stays apart",
			[]string{"kubelet.service: Consumed 5s CPU time.", "cri-containerd-0123456789abcdef0123.scope: Consumed 7s CPU time."},
			[]Kind{Created, Created}, "<*>: Consumed <*> CPU time."},
		{"a marked key but too little else in common",
			[]string{"user=alice logged in from console", "user=bob failed out of shell"},
			[]Kind{Created, Created}, "user=bob failed out of shell"},
		{"a dotted namespace is one",
			[]string{"com.apple.x.daily: the job ran to its end", "com.apple.y.hourly: the job ran to its end"},
			[]Kind{Created, Generalized}, "<*> the job ran to its end"},
		{"a word mismatch elsewhere still rules out",
			[]string{"alice : mode=fast started cleanly now", "bob : mode=fast stopped cleanly now"},
			[]Kind{Created, Created}, "bob : mode=fast stopped cleanly now"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _ := Preset("default")
			m, _ := New(cfg)
			var r, prev Result
			for i, l := range tt.lines {
				r = m.Add("p", l)
				if r.Kind != tt.kinds[i] {
					t.Fatalf("line %d %q: %v (template %q), want %v", i, l, r.Kind, r.Template, tt.kinds[i])
				}
				if r.Kind == Generalized && (r.ClusterID != prev.ClusterID || r.ParentID != prev.TemplateID || r.ParentTemplate != prev.Template) {
					t.Errorf("line %d: generalized %+v, want cluster %d with parent %s %q", i, r, prev.ClusterID, prev.TemplateID, prev.Template)
				}
				if r.TemplateID != TemplateID("p", r.Template) {
					t.Errorf("line %d: stale template id", i)
				}
				// Match agrees with Add on every line seen so far.
				for _, seen := range tt.lines[:i+1] {
					if got, ok := m.Match("p", seen); ok && got.TemplateID != m.Add("p", seen).TemplateID {
						t.Errorf("Match(%q) = %q, Add disagrees", seen, got.Template)
					}
				}
				prev = r
			}
			if r.Template != tt.last {
				t.Errorf("last template %q, want %q", r.Template, tt.last)
			}
			checkTree(t, m)
		})
	}
}

// checkTree checks the invariants a cross-leaf join must keep: every cluster
// sits in a leaf its template's key tokens lead to, in its token count's list (in
// descending id order), and no node is empty.
func checkTree(t *testing.T, m *Miner) {
	t.Helper()
	for _, p := range m.parts {
		live := 0
		walk(p, func(c *cluster) {
			live++
			for i, tok := range c.tokens {
				if c.part.sigs && c.sigs[i] != sig(tok) {
					t.Errorf("cluster %d %q: sig of token %d stale", c.id, c.template, i)
				}
			}
			// The keys on the way to its leaf are its template's or <*>
			// (the overflow child of a full node).
			i := 0
			for nd := c.leaf; nd.parent != nil; nd = nd.parent {
				i++
			}
			for nd := c.leaf; nd.parent != nil; nd = nd.parent {
				i--
				if nd.key != c.tokens[i] && nd.key != wildcard {
					t.Errorf("cluster %d %q sits under key %q", c.id, c.template, nd.key)
				}
			}
		})
		listed := 0
		for n, c := range p.newest {
			for last := uint64(1 << 63); c != nil; c = c.lnext {
				listed++
				if len(c.tokens) != n || c.id >= last || c.leaf == nil {
					t.Errorf("list of %d tokens: cluster %d %q out of place", n, c.id, c.template)
				}
				last = c.id
			}
		}
		if listed != live || live != p.live {
			t.Errorf("partition %q: %d clusters in the tree, %d listed, %d live", p.name, live, listed, p.live)
		}
		var empty func(*node)
		empty = func(nd *node) {
			if len(nd.clusters) == 0 && len(nd.children) == 0 {
				t.Errorf("partition %q: empty node %q left in the tree", p.name, nd.key)
			}
			// A leaf's hot clusters (leaf.go) are its own, each once.
			if len(nd.hot) > m.cfg.MaxScored/2 {
				t.Errorf("partition %q: leaf %q has %d hot clusters, bound %d", p.name, nd.key, len(nd.hot), m.cfg.MaxScored/2)
			}
			for i, c := range nd.hot {
				if c.leaf != nd || !slices.Contains(nd.clusters, c) || slices.Index(nd.hot, c) != i {
					t.Errorf("partition %q: hot cluster %d %q of leaf %q is not its own, or listed twice", p.name, c.id, c.template, nd.key)
				}
			}
			checkKids(t, nd, m.indexed)
			for _, ch := range nd.children {
				empty(ch)
			}
		}
		for _, nd := range p.byLen {
			if nd != nil {
				empty(nd)
			}
		}
	}
}

// TestCrossLeafRehome: the joined cluster leaves its old leaf (pruned when
// empty) for the <*> child; a line whose own key leaf exists still finds it
// there; the drain3 preset never joins across leaves.
func TestCrossLeafRehome(t *testing.T) {
	cfg, _ := Preset("default")
	m, _ := New(cfg)
	m.Add("p", sudoLine("deploy", "containerd"))
	other := m.Add("p", "ops : session closed ; reason=idle ; code=0 ; by timer")
	r := m.Add("p", sudoLine("ops", "kubelet"))
	if r.Kind != Generalized || r.Template != sudoTemplate {
		t.Fatalf("got %v %q", r.Kind, r.Template)
	}
	root := m.parts["p"].byLen[len(strings.Fields(sudoTemplate))]
	if root.children["deploy"] != nil || root.children[wildcard] == nil || root.children["ops"] == nil {
		t.Errorf("children after the join: %v", keys(root.children))
	}
	// "ops" still has a leaf (the other cluster): the line goes there, misses,
	// and finds the joined cluster in the wildcard leaf.
	if r2 := m.Add("p", sudoLine("ops", "chrony")); r2.Kind != Known || r2.ClusterID != r.ClusterID {
		t.Errorf("ops line: %v cluster %d %q", r2.Kind, r2.ClusterID, r2.Template)
	}
	if got, ok := m.Match("p", sudoLine("ops", "chrony")); !ok || got.ClusterID != r.ClusterID {
		t.Errorf("Match: %v %+v", ok, got)
	}
	if r3 := m.Add("p", "ops : session closed ; reason=idle ; code=1 ; by timer"); r3.ClusterID != other.ClusterID {
		t.Errorf("other ops line went to cluster %d %q", r3.ClusterID, r3.Template)
	}
	checkTree(t, m)

	d := newMiner(t, nil)
	d.Add("p", sudoLine("deploy", "containerd"))
	if r := d.Add("p", sudoLine("ops", "kubelet")); r.Kind != Created {
		t.Errorf("drain3 preset: %v %q, want a new cluster", r.Kind, r.Template)
	}
}

func keys(m map[string]*node) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestCrossLeafBound: a stream of all-new lines of one length, each in its
// own leaf, looks at no more than maxCross clusters per line, and eviction
// keeps the lists consistent.
func TestCrossLeafBound(t *testing.T) {
	cfg, _ := Preset("default")
	cfg.MaxClusters = 500
	cfg.NewTemplateBurst = 0 // every line creates: the budget's own tests are in budget_test.go
	m, _ := New(cfg)
	const lines = 2000
	for i := 0; i < lines; i++ {
		w := letters(i)
		m.Add("p", fmt.Sprintf("%s %s %s %s", w, letters(i+1), letters(i+2), letters(i+3)))
	}
	if m.crossSeen > lines*maxCross {
		t.Errorf("%d clusters looked at for %d lines, bound %d per line", m.crossSeen, lines, maxCross)
	}
	if m.crossSeen < (lines-maxCross)*maxCross {
		t.Errorf("only %d clusters looked at: the bound is not what limits the work", m.crossSeen)
	}
	if st := m.Stats(); st.Created != lines || st.Clusters != cfg.MaxClusters {
		t.Errorf("stats %+v", st)
	}
	checkTree(t, m)
}

// TestCrossLeafSnapshot: a miner with a re-homed cluster snapshots, restores
// to the same state (tree, lists) and goes on mining identically.
func TestCrossLeafSnapshot(t *testing.T) {
	var lines []benchLine
	users := []string{"deploy", "ops", "admin", "ci-runner", "ubuntu"}
	units := []string{"containerd", "kubelet", "chrony"}
	for i := 0; i < 60; i++ {
		lines = append(lines, benchLine{"sudo", sudoLine(users[i%len(users)], units[i%len(units)])})
		lines = append(lines, benchLine{"auth", fmt.Sprintf("user=%s logged in from console", users[(i+2)%len(users)])})
	}
	lines = append(lines, syntheticStream(400)...)
	cfg, _ := Preset("default")
	checkRoundTrip(t, cfg, lines)

	m, _ := New(cfg)
	for _, l := range lines[:40] {
		m.Add(l.part, l.line)
	}
	var buf bytes.Buffer
	if err := m.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := Restore(&buf, cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkTree(t, r)
	if leaf := r.parts["sudo"].byLen[11].children[wildcard]; leaf == nil || len(leaf.clusters) != 1 || leaf.clusters[0].template != sudoTemplate {
		t.Errorf("restored tree has no re-homed sudo cluster under <*>")
	}
	if got, ok := r.Match("sudo", sudoLine("nobody", "kubelet")); !ok || got.Template != sudoTemplate {
		t.Errorf("restored Match: %v %q", ok, got.Template)
	}
}

// TestSeedWildKeyToken: a seeded template whose key token holds a wildcard
// ("<*>:", widened from names that had digits or sat in other leaves) sits
// under the <*> child, where the lines it was learnt from reach it: they
// are known, and the template is not widened again.
func TestSeedWildKeyToken(t *testing.T) {
	cfg, _ := Preset("default")
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range []string{"<*>: entered promiscuous mode", "<*>: Deactivated successfully."} {
		if _, err := m.Seed("p", tm); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ line, want string }{
		{"vethce2a1b06: entered promiscuous mode", "<*>: entered promiscuous mode"},
		{"sysstat-collect.service: Deactivated successfully.", "<*>: Deactivated successfully."},
	} {
		if r := m.Add("p", tc.line); r.Kind != Known || r.Template != tc.want {
			t.Errorf("Add(%q) = %v %q, want known %q", tc.line, r.Kind, r.Template, tc.want)
		}
	}
}

// TestFirstKeyScreen: crossSearch's screen never refuses a first key token
// that tokenCovers, keyValue or headValue would accept: every pair of first
// tokens of the sample lines and of templates mined from them, in lines
// made of both.
func TestFirstKeyScreen(t *testing.T) {
	lines := []string{
		"ops : TTY=pts/1 ; PWD=/home/ops ; USER=root ; COMMAND=/bin/ls",
		"redis.cache.svc.cluster.local. IN A 10.0.0.1 answered in 3 ms",
		"DSDT (v001 DELL PE BKC 0x00000001 INTL 0x20050624) @ 0x00000000",
		"com.apple.x.daily: scheduler evaluating activity for job run",
		"uid=<*> logged in from host 10.0.0.1 port 22 ssh2",
		"<*>: connection closed by peer after 3 tries with code",
		"user=root action=login result=ok from 10.1.1.1 at noon",
		"Failed password for invalid user admin from 10.0.0.2 port 22",
		"Accepted password for root from 10.0.0.2 port 22 ssh2",
		// Partners that differ in the first token only, one per rule.
		"admin : TTY=pts/1 ; PWD=/home/admin ; USER=root ; COMMAND=/bin/ls",
		"db.prod.svc.cluster.local. IN A 10.0.0.9 answered in 5 ms",
		"FADT (v001 DELL PE BKC 0x00000001 INTL 0x20050624) @ 0x00000000",
		"com.apple.y.hourly: scheduler evaluating activity for job run",
		"user=news action=login result=ok from 10.1.1.1 at noon",
		"pod=\"shop/web-1\" restarted after probe failure on node a",
		"pod=\"shop/web-2\" restarted after probe failure on node a",
	}
	if _, err := os.Stat(sharedDir); err == nil {
		for _, name := range allDatasets {
			c := loadContents(t, name)
			lines = append(lines, c[:12]...)
		}
	}
	cfg, _ := Preset("default")
	m, _ := New(cfg)
	var toks [][]string
	for _, l := range lines {
		r := m.Add("p", l)
		for _, s := range []string{l, r.Template} {
			sc := m.pool.Get().(*scratch)
			m.textStep(sc, s, false)
			if tl := sc.tokList(); len(tl) > 1 {
				toks = append(toks, slices.Clone(tl))
			}
			m.release(sc)
		}
	}
	checked, accepted := 0, 0
	for _, tmpl := range toks {
		for _, line := range toks {
			n := min(len(tmpl), len(line))
			tm, li := tmpl[:n], append(slices.Clone(line[:n]), tmpl[1:n]...)[:n]
			copy(li[1:], tm[1:]) // the rest as the template's: only the first token differs
			accept := tokenCovers(tm[0], li[0]) || keyValue(tm, li, 0) || headValue(tm, li)
			if accept && !firstKeyFree(li) && !mayTakeFirstKey(tm[0], li[0]) {
				t.Errorf("screen refuses %q for template token %q in %q", li[0], tm[0], strings.Join(tm, " "))
			}
			if accept && tm[0] != li[0] {
				accepted++
			}
			checked++
		}
	}
	if accepted == 0 {
		t.Fatalf("%d pairs checked, no differing first token accepted: the test checks nothing", checked)
	}
	t.Logf("%d pairs, %d with differing first tokens accepted by the rules", checked, accepted)
}
