package config

import (
	"flag"
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

var update = flag.Bool("update", false, "rewrite the rows of the README's \"## Configuration keys\" table from the key table")

// keyConstants returns the value of every Key* constant of config.go.
func keyConstants(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "config.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
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
				consts[v] = name.Name
			}
		}
		return true
	})
	return consts
}

// docDefault is a key's default as the docs write it.
func docDefault(k key) string {
	switch {
	case k.docDefault != "":
		return k.docDefault
	case k.def != "":
		return "`" + k.def + "`"
	}
	return "(none)"
}

// docRow is a key's row of a docs table, as the table keys renders it.
func docRow(k key) string {
	esc := strings.NewReplacer("|", `\|`)
	return "| `" + k.name + "` | " + esc.Replace(docDefault(k)) + " | " + esc.Replace(k.doc) + " |"
}

// section returns the start and end of the Markdown section headed
// heading in doc, or -1, -1.
func section(doc, heading string) (int, int) {
	start := strings.Index(doc, "\n"+heading+"\n")
	if start < 0 {
		return -1, -1
	}
	start++
	end := strings.Index(doc[start+len(heading):], "\n## ")
	if end < 0 {
		return start, len(doc)
	}
	return start, start + len(heading) + end + 1
}

var keyRow = regexp.MustCompile("(?m)^\\| `([A-Za-z_.]+)` \\|.*\\|$")

// TestKeyTable: the table keys has one entry per Key constant, each name
// once; its documented plain defaults are the effective configuration's;
// and the README's "## Configuration keys" table is its rendering, row for
// row, in its order (go test -run TestKeyTable -update rewrites it).
func TestKeyTable(t *testing.T) {
	consts := keyConstants(t)
	seen := map[string]bool{}
	var documented []key
	for _, k := range keys {
		if seen[strings.ToLower(k.name)] {
			t.Errorf("key %s is in the table twice (Fluent Bit matches keys in any case)", k.name)
		}
		seen[strings.ToLower(k.name)] = true
		if _, ok := consts[k.name]; !ok {
			t.Errorf("key %s has no Key constant in config.go", k.name)
		}
		if k.set == nil || k.show == nil {
			t.Errorf("key %s: no parser or no rendering", k.name)
		}
		if k.hook != strings.HasPrefix(k.name, "_test_") {
			t.Errorf("key %s: test hooks, and only they, are named _test_*", k.name)
		}
		if !k.hook {
			if k.doc == "" || strings.Contains(k.doc, "\n") {
				t.Errorf("key %s: want a one-line doc", k.name)
			}
			documented = append(documented, k)
		}
	}
	for name := range consts {
		if !seen[strings.ToLower(name)] {
			t.Errorf("Key constant %q is not in the table", name)
		}
	}

	// A plain default ("`60`", "`on`", "`7d`") is the effective value.
	t.Setenv("NODE_NAME", "")
	c, err := Parse(Map{})
	if err != nil {
		t.Fatal(err)
	}
	plain := regexp.MustCompile("^`([0-9a-z_.]+)`$")
	for _, k := range documented {
		def := docDefault(k)
		m := plain.FindStringSubmatch(def)
		if m == nil {
			continue
		}
		got := k.show(c)
		if d, err := parseDuration(m[1], 0, 1<<62); err == nil && strings.ContainsAny(m[1], "smhd") {
			if gd, err := parseDuration(got, 0, 1<<62); err == nil && gd == d {
				continue
			}
		}
		if got != m[1] {
			t.Errorf("%s: the table documents the default %s, Parse uses %s", k.name, def, got)
		}
	}

	// The README's table is the rendering of the key table.
	path := filepath.Join("..", "..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start, end := section(doc, "## Configuration keys")
	if start < 0 {
		t.Fatalf(`%s has no "## Configuration keys" section`, path)
	}
	rows := keyRow.FindAllStringIndex(doc[start:end], -1)
	if len(rows) == 0 {
		t.Fatalf(`%s: no key rows in "## Configuration keys"`, path)
	}
	var want []string
	for _, k := range documented {
		want = append(want, docRow(k))
	}
	first, last := start+rows[0][0], start+rows[len(rows)-1][1]
	if got := doc[first:last]; got != strings.Join(want, "\n") {
		if *update {
			doc = doc[:first] + strings.Join(want, "\n") + doc[last:]
			if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: rewrote the key rows", path)
		} else {
			gotRows := strings.Split(got, "\n")
			for i, w := range want {
				if i >= len(gotRows) || gotRows[i] != w {
					g := "(no row)"
					if i < len(gotRows) {
						g = gotRows[i]
					}
					t.Errorf("%s row %d:\n got %s\nwant %s", path, i+1, g, w)
					break
				}
			}
			t.Errorf("%s: the key rows (%d) are not the key table's (%d); run go test ./plugin/config -run TestKeyTable -update", path, len(gotRows), len(want))
		}
	}
}

// TestREADMEKeys: a key the README names in a table or in a [OUTPUT] block
// of the drain output is a key of the table, documented as the table does,
// and named once per table.
func TestREADMEKeys(t *testing.T) {
	byName := map[string]key{}
	for _, k := range keys {
		byName[strings.ToLower(k.name)] = k
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	// Tables headed "| key |": each row a table key, with its default.
	tables := regexp.MustCompile("(?m)^\\| key \\|[^\n]*\n(?:\\|[^\n]*\n)*")
	for _, tab := range tables.FindAllString(string(b), -1) {
		inTable := map[string]bool{}
		for _, m := range regexp.MustCompile("(?m)^\\| `([^`]+)` \\| ([^|]*) \\|").FindAllStringSubmatch(tab, -1) {
			k, ok := byName[strings.ToLower(m[1])]
			switch {
			case !ok:
				t.Errorf("README: %s is not a key of the plugin", m[1])
			case inTable[k.name]:
				t.Errorf("README: %s has two rows", m[1])
			case strings.TrimSpace(m[2]) != docDefault(k):
				t.Errorf("README: %s default %s, the key table's is %s", m[1], strings.TrimSpace(m[2]), docDefault(k))
			}
			inTable[k.name] = true
		}
	}
	// Configuration blocks: every key of a drain output is a table key
	// (or one the Fluent Bit core keeps).
	core := map[string]bool{"name": true, "match": true, "match_regex": true, "alias": true, "log_level": true, "workers": true, "retry_limit": true}
	blocks := regexp.MustCompile(`(?s)\[OUTPUT\]\n(.*?)(?:\n\n|\n\[|\n` + "```" + `)`)
	n := 0
	for _, m := range blocks.FindAllStringSubmatch(string(b), -1) {
		if !regexp.MustCompile(`(?im)^\s*name\s+drain\s*$`).MatchString(m[1]) {
			continue
		}
		n++
		for _, line := range strings.Split(m[1], "\n") {
			f := strings.Fields(line)
			if len(f) == 0 || core[strings.ToLower(f[0])] {
				continue
			}
			if _, ok := byName[strings.ToLower(f[0])]; !ok {
				t.Errorf("README's configuration sets %s, which is not a key of the plugin", f[0])
			}
		}
	}
	if n == 0 {
		t.Error("README: no [OUTPUT] block of the drain output found")
	}
}
