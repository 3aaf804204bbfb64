package deploytest

import (
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

type stage struct {
	from  Instruction
	insts []Instruction
}

func readDockerfile(t *testing.T) []stage {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	insts, err := ParseDockerfile(f)
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	var stages []stage
	for _, in := range insts {
		if in.Cmd == "FROM" {
			stages = append(stages, stage{from: in})
			continue
		}
		if len(stages) == 0 {
			if in.Cmd != "ARG" {
				t.Fatalf("Dockerfile:%d: %s before FROM", in.Line, in.Cmd)
			}
			continue
		}
		stages[len(stages)-1].insts = append(stages[len(stages)-1].insts, in)
	}
	if len(stages) != 2 {
		t.Fatalf("want a builder and a final stage, got %d stages", len(stages))
	}
	return stages
}

func goModVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)\s*$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	return string(m[1])
}

func TestDockerfileBuilder(t *testing.T) {
	b := readDockerfile(t)[0]
	ops := b.from.Operands()
	want := "golang:" + goModVersion(t) + "-bookworm"
	if len(ops) != 3 || ops[0] != want || !strings.EqualFold(ops[1], "AS") {
		t.Fatalf("builder FROM %v, want %s AS <name> (Go from go.mod, Debian 12 glibc)", ops, want)
	}
	var build string
	for _, in := range b.insts {
		if in.Cmd == "RUN" && strings.Contains(strings.Join(in.Args, " "), "go build") {
			build = strings.Join(in.Args, " ")
		}
	}
	for _, w := range []string{"CGO_ENABLED=1", "-trimpath", "-buildmode=c-shared", "-o /out/out_drain.so", "./plugin"} {
		if !strings.Contains(build, w) {
			t.Errorf("builder's go build %q lacks %q", build, w)
		}
	}
	if fi, err := os.Stat(filepath.Join(root, "plugin")); err != nil || !fi.IsDir() {
		t.Skip("./plugin is not in the repository yet; the image cannot be built without it")
	}
}

func TestDockerfileFinal(t *testing.T) {
	stages := readDockerfile(t)
	builder := stages[0].from.Operands()[2]
	final := stages[1]
	if ops := final.from.Operands(); len(ops) < 1 || ops[0] != "cr.fluentbit.io/fluent/fluent-bit:4.2.8" {
		t.Errorf("final FROM %v, want cr.fluentbit.io/fluent/fluent-bit:4.2.8", ops)
	}
	dests := map[string]string{} // destination in the image -> source
	var cmd []string
	for _, in := range final.insts {
		switch in.Cmd {
		case "RUN":
			t.Errorf("Dockerfile:%d: RUN in the distroless Fluent Bit image (no shell)", in.Line)
		case "COPY", "ADD":
			ops := in.Operands()
			if len(ops) != 2 {
				t.Errorf("Dockerfile:%d: want COPY <src> <dest>, got %v", in.Line, ops)
				continue
			}
			src := ops[0]
			if from, ok := in.Flag("from"); ok {
				if from != builder {
					t.Errorf("Dockerfile:%d: COPY --from=%s, want %s", in.Line, from, builder)
				}
				src = "builder:" + src
			}
			dests[ops[1]] = src
		case "CMD", "ENTRYPOINT":
			if err := json.Unmarshal([]byte(strings.Join(in.Args, " ")), &cmd); err != nil {
				t.Errorf("Dockerfile:%d: %s not in exec form: %v", in.Line, in.Cmd, err)
			}
		}
	}
	if dests["/fluent-bit/bin/out_drain.so"] != "builder:/out/out_drain.so" {
		t.Errorf("the plugin is not copied from the builder to /fluent-bit/bin/out_drain.so: %v", dests)
	}
	if len(cmd) != 2 || cmd[0] != "-c" {
		t.Fatalf("CMD %v, want [-c <config>]", cmd)
	}
	want := map[string]string{ // every file the image's configuration refers to
		cmd[1]: "fluent-bit.conf",
	}
	svc := Sections(readClassic(t, "fluent-bit.conf"), "SERVICE")[0]
	for _, p := range svc.All("Plugins_File") {
		want[p] = "build/plugins.conf"
	}
	for _, p := range svc.All("Parsers_File") {
		want[p] = "build/parsers.conf"
	}
	for _, p := range Sections(readClassic(t, "build/plugins.conf"), "PLUGINS")[0].All("Path") {
		want[p] = "builder:/out/out_drain.so"
	}
	for dst, src := range want {
		if dests[dst] != src {
			t.Errorf("the configuration needs %s in the image from %s; the Dockerfile puts %q there", dst, src, dests[dst])
		}
	}
}

// TestDockerfileCopySources: every file the Dockerfile copies from the build context exists.
func TestDockerfileCopySources(t *testing.T) {
	n := 0
	for _, s := range readDockerfile(t) {
		for _, in := range s.insts {
			if (in.Cmd != "COPY" && in.Cmd != "ADD") || func() bool { _, ok := in.Flag("from"); return ok }() {
				continue
			}
			ops := in.Operands()
			for _, src := range ops[:len(ops)-1] {
				n++
				if path.IsAbs(src) || strings.HasPrefix(path.Clean(src), "..") {
					t.Errorf("Dockerfile:%d: %s is outside the build context", in.Line, src)
					continue
				}
				matches, err := filepath.Glob(filepath.Join(root, src))
				if err != nil || len(matches) == 0 {
					t.Errorf("Dockerfile:%d: COPY source %s does not exist in the repository", in.Line, src)
				}
			}
		}
	}
	if n == 0 {
		t.Error("the Dockerfile copies nothing from the build context")
	}
}

func TestDockerignore(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			have[strings.TrimSuffix(strings.TrimPrefix(l, "/"), "/")] = true
		}
	}
	for _, w := range []string{".git", "out", "bin"} {
		if !have[w] {
			t.Errorf(".dockerignore does not exclude %s", w)
		}
	}
}
