// Command fbbench measures the CPU the drain output adds inside a real Fluent Bit: the same
// input through the `null` output and through `drain` (presets default and drain3), in
// alternating rounds, as CPU seconds (user + system, from the child's rusage) of the whole
// fluent-bit process, from its start until it has flushed every record and exited.
//
// Inputs: "loghub", the raw lines of every ../shared/data/loghub-2k dataset interleaved
// (line i of each set in turn) and repeated to -lines, tailed as one app_log tag (one
// partition); "loghub-concat", the same lines with each dataset's in a row (2,000 lines of
// one set, then the next), one file and partition, the layout of issue 13's own baseline;
// "loghub-split", the same lines in one file per dataset, so one tag and one
// partition per dataset, as a node's containers are partitioned; "cri", CRI container lines of several services through the cri multiline
// parser and the kubernetes filter (pod metadata from Kube_Meta_Preload_Cache_Dir), as
// the repository's fluent-bit.conf reads container logs.
//
// With -base-so, every drain run is paired in its round with the same run through another
// build (which goes first alternating between rounds), and the ratios of the two within rounds
// are printed: an A/B of two builds on a machine whose speed drifts between runs.
//
// Run it with `make bench-fluent-bit FLUENT_BIT=/path/to/fluent-bit` (BENCH_FLAGS adds flags).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	fluentBit, so, data string
	baseSO              string // a second build, run beside so in every round (-base-so)
	lines, rounds       int
	inputs              []string
	keep                bool
}

