// Package deploytest checks the deployment artefacts (fluent-bit.conf, build/plugins.conf,
// build/parsers.conf, the Dockerfile and the sample logs) against what
// docs/fluent-bit.md says of Fluent Bit. Nothing here runs in the plugin: it exists for its tests, which need readers for
// Fluent Bit's classic configuration format and for Dockerfiles.
package deploytest

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Entry is one `Key Value` line of a classic section.
type Entry struct {
	Key, Value string
	Line       int
}

// Section is one `[NAME]` block of a classic configuration file, entries in file order.
type Section struct {
	Name    string // as written, e.g. "INPUT"
	Line    int
	Entries []Entry
}

// Get returns the first value of key (case-insensitive, as Fluent Bit compares keys).
// Fluent Bit's plugins also take the first of duplicated single-valued keys.
func (s Section) Get(key string) (string, bool) {
	for _, e := range s.Entries {
		if strings.EqualFold(e.Key, key) {
			return e.Value, true
		}
	}
	return "", false
}

// All returns every value of key in order, for multi-valued keys such as Parser.
func (s Section) All(key string) []string {
	var vs []string
	for _, e := range s.Entries {
		if strings.EqualFold(e.Key, key) {
			vs = append(vs, e.Value)
		}
	}
	return vs
}

// ParseClassic reads Fluent Bit's classic format: `[SECTION]` headers and indented
// `Key Value` lines, `#` comments and blank lines. Like Fluent Bit it rejects keys outside a
// section, unindented keys and indentation that changes inside a file. @SET, @INCLUDE and
// nested groups are not supported (our files do not use them) and are reported as errors.
func ParseClassic(r io.Reader) ([]Section, error) {
	var (
		secs   []Section
		indent string
		sc     = bufio.NewScanner(r)
		n      int
	)
	for sc.Scan() {
		n++
		raw := strings.TrimRight(sc.Text(), " \t\r")
		trimmed := strings.TrimLeft(raw, " \t")
		switch {
		case trimmed == "" || trimmed[0] == '#':
			continue
		case trimmed[0] == '@':
			return nil, fmt.Errorf("line %d: directive %q is not supported", n, strings.Fields(trimmed)[0])
		case raw[0] == '[':
			if !strings.HasSuffix(raw, "]") || len(raw) < 3 {
				return nil, fmt.Errorf("line %d: bad section header %q", n, raw)
			}
			secs = append(secs, Section{Name: raw[1 : len(raw)-1], Line: n})
			continue
		}
		ind := raw[:len(raw)-len(trimmed)]
		if ind == "" {
			return nil, fmt.Errorf("line %d: key %q is not indented", n, trimmed)
		}
		if indent == "" {
			indent = ind
		} else if ind != indent {
			return nil, fmt.Errorf("line %d: indentation %q differs from the file's %q", n, ind, indent)
		}
		if len(secs) == 0 {
			return nil, fmt.Errorf("line %d: key outside a section", n)
		}
		key, val, _ := strings.Cut(trimmed, " ")
		if k, v, ok := strings.Cut(trimmed, "\t"); ok && len(k) < len(key) {
			key, val = k, v
		}
		val = strings.TrimSpace(val)
		if val == "" {
			return nil, fmt.Errorf("line %d: key %q has no value", n, key)
		}
		s := &secs[len(secs)-1]
		s.Entries = append(s.Entries, Entry{Key: key, Value: val, Line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return secs, nil
}

// Sections returns the sections named name (case-insensitive), in file order.
func Sections(secs []Section, name string) []Section {
	var out []Section
	for _, s := range secs {
		if strings.EqualFold(s.Name, name) {
			out = append(out, s)
		}
	}
	return out
}
