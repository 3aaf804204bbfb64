// Command drain mines log templates from files or stdin with the same miner
// as the Fluent Bit plugin, for evaluation and for trying settings.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unsafe"

	"github.com/awoooi/fluent-bit-drain/drain"
	"github.com/awoooi/fluent-bit-drain/plugin/config"
)

const usage = `usage: drain mine [flags] [FILE...]

Mines log templates with the Drain algorithm from the lines of FILEs (or
stdin when no FILE or FILE is "-"), in order. A trailing "\r" is removed from
every line; lines may be of any length (the miner cuts them at its
MaxLineBytes, 64 KiB by default).

Output (--output):
  templates  after all input, one line per input line: the final template of
             the line's cluster, or of the cluster a merge folded it into
             (the protocol of tools/loghub_eval.py)
  events     streaming, one line per input line:
             new|generalized|known TAB template-id TAB template-at-that-moment
             (the protocol of tools/novelty_eval.py); a line past the
             new-template budget is flood (the first) or throttled TAB
             (no id) TAB the line
  summary    after all input, a table of templates, most frequent first:
             count TAB template-id TAB template

Flags:
  --preset NAME        drain3 (Drain3 v0.9.11 exactly: depth 4, sim_th 0.4,
                       max_children 100, numbers parametrised, no masking)
                       or default (the plugin's preset); default "default"
  --sim-th F           similarity threshold in [0, 1]
  --depth N            prefix-tree depth (3 to 32)
  --max-children N     children per tree node before the <*> overflow child
  --max-clusters N     live clusters; the least recently used is evicted
  --new-templates-burst N, --new-templates-per-minute N
                       the new-template budget of a partition (docs/config.md,
                       "Bounded work"): past it a line joins no template and
                       --output templates prints the line itself
  --mask NAME=REGEX    masking rule (repeatable, applied in order): every match
                       of REGEX (Go RE2 syntax) becomes <NAME>; NAME "*" gives
                       the wildcard <*>. Adds to the preset's rules.
  --partition NAME     partition key of the templates (template ids depend on
                       it); default "cli"
  --output MODE        templates, events or summary; default templates

The miner flags are the plugin's keys Preset, Sim_Th, Depth, Max_Children,
Max_Clusters, New_Templates_Burst, New_Templates_Per_Minute and Mask (one
rule per --mask), read and checked as the plugin reads them (docs/config.md).

Exit status: 0 on success, 1 when a file cannot be read or output cannot be
written, 2 for bad usage (unknown command or flag, bad flag value).
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// errUsage marks errors that exit with status 2.
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

// run is main without the process: it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := runErr(args, stdin, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(errUsage)):
		fmt.Fprintf(stderr, "drain: %v\nRun 'drain --help' for usage.\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "drain: %v\n", err)
		return 1
	}
}

// options are the parsed flags of drain mine.
type options struct {
	cfg       drain.Config
	output    string
	partition string
	files     []string
}

func runErr(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		io.WriteString(stderr, usage+storeUsage)
		return errUsage{"missing command"}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		io.WriteString(stdout, usage+storeUsage)
		return nil
	case "mine":
	case "patterns", "mute", "unmute", "flags":
		return runStore(args, lookupEnv, stdout, stderr)
	default:
		return errUsage{fmt.Sprintf("unknown command %q (want mine, patterns, mute, unmute or flags)", args[0])}
	}
	opt, err := parse(args[1:], stdout)
	if err != nil {
		return err
	}
	return mine(opt, stdin, stdout)
}

// mineFlags maps the miner flags of drain mine onto the plugin's keys:
// their values are read and checked by the keys' own parsers
// (config.Parse), as a Fluent Bit configuration's are.
var mineFlags = []struct{ flag, key string }{
	{"preset", config.KeyPreset},
	{"sim-th", config.KeySimTh},
	{"depth", config.KeyDepth},
	{"max-children", config.KeyMaxChildren},
	{"max-clusters", config.KeyMaxClusters},
	{"new-templates-burst", config.KeyNewBurst},
	{"new-templates-per-minute", config.KeyNewPerMinute},
	{"mask", config.KeyMask},
}

func parse(args []string, stdout io.Writer) (*options, error) {
	fs := flag.NewFlagSet("mine", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	keys := config.Map{}
	for _, f := range mineFlags {
		if f.key == config.KeyMask {
			continue
		}
		fs.Func(f.flag, "", func(v string) error { keys[f.key] = v; return nil })
	}
	var masks []string
	fs.Func("mask", "", func(v string) error { masks = append(masks, v); return nil })
	output := fs.String("output", "templates", "")
	partition := fs.String("partition", "cli", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			io.WriteString(stdout, usage)
			return nil, err
		}
		return nil, errUsage{err.Error()}
	}
	if len(masks) > 0 {
		keys[config.KeyMask] = joinMasks(masks)
	}
	c, err := config.Parse(keys)
	if err != nil {
		return nil, errUsage{flagErrors(err)}
	}
	if !slices.Contains([]string{"templates", "events", "summary"}, *output) {
		return nil, errUsage{fmt.Sprintf("--output %q: want templates, events or summary", *output)}
	}
	return &options{cfg: c.Drain, output: *output, partition: *partition, files: fs.Args()}, nil
}

// joinMasks writes the --mask rules as one value of the Mask key, which
// separates rules by ';': a ';' of a rule is escaped as "\;" (which the
// regex reads as a literal ';', as it reads an unescaped one).
func joinMasks(rules []string) string {
	var b strings.Builder
	for i, r := range rules {
		if i > 0 {
			b.WriteByte(';')
		}
		for j := 0; j < len(r); j++ {
			switch r[j] {
			case '\\':
				b.WriteByte('\\')
				if j+1 < len(r) {
					j++
					b.WriteByte(r[j])
				}
				continue
			case ';':
				b.WriteByte('\\')
			}
			b.WriteByte(r[j])
		}
	}
	return b.String()
}

// flagErrors words config.Parse's errors as the command's: a bad value of
// a key is reported under its flag.
func flagErrors(err error) string {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	lines := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = e.Error()
		var ke *config.KeyError
		if !errors.As(e, &ke) {
			continue
		}
		for _, f := range mineFlags {
			if f.key == ke.Key {
				lines[i] = "--" + f.flag + ": " + ke.Err.Error()
			}
		}
	}
	return strings.Join(lines, "\n")
}

// clusterState is what the command remembers of a cluster: the miner may
// evict it, its last state still belongs in the output.
type clusterState struct {
	id       uint64
	size     uint64
	tid      string
	template string
	into     uint64 // the cluster a merge folded this one into (Result.Absorbed); 0: live
}

// final returns the cluster that holds cluster id's lines now: itself, or
// the one a merge folded it into, followed to the end.
func final(clusters []clusterState, id uint64) *clusterState {
	c := &clusters[id-1]
	for n := 0; c.into != 0 && n < len(clusters); n++ {
		c = &clusters[c.into-1]
	}
	return c
}

func mine(opt *options, stdin io.Reader, stdout io.Writer) error {
	// Open every file first: an unreadable one fails before any output.
	var inputs []io.Reader
	if len(opt.files) == 0 {
		inputs = append(inputs, stdin)
	}
	for _, name := range opt.files {
		if name == "-" {
			inputs = append(inputs, stdin)
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		inputs = append(inputs, f)
	}
	m, err := drain.New(opt.cfg)
	if err != nil {
		return errUsage{err.Error()}
	}
	out := bufio.NewWriterSize(stdout, 64<<10)
	var clusters []clusterState // by cluster id - 1
	var lineCluster []uint64    // --output templates: the cluster of every line, 0: none
	var unmined []string        // --output templates: the lines of cluster 0, in order
	for _, in := range inputs {
		br := bufio.NewReaderSize(in, 64<<10)
		err := eachLine(br, func(line string) error {
			r := m.Add(opt.partition, line)
			// A line past the new-template budget (throttled, flood) is
			// counted but joins no template: cluster 0. It stands for itself.
			template := r.Template
			if r.ClusterID == 0 {
				template = line
			} else {
				for uint64(len(clusters)) < r.ClusterID {
					clusters = append(clusters, clusterState{})
				}
				clusters[r.ClusterID-1] = clusterState{r.ClusterID, r.Size, r.TemplateID, r.Template, 0}
				for _, a := range r.Absorbed {
					if a-1 < uint64(len(clusters)) {
						clusters[a-1].into = r.ClusterID
					}
				}
			}
			switch opt.output {
			case "templates":
				lineCluster = append(lineCluster, r.ClusterID)
				if r.ClusterID == 0 {
					unmined = append(unmined, line)
				}
			case "events":
				out.WriteString(r.Kind.String())
				out.WriteByte('\t')
				out.WriteString(r.TemplateID)
				out.WriteByte('\t')
				out.WriteString(template)
				if err := out.WriteByte('\n'); err != nil {
					return err
				}
				// Stream: flush whenever the next read may block.
				if br.Buffered() == 0 {
					return out.Flush()
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	switch opt.output {
	case "templates":
		for _, id := range lineCluster {
			if id == 0 {
				out.WriteString(unmined[0])
				unmined = unmined[1:]
			} else {
				out.WriteString(final(clusters, id).template)
			}
			out.WriteByte('\n')
		}
	case "summary":
		live := slices.DeleteFunc(slices.Clone(clusters), func(c clusterState) bool { return c.id == 0 || c.into != 0 })
		slices.SortStableFunc(live, func(a, b clusterState) int {
			if a.size != b.size {
				if a.size > b.size {
					return -1
				}
				return 1
			}
			return 0
		})
		fmt.Fprintf(out, "count\ttemplate_id\ttemplate\n")
		for _, c := range live {
			fmt.Fprintf(out, "%d\t%s\t%s\n", c.size, c.tid, c.template)
		}
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// eachLine calls fn for every line of br without its "\n" or "\r\n". Lines of
// any length are read; the string passed to fn is valid only during the call.
func eachLine(br *bufio.Reader, fn func(string) error) error {
	var long []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long, chunk...)
			continue
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("read input: %w", err)
		}
		if len(chunk) == 0 && len(long) == 0 && err == io.EOF {
			return nil
		}
		line := chunk
		if len(long) > 0 {
			long = append(long, chunk...)
			line = long
		}
		line = trimEOL(line)
		// The miner never retains its input, so the buffer's bytes can be
		// passed without a copy.
		if ferr := fn(unsafe.String(unsafe.SliceData(line), len(line))); ferr != nil {
			return fmt.Errorf("write output: %w", ferr)
		}
		long = long[:0]
		if err == io.EOF {
			return nil
		}
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
