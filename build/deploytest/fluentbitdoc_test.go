package deploytest

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Comments and docs cite docs/fluent-bit.md by section anchor. This test
// fails when a cited anchor is not a heading there, so renaming a section
// cannot leave citations pointing nowhere.

var (
	heading = regexp.MustCompile(`(?m)^#{2,4} (.+)$`)
	// A citation is the file name and an anchor; further anchors may follow
	// after ", #" (docs/fluent-bit.md#chunks, #timestamps).
	citation = regexp.MustCompile(`fluent-bit\.md#([a-z0-9-]+)((?:, #[a-z0-9-]+)*)`)
	more     = regexp.MustCompile(`#([a-z0-9-]+)`)
)

// anchor is GitHub's anchor of a heading: lower case, spaces to dashes, and
// everything but letters, digits, dashes and underscores dropped.
func anchor(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestFluentBitDocAnchors(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(root, "docs", "fluent-bit.md"))
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range heading.FindAllStringSubmatch(string(doc), -1) {
		anchors[anchor(m[1])] = true
	}
	cited := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "out", "bin", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".c", ".h", ".md", ".conf", ".yaml", ".sh":
		default:
			if d.Name() != "Makefile" && d.Name() != "Dockerfile" {
				return nil
			}
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range citation.FindAllStringSubmatch(string(b), -1) {
			names := []string{m[1]}
			for _, x := range more.FindAllStringSubmatch(m[2], -1) {
				names = append(names, x[1])
			}
			for _, n := range names {
				cited++
				if !anchors[n] {
					t.Errorf("%s cites docs/fluent-bit.md#%s, which is no heading there", path, n)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if cited == 0 {
		t.Fatal("no citation of docs/fluent-bit.md found: the pattern or the walk is wrong")
	}
	t.Logf("%d citations, %d anchors", cited, len(anchors))
}
