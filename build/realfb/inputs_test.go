package realfb

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/drain"
)

// expect mines what a node should mine, in the same order, with the plugin's preset: the
// template ids it must record and the lines it must count.
type expect struct {
	m     *drain.Miner
	ids   map[string]string // template id -> template
	lines int64
}

func newExpect(t testing.TB) *expect {
	t.Helper()
	cfg, err := drain.Preset("default")
	if err != nil {
		t.Fatal(err)
	}
	m, err := drain.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &expect{m: m, ids: map[string]string{}}
}

func (e *expect) add(partition, message string) {
	r := e.m.Add(partition, strings.TrimSuffix(message, "\n"))
	if r.Kind != drain.Known {
		e.ids[r.TemplateID] = r.Template
	}
	e.lines++
}

// The node-file parsers of build/parsers.conf in Go syntax: ident and message.
var syslogRE = []*regexp.Regexp{
	regexp.MustCompile(`^[A-Z][a-z]{2} {1,2}\d{1,2} \d{2}:\d{2}:\d{2} [^ ]+ ([^ :\[]+)(?:\[\d+\])?: ?(.*)$`),
	regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{1,9}(?:Z|[+-]\d{2}:\d{2}) [^ ]+ ([^ :\[]+)(?:\[\d+\])?: ?(.*)$`),
}

// addSyslog expects the node-file lines: partition ident, message after "ident[pid]: ".
func (e *expect) addSyslog(t testing.TB, lines []string) {
	t.Helper()
	for _, l := range lines {
		ok := false
		for _, re := range syslogRE {
			if m := re.FindStringSubmatch(l); m != nil {
				e.add(m[1], m[2])
				ok = true
				break
			}
		}
		if !ok {
			t.Fatalf("sample line matches neither syslog parser: %q", l)
		}
	}
}

// readLines reads a file of the repository's samples.
func readLines(t testing.TB, rel string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// pod is a container whose log file the container tail reads, in one runtime's format.
type pod struct {
	ns, name, container, format string // format: "cri" or "docker"
}

func (p pod) id() string {
	h := sha256.Sum256([]byte(p.ns + "/" + p.name + "/" + p.container))
	return hex.EncodeToString(h[:])
}

func (p pod) path(f files) string {
	return filepath.Join(f.logDir, "containers", fmt.Sprintf("%s_%s_%s-%s.log", p.name, p.ns, p.container, p.id()))
}

func (p pod) partition() string { return p.ns + "/" + p.container }

// writeMeta writes the pod as the API server would return it, where the kubernetes
// filter's Kube_Meta_Preload_Cache_Dir lookup finds it (<namespace>_<pod>.meta).
func (p pod) writeMeta(t testing.TB, f files) {
	t.Helper()
	meta := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": p.name, "namespace": p.ns, "uid": p.id()[:32],
			"labels": map[string]string{"app": p.container}},
		"spec": map[string]any{"nodeName": "node-a",
			"containers": []map[string]string{{"name": p.container, "image": p.container + ":1.0"}}},
		"status": map[string]any{"hostIP": "10.0.0.1", "podIP": "10.1.0.7",
			"containerStatuses": []map[string]string{{"name": p.container, "image": p.container + ":1.0",
				"imageID": "sha256:" + p.id(), "containerID": "containerd://" + p.id()}}},
	}
	b, err := json.Marshal(meta)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.metaDir, p.ns+"_"+p.name+".meta"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// containerLines returns n records of the pod as file lines in its runtime format, and
// expects them: every fourth record is split in three partial lines the multiline parser
// must join, every fifth is a JSON line the kubernetes filter (Merge_Log) must merge, so
// that its msg field, not the JSON text, is mined.
func (p pod) containerLines(e *expect, start, n int) []string {
	var out []string
	ts := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	emit := func(i int, part, last bool, log string) {
		t := ts.Add(time.Duration(i) * time.Millisecond).Format("2006-01-02T15:04:05.000000000Z")
		switch p.format {
		case "cri":
			flag := "F"
			if part && !last {
				flag = "P"
			}
			out = append(out, fmt.Sprintf("%s stdout %s %s", t, flag, log))
		default:
			if !part || last {
				log += "\n"
			}
			b, _ := json.Marshal(map[string]string{"log": log, "stream": "stdout", "time": t})
			out = append(out, string(b))
		}
	}
	for i := start; i < start+n; i++ {
		switch {
		case i%5 == 4:
			msg := fmt.Sprintf("order %d placed by customer %d in %d ms", 7000+i, 300+i%17, 20+i%90)
			b, _ := json.Marshal(map[string]string{"level": "info", "msg": msg})
			emit(i, false, false, string(b))
			e.add(p.partition(), msg)
		case i%4 == 3:
			parts := []string{
				fmt.Sprintf("slow request id=%d path=/api/v1/items/%d ", 90000+i, i%50),
				strings.Repeat("x", 40) + fmt.Sprintf(" upstream 10.2.%d.%d:8080 ", i%7, i%200),
				fmt.Sprintf("took %d ms", 500+i%300),
			}
			for j, s := range parts {
				emit(i, true, j == len(parts)-1, s)
			}
			e.add(p.partition(), strings.Join(parts, ""))
		default:
			var msg string
			switch i % 3 {
			case 0:
				msg = fmt.Sprintf("GET /healthz 200 %d bytes in %d us", 100+i%13, 300+i%400)
			case 1:
				msg = fmt.Sprintf("cache refresh of %d keys finished in %d ms", 1000+i, 5+i%60)
			default:
				msg = fmt.Sprintf("connection from 10.9.%d.%d port %d closed", i%9, i%250, 30000+i)
			}
			emit(i, false, false, msg)
			e.add(p.partition(), msg)
		}
	}
	return out
}
