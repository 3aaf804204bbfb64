//go:build !linux

package testutil

import "time"

// ThreadCPU is not measured outside Linux: it is always 0, and so are the
// cpu-ns metrics benchmarks derive from it.
func ThreadCPU() time.Duration { return 0 }
