package instance

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	ct "github.com/awoooi/fluent-bit-drain/plugin/chunk/chunktest"
	"github.com/awoooi/fluent-bit-drain/plugin/config"
)

// dateForms are the date notations of the sample logs, each with the Go
// layout that reads and writes it: ISO dates, syslog's "Nov 25" (day
// padded with a space), the access log's "25/Nov/2026", Go's and nginx's
// "2026/11/25" and klog's severity-prefixed "I1125".
var dateForms = []struct {
	re     *regexp.Regexp
	layout string
	prefix bool // the first byte (klog's severity) is kept as it is
}{
	{regexp.MustCompile(`\b20[0-9]{2}-[01][0-9]-[0-3][0-9]`), "2006-01-02", false},
	{regexp.MustCompile(`\b20[0-9]{2}/[01][0-9]/[0-3][0-9]`), "2006/01/02", false},
	{regexp.MustCompile(`\b[0-3][0-9]/(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/20[0-9]{2}\b`), "02/Jan/2006", false},
	{regexp.MustCompile(`\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 1-3][0-9] `), "Jan _2 ", false},
	{regexp.MustCompile(`\b[IWEF][01][0-9][0-3][0-9] `), "0102 ", true},
}

// shiftDays moves every date of line by days, in the notation it has.
func shiftDays(line string, days int) string {
	for _, f := range dateForms {
		line = f.re.ReplaceAllStringFunc(line, func(d string) string {
			head := ""
			if f.prefix {
				head, d = d[:1], d[1:]
			}
			tm, err := time.Parse(f.layout, d)
			if err != nil {
				return head + d
			}
			if tm.Year() == 0 {
				tm = tm.AddDate(2026, 0, 0) // no year in the notation: any non-leap year
			}
			return head + tm.AddDate(0, 0, days).Format(f.layout)
		})
	}
	return line
}

func TestShiftDays(t *testing.T) {
	for in, want := range map[string]string{
		"2026-11-25T17:40:07Z Nov 25 17:40:07 I1125 17:40:07.1 x":  "2026-11-26T17:40:07Z Nov 26 17:40:07 I1126 17:40:07.1 x",
		`"GET /" [25/Nov/2026:17:40:07 +0000] 2026/11/25 09:00:00`: `"GET /" [26/Nov/2026:17:40:07 +0000] 2026/11/26 09:00:00`,
		"Nov 30 23:59:59 x, Dec  9 00:00:00 y, E1231 z":            "Dec  1 23:59:59 x, Dec 10 00:00:00 y, E0101 z",
		"W1125x stays, 12025-11-25 stays":                          "W1125x stays, 12025-11-25 stays",
	} {
		if got := shiftDays(in, 1); got != want {
			t.Errorf("shiftDays(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

// TestDayShiftReplay: the sample logs of one day, then the same logs with
// every date moved to the next day, into one instance (the plugin as
// build/run.sh configures it). Dates are values: the second day must raise
// no new template and widen none.
func TestDayShiftReplay(t *testing.T) {
	if _, err := os.Stat(filepath.Join(samplesDir, "syslog.truth")); err != nil {
		t.Skipf("no samples in %s: %v", samplesDir, err)
	}
	in, _, _ := newInstance(t, config.Map{
		"Message_Key": "log,message,MESSAGE,msg",
		"Source_Map":  "kube.=k8s_pod,host.=journald,node.=host_syslog",
	})
	names := []string{"syslog.log", "syslog-rfc3339.log", "journald.jsonl", "containers.jsonl"}
	for _, name := range names {
		for _, r := range readSamples(t, name) {
			in.Flush(ct.Build(func(e *ct.Enc) { e.V2(et, nil, r.body) }), r.tag)
		}
	}
	st0 := in.Stats()
	var changed []string
	for _, name := range names {
		for i, r := range readSamplesEdited(t, name, func(l string) string { return shiftDays(l, 1) }) {
			before := in.Stats()
			if st := in.Flush(ct.Build(func(e *ct.Enc) { e.V2(et, nil, r.body) }), r.tag); st != OK {
				t.Fatalf("%s:%d: Flush = %v", name, i+1, st)
			}
			after := in.Stats()
			if after.TemplatesNew != before.TemplatesNew || after.TemplatesGeneralized != before.TemplatesGeneralized {
				res, _ := in.miner.Match(r.part, r.msg)
				changed = append(changed, fmt.Sprintf("%s:%d %s | %s", name, i+1, r.part, res.Template))
			}
		}
	}
	st1 := in.Stats()
	nNew, nGen := st1.TemplatesNew-st0.TemplatesNew, st1.TemplatesGeneralized-st0.TemplatesGeneralized
	t.Logf("day 1: %d new, %d generalized; day 2: %d new, %d generalized", st0.TemplatesNew, st0.TemplatesGeneralized, nNew, nGen)
	if nNew != 0 || nGen != 0 {
		for _, c := range changed {
			t.Log("day 2 changed:", c)
		}
		t.Errorf("the next day's logs raised %d new and %d generalized events, want none", nNew, nGen)
	}
}
