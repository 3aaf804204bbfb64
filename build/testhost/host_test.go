// Package testhost tests flb-host (flb_host.c), the C program that loads a
// Fluent Bit Go output plugin the way Fluent Bit does, by driving the probe
// plugin in ./probe through the scenarios of docs/fluent-bit.md#fixtures.
package testhost

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// Built once by TestMain into a temporary directory.
var (
	hostBin     string // out/flb-host equivalent
	hostWarn    string // compiler output; must be empty
	probeSO     string // full probe
	probeNoSO   string // probe without FLBPluginFlushCtx and FLBPluginFlush
	probeOldSO  string // probe with FLBPluginFlush only
	buildFailed error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "flb-host-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildFailed = buildAll(dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildAll compiles the host with the Makefile's flags and the probe variants
// in parallel. The probe is built against a copy of go.mod/go.sum so that a
// missing go.sum line is filled in the copy, never in the repository.
func buildAll(dir string) error {
	hostBin = filepath.Join(dir, "flb-host")
	probeSO = filepath.Join(dir, "probe", "out_probe.so")
	probeNoSO = filepath.Join(dir, "noflush", "out_probe.so")
	probeOldSO = filepath.Join(dir, "legacy", "out_probe.so")
	modDir := filepath.Join(dir, "mod")
	if err := os.MkdirAll(modDir, 0o755); err != nil {
		return err
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join("..", "..", f))
		if err != nil {
			return fmt.Errorf("read %s: %w", f, err)
		}
		if err := os.WriteFile(filepath.Join(modDir, f), b, 0o644); err != nil {
			return err
		}
	}
	cache, err := probeCacheDir(modDir)
	if err != nil {
		return err
	}
	cmds := []*exec.Cmd{testutil.HostCommand(filepath.Join("..", ".."), hostBin)}
	var built, keeps []string // probes built now, and where to cache each
	for _, v := range []struct{ out, tags string }{
		{probeSO, "flbprobe"},
		{probeNoSO, "flbprobe,noflush"},
		{probeOldSO, "flbprobe,noflush,legacyflush"},
	} {
		keep := filepath.Join(cache, strings.ReplaceAll(v.tags, ",", "-")+".so")
		if b, err := os.ReadFile(keep); err == nil {
			// a probe built from identical sources by an earlier run
			if err := os.MkdirAll(filepath.Dir(v.out), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(v.out, b, 0o755); err != nil {
				return err
			}
			continue
		}
		cmds = append(cmds, goBuild(modDir, v.out, v.tags))
		built, keeps = append(built, v.out), append(keeps, keep)
	}
	outs, err := testutil.RunAll(cmds...)
	hostWarn = outs[0]
	if err != nil {
		return err
	}
	for i, out := range built {
		if err := cacheFile(out, keeps[i]); err != nil {
			return err
		}
	}
	return nil
}

func goBuild(modDir, out, tags string) *exec.Cmd {
	cmd := exec.Command("go", "build", "-modfile", filepath.Join(modDir, "go.mod"), "-mod=mod", "-trimpath",
		"-ldflags=-s -w", "-buildmode=c-shared", "-tags", tags, "-o", out, "./probe")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	return cmd
}

// probeCacheDir is where built probes are kept between runs (linking a
// c-shared Go object dominates the test time), keyed by everything that goes
// into them: the probe's sources, go.mod, go.sum and the Go version.
func probeCacheDir(modDir string) (string, error) {
	h := sha256.New()
	files, err := filepath.Glob(filepath.Join("probe", "*"))
	if err != nil {
		return "", err
	}
	files = append(files, filepath.Join(modDir, "go.mod"), filepath.Join(modDir, "go.sum"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(b))
		h.Write(b)
	}
	ver, err := exec.Command("go", "version").Output()
	if err != nil {
		return "", fmt.Errorf("go version: %w", err)
	}
	h.Write(ver)
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	root := filepath.Join(base, "fluent-bit-drain", "testhost-probe")
	key := hex.EncodeToString(h.Sum(nil))[:16]
	if old, err := os.ReadDir(root); err == nil {
		for _, e := range old {
			if e.Name() != key {
				os.RemoveAll(filepath.Join(root, e.Name())) // probes of older sources
			}
		}
	}
	dir := filepath.Join(root, key)
	return dir, os.MkdirAll(dir, 0o755)
}

// cacheFile copies src to dst atomically.
func cacheFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.%d.tmp", dst, os.Getpid())
	if err := os.WriteFile(tmp, b, 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

func needBuild(t *testing.T) {
	t.Helper()
	if buildFailed != nil {
		t.Fatal(buildFailed)
	}
}

type result struct {
	out      string // stdout + stderr, in write order
	code     int    // exit status, -1 when killed by a signal
	signaled syscall.Signal
}

// run executes the host with args and extra environment variables.
func run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	needBuild(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, hostBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	err := cmd.Run()
	r := result{out: buf.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.signaled = ws.Signal()
		}
	default:
		t.Fatalf("run flb-host: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("flb-host timed out:\n%s", r.out)
	}
	return r
}

func (r result) mustExit(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit status %d (signal %v), want %d; output:\n%s", r.code, r.signaled, code, r.out)
	}
}

func (r result) mustContain(t *testing.T, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(r.out, s) {
			t.Fatalf("output lacks %q; output:\n%s", s, r.out)
		}
	}
}

func (r result) mustNotContain(t *testing.T, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(r.out, s) {
			t.Fatalf("output contains %q; output:\n%s", s, r.out)
		}
	}
}

// inOrder checks that a line matching each pattern exists, in this order.
func (r result) inOrder(t *testing.T, patterns ...string) {
	t.Helper()
	lines := strings.Split(r.out, "\n")
	at := 0
	for _, p := range patterns {
		rx := regexp.MustCompile(p)
		found := false
		for ; at < len(lines); at++ {
			if rx.MatchString(lines[at]) {
				found = true
				at++
				break
			}
		}
		if !found {
			t.Fatalf("no line matching %q after line %d; output:\n%s", p, at, r.out)
		}
	}
}

