package config

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// keyConstants returns the value of every Key* constant of config.go: the
// keys the plugin parses.
func keyConstants(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "config.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range vs.Names {
			if !strings.HasPrefix(name.Name, "Key") || i >= len(vs.Values) {
				continue
			}
			if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				v, _ := strconv.Unquote(lit.Value)
				keys[v] = name.Name
			}
		}
		return true
	})
	return keys
}

// TestKeyTable: docs/config.md's table has one row per key the plugin
// parses, and no other; each row's default is what the effective
// configuration of an empty one says, where the row gives a value.
func TestKeyTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "config.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "\n## Keys\n")
	if start < 0 {
		t.Fatal(`docs/config.md has no "## Keys" section`)
	}
	doc = doc[start+1:]
	if end := strings.Index(doc[3:], "\n## "); end >= 0 {
		doc = doc[:end+3]
	}
	row := regexp.MustCompile("(?m)^\\| `([A-Za-z_]+)` \\| ([^|]*) \\|")
	rows := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(doc, -1) {
		if _, dup := rows[m[1]]; dup {
			t.Errorf("docs/config.md: key %s has two rows", m[1])
		}
		rows[m[1]] = strings.TrimSpace(m[2])
	}
	keys := keyConstants(t)
	if len(keys) < 30 {
		t.Fatalf("found only %d Key constants in config.go", len(keys))
	}
	for k := range keys {
		if strings.HasPrefix(k, "_test_") {
			continue // test builds only, documented apart
		}
		if _, ok := rows[k]; !ok {
			t.Errorf("key %s is parsed but has no row in docs/config.md", k)
		}
	}
	c, err := Parse(Map{})
	if err != nil {
		t.Fatal(err)
	}
	eff := c.String()
	for k, def := range rows {
		if _, ok := keys[k]; !ok {
			t.Errorf("docs/config.md documents %s, which the plugin does not parse", k)
			continue
		}
		// A plain default ("`60`", "`on`") must be the effective value.
		plain := regexp.MustCompile("^`([0-9a-z_.]+)`$").FindStringSubmatch(def)
		if plain == nil {
			continue
		}
		want := plain[1]
		switch want {
		case "on":
			want = "true"
		case "off":
			want = "false"
		}
		got := regexp.MustCompile(`(?:^| )` + regexp.QuoteMeta(k) + `=(\S*)`).FindStringSubmatch(eff)
		if got == nil {
			t.Errorf("%s: not in the effective configuration %q", k, eff)
			continue
		}
		g := strings.Trim(got[1], `"`)
		if g == "on" {
			g = "true"
		} else if g == "off" {
			g = "false"
		}
		if d, err := parseDuration(want, 0, 1<<62); err == nil && strings.ContainsAny(want, "smhd") {
			if gd, err := parseDuration(g, 0, 1<<62); err == nil && gd == d {
				continue
			}
		}
		if g != want {
			t.Errorf("%s: docs/config.md says the default is %s, the plugin uses %s", k, def, got[1])
		}
	}
}
