package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awoooi/fluent-bit-drain/drain"
)

const daemons = "klogd startup succeeded\nsyslogd startup succeeded\nntpd startup succeeded\ncrond startup succeeded\nsyslogd startup succeeded\n"

func TestRun(t *testing.T) {
	dir := t.TempDir()
	f1 := filepath.Join(dir, "a.log")
	f2 := filepath.Join(dir, "b.log")
	os.WriteFile(f1, []byte("open file x\nopen file y\n"), 0o644)
	os.WriteFile(f2, []byte("open file z"), 0o644) // no final newline
	long := strings.Repeat("w", 200<<10)
	id := func(tmpl string) string { return drain.TemplateID("cli", tmpl) }

	tests := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stdout string // exact, unless empty and want is set
		want   []string
		stderr string
	}{
		{name: "help", args: []string{"--help"}, want: []string{"drain mine", "--output", "--mask NAME=REGEX", "--preset", "--sim-th", "--depth", "--max-children", "--max-clusters", "Exit status"}},
		{name: "mine help", args: []string{"mine", "-h"}, want: []string{"usage: drain mine"}},
		{name: "no command", args: nil, code: 2, stderr: "missing command"},
		{name: "unknown command", args: []string{"grind"}, code: 2, stderr: `unknown command "grind"`},
		{name: "bad flag", args: []string{"mine", "--fast"}, code: 2, stderr: "-fast"},
		{name: "bad output", args: []string{"mine", "--output", "xml"}, code: 2, stderr: `--output "xml"`},
		{name: "bad preset", args: []string{"mine", "--preset", "x"}, code: 2, stderr: `--preset: "x" is not a preset (want default or drain3)`},
		{name: "bad sim-th", args: []string{"mine", "--sim-th", "2"}, code: 2, stderr: `--sim-th: "2" is not a number in [0, 1]`},
		{name: "bad sim-th syntax", args: []string{"mine", "--sim-th", "high"}, code: 2, stderr: `--sim-th: "high" is not a number`},
		{name: "bad depth", args: []string{"mine", "--depth", "2"}, code: 2, stderr: `--depth: "2" is not an integer in [3, 32]`},
		{name: "bad mask", args: []string{"mine", "--mask", "NUM"}, code: 2, stderr: `--mask: "NUM" is not NAME=REGEX`},
		{name: "bad mask regex", args: []string{"mine", "--mask", "N=("}, code: 2, stderr: "--mask: rule N: error parsing regexp"},
		{name: "bad mask name", args: []string{"mine", "--mask", "A B=x"}, code: 2, stderr: `Config.Masks[0].Name "A B"`},
		{name: "every bad flag", args: []string{"mine", "--depth", "1", "--max-children", "0"}, code: 2, stderr: "--depth: \"1\" is not an integer in [3, 32]\n--max-children: \"0\" is not an integer in [1, 1048576]"},
		{name: "unreadable file", args: []string{"mine", filepath.Join(dir, "missing.log")}, code: 1, stderr: "missing.log"},
		{
			name: "templates", args: []string{"mine", "--preset", "drain3"},
			stdin:  "open file x\r\nopen file y\r\nclose\n",
			stdout: "open file <*>\nopen file <*>\nclose\n",
		},
		{
			name: "events", args: []string{"mine", "--preset", "drain3", "--output", "events"},
			stdin: "open file x\nopen file y\nopen file z\n",
			stdout: "new\t" + id("open file x") + "\topen file x\n" +
				"generalized\t" + id("open file <*>") + "\topen file <*>\n" +
				"known\t" + id("open file <*>") + "\topen file <*>\n",
		},
		{
			// Past the budget a line joins no template (cluster 0): it is
			// printed as itself, never indexed as a cluster.
			name: "templates past the budget", args: []string{"mine", "--new-templates-burst", "2", "--new-templates-per-minute", "1"},
			stdin:  "alpha one\nbeta two three\ngamma four five six\nalpha one\n",
			stdout: "alpha one\nbeta two three\ngamma four five six\nalpha one\n",
		},
		{
			name: "events past the budget", args: []string{"mine", "--output", "events", "--new-templates-burst", "1", "--new-templates-per-minute", "1"},
			stdin:  "alpha one\nbeta two three\ngamma four five six\n",
			stdout: "new\t" + id("alpha one") + "\talpha one\nflood\t\tbeta two three\nthrottled\t\tgamma four five six\n",
		},
		{
			// syslogd and ntpd were templates of their own until crond, the
			// fourth daemon, made the position "<*>": folded into klogd's
			// then, their lines print the merged template, and the summary
			// counts them there.
			name: "templates of a folded cluster", args: []string{"mine"},
			stdin:  daemons,
			stdout: strings.Repeat("<*> startup succeeded\n", 5),
		},
		{
			name: "summary of a folded cluster", args: []string{"mine", "--output", "summary"},
			stdin:  daemons,
			stdout: "count\ttemplate_id\ttemplate\n5\t" + id("<*> startup succeeded") + "\t<*> startup succeeded\n",
		},
		{
			name: "summary", args: []string{"mine", "--preset", "drain3", "--output", "summary"},
			stdin:  "a\nb c\nb d\nb e\na\n",
			stdout: "count\ttemplate_id\ttemplate\n3\t" + id("b <*>") + "\tb <*>\n2\t" + id("a") + "\ta\n",
		},
		{
			name: "files and stdin", args: []string{"mine", "--preset", "drain3", f1, "-", f2},
			stdin:  "open file w\n",
			stdout: strings.Repeat("open file <*>\n", 4),
		},
		{
			name: "mask and settings", args: []string{"mine", "--preset", "drain3", "--mask", "IP=\\d+\\.\\d+\\.\\d+\\.\\d+", "--sim-th", "0.9", "--partition", "cli"},
			stdin:  "from 10.0.0.1 ok\nfrom 10.0.0.2 ok\nfrom host ok\n",
			stdout: "from <IP> ok\nfrom <IP> ok\nfrom host ok\n",
		},
		{
			name: "masks with ';', in order", args: []string{"mine", "--preset", "drain3", "--mask", "SEMI=a;b", "--mask", `ESC=c\;d`, "--mask", `BS=e\\;`},
			stdin:  `x a;b c;d e\; y` + "\n",
			stdout: "x <SEMI> <ESC> <BS> y\n",
		},
		{
			name: "mask under the default preset", args: []string{"mine", "--mask", "FOO=hello"},
			stdin:  "hello world\n",
			stdout: "<FOO> world\n",
		},
		{
			name: "long line, empty lines", args: []string{"mine", "--preset", "drain3"},
			stdin:  "\n" + long + "\n\n" + long,
			stdout: "\n" + long[:64<<10] + "\n\n" + long[:64<<10] + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tt.args, strings.NewReader(tt.stdin), &out, &errb)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.code, errb.String())
			}
			if tt.stdout != "" && out.String() != tt.stdout {
				t.Errorf("stdout:\n%q\nwant\n%q", trim(out.String()), trim(tt.stdout))
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q", w)
				}
			}
			if !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr %q lacks %q", errb.String(), tt.stderr)
			}
		})
	}
}

func trim(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}