type flushLine struct {
	label, ctx, tag string
	records, stop   int
	sp              uint64
	tid             int
	comm            string
}

var flushRE = regexp.MustCompile(`probe: flush label=(\S*) ctx=(\S+) tag=(\S+) records=(\d+) stop=(-?\d+) bytes=\d+ sp=0x([0-9a-f]+) tid=(\d+) comm=(\S+)`)

func (r result) flushes() []flushLine {
	var out []flushLine
	for _, m := range flushRE.FindAllStringSubmatch(r.out, -1) {
		recs, _ := strconv.Atoi(m[4])
		stop, _ := strconv.Atoi(m[5])
		sp, _ := strconv.ParseUint(m[6], 16, 64)
		tid, _ := strconv.Atoi(m[7])
		out = append(out, flushLine{m[1], m[2], m[3], recs, stop, sp, tid, m[8]})
	}
	return out
}

// field returns the value of key=VALUE in the first line containing marker.
func (r result) field(t *testing.T, marker, key string) string {
	t.Helper()
	for _, l := range strings.Split(r.out, "\n") {
		if !strings.Contains(l, marker) {
			continue
		}
		for _, f := range strings.Fields(l) {
			if v, ok := strings.CutPrefix(f, key+"="); ok {
				return v
			}
		}
	}
	t.Fatalf("no %s= in a line containing %q; output:\n%s", key, marker, r.out)
	return ""
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHostCompilesWithoutWarnings(t *testing.T) {
	needBuild(t)
	if strings.TrimSpace(hostWarn) != "" {
		t.Fatalf("compiler output for flb_host.c (want none):\n%s", hostWarn)
	}
}

func TestHelp(t *testing.T) {
	r := run(t, nil, "--help")
	r.mustExit(t, 0)
	for _, o := range []string{"-p KEY=VALUE", "--instance", "--format", "--key", "-t TAG", "-n N", "--event-format",
		"--ts", "--workers", "--stack", "--poison", "--def32", "--resignal", "--reload", "--repeat",
		"--hot-reload-flag", "-q", "flb-"} {
		r.mustContain(t, o)
	}
}

func TestUsageErrors(t *testing.T) {
	needBuild(t)
	dir := t.TempDir()
	flb := filepath.Join(dir, "flb-probe.so")
	b, err := os.ReadFile(probeSO)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(flb, b, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"flb- prefix", []string{flb}, "basenames starting with 'flb-'"},
		{"no .so", nil, "exactly one PATH.so"},
		{"bad property", []string{"-p", "novalue", probeSO}, "-p wants KEY=VALUE"},
		{"bad format", []string{"--format", "xml", probeSO}, "unknown --format"},
		{"missing input", []string{"-f", filepath.Join(dir, "nope"), probeSO}, "cannot open input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, nil, tc.args...)
			r.mustExit(t, 2)
			r.mustContain(t, tc.want)
			r.mustNotContain(t, "probe: register")
		})
	}
}

// Two instances with different keys: each Init sees its own properties
// (getter semantics of docs/fluent-bit.md#config-keys), FlushCtx and ExitCtx get the context
// that instance's Init set, and the call order matches docs/fluent-bit.md#call-order.
func TestTwoInstances(t *testing.T) {
	app := writeFile(t, "app.log", "one\ntwo\nthree\n")
	jl := writeFile(t, "j.jsonl", `{"_tag":"host.kubelet.service","MESSAGE":"started"}`+"\n")
	keys := "label,DUP,spaced,env,unset,empty,host,PORT,retry_limit,net.keepalive,tls.verify,alias,workers,match,name,missing"
	r := run(t, []string{"PROBE_TEST_VAR=from-env"},
		"-p", "Label=A", "-p", "match=app.*", "-p", "dup=one", "-p", "DUP=two", "-p", "spaced=   padded value  ",
		"-p", "env=${PROBE_TEST_VAR}-x", "-p", "unset=${PROBE_UNSET_VAR_XYZ}", "-p", "empty=",
		"-p", "host=db.example", "-p", "Port=5432", "-p", "retry_limit=3", "-p", "net.keepalive=on",
		"-p", "tls.verify=off", "-p", "alias=first", "-p", "dump_keys="+keys,
		"-i", "-p", "label=B", "-p", "Name=PROBE", "-p", "Match=host.*", "-p", "dump_keys=LABEL,dup,label",
		"-t", "app.one", "-f", app, "--format", "json", "-f", jl, "--trace", probeSO)
	r.mustExit(t, 0)
	for _, kv := range []string{
		`"label"="A"`, `"DUP"="one"`, `"spaced"="padded value"`, `"env"="from-env-x"`, `"unset"=""`,
		`"empty"=""`, `"host"=""`, `"PORT"=""`, `"retry_limit"=""`, `"net.keepalive"=""`, `"tls.verify"=""`,
		`"alias"=""`, `"workers"=""`, `"match"=""`, `"name"=""`, `"missing"=""`,
	} {
		r.mustContain(t, "probe: key label=A "+kv)
	}
	r.mustContain(t, `probe: key label=B "LABEL"="B"`, `probe: key label=B "dup"=""`,
		"[env] variable ${PROBE_UNSET_VAR_XYZ} is used but not set")

	inits := regexp.MustCompile(`FLBPluginInit\(plugin=\S+\) instance=probe\.(\d) .* remote_context=(\S+)`).FindAllStringSubmatch(r.out, -1)
	if len(inits) != 2 || inits[0][1] != "0" || inits[1][1] != "1" {
		t.Fatalf("Init calls %v, want probe.0 then probe.1:\n%s", inits, r.out)
	}
	ctxA, ctxB := inits[0][2], inits[1][2]
	if ctxA == ctxB || ctxA == "(nil)" {
		t.Fatalf("contexts A=%s B=%s, want two distinct non-nil", ctxA, ctxB)
	}
	fl := r.flushes()
	if len(fl) != 2 {
		t.Fatalf("%d flushes, want 2 (one per routed chunk):\n%s", len(fl), r.out)
	}
	for _, f := range fl {
		switch f.label {
		case "A":
			if f.ctx != ctxA || f.tag != "app.one" || f.records != 3 {
				t.Errorf("instance A flush %+v, want ctx %s tag app.one 3 records", f, ctxA)
			}
		case "B":
			if f.ctx != ctxB || f.tag != "host.kubelet.service" || f.records != 1 {
				t.Errorf("instance B flush %+v, want ctx %s tag host.kubelet.service 1 record", f, ctxB)
			}
		default:
			t.Errorf("flush with unknown label %+v", f)
		}
		if f.comm != "flb-pipeline" {
			t.Errorf("flush on thread %s, want flb-pipeline", f.comm)
		}
	}
	r.mustContain(t, "probe: exitctx label=A ctx="+ctxA+" flushes=1 records=3",
		"probe: exitctx label=B ctx="+ctxB+" flushes=1 records=1")
	r.inOrder(t,
		`probe: preregister hot=0 .*comm=flb-host`,
		`probe: register .*comm=flb-host`,
		`probe: init label=A .*comm=flb-pipeline`,
		`probe: init label=B .*comm=flb-pipeline`,
		`probe: prerun hot=0 .*comm=flb-pipeline`,
		`probe: prerun hot=0 .*comm=flb-pipeline`,
		`probe: flush label=A`,
		`probe: flush label=B`,
		`probe: preexit reload=0 .*comm=flb-pipeline`,
		`probe: exitctx label=A`,
		`probe: preexit reload=0`,
		`probe: exitctx label=B`,
		`probe: unregister .*comm=flb-host`,
		`FLBPluginUnregister`,
		`dlclose generation 1`,
		`\[host\] total chunks=2 records=4 attempts=2 ok=2 .*failures=0`,
	)
}

