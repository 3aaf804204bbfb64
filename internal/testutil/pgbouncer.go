package testutil

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ErrNoPgBouncer is StartPgBouncer's error when pgbouncer is not installed
// (Debian package pgbouncer).
var ErrNoPgBouncer = errors.New("pgbouncer not installed (apt-get install pgbouncer)")

// PgBouncer is a PgBouncer in transaction pooling mode in front of one
// PostgreSQL database, started by StartPgBouncer.
type PgBouncer struct {
	Addr string // host:port clients dial
	DB   string // the database name clients use

	dir string
	cmd *exec.Cmd
}

// StartPgBouncer runs Debian's pgbouncer on 127.0.0.1:port in transaction
// pooling mode (auth_type any) in front of the PostgreSQL at backend
// (host:port), database db as user postgres, with at most servers server
// connections and clients client connections, and waits until it listens.
// Stop ends it. cmd/fleetsim shares it with the tests.
func StartPgBouncer(port int, backend, db string, servers, clients int) (*PgBouncer, error) {
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/pgbouncer"); serr != nil {
			return nil, ErrNoPgBouncer
		}
		bin = "/usr/sbin/pgbouncer"
	}
	host, bport, err := net.SplitHostPort(backend)
	if err != nil {
		return nil, err
	}
	// Not a private temporary folder: PgBouncer runs as user postgres.
	dir, err := os.MkdirTemp("", "drain-pgbouncer-")
	if err != nil {
		return nil, err
	}
	os.Chmod(dir, 0o755) //nolint:errcheck // a failure shows as PgBouncer's
	p := &PgBouncer{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), DB: db, dir: dir}
	conf := fmt.Sprintf(`[databases]
%s = host=%s port=%s dbname=%s user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = %d
max_client_conn = %d
logfile = %s
pidfile = %s
`, db, host, bport, db, port, servers, clients, p.logPath(), filepath.Join(dir, "pgbouncer.pid"))
	ini := filepath.Join(dir, "pgbouncer.ini")
	if err := os.WriteFile(ini, []byte(conf), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// A descriptor per client and per server connection: the soft limit
	// raised to the hard one (runuser's PAM session sets the soft one to
	// 1024, and PgBouncer then refuses clients and fails its server logins).
	args := []string{"sh", "-c", `ulimit -n "$(ulimit -Hn)" && exec "$0" "$@"`, bin, ini}
	if os.Geteuid() == 0 { // PgBouncer refuses to run as root
		if out, err := exec.Command("chown", "-R", "postgres", dir).CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("chown %s: %v: %s", dir, err, out)
		}
		args = append([]string{"runuser", "-u", "postgres", "--"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	// Its own process group: runuser's child is killed with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p.cmd = cmd
	for start := time.Now(); ; {
		c, err := net.DialTimeout("tcp", p.Addr, time.Second)
		if err == nil {
			c.Close()
			return p, nil
		}
		if time.Since(start) > 10*time.Second {
			log := p.Log()
			p.Stop()
			return nil, fmt.Errorf("pgbouncer not listening on %s after 10 s: %v\n%s", p.Addr, err, log)
		}
		time.Sleep(50 * time.Millisecond) // polling for the listener
	}
}

func (p *PgBouncer) logPath() string { return filepath.Join(p.dir, "pgbouncer.log") }

// DSN is the connection string through the pooler, as user postgres.
func (p *PgBouncer) DSN() string {
	return "postgres://postgres@" + p.Addr + "/" + p.DB + "?sslmode=disable"
}

// Log returns PgBouncer's log so far.
func (p *PgBouncer) Log() string {
	b, _ := os.ReadFile(p.logPath())
	return string(b)
}

// Stop kills PgBouncer and removes its folder.
func (p *PgBouncer) Stop() {
	if p.cmd != nil {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck // may have exited
		p.cmd.Wait()                                      //nolint:errcheck // killed
	}
	os.RemoveAll(p.dir)
}

// PgBouncerFor starts a PgBouncer (StartPgBouncer) on a reserved port in
// front of the shared PostgreSQL's database test, stopped when the test
// ends (its log shown when the test failed). It skips the test without
// pgbouncer.
func PgBouncerFor(t testing.TB, servers int) *PgBouncer {
	t.Helper()
	p, err := StartPgBouncer(Port(t), "127.0.0.1:5432", "test", servers, 200)
	if errors.Is(err, ErrNoPgBouncer) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pgbouncer log:\n%s", p.Log())
		}
		p.Stop()
	})
	return p
}

// Pid is PgBouncer's process id, from its pidfile (0 if unknown).
func (p *PgBouncer) Pid() int {
	b, err := os.ReadFile(filepath.Join(p.dir, "pgbouncer.pid"))
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}
