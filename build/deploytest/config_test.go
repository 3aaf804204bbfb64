package deploytest

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestMainConfigService(t *testing.T) {
	secs := readClassic(t, "fluent-bit.conf")
	if p := Sections(secs, "PLUGINS"); len(p) > 0 {
		t.Errorf("[PLUGINS] at line %d: inside the main file it is parsed as a path and fails; use Plugins_File", p[0].Line)
	}
	svc := Sections(secs, "SERVICE")
	if len(svc) != 1 {
		t.Fatalf("want one [SERVICE], got %d", len(svc))
	}
	s := svc[0]
	if v := mustGet(t, s, "Daemon"); isOn(v) {
		t.Errorf("Daemon %s: forking after the Go runtime started deadlocks the plugin", v)
	}
	if v, err := strconv.Atoi(mustGet(t, s, "Coro_Stack_Size")); err != nil || v < 131072 {
		t.Errorf("Coro_Stack_Size %q: want >= 131072 (Go callbacks on 24 KiB coroutine stacks crash)", mustGet(t, s, "Coro_Stack_Size"))
	}
	for _, k := range []string{"HTTP_Server", "Health_Check"} {
		if v := mustGet(t, s, k); !isOn(v) {
			t.Errorf("%s %s: the DaemonSet's probes need it on", k, v)
		}
	}
	if v := mustGet(t, s, "HTTP_Port"); v != "2020" {
		t.Errorf("HTTP_Port %s: the probes use 2020", v)
	}
	if g, err := strconv.Atoi(mustGet(t, s, "Grace")); err != nil || g <= 0 {
		t.Errorf("Grace %q: want a positive number of seconds", mustGet(t, s, "Grace"))
	}
	for _, k := range []string{"Plugins_File", "Parsers_File"} {
		for _, v := range s.All(k) {
			if !path.IsAbs(v) || strings.Contains(v, "${") {
				t.Errorf("%s %s: want a literal absolute path", k, v)
			}
		}
	}
	if len(s.All("Plugins_File")) != 1 {
		t.Errorf("want exactly one Plugins_File, got %d", len(s.All("Plugins_File")))
	}
}

func TestPluginsFile(t *testing.T) {
	secs := readClassic(t, "build/plugins.conf")
	if len(secs) != 1 || !strings.EqualFold(secs[0].Name, "PLUGINS") {
		t.Fatalf("build/plugins.conf: want exactly one [PLUGINS] section, got %d sections", len(secs))
	}
	paths := secs[0].All("Path")
	if len(paths) != 1 {
		t.Fatalf("want one Path (one Go plugin per Fluent Bit process), got %d", len(paths))
	}
	p := paths[0]
	base := path.Base(p)
	switch {
	case !path.IsAbs(p), strings.Contains(p, "${"):
		t.Errorf("Path %s: want a literal absolute path (${VAR} is not expanded here)", p)
	case strings.HasPrefix(base, "flb-"):
		t.Errorf("Path %s: a flb- prefix makes Fluent Bit load it as a C plugin", p)
	case base != "out_drain.so":
		t.Errorf("Path %s: want out_drain.so", p)
	}
}

// drainOutput is what issue #6 asks of the drain output, key by key.
var drainOutput = map[string]string{
	"Name":                "drain",
	"Match":               "*",
	"Workers":             "1",
	"Enabled":             "${DRAIN_ENABLED}",
	"Shadow_Mode":         "${DRAIN_SHADOW_MODE}",
	"Message_Key":         "log,message,MESSAGE,msg",
	"Source_Map":          "kube.=k8s_pod,host.=journald,node.=host_syslog",
	"PG_DSN_File":         "/etc/drain/secrets/pg-dsn",
	"Redis_Addr":          "${DRAIN_REDIS_ADDR}",
	"Redis_Password_File": "/etc/drain/secrets/redis-password",
	"Node_Name":           "${NODE_NAME}",
	"Buffer_Path":         "/var/log/drain-buffer.jsonl",
	"Metrics_Listen":      "0.0.0.0:2021",
}

