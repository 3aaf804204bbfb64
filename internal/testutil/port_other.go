//go:build !linux

package testutil

// lockPort reserves nothing where flock is not used: Port then relies on
// the range outside the ephemeral ports and on the starters' retry.
func lockPort(int) (release func(), ok bool) { return func() {}, true }
