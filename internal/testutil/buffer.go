package testutil

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"
)

// Buffer is an io.Writer that the code under test (writing from its own
// goroutines, e.g. the sink's event writer) and the test can share: a
// bytes.Buffer behind a mutex.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// Bytes returns a copy of what was written so far.
func (b *Buffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.b.Bytes())
}

// JSONLines decodes data as one JSON value of type T per line (the event
// log's format), skipping empty lines; a line that does not decode fails
// the test.
func JSONLines[T any](t testing.TB, data []byte) []T {
	t.Helper()
	var out []T
	for line := range bytes.Lines(data) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatalf("JSON line %q: %v", line, err)
		}
		out = append(out, v)
	}
	return out
}
