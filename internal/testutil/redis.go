package testutil

import (
	"context"
	"crypto/tls"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a private redis-server on a reserved port, persisting every
// write (appendfsync always) so that a kill loses nothing acknowledged. It
// listens in plain TCP (Start) or with TLS only (StartTLS), and can be
// killed and started again on the same port.
type Redis struct {
	Dir      string // data folder, also where certificates are written
	Password string // requirepass of the default user; "" for none

	port    int
	release func()
	started bool // started once: the port is now the server's

	ca                *CA // StartTLS presents a certificate issued by ca
	certFile, keyFile string

	cmd    *exec.Cmd
	out    *Buffer
	exited chan struct{}
}

// NewRedis prepares a private Redis with password as the default user's
// requirepass; it is not started. It skips the test when redis-server is
// not installed; the server is killed when the test ends.
func NewRedis(t testing.TB, password string) *Redis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not found: private Redis tests need it")
	}
	port, release, err := reservePort()
	if err != nil {
		t.Fatal(err)
	}
	r := &Redis{Dir: t.TempDir(), Password: password, port: port, release: release}
	t.Cleanup(func() { r.Kill(); r.release() })
	return r
}

// Addr is the server's host:port.
func (r *Redis) Addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }

// CA is the authority whose certificate StartTLS presents.
func (r *Redis) CA() *CA { return r.ca }

// SetCA makes the next StartTLS present a certificate issued by ca.
func (r *Redis) SetCA(t testing.TB, ca *CA) {
	t.Helper()
	r.ca = ca
	r.certFile, r.keyFile = ca.ServerCert(t, r.Dir, "server-"+ca.Cert.Subject.CommonName)
}

// Start starts the server in plain TCP and waits until it answers PING.
func (r *Redis) Start(t testing.TB) {
	t.Helper()
	r.start(t, false)
}

// StartTLS starts the server with TLS only (no plain port), presenting a
// certificate from the CA given to SetCA, and waits until a client trusting
// that CA gets PONG. It skips the test when this redis-server was built
// without TLS.
func (r *Redis) StartTLS(t testing.TB) {
	t.Helper()
	if r.ca == nil {
		t.Fatal("testutil.Redis: StartTLS before SetCA")
	}
	r.start(t, true)
}

func (r *Redis) args(useTLS bool) []string {
	var args []string
	if useTLS {
		args = []string{"--port", "0", "--tls-port", strconv.Itoa(r.port),
			"--tls-cert-file", r.certFile, "--tls-key-file", r.keyFile, "--tls-ca-cert-file", r.ca.File,
			"--tls-auth-clients", "no"}
	} else {
		args = []string{"--port", strconv.Itoa(r.port)}
	}
	args = append(args, "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", r.Dir)
	if r.Password != "" {
		args = append(args, "--requirepass", r.Password)
	}
	return args
}

func (r *Redis) start(t testing.TB, useTLS bool) {
	t.Helper()
	if r.cmd != nil {
		t.Fatal("testutil.Redis: Start while running; Kill it first")
	}
	for attempt := 0; ; attempt++ {
		r.out = &Buffer{}
		r.cmd = exec.Command("redis-server", r.args(useTLS)...)
		r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
		if err := r.cmd.Start(); err != nil {
			t.Fatalf("start redis-server: %v", err)
		}
		r.exited = make(chan struct{})
		go func(cmd *exec.Cmd, exited chan struct{}) {
			cmd.Wait()
			close(exited)
		}(r.cmd, r.exited)

		var rdb *redis.Client
		if useTLS {
			rdb = r.TLSClient("", r.Password)
		} else {
			rdb = r.Client()
		}
		dead := false
		up := Poll(10*time.Second, func() bool {
			select {
			case <-r.exited:
				dead = true
				return true
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			return rdb.Ping(ctx).Err() == nil
		})
		rdb.Close()
		if up && !dead {
			r.started = true
			return
		}
		log := string(r.out.Bytes())
		r.Kill()
		low := strings.ToLower(log)
		switch {
		case useTLS && strings.Contains(low, "tls") && (strings.Contains(low, "not supported") || strings.Contains(low, "bad directive")):
			t.Skipf("redis-server lacks TLS support (a build without BUILD_TLS=yes): %s", strings.TrimSpace(log))
		case dead && strings.Contains(log, "Address already in use") && !r.started && attempt < 2:
			// Someone outside the reservation scheme holds the port: take another.
			port, release, err := reservePort()
			if err != nil {
				t.Fatal(err)
			}
			r.release()
			r.port, r.release = port, release
			continue
		case dead:
			t.Fatalf("redis-server on %s exited at start: %s", r.Addr(), log)
		default:
			t.Fatalf("redis-server did not answer on %s within 10 s: %s", r.Addr(), log)
		}
	}
}

// Client is a plain client of the server as the default user.
func (r *Redis) Client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: r.Addr(), Password: r.Password, MaxRetries: -1})
}

// TLSClient is a TLS client of the server that verifies it with the CA of
// SetCA, as user (default when "") with password.
func (r *Redis) TLSClient(user, password string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: r.Addr(), Username: user, Password: password, MaxRetries: -1,
		DialTimeout: 2 * time.Second, TLSConfig: &tls.Config{RootCAs: r.ca.Pool(), ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}})
}

// Kill kills the server (SIGKILL) and waits for it to exit; the port stays
// reserved for the next Start.
func (r *Redis) Kill() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill()
	<-r.exited
	r.cmd = nil
}