func TestDrainOutput(t *testing.T) {
	secs := readClassic(t, "fluent-bit.conf")
	outs := Sections(secs, "OUTPUT")
	if len(outs) != 1 {
		t.Fatalf("want one [OUTPUT], got %d", len(outs))
	}
	o := outs[0]
	for k, want := range drainOutput {
		if got := mustGet(t, o, k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	seen := map[string]int{}
	for _, e := range o.Entries {
		k := strings.ToLower(e.Key)
		if seen[k]++; seen[k] > 1 {
			t.Errorf("line %d: %s set twice (the plugin would only see the first)", e.Line, e.Key)
		}
	}
}

// TestEnvDefaults: ${VAR:-default} is expanded from Fluent Bit 4.2.5 on (the image runs
// 4.2.8). It is kept to the DRAIN_* overrides, which the DaemonSet leaves unset and the
// real-Fluent-Bit suite (build/realfb) sets; any other variable must be set in the pod.
func TestEnvDefaults(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^FROM \S*fluent-bit:(\d+)\.(\d+)\.(\d+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("Dockerfile: no FROM …fluent-bit:X.Y.Z runtime image")
	}
	var v [3]int
	for i := range v {
		v[i], _ = strconv.Atoi(string(m[i+1]))
	}
	if v[0] < 4 || v[0] == 4 && (v[1] < 2 || v[1] == 2 && v[2] < 5) {
		t.Errorf("the image runs Fluent Bit %d.%d.%d: ${VAR:-default} needs 4.2.5 or later", v[0], v[1], v[2])
	}
	re := regexp.MustCompile(`\$\{([^}]*):-`)
	for _, f := range []string{"fluent-bit.conf", "fluent-bit.yaml", "build/plugins.conf", "build/parsers.conf"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			for _, m := range re.FindAllStringSubmatch(line, -1) {
				if !strings.HasPrefix(m[1], "DRAIN_") || f == "build/plugins.conf" {
					t.Errorf("%s:%d: ${%s:-…}: only DRAIN_* overrides take a default (and none in plugins.conf, which is not expanded)", f, i+1, m[1])
				}
			}
		}
	}
}

func TestExpandDefaults(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"${DRAIN_LOG_DIR:-/var/log}/syslog,${DRAIN_LOG_DIR:-/var/log}/kern.log", "/var/log/syslog,/var/log/kern.log"},
		{"${DRAIN_KUBE_META_DIR:-}", ""},
		{"${NODE_NAME}", "${NODE_NAME}"},
		{"plain", "plain"},
	} {
		if got := expandDefaults(tt.in); got != tt.want {
			t.Errorf("expandDefaults(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestInputs(t *testing.T) {
	secs := readClassic(t, "fluent-bit.conf")
	ins := Sections(secs, "INPUT")
	if len(ins) == 0 {
		t.Fatal("no [INPUT]")
	}
	var sourceMap []string
	for _, kv := range strings.Split(drainOutput["Source_Map"], ",") {
		p, _, _ := strings.Cut(kv, "=")
		sourceMap = append(sourceMap, p)
	}
	byName := map[string][]Section{}
	for _, in := range ins {
		name := strings.ToLower(mustGet(t, in, "Name"))
		byName[name] = append(byName[name], in)

		// Memory: with a worker the pipeline never blocks tail, which then reads ahead
		// without bound unless the input is limited.
		mem, hasMem := in.Get("Mem_Buf_Limit")
		st, _ := in.Get("storage.type")
		switch {
		case hasMem:
			if _, ok := parseSize(mem); !ok {
				t.Errorf("input at line %d: Mem_Buf_Limit %q is not a size", in.Line, mem)
			}
		case strings.EqualFold(st, "filesystem"):
			if v, _ := in.Get("storage.pause_on_chunks_overlimit"); !isOn(v) {
				t.Errorf("input at line %d: filesystem storage without storage.pause_on_chunks_overlimit is unbounded", in.Line)
			}
		default:
			t.Errorf("input at line %d (%s): memory is not bounded (Mem_Buf_Limit or storage.type filesystem)", in.Line, name)
		}
		if db, ok := in.Get("DB"); !ok || !path.IsAbs(db) {
			t.Errorf("input at line %d (%s): want an absolute DB path on the host so offsets survive restarts", in.Line, name)
		}
		tag := mustGet(t, in, "Tag")
		mapped := false
		for _, p := range sourceMap {
			mapped = mapped || strings.HasPrefix(tagPrefix(tag), p)
		}
		if !mapped {
			t.Errorf("input at line %d: tag %s has no Source_Map entry", in.Line, tag)
		}
	}
	if len(byName["tail"]) != 2 || len(byName["systemd"]) != 1 {
		t.Fatalf("want two tail inputs and one systemd input, got %d and %d", len(byName["tail"]), len(byName["systemd"]))
	}

	var containers, files Section
	for _, in := range byName["tail"] {
		if strings.HasPrefix(mustGet(t, in, "Tag"), "kube.") {
			containers = in
		} else {
			files = in
		}
	}
	if p := mustGet(t, containers, "Path"); p != "/var/log/containers/*.log" {
		t.Errorf("container tail Path %s", p)
	}
	ml := strings.Split(mustGet(t, containers, "multiline.parser"), ",")
	for i := range ml {
		ml[i] = strings.TrimSpace(ml[i])
	}
	if strings.Join(ml, ",") != "docker,cri" {
		t.Errorf("multiline.parser %v: want docker, cri", ml)
	}
	// The collector's own log lines must not come back through tail (feedback loop).
	own := "/var/log/containers/fluent-bit-drain-x7k2p_logging_fluent-bit-" + strings.Repeat("ab", 32) + ".log"
	other := "/var/log/containers/web-7f9c6d8b5-qwert_shop_nginx-" + strings.Repeat("cd", 32) + ".log"
	if !excluded(t, containers, own) {
		t.Errorf("Exclude_Path does not exclude the collector's own log %s", own)
	}
	if excluded(t, containers, other) {
		t.Errorf("Exclude_Path excludes an application log %s", other)
	}

	want := []string{"/var/log/syslog", "/var/log/messages", "/var/log/auth.log", "/var/log/secure", "/var/log/kern.log"}
	if got := mustGet(t, files, "Path"); got != strings.Join(want, ",") {
		t.Errorf("node files Path %s, want %s", got, strings.Join(want, ","))
	}
	if _, ok := files.Get("Parser"); ok {
		t.Error("node files tail sets Parser: one Time_Format cannot read both timestamp styles; the parser filter does it")
	}

	j := byName["systemd"][0]
	for _, k := range []string{"Path", "Systemd_Filter"} {
		if v, ok := j.Get(k); ok {
			t.Errorf("systemd %s %s: without it the input reads every unit from /var/log/journal and /run/log/journal", k, v)
		}
	}
}

// excluded applies Exclude_Path like tail does (fnmatch without flags, where * also
// matches /). path.Match is stricter, so a match here is a match in Fluent Bit too.
func excluded(t *testing.T, in Section, p string) bool {
	t.Helper()
	pats, _ := in.Get("Exclude_Path")
	for _, pat := range strings.Split(pats, ",") {
		ok, err := path.Match(strings.TrimSpace(pat), p)
		if err != nil {
			t.Fatalf("Exclude_Path %q: %v", pat, err)
		}
		if ok {
			return true
		}
	}
	return false
}

func TestFilters(t *testing.T) {
	secs := readClassic(t, "fluent-bit.conf")
	var tags []string
	for _, in := range Sections(secs, "INPUT") {
		tags = append(tags, tagPrefix(mustGet(t, in, "Tag")))
	}
	parsers := map[string]Section{}
	for _, p := range Sections(readClassic(t, "build/parsers.conf"), "PARSER") {
		parsers[mustGet(t, p, "Name")] = p
	}
	var kube, syslog bool
	for _, f := range Sections(secs, "FILTER") {
		m := tagPrefix(mustGet(t, f, "Match"))
		hits := 0
		for _, tag := range tags {
			if strings.HasPrefix(tag, m) {
				hits++
			}
		}
		if hits == 0 {
			t.Errorf("filter at line %d: Match %s matches no input tag %v", f.Line, m, tags)
		}
		switch strings.ToLower(mustGet(t, f, "Name")) {
		case "kubernetes":
			kube = true
			for k, want := range map[string]bool{"Merge_Log": true, "Keep_Log": false, "K8S-Logging.Exclude": true} {
				if got := isOn(mustGet(t, f, k)); got != want {
					t.Errorf("kubernetes %s = %v, want %v", k, got, want)
				}
			}
			if p := mustGet(t, f, "Kube_Tag_Prefix"); !strings.HasPrefix("kube.var.log.containers.", m) || p != "kube.var.log.containers." {
				t.Errorf("Kube_Tag_Prefix %s with Match %s: pod names would not be read from the tag", p, m)
			}
		case "parser":
			syslog = true
			if k := mustGet(t, f, "Key_Name"); k != "log" {
				t.Errorf("parser filter Key_Name %s: tail's raw line is under log", k)
			}
			if !isOn(mustGet(t, f, "Reserve_Data")) {
				t.Error("parser filter without Reserve_Data drops the record's other keys")
			}
			names := f.All("Parser")
			if len(names) < 2 {
				t.Errorf("parser filter has %d parsers, want one per timestamp style", len(names))
			}
			for _, n := range names {
				if _, ok := parsers[n]; !ok {
					t.Errorf("parser filter names %s, which build/parsers.conf does not define", n)
				}
			}
		}
	}
	if !kube || !syslog {
		t.Errorf("kubernetes filter present: %v, syslog parser filter present: %v; want both", kube, syslog)
	}
}
