package drain

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// syntheticStream is a deterministic mix of templates, numbers and odd lines.
func syntheticStream(n int) []benchLine {
	var out []benchLine
	x := uint32(12345)
	next := func() uint32 { x = x*1664525 + 1013904223; return x >> 8 }
	verbs := []string{"open", "close", "read", "write", "sync", "fail"}
	for i := 0; i < n; i++ {
		v := verbs[next()%uint32(len(verbs))]
		var line string
		switch next() % 5 {
		case 0:
			line = fmt.Sprintf("%s file /tmp/f%d size %d", v, next()%50, next())
		case 1:
			line = fmt.Sprintf("user u%d did %s on host%d", next()%7, v, next()%3)
		case 2:
			line = fmt.Sprintf("%d %s", next(), v)
		case 3:
			line = fmt.Sprintf("%s token%d token%d token%d", v, next()%200, next()%4, next()%9)
		default:
			line = strings.Repeat(" ", int(next()%3)) + v
		}
		out = append(out, benchLine{fmt.Sprintf("p%d", next()%3), line})
	}
	return out
}

func checkRoundTrip(t *testing.T, cfg Config, lines []benchLine) {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	half := len(lines) / 2
	for _, l := range lines[:half] {
		m.Add(l.part, l.line)
	}
	var buf bytes.Buffer
	if err := m.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := Restore(bytes.NewReader(buf.Bytes()), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := r.Snapshot(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Fatal("snapshot of the restored miner differs")
	}
	for i, l := range lines[half:] {
		a, b := m.Add(l.part, l.line), r.Add(l.part, l.line)
		if !sameResult(a, b) {
			t.Fatalf("line %d %q: original %+v, restored %+v", half+i, l.line, a, b)
		}
	}
	sa, sb := m.Stats(), r.Stats()
	if sa.Clusters != sb.Clusters || sa.Partitions != sb.Partitions { // counters restart at 0
		t.Errorf("stats differ: %+v vs %+v", sa, sb)
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	lines := syntheticStream(6000)
	t.Run("synthetic", func(t *testing.T) {
		cfg, _ := Preset("drain3")
		checkRoundTrip(t, cfg, lines)
	})
	t.Run("synthetic/lru+maxchildren", func(t *testing.T) {
		cfg, _ := Preset("drain3")
		cfg.MaxClusters, cfg.MaxChildren, cfg.Depth = 40, 5, 5
		checkRoundTrip(t, cfg, lines)
	})
	t.Run("loghub", func(t *testing.T) {
		needShared(t)
		var all []benchLine
		for _, name := range datasetNames {
			for _, l := range loadContents(t, name) {
				all = append(all, benchLine{name, l})
			}
		}
		cfg, _ := Preset("default")
		checkRoundTrip(t, cfg, all)
	})
}

func TestRestoreErrors(t *testing.T) {
	cfg, _ := Preset("drain3")
	m, _ := New(cfg)
	m.Add("p", "a b c")
	m.Add("p", "a b d")
	var buf bytes.Buffer
	m.Snapshot(&buf)
	good := buf.String()
	small := cfg
	small.MaxSnapshotBytes = 10
	deep := cfg
	deep.Depth = 5
	tests := []struct {
		name, in string
		cfg      Config
		want     string
	}{
		{"too large", good, small, "MaxSnapshotBytes"},
		{"not json", "{nope", cfg, "read snapshot"},
		{"version", strings.Replace(good, `"version":1`, `"version":2`, 1), cfg, "version 2"},
		{"depth", good, deep, "Depth 4"},
		{"bad partition index", strings.Replace(good, `"p":0`, `"p":7`, 1), cfg, "out of range"},
		{"repeated id", `{"version":1,"depth":4,"partitions":[{"key":"p","next_id":1,"tree":{}}],"clusters":[{"p":0,"id":1,"t":"a"},{"p":0,"id":1,"t":"a"}]}`, cfg, "repeated cluster id"},
		{"id beyond next_id", `{"version":1,"depth":4,"partitions":[{"key":"p","next_id":0,"tree":{}}],"clusters":[{"p":0,"id":1,"t":"a"}]}`, cfg, "bad or repeated"},
		{"orphan cluster", `{"version":1,"depth":4,"partitions":[{"key":"p","next_id":1,"tree":{}}],"clusters":[{"p":0,"id":1,"t":"a"}]}`, cfg, "in no leaf"},
		{"wrong length leaf", `{"version":1,"depth":4,"partitions":[{"key":"p","next_id":1,"tree":{"2":{"c":{"a":{"k":[1]}}}}}],"clusters":[{"p":0,"id":1,"t":"a"}]}`, cfg, "not 2 tokens"},
		{"too deep", `{"version":1,"depth":4,"partitions":[{"key":"p","next_id":1,"tree":{"3":{"c":{"a":{"c":{"b":{"k":[1]}}}}}}}],"clusters":[{"p":0,"id":1,"t":"a b c"}]}`, cfg, "deeper"},
		{"inner clusters", `{"version":1,"depth":4,"partitions":[{"key":"p","next_id":1,"tree":{"3":{"k":[1]}}}],"clusters":[{"p":0,"id":1,"t":"a b c"}]}`, cfg, "inner node"},
		{"bad count", `{"version":1,"depth":4,"partitions":[{"key":"p","next_id":0,"tree":{"x":{}}}],"clusters":[]}`, cfg, "bad token count"},
		{"double space", `{"version":1,"depth":4,"partitions":[{"key":"p","next_id":1,"tree":{}}],"clusters":[{"p":0,"id":1,"t":"a  b"}]}`, cfg, "single-space"},
		{"NUL", `{"version":1,"depth":4,"partitions":[{"key":"p","next_id":1,"tree":{}}],"clusters":[{"p":0,"id":1,"t":"a\u0000"}]}`, cfg, "without NUL"},
		{"over MaxTokens", `{"version":1,"depth":4,"partitions":[{"key":"p","next_id":0,"tree":{"100000":{}}}],"clusters":[]}`, cfg, "over Config.MaxTokens"},
		{"duplicate partition", `{"version":1,"depth":4,"partitions":[{"key":"p","tree":{}},{"key":"p","tree":{}}],"clusters":[]}`, cfg, "twice"},
	}
	for _, tt := range tests {
		_, err := Restore(strings.NewReader(tt.in), tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to mention %q", tt.name, err, tt.want)
		}
	}
}

// TestRestoreTighterBounds: a snapshot larger than the new bounds is cut
// down by LRU and counted.
func TestRestoreTighterBounds(t *testing.T) {
	cfg, _ := Preset("drain3")
	m, _ := New(cfg)
	for _, l := range syntheticStream(2000) {
		m.Add(l.part, l.line)
	}
	var buf bytes.Buffer
	m.Snapshot(&buf)
	tight := cfg
	tight.MaxClusters, tight.MaxPartitions = 5, 2
	r, err := Restore(&buf, tight)
	if err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	if st.Clusters > 5 || st.Partitions != 2 || st.EvictedClusters == 0 || st.EvictedPartitions != 1 {
		t.Errorf("stats %+v", st)
	}
}

// FuzzRestore: any input is rejected or restored, never a panic, and a
// restored miner works.
func FuzzRestore(f *testing.F) {
	cfg, _ := Preset("drain3")
	cfg.MaxSnapshotBytes = 1 << 16
	m, _ := New(cfg)
	for _, l := range syntheticStream(300) {
		m.Add(l.part, l.line)
	}
	var buf bytes.Buffer
	m.Snapshot(&buf)
	f.Add(buf.Bytes())
	f.Add([]byte(`{"version":1,"depth":4,"partitions":[{"key":"p","next_id":1,"tree":{"1":{"k":[1]}}}],"clusters":[{"p":0,"id":1,"t":"a"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Restore(bytes.NewReader(b), cfg)
		if err != nil {
			return
		}
		for _, l := range syntheticStream(50) {
			res := r.Add(l.part, l.line)
			checkTemplate(t, cfg, res.Template)
		}
		if err := r.Snapshot(&bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
	})
}
