package deploytest

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readJSONL decodes every line of a sample file into a map, failing on the first bad line.
func readJSONL(t *testing.T, name string) []map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "testdata/samples", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s:%d: %v", name, n, err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 100 {
		t.Fatalf("%s: %d records, want a realistic sample", name, len(out))
	}
	return out
}

// message picks the record's text with the drain output's own Message_Key list.
func message(t *testing.T, rec map[string]any) (string, bool) {
	t.Helper()
	for _, k := range strings.Split(drainOutput["Message_Key"], ",") {
		if s, ok := rec[k].(string); ok {
			return s, true
		}
	}
	return "", false
}

var maskRe = regexp.MustCompile(`[0-9a-f]{6,}|\d+`)

// checkBurst: the file's last record is a pattern that never occurs in the first eleven
// twelfths, so a run over the samples reports it as new. Numbers and hex are masked.
func checkBurst(t *testing.T, name string, msgs []string) {
	t.Helper()
	last := maskRe.ReplaceAllString(msgs[len(msgs)-1], "#")
	for i, m := range msgs[:len(msgs)-len(msgs)/12] {
		if maskRe.ReplaceAllString(m, "#") == last {
			t.Errorf("%s: the final burst's pattern %q already occurs at record %d", name, last, i+1)
			return
		}
	}
}

func TestJournaldSample(t *testing.T) {
	var msgs []string
	for i, rec := range readJSONL(t, "journald.jsonl") {
		tag, _ := rec["_tag"].(string)
		delete(rec, "_tag")
		for k, v := range rec {
			if _, ok := v.(string); !ok {
				t.Errorf("record %d: %s = %v: journald values are strings", i+1, k, v)
			}
		}
		want := "host.unknown"
		if u, ok := rec["_SYSTEMD_UNIT"].(string); ok {
			want = "host." + u
		}
		if tag != want {
			t.Errorf("record %d: _tag %q, want %q", i+1, tag, want)
		}
		msg, ok := rec["MESSAGE"].(string)
		if !ok {
			t.Errorf("record %d: no MESSAGE", i+1)
		}
		msgs = append(msgs, msg)
	}
	checkBurst(t, "journald.jsonl", msgs)
}

var kubeTag = regexp.MustCompile(`^kube\.var\.log\.containers\.([^_]+)_([^_]+)_(.+)-([0-9a-f]{64})\.log$`)

func TestContainersSample(t *testing.T) {
	var msgs []string
	shapes := map[string]int{}
	for i, rec := range readJSONL(t, "containers.jsonl") {
		tag, _ := rec["_tag"].(string)
		m := kubeTag.FindStringSubmatch(tag)
		if m == nil {
			t.Fatalf("record %d: _tag %q is not a container log tag", i+1, tag)
		}
		k, _ := rec["kubernetes"].(map[string]any)
		for j, key := range []string{"pod_name", "namespace_name", "container_name", "docker_id"} {
			if k[key] != m[j+1] {
				t.Errorf("record %d: kubernetes.%s %v disagrees with the tag's %q", i+1, key, k[key], m[j+1])
			}
		}
		log, hasLog := rec["log"].(string)
		_, hasP := rec["_p"]
		switch {
		case hasLog && hasP:
			shapes["cri"]++
			if p := rec["_p"]; p != "F" && p != "P" {
				t.Errorf("record %d: _p %v", i+1, p)
			}
		case hasLog:
			shapes["docker"]++
			if !strings.HasSuffix(log, "\n") {
				t.Errorf("record %d: a docker json-file log ends with a newline: %q", i+1, log)
			}
		default:
			shapes["merged"]++
		}
		msg, ok := message(t, rec)
		if !ok {
			t.Errorf("record %d: none of Message_Key %s", i+1, drainOutput["Message_Key"])
		}
		msgs = append(msgs, msg)
	}
	for _, s := range []string{"cri", "docker", "merged"} {
		if shapes[s] == 0 {
			t.Errorf("no %s-shaped record", s)
		}
	}
	checkBurst(t, "containers.jsonl", msgs)
}

func TestSyslogSampleBurst(t *testing.T) {
	ps := filterParsers(t)
	for _, name := range []string{"syslog.log", "syslog-rfc3339.log"} {
		b, err := os.ReadFile(filepath.Join(root, "testdata/samples", name))
		if err != nil {
			t.Fatal(err)
		}
		var msgs []string
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			_, m, _ := parse(ps, line)
			msgs = append(msgs, m["message"])
		}
		checkBurst(t, name, msgs)
	}
}
