package testutil

import (
	"net"
	"sync"
	"testing"
)

// Listener is a TCP listener on a free loopback port that stands in for a
// store in fault tests. When the test ends it closes the listener and every
// connection it accepted.
type Listener struct {
	Addr string // host:port to dial

	mu    sync.Mutex
	conns []net.Conn
}

// Listen starts a Listener whose accept goroutine hands each accepted
// connection to handle; a nil handle holds the connection open and never
// answers.
func Listen(t testing.TB, handle func(net.Conn)) *Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &Listener{Addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.mu.Lock()
			l.conns = append(l.conns, c)
			l.mu.Unlock()
			if handle != nil {
				handle(c)
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, c := range l.conns {
			c.Close()
		}
	})
	return l
}

// BlackHole is a Listener that accepts connections and never answers: a
// PostgreSQL or Redis that hangs after the TCP handshake rather than
// refusing.
func BlackHole(t testing.TB) *Listener {
	t.Helper()
	return Listen(t, nil)
}

// Conns returns the connections accepted so far.
func (l *Listener) Conns() []net.Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]net.Conn(nil), l.conns...)
}