func main() {
	var o options
	var inputs string
	flag.StringVar(&o.fluentBit, "fluent-bit", os.Getenv("FLUENT_BIT"), "fluent-bit binary")
	flag.StringVar(&o.so, "so", "out/out_drain.so", "the plugin")
	flag.StringVar(&o.baseSO, "base-so", "", "another build of the plugin, run beside -so in every round, the pair's order alternating (A/B: the machine's drift falls on both)")
	flag.StringVar(&o.data, "data", "../shared/data/loghub-2k", "Loghub-2k directory")
	flag.IntVar(&o.lines, "lines", 1_000_000, "lines per input")
	flag.IntVar(&o.rounds, "rounds", 5, "alternating rounds")
	flag.StringVar(&inputs, "inputs", "loghub,loghub-concat,loghub-split,cri", "inputs to run: loghub, loghub-concat, loghub-split, cri")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (inputs, configurations, logs)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("fbbench: ")
	o.inputs = strings.Split(inputs, ",")
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

// output is one way of consuming the input; plugins is the Plugins_File
// that loads its .so (the null output needs none, but loads the same).
// base marks the -base-so run paired with the output after it.
type output struct {
	name, section, plugins string
	base                   bool
}

// outputs returns null, then drain with each preset, loaded from plugins;
// with base set, each drain run is preceded by the same through base.
func outputs(plugins, base string) []output {
	drain := func(preset string) string {
		return `[OUTPUT]
    Name            drain
    Match           *
    Workers         1
    Preset          ` + preset + `
    Message_Key     log,message,MESSAGE,msg
    Source_Map      kube.=k8s_pod,host.=journald,node.=host_syslog
    Node_Name       bench
`
	}
	outs := []output{{"null", "[OUTPUT]\n    Name    null\n    Match   *\n    Workers 1\n", plugins, false}}
	for _, preset := range []string{"default", "drain3"} {
		if base != "" {
			outs = append(outs, output{"base " + preset, drain(preset), base, true})
		}
		outs = append(outs, output{"drain " + preset, drain(preset), plugins, false})
	}
	return outs
}

func run(o options) error {
	if o.fluentBit == "" {
		return errors.New("set -fluent-bit or FLUENT_BIT to a fluent-bit binary")
	}
	dir, err := os.MkdirTemp("", "fbbench-")
	if err != nil {
		return err
	}
	if o.keep {
		log.Printf("work directory %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	plugins, err := pluginsFile(dir, "plugins.conf", o.so)
	if err != nil {
		return err
	}
	var base string
	if o.baseSO != "" {
		if base, err = pluginsFile(dir, "plugins-base.conf", o.baseSO); err != nil {
			return err
		}
	}
	outs := outputs(plugins, base)
	for _, in := range o.inputs {
		var b bench
		switch in {
		case "loghub":
			b, err = loghubInput(o, dir, false)
		case "loghub-concat":
			b, err = loghubInput(o, dir, true)
		case "loghub-split":
			b, err = loghubSplitInput(o, dir)
		case "cri":
			b, err = criInput(o, dir)
		default:
			err = fmt.Errorf("unknown input %q", in)
		}
		if err != nil {
			return err
		}
		if err := b.measure(o, dir, outs); err != nil {
			return err
		}
	}
	return nil
}

// bench is one input: its [INPUT]/[FILTER] sections and the records it yields.
type bench struct {
	name, sections string
	records        int
}

// runOrder is the order of outs in round r: as listed, except that in
// every other round each base run follows its build's instead of
// preceding it. The second run of a pair was measured a few per cent
// slower than the first whichever build it was, so an A/B in one order
// only measures the order.
func runOrder(outs []output, r int) []int {
	order := make([]int, len(outs))
	for i := range order {
		order[i] = i
	}
	if r%2 == 1 {
		for i := 1; i < len(outs); i++ {
			if outs[i-1].base {
				order[i-1], order[i] = i, i-1
			}
		}
	}
	return order
}

// pluginsFile writes a Plugins_File named name in dir that loads so.
func pluginsFile(dir, name, so string) (string, error) {
	abs, err := filepath.Abs(so)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(abs); err != nil {
		return "", fmt.Errorf("the plugin: %w (make build)", err)
	}
	path := filepath.Join(dir, name)
	return path, os.WriteFile(path, []byte("[PLUGINS]\n    Path "+abs+"\n"), 0o644)
}

func (b bench) measure(o options, dir string, outs []output) error {
	cpu := make([][]usage, len(outs))
	fmt.Printf("== %s: %d records, %d rounds (CPU s of the fluent-bit process, user+sys)\n", b.name, b.records, o.rounds)
	for r := 0; r < o.rounds; r++ {
		var row []string
		for _, i := range runOrder(outs, r) {
			out := outs[i]
			u, err := b.once(o, dir, out, r)
			if err != nil {
				return fmt.Errorf("%s through %s: %w", b.name, out.name, err)
			}
			cpu[i] = append(cpu[i], u)
			row = append(row, fmt.Sprintf("%s %.2f (user %.2f, output thread %.2f)", out.name, u.total(), u.user, u.out))
		}
		fmt.Printf("round %d: %s\n", r+1, strings.Join(row, ", "))
	}
	// A round's drain runs follow its null run within seconds, so the
	// ratio within each round cancels most of the machine's drift; the
	// ratio of the medians is given beside it.
	fmt.Printf("%-14s %8s %8s %10s %8s %12s %9s %22s %12s\n", "output", "median", "fastest", "user", "sys", "µs/record", "vs null", "per round (min–max)", "out µs/rec")
	base := median(each(cpu[0], usage.total))
	for i, out := range outs {
		t := each(cpu[i], usage.total)
		m := median(t)
		var ratios []float64
		for r := range t {
			ratios = append(ratios, t[r]/cpu[0][r].total())
		}
		fmt.Printf("%-14s %8.2f %8.2f %10.2f %8.2f %12.2f %8.2fx %9.2fx (%.2f–%.2f) %12.2f\n", out.name, m, fastest(t),
			median(each(cpu[i], usage.userTime)), median(each(cpu[i], usage.sysTime)), m/float64(b.records)*1e6, m/base,
			median(ratios), fastest(ratios), slowest(ratios), median(each(cpu[i], usage.outputTime))/float64(b.records)*1e6)
	}
	// A/B: each build against the base run just before it in the round.
	for i := 1; i < len(outs); i++ {
		if !outs[i-1].base {
			continue
		}
		var proc, thread []float64
		for r := range cpu[i] {
			proc = append(proc, cpu[i][r].total()/cpu[i-1][r].total())
			if cpu[i-1][r].out > 0 {
				thread = append(thread, cpu[i][r].out/cpu[i-1][r].out)
			}
		}
		line := fmt.Sprintf("%s vs %s: process %.3fx (%.3f–%.3f)", outs[i].name, outs[i-1].name, median(proc), fastest(proc), slowest(proc))
		if len(thread) > 0 {
			line += fmt.Sprintf(", output thread %.3fx (%.3f–%.3f)", median(thread), fastest(thread), slowest(thread))
		}
		fmt.Println(line + ", median of the rounds' ratios")
	}
	return nil
}

// usage is the CPU seconds of one run: the process's, and its output
// worker threads' (what the output itself spends, without the pipeline
// thread's tail and parsing, whose time varies most between runs).
type usage struct{ user, sys, out float64 }

func (u usage) total() float64 { return u.user + u.sys }

// each returns f of every run's usage.
func each(v []usage, f func(usage) float64) (t []float64) {
	for _, u := range v {
		t = append(t, f(u))
	}
	return t
}

func (u usage) userTime() float64   { return u.user }
func (u usage) sysTime() float64    { return u.sys }
func (u usage) outputTime() float64 { return u.out }

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fastest(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[0]
}

func slowest(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)-1]
}

// once runs Fluent Bit over the input into out until the output has processed every
// record (Fluent Bit's own counters), stops it with SIGTERM and returns its CPU seconds.
func (b bench) once(o options, dir string, out output, round int) (usage, error) {
	port, err := freePort()
	if err != nil {
		return usage{}, err
	}
	run := filepath.Join(dir, fmt.Sprintf("run-%s-%d", strings.ReplaceAll(out.name, " ", "-"), round))
	if err := os.MkdirAll(run, 0o755); err != nil {
		return usage{}, err
	}
	conf := fmt.Sprintf(`[SERVICE]
    Flush           1
    Grace           30
    Log_Level       warn
    Coro_Stack_Size 131072
    HTTP_Server     On
    HTTP_Listen     127.0.0.1
    HTTP_Port       %d
    Plugins_File    %s

%s
%s`, port, out.plugins, b.sections, out.section)
	cf := filepath.Join(run, "fluent-bit.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		return usage{}, err
	}
	lf, err := os.Create(filepath.Join(run, "fluent-bit.log"))
	if err != nil {
		return usage{}, err
	}
	defer lf.Close()
	cmd := exec.Command(o.fluentBit, "-c", cf)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		return usage{}, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Minute)
	for {
		select {
		case err := <-done:
			return usage{}, fmt.Errorf("fluent-bit exited early (%v); log %s", err, lf.Name())
		case <-time.After(250 * time.Millisecond):
		}
		if n, ok := processed(port); ok && n >= b.records {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-done
			return usage{}, fmt.Errorf("not every record processed after 10 minutes; log %s", lf.Name())
		}
	}
	threads := outputThreadCPU(cmd.Process.Pid)
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			return usage{}, fmt.Errorf("fluent-bit: %v; log %s", err, lf.Name())
		}
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-done
		return usage{}, fmt.Errorf("fluent-bit did not exit a minute after SIGTERM; log %s", lf.Name())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return usage{}, errors.New("no rusage for the child")
	}
	return usage{user: time.Duration(ru.Utime.Nano()).Seconds(), sys: time.Duration(ru.Stime.Nano()).Seconds(), out: threads}, nil
}

