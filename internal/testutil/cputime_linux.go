package testutil

import (
	"syscall"
	"time"
)

// ThreadCPU is the CPU time (user + system) of the calling OS thread, or 0
// if it cannot be read. Benchmarks report it next to wall time because the
// machines they run on are shared: wall time counts the time other
// processes hold the core, thread CPU time does not. The caller must keep
// its goroutine on one thread (runtime.LockOSThread) between two reads.
func ThreadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
