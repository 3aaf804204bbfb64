package drain

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
	"unsafe"
)

func newMiner(t testing.TB, edit func(*Config)) *Miner {
	t.Helper()
	cfg, err := Preset("drain3")
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Known: "known", Created: "new", Generalized: "generalized", 9: "Kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("%d: %q, want %q", k, got, want)
		}
	}
}

func TestPreset(t *testing.T) {
	for _, name := range []string{"drain3", "default"} {
		cfg, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Preset("fast"); err == nil || !strings.Contains(err.Error(), `"fast"`) {
		t.Errorf("unknown preset: err %v", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		field string
		edit  func(*Config)
	}{
		{"Depth", func(c *Config) { c.Depth = 2 }},
		{"Depth", func(c *Config) { c.Depth = 33 }},
		{"SimTh", func(c *Config) { c.SimTh = 1.5 }},
		{"SimTh", func(c *Config) { c.SimTh = -0.1 }},
		{"MaxChildren", func(c *Config) { c.MaxChildren = 0 }},
		{"MaxClusters", func(c *Config) { c.MaxClusters = 0 }},
		{"MaxPartitions", func(c *Config) { c.MaxPartitions = 0 }},
		{"MaxLineBytes", func(c *Config) { c.MaxLineBytes = 0 }},
		{"MaxTokens", func(c *Config) { c.MaxTokens = 0 }},
		{"MaxSnapshotBytes", func(c *Config) { c.MaxSnapshotBytes = 0 }},
		{"Tokenizer", func(c *Config) { c.Tokenizer = "nope" }},
		{"Scoring", func(c *Config) { c.Scoring = "nope" }},
		{"ExtraDelimiters[1]", func(c *Config) { c.ExtraDelimiters = []string{",", ""} }},
		{"Masks[0].Name", func(c *Config) { c.Masks = []Mask{{Name: "A B", Pattern: "x"}} }},
		{"Masks[0].Name", func(c *Config) { c.Masks = []Mask{{Name: "", Pattern: "x"}} }},
		{"Masks[1].Pattern", func(c *Config) { c.Masks = []Mask{{Name: "*", Pattern: "x"}, {Name: "N", Pattern: "(?<=x)y"}} }},
	}
	for _, tt := range tests {
		cfg, _ := Preset("drain3")
		tt.edit(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), "Config."+tt.field) {
			t.Errorf("%s: error %v does not name the field", tt.field, err)
		}
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted an invalid config", tt.field)
		}
	}
}

func tokensOf(m *Miner, line string, mask bool) []string {
	s, _ := m.tokens(line, mask)
	defer m.release(s)
	return append([]string(nil), s.tokList()...)
}

func TestTokenize(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		line string
		want []string
	}{
		{"empty", nil, "", nil},
		{"blank", nil, " \t\r\n\v\f ", nil},
		{"runs", nil, "  a  b\t\tc ", []string{"a", "b", "c"}},
		{"python whitespace", nil, "a\x1cb\u0085c\u00a0d\u3000e\u200bf\u2028g", []string{"a", "b", "c", "d", "e\u200bf", "g"}},
		{"info separators only", nil, "\x1c\x1d\x1e\x1f", nil},
		{"NUL removed", nil, "a\x00b \x00", []string{"ab"}},
		{"invalid UTF-8", nil, "a\xffb \xc3", []string{"a\uFFFDb", "\uFFFD"}},
		{"extra delimiters", func(c *Config) { c.ExtraDelimiters = []string{",", "=>"} }, "a,b=>c ,d", []string{"a", "b", "c", "d"}},
		{"multi-byte delimiter after strip", func(c *Config) { c.ExtraDelimiters = []string{" x"} }, " xa b xc", []string{"xa", "b", "c"}},
		{"mask", func(c *Config) {
			c.Masks = []Mask{{Name: "IP", Pattern: `\d+\.\d+\.\d+\.\d+`}, {Name: "*", Pattern: `\d+`}}
		}, "from 10.0.0.1 port 22", []string{"from", "<IP>", "port", "<*>"}},
		{"max tokens", func(c *Config) { c.MaxTokens = 2 }, "a b c d", []string{"a", "b"}},
		{"max bytes at rune boundary", func(c *Config) { c.MaxLineBytes = 4 }, "ab\u00e9\u00e9", []string{"ab\u00e9"}},
	}
	for _, tt := range tests {
		m := newMiner(t, tt.edit)
		got := tokensOf(m, tt.line, true)
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
			t.Errorf("%s: tokens(%q) = %q, want %q", tt.name, tt.line, got, tt.want)
		}
	}
}