// workers 0: every flush runs on flb-pipeline, on the coroutine stack the host
// malloc'd for that call (the probe's C stack pointer lies inside it).
func TestWorkers0CoroutineStack(t *testing.T) {
	in := writeFile(t, "a.log", "a\nb\nc\nd\ne\n")
	for _, stack := range []string{"24576", "65536"} {
		t.Run(stack, func(t *testing.T) {
			r := run(t, nil, "--trace", "--stack", stack, "-n", "2", "-p", "label=S", "-f", in, probeSO)
			r.mustExit(t, 0)
			rx := regexp.MustCompile(`flush instance=probe.0 .* stack=0x([0-9a-f]+)-0x([0-9a-f]+) rc=1`)
			ranges := rx.FindAllStringSubmatch(r.out, -1)
			fl := r.flushes()
			if len(fl) != 3 || len(ranges) != 3 {
				t.Fatalf("%d probe flushes, %d host traces, want 3 each:\n%s", len(fl), len(ranges), r.out)
			}
			size, _ := strconv.ParseUint(stack, 10, 64)
			for i, f := range fl {
				lo, _ := strconv.ParseUint(ranges[i][1], 16, 64)
				hi, _ := strconv.ParseUint(ranges[i][2], 16, 64)
				if hi-lo != size {
					t.Errorf("flush %d: stack %#x-%#x is %d bytes, want %d", i, lo, hi, hi-lo, size)
				}
				if f.sp < lo || f.sp >= hi {
					t.Errorf("flush %d: C stack pointer %#x outside the coroutine stack %#x-%#x", i, f.sp, lo, hi)
				}
				if f.comm != "flb-pipeline" {
					t.Errorf("flush %d on %s, want flb-pipeline", i, f.comm)
				}
			}
		})
	}
}

// workers N: N threads named flb-out-probe.0-w<k> (15 characters kept),
// and with N >= 2 the same instance's FlushCtx runs concurrently.
func TestWorkers(t *testing.T) {
	in := writeFile(t, "a.log", "1\n2\n3\n4\n5\n6\n")
	for _, tc := range []struct {
		workers      string
		wantInflight int
	}{{"1", 1}, {"4", 2}} {
		t.Run(tc.workers, func(t *testing.T) {
			r := run(t, nil, "-n", "1", "-p", "label=W", "-p", "workers="+tc.workers, "-p", "sleep_ms=120", "-f", in, probeSO)
			r.mustExit(t, 0)
			n, _ := strconv.Atoi(tc.workers)
			for k := 0; k < n; k++ {
				r.mustContain(t, fmt.Sprintf("worker flb-out-probe.0-w%d started", k))
			}
			fl := r.flushes()
			if len(fl) != 6 {
				t.Fatalf("%d flushes, want 6:\n%s", len(fl), r.out)
			}
			tids := map[int]bool{}
			for _, f := range fl {
				tids[f.tid] = true
				if f.comm != "flb-out-probe.0" {
					t.Errorf("flush on thread %q, want flb-out-probe.0", f.comm)
				}
			}
			max, _ := strconv.Atoi(r.field(t, "probe: exitctx", "maxinflight"))
			if n == 1 && (max != 1 || len(tids) != 1) {
				t.Errorf("workers 1: maxinflight %d on %d threads, want serial on 1", max, len(tids))
			}
			if n > 1 && (max < tc.wantInflight || len(tids) < 2) {
				t.Errorf("workers %d: maxinflight %d on %d threads, want concurrent flushes", n, max, len(tids))
			}
			// ExitCtx only after the workers are joined
			r.inOrder(t, `worker flb-out-probe.0-w0 stopping`, `probe: preexit`, `probe: exitctx`)
		})
	}
}

