package drain

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzSeeds are odd lines plus, when the shared data is there, a sample of
// every dataset.
func fuzzSeeds(f *testing.F) []string {
	seeds := []string{"", " ", "a\x00b", "caf\xe9", "\u3000x\x1cy\u0085", "<*> <*> x", "1 2 3", strings.Repeat("a ", 40)}
	if _, err := os.Stat(filepath.Join(sharedDir, "loghub-2k")); err == nil {
		for _, name := range datasetNames {
			for i, l := range loadContents(f, name) {
				if i%97 == 0 {
					seeds = append(seeds, l)
				}
			}
		}
	}
	return seeds
}

func checkTemplate(t *testing.T, cfg Config, s string) {
	t.Helper()
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		t.Fatalf("template %q is not valid UTF-8 without NUL", s)
	}
	if n := len(strings.Fields(s)); n > cfg.MaxTokens {
		t.Fatalf("template has %d tokens, over MaxTokens %d", n, cfg.MaxTokens)
	}
}

// FuzzAdd: no panic; every template valid; after Add the line matches its
// cluster; bounds hold.
func FuzzAdd(f *testing.F) {
	seeds := fuzzSeeds(f)
	for i, s := range seeds {
		f.Add(s, seeds[(i+1)%len(seeds)])
	}
	f.Add(sudoLine("deploy", "kubelet"), sudoLine("ops", "chrony")) // a cross-leaf join
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, preset := range []string{"drain3", "default"} {
			cfg, _ := Preset(preset)
			cfg.MaxTokens, cfg.MaxLineBytes, cfg.MaxClusters, cfg.MaxPartitions, cfg.MaxChildren = 16, 200, 4, 2, 3
			m, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			lines := []string{a, b, a + " " + b, b, a}
			parts := []string{"p", "q", "r", "p", "q"}
			// A second miner fed through AddBatch, without the line memo,
			// must agree line by line.
			batch, _ := New(cfg)
			batch.memo.tab = nil
			out := make([]Result, len(lines))
			batch.AddBatch(parts, lines, out)
			for i, line := range lines {
				part := parts[i]
				r := m.Add(part, line)
				if !sameResult(out[i], r) {
					t.Fatalf("%s: line %q: AddBatch gave %+v, Add %+v", preset, line, out[i], r)
				}
				checkTemplate(t, cfg, r.Template)
				if r.TemplateID != TemplateID(r.Partition, r.Template) {
					t.Fatalf("stale template id for %q", r.Template)
				}
				// A literal "<*>" token in the line counts as a wildcard of
				// the new template (as in Drain3), which can leave the line
				// below sim_th for its own cluster.
				if slices.Contains(tokensOf(m, line, true), wildcard) {
					continue
				}
				got, ok := m.Match(part, line)
				if !ok || got.ClusterID != r.ClusterID || got.Template != r.Template {
					t.Fatalf("%s: line %q: Add gave cluster %d %q, Match gave %v %d %q", preset, line, r.ClusterID, r.Template, ok, got.ClusterID, got.Template)
				}
				st := m.Stats()
				if st.Clusters > cfg.MaxClusters || st.Partitions > cfg.MaxPartitions {
					t.Fatalf("bounds broken: %+v", st)
				}
			}
			checkTree(t, m) // leaves, lists and keys still agree after cross-leaf joins
		}
	})
}

// FuzzTokenize: tokens are non-empty, valid UTF-8 without NUL or Python
// whitespace, at most MaxTokens; on clean input they are str.split()'s.
func FuzzTokenize(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	cfg, _ := Preset("drain3")
	cfg.MaxTokens, cfg.MaxLineBytes = 32, 300
	m, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		toks := tokensOf(m, line, true)
		if len(toks) > cfg.MaxTokens {
			t.Fatalf("%d tokens", len(toks))
		}
		for _, tok := range toks {
			if tok == "" || !utf8.ValidString(tok) || strings.IndexByte(tok, 0) >= 0 || strings.IndexFunc(tok, isPySpace) >= 0 {
				t.Fatalf("bad token %q in %q", tok, toks)
			}
		}
		if len(line) <= cfg.MaxLineBytes && utf8.ValidString(line) && strings.IndexByte(line, 0) < 0 {
			want := strings.FieldsFunc(line, isPySpace)
			if len(want) > cfg.MaxTokens {
				want = want[:cfg.MaxTokens]
			}
			if !slices.Equal(toks, want) {
				t.Fatalf("tokens %q, want %q", toks, want)
			}
		}
	})
}
