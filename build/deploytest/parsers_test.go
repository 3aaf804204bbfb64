package deploytest

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// syslogParser is one [PARSER] of build/parsers.conf, compiled for Go.
type syslogParser struct {
	name   string
	re     *regexp.Regexp
	layout string // Time_Format as a Go layout
}

// filterParsers returns the parsers the syslog parser filter tries, in its order.
func filterParsers(t *testing.T) []syslogParser {
	t.Helper()
	defs := map[string]Section{}
	for _, p := range Sections(readClassic(t, "build/parsers.conf"), "PARSER") {
		defs[mustGet(t, p, "Name")] = p
	}
	var out []syslogParser
	for _, f := range Sections(readClassic(t, "fluent-bit.conf"), "FILTER") {
		if !strings.EqualFold(mustGet(t, f, "Name"), "parser") {
			continue
		}
		for _, name := range f.All("Parser") {
			d, ok := defs[name]
			if !ok {
				t.Fatalf("parser %s is not defined in build/parsers.conf", name)
			}
			if v := mustGet(t, d, "Format"); v != "regex" {
				t.Fatalf("parser %s: Format %s, want regex", name, v)
			}
			re, err := GoRegexp(mustGet(t, d, "Regex"))
			if err != nil {
				t.Fatalf("parser %s: %v", name, err)
			}
			if k := mustGet(t, d, "Time_Key"); re.SubexpIndex(k) < 0 {
				t.Fatalf("parser %s: Time_Key %s is not a group of its regex", name, k)
			}
			layout, err := GoTimeLayout(mustGet(t, d, "Time_Format"))
			if err != nil {
				t.Fatalf("parser %s: %v", name, err)
			}
			out = append(out, syslogParser{name, re, layout})
		}
	}
	if len(out) == 0 {
		t.Fatal("fluent-bit.conf has no parser filter")
	}
	return out
}

// parse applies the filter's semantics: the first parser whose regex matches wins.
func parse(ps []syslogParser, line string) (syslogParser, map[string]string, bool) {
	for _, p := range ps {
		if m, ok := Match(p.re, line); ok {
			return p, m, true
		}
	}
	return syslogParser{}, nil, false
}

func checkSyslogRecord(t *testing.T, where string, p syslogParser, m map[string]string, wantParser string) {
	t.Helper()
	if p.name != wantParser {
		t.Errorf("%s: parsed by %s, want %s", where, p.name, wantParser)
	}
	for _, k := range []string{"ident", "message", "host", "time"} {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: no %s in %v", where, k, m)
		}
	}
	if m["ident"] == "" {
		t.Errorf("%s: empty ident", where)
	}
	if _, err := time.Parse(p.layout, m["time"]); err != nil {
		t.Errorf("%s: time %q does not fit the parser's Time_Format: %v", where, m["time"], err)
	}
}

func TestSyslogParsersExamples(t *testing.T) {
	ps := filterParsers(t)
	tests := []struct {
		line, parser, ident, pid, message string
	}{
		{"Nov 25 17:40:08 node-a1 sshd[23456]: Accepted publickey for ubuntu from 203.0.113.9 port 51234 ssh2: ED25519 SHA256:abc",
			"syslog-rfc3164-file", "sshd", "23456", "Accepted publickey for ubuntu from 203.0.113.9 port 51234 ssh2: ED25519 SHA256:abc"},
		{"Nov  5 07:04:00 node-a1 kernel: [12345.678901] IPVS: rr: TCP 10.96.0.10:53 - no destination available",
			"syslog-rfc3164-file", "kernel", "", "[12345.678901] IPVS: rr: TCP 10.96.0.10:53 - no destination available"},
		{"2026-11-25T17:40:07.123456+00:00 node-a1 systemd[1]: Started session-42.scope - Session 42 of User ubuntu.",
			"syslog-rfc3339-file", "systemd", "1", "Started session-42.scope - Session 42 of User ubuntu."},
		{"2026-11-25T17:40:07.123Z node-a1 CRON[991]: (root) CMD (run-parts /etc/cron.hourly)",
			"syslog-rfc3339-file", "CRON", "991", "(root) CMD (run-parts /etc/cron.hourly)"},
		{"2026-11-25T18:40:07.000001+01:00 node-a1 sudo:   ops : TTY=pts/0 ; USER=root",
			"syslog-rfc3339-file", "sudo", "", "  ops : TTY=pts/0 ; USER=root"},
	}
	for _, tt := range tests {
		p, m, ok := parse(ps, tt.line)
		if !ok {
			t.Errorf("%q: no parser matches", tt.line)
			continue
		}
		checkSyslogRecord(t, tt.line, p, m, tt.parser)
		if m["ident"] != tt.ident || m["pid"] != tt.pid || m["message"] != tt.message {
			t.Errorf("%q: ident %q pid %q message %q, want %q %q %q", tt.line, m["ident"], m["pid"], m["message"], tt.ident, tt.pid, tt.message)
		}
		if _, has := m["pid"]; has != (tt.pid != "") {
			t.Errorf("%q: pid key present %v, want %v (no [pid] means no key)", tt.line, has, tt.pid != "")
		}
	}
	// Lines that are not syslog pass the filter unchanged (the record keeps "log").
	for _, line := range []string{"", "-- MARK --", "Nov 25 17:40:08 node-a1", "2026-11-25 17:40:07 node-a1 sshd[1]: no T separator"} {
		if p, _, ok := parse(ps, line); ok {
			t.Errorf("%q: matched by %s, want no match", line, p.name)
		}
	}
}

// TestSyslogParsersSamples feeds every line of the sample syslog files through the filter's
// parsers: each must yield ident and message, with the parser made for its timestamp style.
func TestSyslogParsersSamples(t *testing.T) {
	ps := filterParsers(t)
	for _, tt := range []struct{ file, parser string }{
		{"syslog.log", "syslog-rfc3164-file"},
		{"syslog-rfc3339.log", "syslog-rfc3339-file"},
	} {
		f, err := os.Open(filepath.Join(root, "testdata/samples", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		n := 0
		for sc.Scan() {
			n++
			where := tt.file + ":" + strconv.Itoa(n)
			p, m, ok := parse(ps, sc.Text())
			if !ok {
				t.Errorf("%s: no parser matches %q", where, sc.Text())
				continue
			}
			checkSyslogRecord(t, where, p, m, tt.parser)
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		if n < 100 {
			t.Errorf("%s: %d lines, want a realistic sample", tt.file, n)
		}
	}
}
