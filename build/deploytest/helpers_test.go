package deploytest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
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
	return secs
}

func mustGet(t *testing.T, s Section, key string) string {
	t.Helper()
	v, ok := s.Get(key)
	if !ok {
		t.Fatalf("[%s] at line %d has no %s", s.Name, s.Line, key)
	}
	return v
}

// parseSize reads a Fluent Bit size value ("50MB", "10M", "512k", "1048576").
func parseSize(s string) (int64, bool) {
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, suf := range []struct {
		s string
		m int64
	}{{"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}} {
		if n, ok := strings.CutSuffix(u, suf.s); ok {
			u, mult = n, suf.m
			break
		}
	}
	n, err := strconv.ParseInt(u, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n * mult, true
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
