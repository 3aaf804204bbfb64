//go:build !linux

package chunk

import "time"

func threadCPU() time.Duration { return 0 }
