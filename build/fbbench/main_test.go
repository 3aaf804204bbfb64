package main

import "testing"

func TestOutputThreadTicks(t *testing.T) {
	for _, tc := range []struct {
		stat  string
		ticks int
		ok    bool
	}{
		{"4242 (flb-out-drain.0) S 1 4240 4240 0 -1 4194368 100 0 0 0 57 8 0 0 20 0 9 0 123", 65, true},
		{"4243 (flb-out-null.0-w) R 1 4240 4240 0 -1 4194368 100 0 0 0 1 2 0 0 20 0 9 0 123", 3, true},
		{"4241 (flb-pipeline) S 1 4240 4240 0 -1 4194368 100 0 0 0 90 30 0 0 20 0 9 0 123", 0, false},
		// A name with spaces and parentheses: the last ')' ends it.
		{"4244 (monkey: wrk/0) S 1 4240 4240 0 -1 4194368 100 0 0 0 1 1 0 0 20 0 9 0 123", 0, false},
		{"4245 (flb-out-x) S 1 2", 0, false},
		{"garbage", 0, false},
	} {
		ticks, ok := outputThreadTicks(tc.stat)
		if ticks != tc.ticks || ok != tc.ok {
			t.Errorf("outputThreadTicks(%q) = %d, %v; want %d, %v", tc.stat, ticks, ok, tc.ticks, tc.ok)
		}
	}
}
