package main

import (
	"strings"
	"testing"
)

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

func TestRunOrder(t *testing.T) {
	names := func(outs []output, order []int) (s []string) {
		for _, i := range order {
			s = append(s, outs[i].name)
		}
		return s
	}
	ab := outputs("p", "b")
	for _, tc := range []struct {
		outs  []output
		round int
		want  string
	}{
		{outputs("p", ""), 0, "null,drain default,drain drain3"},
		{outputs("p", ""), 1, "null,drain default,drain drain3"},
		{ab, 0, "null,base default,drain default,base drain3,drain drain3"},
		{ab, 1, "null,drain default,base default,drain drain3,base drain3"},
		{ab, 2, "null,base default,drain default,base drain3,drain drain3"},
	} {
		if got := strings.Join(names(tc.outs, runOrder(tc.outs, tc.round)), ","); got != tc.want {
			t.Errorf("round %d: %s, want %s", tc.round, got, tc.want)
		}
	}
}

func TestInterleave(t *testing.T) {
	sets := [][]string{{"a1", "a2", "a3"}, {"b1"}, {}, {"c1", "c2"}}
	if got, want := strings.Join(interleave(sets), ","), "a1,b1,c1,a2,c2,a3"; got != want {
		t.Errorf("interleave = %s, want %s", got, want)
	}
	if got := interleave(nil); len(got) != 0 {
		t.Errorf("interleave(nil) = %q", got)
	}
}