func TestInitFailureStopsHost(t *testing.T) {
	in := writeFile(t, "a.log", "x\n")
	r := run(t, nil, "-p", "label=ok", "-i", "-p", "label=bad", "-p", "fail_init=on", "-f", in, probeSO)
	r.mustExit(t, 1)
	r.mustContain(t, "[go proxy]: plugin 'probe' failed to initialize", "[output] failed to initialize 'probe.1' plugin")
	if len(r.flushes()) != 0 {
		t.Fatalf("flushes after a failed Init:\n%s", r.out)
	}
	r.mustNotContain(t, "probe: prerun")
}

func TestMissingSymbols(t *testing.T) {
	in := writeFile(t, "a.log", "x\n")
	t.Run("no flush at all", func(t *testing.T) {
		r := run(t, nil, "-f", in, probeNoSO)
		r.mustExit(t, 1)
		r.mustContain(t, "neither FLBPluginFlushCtx nor FLBPluginFlush")
		r.mustNotContain(t, "probe: init")
	})
	t.Run("Flush without FlushCtx", func(t *testing.T) {
		// the legacy entry point has no context: the probe answers RETRY and
		// the host re-delivers the same chunk once (default retry_limit 1)
		r := run(t, nil, "-f", in, probeOldSO)
		r.mustExit(t, 0)
		r.mustContain(t, "FLBPluginFlushCtx missing: using FLBPluginFlush", "probe: flush without context ctx=0x0",
			"[host] total chunks=1 records=1 attempts=2 ok=0 retry=2 error=0 other=0 dropped=1")
	})
}

func TestReturnCodesAndRetries(t *testing.T) {
	in := writeFile(t, "a.log", "x\n")
	for _, tc := range []struct {
		mode, limit, want string
	}{
		{"ok", "", "attempts=1 ok=1 retry=0 error=0 other=0 dropped=0"},
		{"error", "", "attempts=1 ok=0 retry=0 error=1 other=0 dropped=0"},
		{"rc:42", "", "attempts=1 ok=0 retry=0 error=0 other=1 dropped=0"},
		{"retry", "", "attempts=2 ok=0 retry=2 error=0 other=0 dropped=1"},
		{"retry", "no_retries", "attempts=1 ok=0 retry=1 error=0 other=0 dropped=1"},
		{"retry", "3", "attempts=4 ok=0 retry=4 error=0 other=0 dropped=1"},
		{"panic", "", "attempts=1 ok=0 retry=0 error=1 other=0 dropped=0"},
	} {
		t.Run(tc.mode+"/"+tc.limit, func(t *testing.T) {
			args := []string{"-p", "label=R", "-p", "mode=" + tc.mode}
			if tc.limit != "" {
				args = append(args, "-p", "retry_limit="+tc.limit)
			}
			r := run(t, nil, append(args, "-f", in, probeSO)...)
			r.mustExit(t, 0)
			r.mustContain(t, "[host] total chunks=1 records=1 "+tc.want)
		})
	}
}

func TestTLSOnAborts(t *testing.T) {
	r := run(t, nil, "-p", "tls=on", probeSO)
	r.mustExit(t, 1)
	r.mustContain(t, "probe.0 does not support TLS")
	r.mustNotContain(t, "probe: init")
}

func TestDef32Canary(t *testing.T) {
	in := writeFile(t, "a.log", "x\n")
	t.Run("pinned fluent-bit-go writes 5 fields", func(t *testing.T) {
		r := run(t, nil, "--def32", "-f", in, probeSO)
		r.mustExit(t, 0)
		r.mustContain(t, "malloc 32 + canary", "records=1")
	})
	t.Run("event_type write is caught", func(t *testing.T) {
		r := run(t, []string{"PROBE_WRITE_EVENT_TYPE=1"}, "--def32", "-f", in, probeSO)
		r.mustExit(t, 1)
		r.mustContain(t, "FLBPluginRegister wrote past the 32-byte def")
		r.mustNotContain(t, "probe: init")
	})
	t.Run("40-byte def accepts event_type", func(t *testing.T) {
		r := run(t, []string{"PROBE_WRITE_EVENT_TYPE=1"}, "-f", in, probeSO)
		r.mustExit(t, 0)
		r.mustContain(t, "def.event_type = 1")
	})
}

// --poison: a plugin that keeps the data pointer past the call sees garbage.
func TestPoison(t *testing.T) {
	in := writeFile(t, "a.log", "a\nb\nc\n")
	r := run(t, nil, "--poison", "-n", "1", "-p", "label=P", "-p", "retain=on", "-f", in, probeSO)
	r.mustExit(t, 0)
	if got := strings.Count(r.out, "probe: retained label=P changed=true"); got != 2 {
		t.Fatalf("%d poisoned retained buffers seen, want 2:\n%s", got, r.out)
	}
	r.mustNotContain(t, "changed=false")
	// without --poison the buffer is unmapped at once: a retained read faults,
	// or sees whatever the next mapping at that address holds
	r = run(t, nil, "-n", "1", "-p", "label=P", "-p", "retain=on", "-f", in, probeSO)
	if r.code == 0 {
		r.mustNotContain(t, "changed=false")
	}
}

