package k8s

import (
	"bufio"
	"fmt"
	"regexp"
	"strings"
)

// This module does not import the main module (its go.sum would then have to follow every
// dependency change of the plugin), so it keeps its own reader of Fluent Bit's classic
// format, the same rules as build/deploytest.ParseClassic.

type entry struct{ key, value string }

type section struct {
	name    string
	entries []entry
}

func (s section) get(key string) (string, bool) {
	for _, e := range s.entries {
		if strings.EqualFold(e.key, key) {
			return e.value, true
		}
	}
	return "", false
}

func (s section) all(key string) []string {
	var vs []string
	for _, e := range s.entries {
		if strings.EqualFold(e.key, key) {
			vs = append(vs, e.value)
		}
	}
	return vs
}

func sectionsNamed(secs []section, name string) []section {
	var out []section
	for _, s := range secs {
		if strings.EqualFold(s.name, name) {
			out = append(out, s)
		}
	}
	return out
}

// parseClassic reads `[SECTION]` headers and indented `Key Value` lines; comments and blank
// lines are skipped. Directives (@SET, @INCLUDE) are rejected: our files do not use them.
func parseClassic(text string) ([]section, error) {
	var secs []section
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		raw := strings.TrimRight(sc.Text(), " \t\r")
		line := strings.TrimLeft(raw, " \t")
		switch {
		case line == "" || line[0] == '#':
			continue
		case line[0] == '@':
			return nil, fmt.Errorf("line %d: directives are not supported", n)
		case raw[0] == '[':
			if !strings.HasSuffix(raw, "]") {
				return nil, fmt.Errorf("line %d: bad section header", n)
			}
			secs = append(secs, section{name: raw[1 : len(raw)-1]})
			continue
		case raw == line:
			return nil, fmt.Errorf("line %d: key %q is not indented", n, line)
		case len(secs) == 0:
			return nil, fmt.Errorf("line %d: key outside a section", n)
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			return nil, fmt.Errorf("line %d: key %q has no value", n, line)
		}
		val := strings.TrimSpace(line[len(f[0]):])
		secs[len(secs)-1].entries = append(secs[len(secs)-1].entries, entry{f[0], val})
	}
	return secs, sc.Err()
}

var envDefault = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*):-([^}]*)\}`)

// expandDefaults replaces each ${VAR:-default} of v the way Fluent Bit 4.2.8 does: by
// lookup(VAR) when it is set and not empty, else by default. ${VAR} without a default is
// left as it is.
func expandDefaults(v string, lookup func(string) (string, bool)) string {
	return envDefault.ReplaceAllStringFunc(v, func(ref string) string {
		m := envDefault.FindStringSubmatch(ref)
		if val, ok := lookup(m[1]); ok {
			return val
		}
		return m[2]
	})
}
