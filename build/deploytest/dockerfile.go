package deploytest

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Instruction is one Dockerfile instruction with its continuation lines joined.
type Instruction struct {
	Cmd  string   // upper-case, e.g. "COPY"
	Args []string // whitespace-separated arguments, flags (--from=…) included
	Line int
}

// Flag returns the value of a `--name=value` argument.
func (in Instruction) Flag(name string) (string, bool) {
	for _, a := range in.Args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// Operands returns the arguments that are not `--flags`.
func (in Instruction) Operands() []string {
	var out []string
	for _, a := range in.Args {
		if !strings.HasPrefix(a, "--") {
			out = append(out, a)
		}
	}
	return out
}

// ParseDockerfile splits a Dockerfile into instructions: comments and blank lines dropped,
// backslash continuations joined. JSON (exec) form is kept as raw words; heredocs are not
// supported and reported.
func ParseDockerfile(r io.Reader) ([]Instruction, error) {
	var (
		out     []Instruction
		pending strings.Builder
		start   int
		n       int
	)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if pending.Len() == 0 {
			start = n
		}
		if strings.Contains(line, "<<") {
			return nil, fmt.Errorf("line %d: heredocs are not supported", n)
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			pending.WriteString(cont + " ")
			continue
		}
		pending.WriteString(line)
		f := strings.Fields(pending.String())
		pending.Reset()
		out = append(out, Instruction{Cmd: strings.ToUpper(f[0]), Args: f[1:], Line: start})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if pending.Len() > 0 {
		return nil, fmt.Errorf("line %d: continuation at end of file", n)
	}
	return out, nil
}
