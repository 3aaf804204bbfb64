package drain

import (
	"slices"
	"testing"
)

// A restarted node seeds the templates it learnt before; replaying the same
// lines must then announce nothing new (the plugin's restart promise), for
// the default preset's templates, which hold partial wildcards ("uid=<*>").
func TestDefaultSeedReplay(t *testing.T) {
	needShared(t)
	cfg, err := Preset("default")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range datasetNames {
		lines := loadContents(t, name)
		first, _ := New(cfg)
		for _, l := range lines {
			first.Add(name, l)
		}
		templates := map[string]bool{}
		for _, l := range lines {
			r, ok := first.Match(name, l)
			if !ok {
				t.Fatalf("%s: %q does not match after mining", name, l)
			}
			templates[r.Template] = true
		}
		sorted := make([]string, 0, len(templates))
		for tmpl := range templates {
			sorted = append(sorted, tmpl)
		}
		slices.Sort(sorted)
		second, _ := New(cfg)
		for _, tmpl := range sorted {
			if _, err := second.Seed(name, tmpl); err != nil {
				t.Fatal(err)
			}
		}
		created := 0
		for _, l := range lines {
			if second.Add(name, l).Kind == Created {
				created++
			}
		}
		if created != 0 {
			t.Errorf("%s: %d lines created clusters after seeding %d templates", name, created, len(templates))
		}
	}
}