// Fluent Bit re-runs signal() on SIGCONT/SIGHUP, replacing Go's SIGSEGV
// handler: a Go nil dereference is then fatal unless the plugin re-installs
// Go's handlers (docs/fluent-bit.md#crashes).
func TestResignalThenGoPanic(t *testing.T) {
	in := writeFile(t, "a.log", "x\n")
	for _, tc := range []struct {
		name     string
		resignal bool
		restore  bool
		fatal    bool
	}{
		{"go handlers intact", false, false, false},
		{"resignal, plugin restores", true, true, false},
		{"resignal, no restore", true, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"-p", "label=S", "-p", "mode=nilderef"}
			if tc.resignal {
				args = append(args, "--resignal")
			}
			if tc.restore {
				args = append(args, "-p", "restore_signals=on")
			}
			r := run(t, nil, append(args, "-f", in, probeSO)...)
			if tc.resignal {
				r.mustContain(t, "[engine] caught signal (SIGCONT)")
			}
			if tc.fatal {
				r.mustContain(t, "[engine] caught signal (SIGSEGV)")
				if r.signaled != syscall.SIGABRT {
					t.Fatalf("exit %d signal %v, want SIGABRT (134):\n%s", r.code, r.signaled, r.out)
				}
				return
			}
			r.mustExit(t, 0)
			r.mustContain(t, "probe: recovered label=S: runtime error: invalid memory address or nil pointer dereference",
				"error=1")
			if tc.restore {
				r.mustContain(t, "probe: restored 2 fault handlers")
			}
		})
	}
}

// Hot reload, docs/fluent-bit.md#test-host step 10 and #call-order.
func TestReload(t *testing.T) {
	in := writeFile(t, "a.log", "a\nb\nc\nd\n")
	r := run(t, nil, "--reload", "-n", "1", "-p", "label=G", "-p", "quiet=on", "-f", in, probeSO)
	r.mustExit(t, 0)
	r.inOrder(t,
		`probe: preregister hot=0`,
		`probe: register`,
		`probe: init label=G .*comm=flb-pipeline`,
		`probe: prerun hot=1`,
		`probe: preregister hot=1 .*comm=flb-host`,
		`probe: register`,
		`probe: preexit reload=1`,
		`probe: exitctx label=G`,
		`probe: unregister`,
		`probe: init label=G .*comm=flb-pipeline`,
		`probe: prerun hot=1`,
		`probe: preexit reload=0`,
		`probe: exitctx label=G .*flushes=4 records=4`,
		`probe: unregister`,
	)
	// generation 1 kept flushing while generation 2 registered
	m := regexp.MustCompile(`flushes before/after registration: (\d+)/(\d+)`).FindStringSubmatch(r.out)
	if m == nil {
		t.Fatalf("no overlap report:\n%s", r.out)
	}
	before, _ := strconv.Atoi(m[1])
	after, _ := strconv.Atoi(m[2])
	if before < 1 || after <= before {
		t.Fatalf("generation 1 flushes before/after the new registration %d/%d: no overlap", before, after)
	}
	// the new generation's Init runs on a new engine thread
	initTIDs := regexp.MustCompile(`probe: init label=G mode=ok plugin=\S+ tid=(\d+)`).FindAllStringSubmatch(r.out, -1)
	if len(initTIDs) != 2 || initTIDs[0][1] == initTIDs[1][1] {
		t.Fatalf("Init threads %v, want two different engine threads", initTIDs)
	}
}

func TestEmptyChunksNeverFlushed(t *testing.T) {
	empty := writeFile(t, "empty.log", "")
	blank := writeFile(t, "blank.log", "\n\n\r\n")
	jblank := writeFile(t, "blank.jsonl", "  \n\t\n")
	mp := writeFile(t, "empty.msgpack", "")
	r := run(t, nil, "-f", empty, "-f", blank, "--format", "json", "-f", jblank, "--format", "msgpack", "-f", mp, probeSO)
	r.mustExit(t, 0)
	r.mustContain(t, "0 chunks, 0 records", "[host] total chunks=0 records=0 attempts=0")
	if len(r.flushes()) != 0 {
		t.Fatalf("empty chunk flushed:\n%s", r.out)
	}
}

func readChunks(t *testing.T, dir string) (index []string, data [][]byte) {
	t.Helper()
	idx, err := os.ReadFile(filepath.Join(dir, "index.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(idx)), "\n") {
		if l == "" {
			continue
		}
		f := strings.Split(l, "\t")
		b, err := os.ReadFile(filepath.Join(dir, f[0]))
		if err != nil {
			t.Fatal(err)
		}
		index = append(index, f[1]+" "+f[2])
		data = append(data, b)
	}
	return index, data
}

// Chunk bytes match Fluent Bit's encoder (docs/fluent-bit.md#chunks, #timestamps), and what
// fluent-bit-go's decoder makes of each variant.
func TestChunkBytes(t *testing.T) {
	in := writeFile(t, "a.log", "hi\n")
	// 1700000000.5 s = 0x6553f100 s + 0x1dcd6500 ns; body {"log":"hi"} = 81 a3 6c6f67 a2 6869
	const body = "81a36c6f67a26869"
	for _, tc := range []struct {
		name       string
		args       []string
		hex        string
		recs, stop int
	}{
		{"v2", nil, "dd00000002dd00000002d7006553f1001dcd650080" + body, 1, -1},
		{"v2 ext8", []string{"--ts", "ext8"}, "dd00000002dd00000002c708006553f1001dcd650080" + body, 1, -1},
		{"v1 eventtime", []string{"--event-format", "1"}, "92d7006553f1001dcd6500" + body, 1, -1},
		{"v1 int", []string{"--event-format", "1", "--ts", "int"}, "92ce6553f100" + body, 1, -1},
		// fluent-bit-go returns -5 for a float v1 timestamp (docs/fluent-bit.md#fluent-bit-go-decoder)
		{"v1 float", []string{"--event-format", "1", "--ts", "float"}, "92cb41d954fc40200000" + body, 0, -5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"--time", "1700000000.500000000", "--dump-chunks", dir, "-p", "label=H", "-f", in}, tc.args...)
			r := run(t, nil, append(args, probeSO)...)
			r.mustExit(t, 0)
			_, data := readChunks(t, dir)
			if len(data) != 1 || hex.EncodeToString(data[0]) != tc.hex {
				t.Fatalf("chunk %x, want %s", data, tc.hex)
			}
			fl := r.flushes()
			if len(fl) != 1 || fl[0].records != tc.recs || fl[0].stop != tc.stop {
				t.Fatalf("probe decoded %+v, want records=%d stop=%d", fl, tc.recs, tc.stop)
			}
		})
	}
}

