package drain

import "testing"

// The operator's Config.Masks rules apply under both presets, before the
// default scanner's own rules, to mined lines and to samples alike.
func TestUserMasks(t *testing.T) {
	tests := []struct {
		name, preset string
		masks        []Mask
		line         string
		template     string
		sample       string
	}{
		{"default, a word", "default", []Mask{{"FOO", "hello"}}, "hello world", "<FOO> world", "<FOO> world"},
		{"drain3, a word", "drain3", []Mask{{"FOO", "hello"}}, "hello world", "<FOO> world", "<FOO> world"},
		{"default, no rule", "default", nil, "hello world", "hello world", "hello world"},
		{"default, rules in order", "default", []Mask{{"A", "ab"}, {"B", "<A>c"}}, "abc d", "<B> d", "<B> d"},
		{"default, before the scanner", "default", []Mask{{"ORDER", `order [0-9]+`}}, "shipped order 42 in 3 ms", "shipped <ORDER> in <*> ms", "shipped <ORDER> in <*> ms"},
		{"default, wildcard name", "default", []Mask{{"*", `tenant-[a-z]+`}}, "quota of tenant-acme exceeded", "quota of <*> exceeded", "quota of <*> exceeded"},
		{"default, invalid UTF-8 repaired first", "default", []Mask{{"FOO", "hello"}}, "hello\xff world", "<FOO>\uFFFD world", "<FOO>\uFFFD world"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Preset(tt.preset)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Masks = tt.masks
			m, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if r := m.Add("p", tt.line); r.Template != tt.template {
				t.Errorf("template %q, want %q", r.Template, tt.template)
			}
			if r, ok := m.Match("p", tt.line); !ok || r.Template != tt.template {
				t.Errorf("Match = %q, %v; want %q", r.Template, ok, tt.template)
			}
			if s := m.MaskSample(tt.line); s != tt.sample {
				t.Errorf("MaskSample %q, want %q", s, tt.sample)
			}
		})
	}
}