func TestHasDigit(t *testing.T) {
	for s, want := range map[string]bool{"abc": false, "a1": true, "x\u0663": true, "\u00b2": true, "\u2460": true, "\u00bd": false, "é": false} {
		if got := hasDigit(s); got != want {
			t.Errorf("hasDigit(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestEdgeLines: defined behaviour for hostile or odd lines; every template
// is valid UTF-8 without NUL.
func TestEdgeLines(t *testing.T) {
	huge := strings.Repeat("word ", 1<<20/5+1)
	tests := []struct {
		line, template string
	}{
		{"", ""},
		{"   \t ", ""},
		{"a\x00b", "ab"},
		{"caf\xe9 ok", "caf\uFFFD ok"},
		{"\x00\x00", ""},
	}
	m := newMiner(t, func(c *Config) { c.MaxLineBytes = 1000; c.MaxTokens = 50 })
	for _, tt := range tests {
		r := m.Add("p", tt.line)
		if r.Template != tt.template {
			t.Errorf("Add(%q): template %q, want %q", tt.line, r.Template, tt.template)
		}
	}
	// Empty and whitespace-only lines share the one 0-token cluster, as in Drain3.
	if r := m.Add("p", " "); r.Kind != Known || r.Template != "" {
		t.Errorf("blank line: %+v", r)
	}
	r := m.Add("p", huge)
	if n := len(strings.Fields(r.Template)); n != 50 {
		t.Errorf("1 MiB line: %d tokens, want MaxTokens 50", n)
	}
	r = m.Add("p", "x"+strings.Repeat("\xff", 2000))
	if !utf8.ValidString(r.Template) || len(r.Template) > 1000 {
		t.Errorf("repaired long line: %d bytes, valid %v", len(r.Template), utf8.ValidString(r.Template))
	}
	st := m.Stats()
	if st.LinesCut != 2 || st.LinesTruncated != 1 || st.LinesRepaired != 4 {
		t.Errorf("stats %+v: want 2 cut, 1 truncated, 4 repaired", st)
	}
	m2 := newMiner(t, func(c *Config) { c.MaxTokens = 3 })
	m2.Add("p", "a b c d e")
	if st := m2.Stats(); st.LinesTruncated != 1 {
		t.Errorf("MaxTokens not counted: %+v", st)
	}
}

// TestResultOwnsStrings: results must not alias the caller's bytes (the
// plugin passes strings into Fluent Bit's memory, reused after the call).
func TestResultOwnsStrings(t *testing.T) {
	m := newMiner(t, nil)
	buf := []byte("part")
	line := []byte("user 42 logged in")
	p := unsafe.String(&buf[0], len(buf))
	l := unsafe.String(&line[0], len(line))
	r1 := m.Add(p, l)
	line2 := []byte("user 43 logged in")
	r2 := m.Add(p, unsafe.String(&line2[0], len(line2)))
	copy(buf, "XXXX")
	copy(line, "XXXXXXXXXXXXXXXXX")
	copy(line2, "YYYYYYYYYYYYYYYYY")
	if r1.Partition != "part" || r1.Template != "user 42 logged in" || r2.Template != "user <*> logged in" || r2.ParentTemplate != "user 42 logged in" {
		t.Errorf("results alias input: %+v %+v", r1, r2)
	}
	if got := m.MaskSample(l); got != "XXXXXXXXXXXXXXXXX" {
		t.Fatalf("MaskSample = %q", got)
	}
	s := m.MaskSample(unsafe.String(&line[0], len(line)))
	copy(line, "ZZZZZZZZZZZZZZZZZ")
	if s != "XXXXXXXXXXXXXXXXX" {
		t.Errorf("MaskSample aliases input: %q", s)
	}
	if r, ok := m.Match("part", "user 7 logged in"); !ok || r.Template != "user <*> logged in" {
		t.Errorf("partition key was not copied: %v %+v", ok, r)
	}
}

func TestTemplateID(t *testing.T) {
	// python3: hashlib.sha256(b'app\x00Connection from <*> closed').hexdigest()[:16]
	if got := TemplateID("app", "Connection from <*> closed"); got != "01d688be456eaed7" {
		t.Errorf("TemplateID = %s", got)
	}
	m := newMiner(t, nil)
	m.Add("app", "Connection from a closed")
	r := m.Add("app", "Connection from b closed")
	if r.Kind != Generalized || r.TemplateID != "01d688be456eaed7" || r.ParentID != TemplateID("app", "Connection from a closed") {
		t.Errorf("%+v", r)
	}
}

func TestLifecycle(t *testing.T) {
	m := newMiner(t, nil)
	steps := []struct {
		part, line string
		kind       Kind
		id         uint64
		template   string
	}{
		{"a", "open file x", Created, 1, "open file x"},
		{"a", "open file y", Generalized, 1, "open file <*>"},
		{"a", "open file z", Known, 1, "open file <*>"},
		{"b", "open file z", Created, 1, "open file z"}, // partitions are independent
		{"a", "close file x now", Created, 2, "close file x now"},
		{"a", "12 apples", Created, 3, "12 apples"},
		{"a", "13 pears", Created, 4, "13 pears"}, // numeric first token routes to <*>, sim 0 < 0.4
		{"a", "14 pears", Generalized, 4, "<*> pears"},
	}
	for i, s := range steps {
		r := m.Add(s.part, s.line)
		if r.Kind != s.kind || r.ClusterID != s.id || r.Template != s.template || r.Partition != s.part {
			t.Errorf("step %d %q: got %v %d %q %q", i, s.line, r.Kind, r.ClusterID, r.Template, r.Partition)
		}
	}
	st := m.Stats()
	if st.Lines != 8 || st.Created != 5 || st.Generalized != 2 || st.Known != 1 || st.Clusters != 5 || st.Partitions != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestMatch(t *testing.T) {
	m := newMiner(t, nil)
	m.Add("p", "disk sda1 full")
	m.Add("p", "disk sdb1 full")
	before := m.Stats()
	if r, ok := m.Match("p", "disk sdc9 full"); !ok || r.Kind != Known || r.Template != "disk <*> full" || r.Size != 2 {
		t.Errorf("Match = %+v %v", r, ok)
	}
	for _, line := range []string{"disk sdc9 empty", "net down", ""} {
		if r, ok := m.Match("p", line); ok {
			t.Errorf("Match(%q) = %+v, want no match", line, r)
		}
	}
	if _, ok := m.Match("other", "disk sdc9 full"); ok {
		t.Error("Match found a cluster in an unknown partition")
	}
	if after := m.Stats(); after != before {
		t.Errorf("Match changed stats: %+v → %+v", before, after)
	}
}

func TestSeed(t *testing.T) {
	m := newMiner(t, nil)
	r, err := m.Seed("p", "Connection from <*> closed after <*> ms")
	if err != nil || r.Kind != Created || r.Size != 0 || r.TemplateID != TemplateID("p", "Connection from <*> closed after <*> ms") {
		t.Fatalf("Seed = %+v, %v", r, err)
	}
	if r2, _ := m.Seed("p", "Connection from <*> closed after <*> ms"); r2.Kind != Known || r2.ClusterID != r.ClusterID {
		t.Errorf("second Seed = %+v", r2)
	}
	if a := m.Add("p", "Connection from 10.1.1.1 closed after 12 ms"); a.Kind != Known || a.ClusterID != r.ClusterID || a.Size != 1 {
		t.Errorf("Add after Seed = %+v", a)
	}
	if _, err := m.Seed("p", ""); err != nil {
		t.Errorf("empty template: %v", err)
	}
	if a := m.Add("p", "  "); a.Kind != Known {
		t.Errorf("blank line after seeding the empty template: %+v", a)
	}
	small := newMiner(t, func(c *Config) { c.MaxTokens = 2; c.MaxLineBytes = 10 })
	for _, tmpl := range []string{"a b c", "abcdefghijk"} {
		if _, err := small.Seed("p", tmpl); err == nil || !strings.Contains(err.Error(), "MaxTokens") {
			t.Errorf("over-long seed %q: %v", tmpl, err)
		}
	}
	if _, err := small.Seed("p", "a b"); err != nil {
		t.Errorf("seed within bounds: %v", err)
	}
	if st := m.Stats(); st.Seeded != 2 {
		t.Errorf("Seeded = %d", st.Seeded)
	}
}

func TestMaxClustersLRU(t *testing.T) {
	m := newMiner(t, func(c *Config) { c.MaxClusters = 2 })
	m.Add("a", "alpha one")
	m.Add("b", "beta two three")
	m.Add("a", "alpha one") // touch: beta is now least recently used
	if r := m.Add("a", "gamma four five six"); r.Kind != Created {
		t.Fatalf("%+v", r)
	}
	st := m.Stats()
	if st.Clusters != 2 || st.EvictedClusters != 1 {
		t.Errorf("stats %+v", st)
	}
	if _, ok := m.Match("b", "beta two three"); ok {
		t.Error("evicted cluster still matches")
	}
	if _, ok := m.Match("a", "alpha one"); !ok {
		t.Error("recently used cluster was evicted")
	}
	if r := m.Add("b", "beta two three"); r.Kind != Created || r.ClusterID != 2 {
		t.Errorf("re-created cluster %+v: ids are never reused", r)
	}
}

func TestMaxPartitions(t *testing.T) {
	m := newMiner(t, func(c *Config) { c.MaxPartitions = 2 })
	m.Add("a", "x 1")
	m.Add("b", "y 1")
	m.Add("a", "x 1")
	m.Add("c", "z 1")
	st := m.Stats()
	if st.Partitions != 2 || st.EvictedPartitions != 1 || st.Clusters != 2 {
		t.Errorf("stats %+v", st)
	}
	if _, ok := m.Match("b", "y 1"); ok {
		t.Error("partition b should be evicted")
	}
	if _, ok := m.Match("a", "x 1"); !ok {
		t.Error("partition a was evicted")
	}
}

// TestMaxChildren follows Drain3's add_seq_to_prefix_tree: with max_children
// 3 the third distinct first token opens the <*> child, later ones share it.
func TestMaxChildren(t *testing.T) {
	m := newMiner(t, func(c *Config) { c.MaxChildren = 3; c.SimTh = 0.9 })
	for _, l := range []string{"a x y", "b x y", "c x y", "d x y"} {
		m.Add("p", l)
	}
	m.mu.Lock()
	keys := []string{}
	for k := range m.parts["p"].byLen[3].children {
		keys = append(keys, k)
	}
	m.mu.Unlock()
	if len(keys) != 3 || !strings.Contains(strings.Join(keys, " "), "<*>") {
		t.Errorf("children %q", keys)
	}
	// "d x y" went to the <*> leaf, next to "c x y": similarity 2/3 < 0.9,
	// so it is a new cluster there.
	if r := m.Add("p", "e x y"); r.Kind != Created || r.ClusterID != 5 {
		t.Errorf("%+v", r)
	}
}

func TestInvalidPartitionKey(t *testing.T) {
	m := newMiner(t, nil)
	r := m.Add("ns\xff\x00", "hello world")
	if r.Partition != "ns\uFFFD" {
		t.Errorf("partition %q", r.Partition)
	}
	if r2 := m.Add("ns\xff", "hello world"); r2.Kind != Known {
		t.Errorf("same repaired key is another partition: %+v", r2)
	}
}

func TestConcurrentAdd(t *testing.T) {
	m := newMiner(t, func(c *Config) { c.MaxClusters = 50 })
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				part := fmt.Sprintf("p%d", i%3)
				line := fmt.Sprintf("event %d kind%d from %d", i, i%37, g)
				r := m.Add(part, line)
				if r.Template == "" {
					t.Errorf("empty template for %q", line)
					return
				}
				m.Match(part, line)
				if i%500 == 0 {
					m.Stats()
					m.Snapshot(&bytes.Buffer{})
				}
			}
		}(g)
	}
	wg.Wait()
	if st := m.Stats(); st.Lines != 8000 || st.Clusters > 50 {
		t.Errorf("stats %+v", st)
	}
}

// TestEvictionPrunesTree: the tree is bounded by the live clusters, however
// many distinct lines came and went.
func TestEvictionPrunesTree(t *testing.T) {
	m := newMiner(t, func(c *Config) { c.MaxClusters = 3; c.Depth = 6 })
	for i := 0; i < 2000; i++ {
		line := strings.Repeat("x ", i%40) + "a" + letters(i) + " b" + letters(i) + " c" + letters(i) + " d" + letters(i)
		m.Add("p", line)
	}
	m.mu.Lock()
	nodes := 0
	var count func(*node)
	count = func(nd *node) {
		nodes++
		for _, ch := range nd.children {
			count(ch)
		}
	}
	for _, nd := range m.parts["p"].byLen {
		if nd != nil {
			count(nd)
		}
	}
	m.mu.Unlock()
	// Depth 6: at most 4 nodes per live cluster (count node + 3 token levels).
	if st := m.Stats(); st.Clusters != 3 || nodes > 3*4 {
		t.Errorf("%d clusters, %d tree nodes", st.Clusters, nodes)
	}
}

// TestSplitMatchesPython compares the splitter with the definition (Python's
// str.split() whitespace) on random lines over an alphabet heavy in
// whitespace and control bytes, across the 8-byte scan's edges.
func TestSplitMatchesPython(t *testing.T) {
	m := newMiner(t, func(c *Config) { c.MaxTokens = 1000 })
	tk := m.text.(*drain3Tokenizer)
	alphabet := []byte{' ', ' ', '\t', '\x1c', '\x1f', '\x01', '\x7f', 'a', 'b', '<', '9'}
	x := uint32(7)
	for n := 0; n < 3000; n++ {
		line := make([]byte, n%300)
		for i := range line {
			x = x*1664525 + 1013904223
			line[i] = alphabet[(x>>16)%uint32(len(alphabet))]
		}
		want := strings.FieldsFunc(string(line), isPySpace)
		got, _, ok, _ := tk.split(nil, nil, string(line))
		if !ok || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
			t.Fatalf("split(%q) = %q; want %q", line, got, want)
		}
	}
}

// sameResult reports whether two results are equal, Absorbed by value.
func sameResult(a, b Result) bool { return reflect.DeepEqual(a, b) }
