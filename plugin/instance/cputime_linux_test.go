package instance

import (
	"syscall"
	"time"
)

// threadCPU is the calling thread's CPU time: benchmarks on the shared,
// loaded machine report it next to wall time, which other processes inflate.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
