package testutil

import (
	"testing"
	"time"
)

// PollInterval is how often Poll and WaitFor check their condition.
const PollInterval = 10 * time.Millisecond

// Poll checks cond every PollInterval until it holds or timeout passes,
// and reports whether it held. Use it where the test decides itself what a
// timeout means; WaitFor fails the test.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(PollInterval)
	}
	return true
}

// WaitFor waits until cond holds and fails the test, naming what it waited
// for, when it does not within timeout. Tests wait for a state this way
// rather than sleeping for a guessed time.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Poll(timeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}
