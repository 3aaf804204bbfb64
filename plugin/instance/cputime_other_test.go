//go:build !linux

package instance

import "time"

func threadCPU() time.Duration { return 0 }
