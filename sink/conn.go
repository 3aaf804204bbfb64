package sink

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"time"
)

// tiedDialer dials connections that are closed when life is done. Both
// drivers bound their calls with contexts, but go-redis only turns a
// context's deadline, not its cancellation, into a socket deadline; closing
// the socket is what guarantees that Close's deadline ends every in-flight
// dial, handshake and call, whatever the server does.
type tiedDialer struct {
	life context.Context
	net  net.Dialer
	tls  *tls.Config // nil: plain TCP (pgx does its own TLS on top)
}

func newTiedDialer(life context.Context, timeout time.Duration, tc *tls.Config) *tiedDialer {
	return &tiedDialer{
		life: life,
		net:  net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second},
		tls:  tc,
	}
}

// DialContext has the signature both drivers take.
func (d *tiedDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	// AfterFunc runs cancel on its own goroutine, which a fast loopback dial
	// can beat: check the life before and after, not only through ctx.
	if err := d.life.Err(); err != nil {
		return nil, fmt.Errorf("dial %s: dialer closed: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(d.life, cancel)
	defer stop()
	c, err := d.net.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if d.tls != nil {
		tc := d.tls.Clone()
		if tc.ServerName == "" {
			if host, _, err := net.SplitHostPort(addr); err == nil {
				tc.ServerName = host
			}
		}
		tlsConn := tls.Client(c, tc)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			c.Close()
			// The tls errors do not say where: name the server, so that
			// "certificate signed by unknown authority" points at it.
			return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
		}
		c = tlsConn
	}
	tc := &tiedConn{Conn: c}
	tc.stop = context.AfterFunc(d.life, func() { tc.Conn.Close() })
	if err := d.life.Err(); err != nil {
		tc.Close()
		return nil, fmt.Errorf("dial %s: dialer closed: %w", addr, err)
	}
	return tc, nil
}

// tiedConn is a connection closed when its dialer's life ends; closing it
// earlier releases the hook.
type tiedConn struct {
	net.Conn
	stop func() bool
	once sync.Once
}

func (c *tiedConn) Close() error {
	c.once.Do(func() { c.stop() })
	return c.Conn.Close()
}