// clockTicks is the unit of the CPU times in /proc/<pid>/task/<tid>/stat
// (USER_HZ, 100 on Linux for every architecture Fluent Bit ships for).
const clockTicks = 100

// outputThreadCPU returns the CPU seconds (user + system) of the process's
// output worker threads, which Fluent Bit names "flb-out-<name>.<n>...",
// read once every record has been processed (so before the shutdown's
// own work). Threads it cannot read count as 0.
func outputThreadCPU(pid int) float64 {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	total := 0
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, t.Name()))
		if err != nil {
			continue
		}
		if cpu, ok := outputThreadTicks(string(b)); ok {
			total += cpu
		}
	}
	return float64(total) / clockTicks
}

// outputThreadTicks parses one stat line: the thread's utime + stime in
// clock ticks when its name is an output worker's.
func outputThreadTicks(stat string) (int, bool) {
	open, end := strings.IndexByte(stat, '('), strings.LastIndexByte(stat, ')')
	if open < 0 || end < open || !strings.HasPrefix(stat[open+1:end], "flb-out-") {
		return 0, false
	}
	f := strings.Fields(stat[end+1:])
	// After the name: state is field 3 of stat(5), utime 14, stime 15.
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.Atoi(f[11])
	s, err2 := strconv.Atoi(f[12])
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return u + s, true
}

