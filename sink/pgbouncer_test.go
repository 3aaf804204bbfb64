package sink

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// startPgBouncer runs a PgBouncer in transaction pooling mode in front of
// the shared PostgreSQL's database test, with server pool servers
// connections, and returns the DSN through it. Skipped without pgbouncer
// (Debian package pgbouncer).
func startPgBouncer(t *testing.T, servers int) string {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		t.Skip("pgbouncer not installed (apt-get install pgbouncer)")
	}
	// Not t.TempDir: its parent is private to this user, and PgBouncer
	// runs as user postgres.
	dir, err := os.MkdirTemp("", "drain-pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	port := testutil.Port(t)
	ini := filepath.Join(dir, "pgbouncer.ini")
	conf := fmt.Sprintf(`[databases]
test = host=127.0.0.1 port=5432 dbname=test user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = %d
max_client_conn = 200
logfile = %s
pidfile = %s
`, port, servers, filepath.Join(dir, "pgbouncer.log"), filepath.Join(dir, "pgbouncer.pid"))
	if err := os.WriteFile(ini, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, ini)
	if os.Geteuid() == 0 { // PgBouncer refuses to run as root
		if out, err := exec.Command("chown", "-R", "postgres", dir).CombinedOutput(); err != nil {
			t.Fatalf("chown %s: %v: %s", dir, err, out)
		}
		cmd = exec.Command("runuser", "-u", "postgres", "--", bin, ini)
	}
	// Its own process group: runuser's child is killed with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck // may have exited
		cmd.Wait()                                      //nolint:errcheck // killed
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
			t.Logf("pgbouncer log:\n%s", log)
		}
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	testutil.WaitFor(t, 10*time.Second, "pgbouncer listening", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return "postgres://postgres@" + addr + "/test?sslmode=disable"
}

// TestPgBouncerTransactionPooling: sinks write through a PgBouncer in
// transaction mode whose pool has fewer server connections than there are
// sinks, so consecutive transactions of one sink run on different server
// sessions: no statement is prepared and no setting outlives its
// transaction. Schema creation, the batch ledger, new-to-the-cluster
// inserts, hit counts and LoadKnown all work, and every count lands once.
func TestPgBouncerTransactionPooling(t *testing.T) {
	dsn := startPgBouncer(t, 2)
	table := pgSchema(t, testutil.SharedDSN)
	const sinks = 5
	var all []Template
	for i := range 30 {
		all = append(all, tmpl("bouncer", "through the pooler <*> number "+strconv.Itoa(i), KindNew))
	}
	sent := map[string]int64{}
	var created uint64
	for round := range 2 { // the second round's sinks start warm
		ss := make([]*Sink, sinks)
		for i := range ss {
			s, err := New(fast(Config{PGDSN: dsn, PGTable: table, NodeName: "bouncer-" + strconv.Itoa(i)}), nil)
			if err != nil {
				t.Fatal(err)
			}
			ss[i] = s
		}
		for i, s := range ss {
			known := 0
			if err := s.LoadKnown(context.Background(), nil, func(string, string) { known++ }); err != nil {
				t.Fatalf("round %d: LoadKnown through pgbouncer: %v", round, err)
			}
			if round == 1 && known != len(all) {
				t.Errorf("round 1, sink %d: loaded %d templates, want %d", i, known, len(all))
			}
			for k, tt := range all {
				tt.SeenAt = time.Now() // a later sighting: not this node's earlier insert
				s.Template(tt)
				n := int64(1 + (k+i+round)%4)
				s.Hit(tt.ID, n)
				sent[tt.ID] += n
			}
		}
		testutil.WaitFor(t, 30*time.Second, "every sink's backlog written", func() bool {
			for _, s := range ss {
				if !settled(s) {
					return false
				}
			}
			return true
		})
		for i, s := range ss {
			closeSink(t, s)
			st := s.Stats()
			created += st.Created
			for cause, n := range st.Postgres.Errors {
				if n != 0 {
					t.Errorf("round %d, sink %d: %d %s errors through pgbouncer", round, i, n, cause)
				}
			}
			if st.Unguarded != 0 {
				t.Errorf("round %d, sink %d: %d batches without the ledger", round, i, st.Unguarded)
			}
		}
	}
	if created != uint64(len(all)) {
		t.Errorf("%d rows created by the sinks, want %d (each template new to the cluster once)", created, len(all))
	}
	rows := testutil.PGQuery(t, testutil.SharedDSN, `SELECT template_id, hits FROM `+table)
	if len(rows) != len(all) {
		t.Errorf("%d rows, want %d", len(rows), len(all))
	}
	for _, r := range rows {
		if id, hits := r[0].(string), r[1].(int64); hits != sent[id] {
			t.Errorf("template %s: %d hits, want %d", id, hits, sent[id])
		}
	}
}
