package sink

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// tlsEcho serves TLS on 127.0.0.1 with a fresh self-signed certificate for
// "localhost" and echoes what it reads; it returns the address and a pool
// trusting the certificate.
func tlsEcho(t *testing.T) (string, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	l := testutil.Listen(t, func(c net.Conn) {
		go func() {
			tc := tls.Server(c, cfg)
			io.Copy(tc, tc)
			tc.Close()
		}()
	})
	return l.Addr, roots
}

// TestTiedDialer: connections work (plain and TLS) until the dialer's life
// ends, then every one is closed, and a dial or TLS handshake hanging on a
// server that never answers ends with it.
func TestTiedDialer(t *testing.T) {
	addr, roots := tlsEcho(t)
	for _, tc := range []struct {
		name string
		addr string
		tls  *tls.Config
	}{
		{"tls", addr, &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12}},
		{"plain to black hole", testutil.BlackHole(t).Addr, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			life, end := context.WithCancel(context.Background())
			defer end()
			d := newTiedDialer(life, 5*time.Second, tc.tls)
			c, err := d.DialContext(context.Background(), "tcp", tc.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if tc.tls != nil {
				buf := make([]byte, 4)
				if _, err := c.Write([]byte("ping")); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
					t.Fatalf("echo = %q, %v", buf, err)
				}
			}
			read := make(chan error, 1)
			go func() { _, err := c.Read(make([]byte, 1)); read <- err }()
			// Lets the read block before the life ends (a goroutine blocked
			// in Read cannot be observed); should it start late, it reads a
			// closed connection and the check below still holds.
			time.Sleep(50 * time.Millisecond)
			end()
			select {
			case err := <-read:
				if err == nil {
					t.Error("read succeeded on a connection whose life ended")
				}
			case <-time.After(time.Second):
				t.Error("a blocked read outlived the dialer's life")
			}
			if _, err := d.DialContext(context.Background(), "tcp", tc.addr); err == nil {
				t.Error("dial after the life ended succeeded")
			}
		})
	}
	t.Run("tls handshake to black hole", func(t *testing.T) {
		life, end := context.WithCancel(context.Background())
		d := newTiedDialer(life, 30*time.Second, &tls.Config{MinVersion: tls.VersionTLS12})
		time.AfterFunc(100*time.Millisecond, end)
		start := time.Now()
		if _, err := d.DialContext(context.Background(), "tcp", testutil.BlackHole(t).Addr); err == nil {
			t.Error("handshake with a black hole succeeded")
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("handshake outlived the dialer's life by %v", took-100*time.Millisecond)
		}
	})
}