// A chunk never mixes tags and holds at most -n records.
func TestBatching(t *testing.T) {
	a := writeFile(t, "a.log", "1\n2\n3\n4\n5\n")
	b := writeFile(t, "b.log", "6\n")
	j := writeFile(t, "c.jsonl", `{"_tag":"x","m":1}`+"\n"+`{"_tag":"x","m":2}`+"\n"+`{"_tag":"y","m":3}`+"\n"+
		`{"m":4}`+"\n"+`{"_tag":"x","m":5}`+"\n")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"consecutive", nil, []string{"a 2", "a 2", "a 1", "b 1", "x 2", "y 1", "j 1", "x 1"}},
		{"per tag", []string{"--per-tag"}, []string{"a 2", "a 2", "a 1", "b 1", "x 2", "x 1", "y 1", "j 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"-n", "2", "--dump-chunks", dir, "-t", "a", "-f", a, "-t", "b", "-f", b, "-t", "j",
				"--format", "json", "-f", j}, tc.args...)
			r := run(t, nil, append(args, probeSO)...)
			r.mustExit(t, 0)
			idx, _ := readChunks(t, dir)
			if strings.Join(idx, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("chunks (tag records) %v, want %v", idx, tc.want)
			}
			r.mustContain(t, "[host] total chunks=8 records=11")
		})
	}
}

func TestJSON(t *testing.T) {
	hdr := "dd00000002dd00000002d7006553f1001dcd650080"
	for _, tc := range []struct {
		name, line, body string
	}{
		{"escapes", `{"s":"q\"b\\s\/n\nt\tr\rb\bf\f"}`, "81a173b07122625c732f6e0a7409720d6208660c"},
		{"unicode", `{"u":"\u00e9\u20ac\ud83d\ude00"}`, "81a175a9c3a9e282acf09f9880"},
		{"nul", `{"z":"a\u0000b"}`, "81a17aa3610062"},
		{"numbers", `{"a":0,"b":-1,"c":127,"d":128,"e":-33,"f":1.5,"g":1e2,"h":18446744073709551615,"i":-9223372036854775808}`,
			"89a16100a162ffa1637fa164cc80a165d0dfa166cb3ff8000000000000a167cb4059000000000000a168cfffffffffffffffffa169d38000000000000000"},
		{"big int becomes float", `{"n":18446744073709551616}`, "81a16ecb43f0000000000000"},
		{"literals and nesting", `{"t":true,"f":false,"n":null,"a":[1,[],{}],"o":{"k":"v"}}`,
			"85a174c3a166c2a16ec0a1619301" + "9080" + "a16f81a16ba176"},
		{"empty object", `{}`, "80"},
		{"tag removed", `{"_tag":"t.x","k":"v"}`, "81a16ba176"},
		{"non-string _tag kept", `{"_tag":1}`, "81a45f74616701"},
		{"raw utf-8 and invalid bytes kept", "{\"r\":\"é\xff\"}", "81a172a3c3a9ff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := writeFile(t, "in.jsonl", tc.line+"\n")
			r := run(t, nil, "--time", "1700000000.5", "--dump-chunks", dir, "--format", "json", "-f", in, probeSO)
			r.mustExit(t, 0)
			idx, data := readChunks(t, dir)
			if len(data) != 1 || hex.EncodeToString(data[0]) != hdr+tc.body {
				t.Fatalf("chunk %x\nwant     %s%s", data, hdr, tc.body)
			}
			if tc.name == "tag removed" && idx[0] != "t.x 1" {
				t.Fatalf("tag/records %q, want t.x 1", idx[0])
			}
		})
	}
}

func TestJSONRejectsGarbage(t *testing.T) {
	for _, tc := range []struct {
		line, want string
	}{
		{`{"a":1`, ":2:7: invalid JSON: ',' or '}' expected"},
		{`[1,2]`, ":2:1: invalid JSON: JSON object expected"},
		{`{"a":01}`, "leading zero"},
		{`{"a":1.}`, "digit expected after decimal point"},
		{`{"a":"\x"}`, "invalid escape"},
		{`{"a":"\ud83d"}`, "high surrogate"},
		{`{"a":"\ude00"}`, "lone low surrogate"},
		{`{"a":tru}`, "invalid literal"},
		{`{"a":1} x`, "trailing characters"},
		{`{a:1}`, "object key (string) expected"},
		{`{"a":1,}`, "object key (string) expected"},
		{"{\"a\":\"x\ty\"}", "unescaped control character"},
		{`{"a":"abc`, "unterminated string"},
		{strings.Repeat("[", 10), "JSON object expected"},
		{`{"a":` + strings.Repeat("[", 1100) + strings.Repeat("]", 1100) + `}`, "nesting too deep"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			in := writeFile(t, "bad.jsonl", `{"ok":true}`+"\n"+tc.line+"\n")
			r := run(t, nil, "--format", "json", "-f", in, probeSO)
			r.mustExit(t, 2)
			r.mustContain(t, in+":2:", tc.want)
			r.mustNotContain(t, "probe: register")
		})
	}
}

