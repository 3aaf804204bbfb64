package testutil

import (
	"fmt"
	"strings"
	"sync"
)

// Log is a Logger (a Printf method) that keeps every formatted line, so a
// test can check what was logged. It is safe for concurrent use: the code
// under test logs from its own goroutines.
type Log struct {
	mu    sync.Mutex
	lines []string
}

// Printf formats and keeps one line.
func (l *Log) Printf(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
}

// Lines returns a copy of the lines logged so far, oldest first.
func (l *Log) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// String returns the lines logged so far joined by newlines.
func (l *Log) String() string {
	return strings.Join(l.Lines(), "\n")
}
