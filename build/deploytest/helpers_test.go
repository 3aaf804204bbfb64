package deploytest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/awoooi/fluent-bit-drain/plugin/config"
)

// root is the repository root, seen from this package's directory.
const root = "../.."

func readClassic(t *testing.T, rel string) []Section {
	t.Helper()
	f, err := os.Open(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	secs, err := ParseClassic(f)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	// The image runs the file with the DRAIN_* overrides unset: their defaults apply.
	for i := range secs {
		for j := range secs[i].Entries {
			secs[i].Entries[j].Value = expandDefaults(secs[i].Entries[j].Value)
		}
	}
	return secs
}

var envDefault = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*):-([^}]*)\}`)

// expandDefaults replaces each ${VAR:-default} of v by its default, as Fluent Bit 4.2.8
// does when VAR is unset or empty. ${VAR} without a default is left as it is.
func expandDefaults(v string) string {
	return envDefault.ReplaceAllString(v, "$2")
}

func mustGet(t *testing.T, s Section, key string) string {
	t.Helper()
	v, ok := s.Get(key)
	if !ok {
		t.Fatalf("[%s] at line %d has no %s", s.Name, s.Line, key)
	}
	return v
}

// parseSize reads a Fluent Bit size value ("50MB", "10M", "512k",
// "1048576") the way the plugin's own keys are read; zero is refused.
func parseSize(s string) (int64, bool) {
	n, ok := config.ParseSize(strings.TrimSpace(s))
	return n, ok && n > 0
}

// isOn reports a true boolean the way flb_utils_bool reads it.
func isOn(v string) bool {
	switch strings.ToLower(v) {
	case "on", "true", "yes":
		return true
	}
	return false
}

// tagPrefix is the literal part of an input Tag before its first wildcard.
func tagPrefix(tag string) string {
	if i := strings.IndexByte(tag, '*'); i >= 0 {
		return tag[:i]
	}
	return tag
}