// --format msgpack passes the file verbatim, even a truncated last event.
func TestMsgpackVerbatim(t *testing.T) {
	ev := "dd00000002dd00000002d7006553f1001dcd650080" + "81a36c6f67a26869"
	raw, _ := hex.DecodeString(ev + ev + ev[:len(ev)-4])
	dir := t.TempDir()
	in := filepath.Join(dir, "c.msgpack")
	if err := os.WriteFile(in, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	r := run(t, nil, "--format", "msgpack", "-t", "kube.x", "-f", in, "--dump-chunks", out, probeSO)
	r.mustExit(t, 0)
	idx, data := readChunks(t, out)
	if len(data) != 1 || !bytes.Equal(data[0], raw) || idx[0] != "kube.x 2" {
		t.Fatalf("chunk %q %x, want the file verbatim with 2 complete events", idx, data)
	}
	fl := r.flushes()
	if len(fl) != 1 || fl[0].records != 2 {
		t.Fatalf("probe flushes %+v, want one with 2 records", fl)
	}
}

func TestRepeat(t *testing.T) {
	in := writeFile(t, "a.log", "a\nb\nc\n")
	r := run(t, nil, "-q", "--repeat", "50", "-p", "quiet=on", "-f", in, probeSO)
	r.mustExit(t, 0)
	r.mustContain(t, "[host] total chunks=50 records=150 attempts=50 ok=50")
	r.mustNotContain(t, "dlopen(") // -q
}

func TestSIGTERMShutsDownInOrder(t *testing.T) {
	needBuild(t)
	in := writeFile(t, "a.log", "a\n")
	// dump_hex logs the first flush's bytes: SIGTERM comes once flushing runs.
	cmd := exec.Command(hostBin, "--repeat", "100000000", "-p", "quiet=on", "-p", "dump_hex=on", "-p", "label=T", "-f", in, probeSO)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	running := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pipe)
		signalled := false
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if !signalled && strings.Contains(sc.Text(), "probe: hex label=T") {
				signalled = true
				close(running)
			}
		}
	}()
	select {
	case <-running:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("host never flushed:\n%s", out.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() {
		<-done
		exited <- cmd.Wait()
	}()
	select {
	case err := <-exited:
		r := result{out: out.String()}
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, r.out)
		}
		r.inOrder(t, `caught signal \(SIGTERM\)`, `probe: preexit reload=0`, `probe: exitctx label=T`, `probe: unregister`)
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("host did not stop within 10 s of SIGTERM")
	}
}

