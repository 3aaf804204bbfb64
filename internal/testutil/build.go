package testutil

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// HostCommand returns the command that compiles the C test host
// (build/testhost/flb_host.c) into out with the Makefile's flags, so the
// tests load plugins through the same binary make builds. root is the
// repository's root; $CC picks the compiler (default cc).
func HostCommand(root, out string) *exec.Cmd {
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	return exec.Command(cc, "-O2", "-g", "-Wall", "-Wextra", "-std=gnu11", "-o", out,
		filepath.Join(root, "build", "testhost", "flb_host.c"), "-ldl", "-lpthread")
}

// RunAll runs independent build commands at the same time (linking a
// c-shared Go object takes long) and waits for all of them. It returns each
// command's combined output, in order, and an error that names every
// command that failed with its output.
func RunAll(cmds ...*exec.Cmd) ([]string, error) {
	outs := make([]string, len(cmds))
	errs := make([]error, len(cmds))
	var wg sync.WaitGroup
	for i, c := range cmds {
		wg.Go(func() {
			out, err := c.CombinedOutput()
			outs[i] = string(out)
			if err != nil {
				errs[i] = fmt.Errorf("%s: %v\n%s", strings.Join(c.Args, " "), err, out)
			}
		})
	}
	wg.Wait()
	return outs, errors.Join(errs...)
}