// processed is the records the output has processed, from GET /api/v1/metrics.
func processed(port int) (int, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/api/v1/metrics", port), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	var m struct {
		Output map[string]struct {
			ProcRecords int `json:"proc_records"`
		} `json:"output"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return 0, false
	}
	n := 0
	for _, o := range m.Output {
		n += o.ProcRecords
	}
	return n, true
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// loghubSets reads the raw lines of every dataset, trailing CR cut.
func loghubSets(o options) ([]string, [][]string, error) {
	sets, err := filepath.Glob(filepath.Join(o.data, "*", "*_2k.log"))
	if err != nil || len(sets) == 0 {
		return nil, nil, fmt.Errorf("no */*_2k.log under %s", o.data)
	}
	sort.Strings(sets)
	var all [][]string
	for _, s := range sets {
		b, err := os.ReadFile(s)
		if err != nil {
			return nil, nil, err
		}
		var lines []string
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSuffix(l, "\r"); l != "" {
				lines = append(lines, l)
			}
		}
		all = append(all, lines)
	}
	return sets, all, nil
}

// loghubInput writes the Loghub corpus to one file, repeated to o.lines lines: the sets'
// lines interleaved (line i of each set in turn, so every record comes from another set
// than the one before it), or with concat each set's lines in a row.
func loghubInput(o options, dir string, concat bool) (bench, error) {
	sets, all, err := loghubSets(o)
	if err != nil {
		return bench{}, err
	}
	var corpus []string
	file, how := "loghub.log", "interleaved"
	if concat {
		corpus, file, how = slices.Concat(all...), "loghub-concat.log", "concatenated"
	} else {
		corpus = interleave(all)
	}
	path := filepath.Join(dir, file)
	n, err := writeRepeated(path, corpus, o.lines)
	if err != nil {
		return bench{}, err
	}
	return bench{
		name:    fmt.Sprintf("%s (%d sets %s in one file, one partition, %d distinct lines)", strings.TrimSuffix(file, ".log"), len(sets), how, len(corpus)),
		records: n,
		sections: `[INPUT]
    Name            tail
    Path            ` + path + `
    Tag             loghub
    Read_From_Head  On
    Buffer_Max_Size 1M
`,
	}, nil
}

// interleave returns line i of every set in turn, for i from 0, skipping sets that have
// no line i.
func interleave(sets [][]string) []string {
	var out []string
	for i := 0; ; i++ {
		more := false
		for _, lines := range sets {
			if i < len(lines) {
				out = append(out, lines[i])
				more = true
			}
		}
		if !more {
			return out
		}
	}
}

// loghubSplitInput writes each dataset to a file of its own, repeated to o.lines lines
// in all; tail tags each file by its path, so each dataset is a partition.
func loghubSplitInput(o options, dir string) (bench, error) {
	sets, all, err := loghubSets(o)
	if err != nil {
		return bench{}, err
	}
	sub := filepath.Join(dir, "loghub-split")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		return bench{}, err
	}
	total := 0
	for i, lines := range all {
		name := strings.TrimSuffix(filepath.Base(sets[i]), "_2k.log") + ".log"
		n, err := writeRepeated(filepath.Join(sub, name), lines, o.lines/len(all))
		if err != nil {
			return bench{}, err
		}
		total += n
	}
	return bench{
		name:    fmt.Sprintf("loghub-split (%d sets, one file and partition each)", len(sets)),
		records: total,
		sections: `[INPUT]
    Name            tail
    Path            ` + sub + `/*.log
    Tag             loghub.*
    Read_From_Head  On
    Buffer_Max_Size 1M
`,
	}, nil
}

func writeRepeated(path string, lines []string, total int) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	n := 0
	for n < total {
		for _, l := range lines {
			if n == total {
				break
			}
			w.WriteString(l)
			w.WriteByte('\n')
			n++
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	return n, f.Close()
}

// services are the containers of the cri input, each with message shapes of its own.
var services = []struct {
	ns, pod, container string
	shapes             []string // fmt formats taking three ints
}{
	{"shop", "web-7f9c6d8b5-qwert", "nginx", []string{
		`10.0.%d.%d - - "GET /api/products/%d HTTP/1.1" 200 512`,
		`10.0.%d.%d - - "POST /api/cart HTTP/1.1" 201 %d`,
	}},
	{"payments", "api-5d4f8c9b7-zx2lp", "api", []string{
		`payment %d authorized for order %d in %d ms`,
		`refund %d queued (attempt %d, backoff %d ms)`,
	}},
	{"kube-system", "coredns-76f75df574-abcde", "coredns", []string{
		`[INFO] 10.244.%d.%d:53 - %d "A IN api.shop.svc.cluster.local. udp 44 false 512" NOERROR qr,aa,rd 106 0.000123s`,
	}},
	{"data", "postgres-0", "postgres", []string{
		`LOG:  checkpoint complete: wrote %d buffers (%d.0%%); %d WAL file(s) added`,
		`LOG:  duration: %d.%d ms  statement: SELECT * FROM orders WHERE id = %d`,
	}},
	{"ingest", "worker-6b8f9d7c5-pqrst", "worker", []string{
		`{"level":"info","msg":"batch %d done","rows":%d,"took_ms":%d}`,
		`processed partition %d of topic events at offset %d lag %d`,
	}},
}

// criInput writes CRI lines of the services (one file per container, named as the
// kubelet names them) and their pod metadata for the kubernetes filter.
func criInput(o options, dir string) (bench, error) {
	logs, meta := filepath.Join(dir, "containers"), filepath.Join(dir, "kube-meta")
	for _, d := range []string{logs, meta} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return bench{}, err
		}
	}
	per := o.lines / len(services)
	total := 0
	ts := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	for si, s := range services {
		id := strings.Repeat(fmt.Sprintf("%02x", si+1), 32)
		var buf bytes.Buffer
		for i := 0; i < per; i++ {
			shape := s.shapes[i%len(s.shapes)]
			msg := fmt.Sprintf(shape, i%251, i%17, i)
			fmt.Fprintf(&buf, "%s stdout F %s\n", ts.Add(time.Duration(i)*time.Millisecond).Format("2006-01-02T15:04:05.000000000Z"), msg)
		}
		total += per
		name := fmt.Sprintf("%s_%s_%s-%s.log", s.pod, s.ns, s.container, id)
		if err := os.WriteFile(filepath.Join(logs, name), buf.Bytes(), 0o644); err != nil {
			return bench{}, err
		}
		m, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": s.pod, "namespace": s.ns, "labels": map[string]string{"app": s.container}},
			"spec":     map[string]any{"nodeName": "bench", "containers": []map[string]string{{"name": s.container, "image": s.container}}}})
		if err := os.WriteFile(filepath.Join(meta, s.ns+"_"+s.pod+".meta"), m, 0o644); err != nil {
			return bench{}, err
		}
	}
	prefix := "kube." + strings.ReplaceAll(strings.TrimPrefix(logs, "/"), "/", ".") + "."
	closed, err := freePort()
	if err != nil {
		return bench{}, err
	}
	return bench{
		name:    fmt.Sprintf("cri (%d containers, kubernetes filter)", len(services)),
		records: total,
		sections: `[INPUT]
    Name             tail
    Path             ` + logs + `/*.log
    multiline.parser docker, cri
    Tag              kube.*
    Read_From_Head   On
    Buffer_Max_Size  1M

[FILTER]
    Name                        kubernetes
    Match                       kube.*
    Kube_URL                    http://127.0.0.1:` + strconv.Itoa(closed) + `
    Kube_Tag_Prefix             ` + prefix + `
    Kube_Meta_Preload_Cache_Dir ` + meta + `
    Merge_Log                   On
    Keep_Log                    Off
    K8S-Logging.Parser          Off
    K8S-Logging.Exclude         On
    Annotations                 Off
`,
	}, nil
}