// --write-fixtures writes the chunk set of docs/fluent-bit.md#fixtures; fed back with
// --format msgpack each one becomes exactly one chunk with the indexed tag
// and event count, and the probe survives all of them.
func TestFixtures(t *testing.T) {
	dir := t.TempDir()
	r := run(t, nil, "--write-fixtures", dir)
	r.mustExit(t, 0)
	idx, err := os.ReadFile(filepath.Join(dir, "index.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	type fixture struct{ file, tag, events, records string }
	var fx []fixture
	args := []string{"--format", "msgpack", "-p", "quiet=on"}
	for _, l := range strings.Split(strings.TrimSpace(string(idx)), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 5 {
			t.Fatalf("index line %q: want 5 tab-separated fields", l)
		}
		fx = append(fx, fixture{f[0], f[1], f[2], f[3]})
		args = append(args, "-t", f[1], "-f", filepath.Join(dir, f[0]))
	}
	want := map[string]string{ // file: events records
		"v2-single.msgpack": "1 1", "v2-10000.msgpack": "10000 10000", "v2-groups.msgpack": "5 3",
		"v1-float.msgpack": "3 3", "ts-invalid-ext.msgpack": "4 2", "truncated.msgpack": "3 3",
		"hostile-empty-body.msgpack": "1 1",
	}
	seen := 0
	for _, f := range fx {
		if w, ok := want[f.file]; ok {
			seen++
			if got := f.events + " " + f.records; got != w {
				t.Errorf("%s: events records %q, want %q", f.file, got, w)
			}
		}
		if f.file == "tag-long.msgpack" && len(f.tag) <= 250 {
			t.Errorf("tag-long tag is %d characters, want > 250", len(f.tag))
		}
	}
	if seen != len(want) || len(fx) < 25 {
		t.Fatalf("%d fixtures (%d of the checked ones), want >= 25 including %d checked", len(fx), seen, len(want))
	}
	out := t.TempDir()
	r = run(t, nil, append(args, "--dump-chunks", out, probeSO)...)
	r.mustExit(t, 0)
	chunks, data := readChunks(t, out)
	if len(chunks) != len(fx) {
		t.Fatalf("%d chunks for %d fixtures", len(chunks), len(fx))
	}
	for i, f := range fx {
		raw, err := os.ReadFile(filepath.Join(dir, f.file))
		if err != nil {
			t.Fatal(err)
		}
		if chunks[i] != f.tag+" "+f.events || !bytes.Equal(data[i], raw) {
			t.Errorf("%s: chunk %q (%d bytes), want %q with the file's %d bytes", f.file, chunks[i], len(data[i]),
				f.tag+" "+f.events, len(raw))
		}
	}
	r.mustContain(t, "probe: exitctx label= ctx=", fmt.Sprintf("flushes=%d ", len(fx)))
}

// The drain plugin itself (out/out_drain.so from make build), driven like
// Fluent Bit drives it, with both stores hanging: docs/fluent-bit.md#fixtures requires FlushCtx
// p99 below 50 ms and ExitCtx within its configured deadline.
func TestDrainPluginBlockingSinks(t *testing.T) {
	so, _ := filepath.Abs(filepath.Join("..", "..", "out", "out_drain.so"))
	samples := filepath.Join("..", "..", "testdata", "samples")
	if _, err := os.Stat(so); err != nil {
		t.Skipf("%s not built (make build): %v", so, err)
	}
	if _, err := os.Stat(filepath.Join(samples, "containers.jsonl")); err != nil {
		t.Skipf("no sample logs in %s: %v", samples, err)
	}
	pg, redis := testutil.BlackHole(t).Addr, testutil.BlackHole(t).Addr
	r := run(t, nil, "--workers", "1", "--repeat", "2",
		"-p", "Name=drain", "-p", "Match=*", "-p", "Exit_Timeout=1s",
		"-p", "PG_DSN=postgres://drain@"+pg+"/drain?connect_timeout=30", "-p", "Redis_Addr="+redis,
		"-t", "node.syslog.var.log.syslog", "-f", filepath.Join(samples, "syslog.log"),
		"--format", "json", "-f", filepath.Join(samples, "journald.jsonl"),
		"-f", filepath.Join(samples, "containers.jsonl"), so)
	r.mustExit(t, 0)
	chunks := r.field(t, "[host] total", "chunks")
	if ok := r.field(t, "[host] total", "ok"); ok != chunks {
		t.Errorf("%s of %s chunks answered OK", ok, chunks)
	}
	p99, _ := strconv.Atoi(r.field(t, "[host] summary", "p99_us"))
	if p99 >= 50000 {
		t.Errorf("FlushCtx p99 %d us with hanging stores, want < 50 ms", p99)
	}
	m := regexp.MustCompile(`FLBPluginExitCtx\(\S+\) instance=drain.0 -> \d+ \((\d+) us\)`).FindStringSubmatch(r.out)
	if m == nil {
		t.Fatalf("no ExitCtx timing:\n%s", r.out)
	}
	exitUS, _ := strconv.Atoi(m[1])
	if exitUS > 3_000_000 {
		var drain []string
		for _, l := range strings.Split(r.out, "\n") {
			if strings.Contains(l, "[drain]") {
				drain = append(drain, l)
			}
		}
		t.Errorf("ExitCtx took %d us with Exit_Timeout 1s; plugin log:\n%s", exitUS, strings.Join(drain, "\n"))
	}
	t.Logf("chunks=%s p99=%dus ExitCtx=%dus", chunks, p99, exitUS)
}

// A flush that uses more C stack than the coroutine stack minus its
// 256-byte canary is reported as a contract failure.
func TestCoroutineStackOverrun(t *testing.T) {
	in := writeFile(t, "a.log", "x\n")
	stackRE := regexp.MustCompile(`flush instance=probe.0 .* stack=0x([0-9a-f]+)-0x([0-9a-f]+) `)
	r := run(t, nil, "--trace", "-p", "label=C", "-f", in, probeSO)
	r.mustExit(t, 0)
	m := stackRE.FindStringSubmatch(r.out)
	fl := r.flushes()
	if m == nil || len(fl) != 1 {
		t.Fatalf("no stack trace or flush:\n%s", r.out)
	}
	lo, _ := strconv.ParseUint(m[1], 16, 64)
	depth := int(fl[0].sp - lo) // bytes left below the plugin's C frame
	for _, tc := range []struct {
		use  int
		fail bool
	}{{1024, false}, {depth - 100, true}} {
		t.Run(strconv.Itoa(tc.use), func(t *testing.T) {
			r := run(t, nil, "--trace", "-p", "label=C", "-p", "mode=cstack:"+strconv.Itoa(tc.use), "-f", in, probeSO)
			if !tc.fail {
				r.mustExit(t, 0)
				r.mustNotContain(t, "canary")
				return
			}
			r.mustExit(t, 1)
			r.mustContain(t, "used more than 24320 bytes of coroutine stack (canary overwritten")
		})
	}
}

func TestHotReloadFlag(t *testing.T) {
	r := run(t, nil, "--hot-reload-flag", "-i", probeSO)
	r.mustExit(t, 0)
	if n := strings.Count(r.out, "probe: prerun hot=1"); n != 2 {
		t.Fatalf("%d PreRun(1) calls for 2 instances:\n%s", n, r.out)
	}
}

// SIGHUP reloads when hot reload is enabled (Fluent Bit's -Y), and is only
// logged otherwise.
func TestSIGHUP(t *testing.T) {
	needBuild(t)
	in := writeFile(t, "a.log", "a\n")
	for _, tc := range []struct {
		name   string
		hot    bool
		reload bool
	}{{"hot reload enabled", true, true}, {"hot reload disabled", false, false}} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"--repeat", "100000000", "-p", "quiet=on", "-p", "label=H", "-f", in, probeSO}
			if tc.hot {
				args = append([]string{"--hot-reload-flag"}, args...)
			}
			cmd := exec.Command(hostBin, args...)
			pipe, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			lines := make(chan string, 1024)
			go func() {
				sc := bufio.NewScanner(pipe)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			var out strings.Builder
			// waitFor reads output until a line contains s.
			waitFor := func(s string) {
				t.Helper()
				timeout := time.After(20 * time.Second)
				for {
					select {
					case l, ok := <-lines:
						if !ok {
							t.Fatalf("host exited before %q:\n%s", s, out.String())
						}
						out.WriteString(l + "\n")
						if strings.Contains(l, s) {
							return
						}
					case <-timeout:
						t.Fatalf("no %q within 20 s:\n%s", s, out.String())
					}
				}
			}
			waitFor("probe: prerun")
			cmd.Process.Signal(syscall.SIGHUP)
			waitFor("caught signal (SIGHUP)")
			if tc.reload {
				waitFor("probe: prerun hot=1") // the new generation is running
			} else {
				// An observation window, not a wait for a state: a reload
				// would start at once, and none must (checked below).
				time.Sleep(200 * time.Millisecond)
			}
			cmd.Process.Signal(syscall.SIGTERM)
			for l := range lines {
				out.WriteString(l + "\n")
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("exit: %v\n%s", err, out.String())
			}
			r := result{out: out.String()}
			if tc.reload {
				r.inOrder(t, `probe: init label=H`, `caught signal \(SIGHUP\)`, `probe: preregister hot=1`,
					`probe: register`, `probe: preexit reload=1`, `probe: exitctx label=H`, `probe: unregister`,
					`probe: init label=H`, `probe: prerun hot=1`, `caught signal \(SIGTERM\)`,
					`probe: preexit reload=0`, `probe: exitctx label=H`, `probe: unregister`)
			} else {
				r.mustNotContain(t, "preregister hot=1", "preexit reload=1")
				r.inOrder(t, `caught signal \(SIGHUP\)`, `caught signal \(SIGTERM\)`, `probe: preexit reload=0`)
			}
		})
	}
}
