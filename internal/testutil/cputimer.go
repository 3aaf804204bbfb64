package testutil

import (
	"runtime"
	"time"
)

// CPUTimer measures the thread CPU time of a benchmark loop (see
// ThreadCPU): the figure benchmarks report as cpu-ns/op or cpu-ns/record.
type CPUTimer struct{ start time.Duration }

// StartCPU locks the calling goroutine to its OS thread, so that the
// thread's CPU time is the loop's, and starts the timer.
func StartCPU() CPUTimer {
	runtime.LockOSThread()
	return CPUTimer{ThreadCPU()}
}

// Stop returns the thread CPU time since StartCPU and unlocks the thread.
func (c CPUTimer) Stop() time.Duration {
	d := ThreadCPU() - c.start
	runtime.UnlockOSThread()
	return d
}
