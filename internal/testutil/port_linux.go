package testutil

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// lockPort takes an exclusive, non-blocking flock on the port's lock file.
// The kernel drops it when the process ends, so a crashed test leaves no
// stale reservation.
func lockPort(p int) (release func(), ok bool) {
	dir := portLockDir()
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, false
	}
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(p)+".lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, false
	}
	return func() { f.Close() }, true
}
