package sink

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

func TestPGConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "dsn")
	os.WriteFile(file, []byte("  postgres://u:Secr3tPw@db.example:5433/logs?sslmode=require&connect_timeout=60\n"), 0o600)
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
		tls  bool
		// pool size expected
		maxConns int
	}{
		{"none", Config{}, true, false, 0},
		{"dsn", Config{PGDSN: "host=127.0.0.1 user=postgres dbname=test sslmode=disable"}, true, false, 1},
		{"file wins, sslmode honoured", Config{PGDSN: "host=x sslmode=disable", PGDSNFile: file}, true, true, 1},
		{"pool size", Config{PGDSN: "postgres://db/x?pool_max_conns=50&pool_min_conns=5", PGMaxConns: 3}, true, true, 3},
		{"missing file", Config{PGDSNFile: filepath.Join(dir, "nope")}, false, false, 0},
		{"unparsable", Config{PGDSN: "postgres://u:Secr3tPw@[::1"}, false, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.SetDefaults()
			pc, _, err := tc.cfg.pgConfig()
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				if strings.Contains(err.Error(), "Secr3tPw") {
					t.Errorf("error shows the password: %v", err)
				}
				return
			}
			if pc == nil {
				if tc.cfg.PGDSN != "" || tc.cfg.PGDSNFile != "" {
					t.Fatal("no config")
				}
				return
			}
			if (pc.ConnConfig.TLSConfig != nil) != tc.tls {
				t.Errorf("TLS = %v, want %v", pc.ConnConfig.TLSConfig != nil, tc.tls)
			}
			if pc.ConnConfig.ConnectTimeout != tc.cfg.CallTimeout {
				t.Errorf("connect timeout %v, want capped to %v", pc.ConnConfig.ConnectTimeout, tc.cfg.CallTimeout)
			}
			if pc.MaxConns != int32(tc.maxConns) || pc.MinConns != 0 || pc.MinIdleConns != 0 || pc.HealthCheckPeriod <= 0 {
				t.Errorf("pool: max %d min %d min idle %d health check %v; want max %d, min 0, a health check",
					pc.MaxConns, pc.MinConns, pc.MinIdleConns, pc.HealthCheckPeriod, tc.maxConns)
			}
			// No prepared statement outlives a transaction: the connection
			// is closed when idle, and PgBouncer's transaction pooling
			// would hand the next transaction another server connection.
			if m := pc.ConnConfig.DefaultQueryExecMode; m != pgx.QueryExecModeExec {
				t.Errorf("query exec mode %v, want exec (no prepared statements)", m)
			}
		})
	}
}

func TestRedisTLS(t *testing.T) {
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmplCert := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmplCert, tmplCert, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("not a certificate"), 0o600)

	for _, tc := range []struct {
		name       string
		cfg        Config
		ok, tls    bool
		roots      bool
		servername string
	}{
		{"off", Config{RedisAddr: "r:6379"}, true, false, false, ""},
		{"system roots", Config{RedisAddr: "redis.example:6380", RedisTLS: true}, true, true, false, "redis.example"},
		{"ca file", Config{RedisAddr: "redis.example:6380", RedisCAFile: ca}, true, true, true, "redis.example"},
		{"junk ca", Config{RedisAddr: "r:1", RedisCAFile: junk}, false, false, false, ""},
		{"missing ca", Config{RedisAddr: "r:1", RedisCAFile: filepath.Join(dir, "nope")}, false, false, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc2, err := tc.cfg.redisTLS()
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v", err)
			}
			if (tc2 != nil) != tc.tls {
				t.Fatalf("tls = %v", tc2)
			}
			if tc2 != nil && ((tc2.RootCAs != nil) != tc.roots || tc2.ServerName != tc.servername) {
				t.Errorf("roots %v servername %q", tc2.RootCAs != nil, tc2.ServerName)
			}
		})
	}
}

// TestNewRejectsBadTable: a hostile table name never reaches SQL.
func TestNewRejectsBadTable(t *testing.T) {
	_, err := New(Config{PGDSN: testutil.SharedDSN, PGTable: `t"; DROP TABLE x; --`}, nil)
	if err == nil || !strings.Contains(err.Error(), "PG_Table") {
		t.Errorf("err = %v", err)
	}
}

// TestValidate: every invalid field is reported, by its key, with its value.
func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string // substrings of the error; none: valid
	}{
		{"defaults", Config{}, nil},
		{"schema table and view", Config{PGTable: "s.t", PGCompatView: "s.v"}, nil},
		{"cluster", Config{RedisAddr: "a:1, b:2"}, nil},
		{"sentinels", Config{RedisAddr: "a:26379,b:26379", RedisMasterName: "m"}, nil},
		{"table", Config{PGTable: "a.b.c"}, []string{`PG_Table: "a.b.c" is not a table name (want table or schema.table`}},
		{"view", Config{PGCompatView: "1v"}, []string{`PG_Compat_View: "1v" is not a view name`}},
		{"view is table", Config{PGTable: "t", PGCompatView: "t"}, []string{`PG_Compat_View: "t" is the table itself`}},
		{"empty address", Config{RedisAddr: "a:1,,b:2"}, []string{`Redis_Addr: "a:1,,b:2" has an empty address`}},
		{"not host:port", Config{RedisAddr: "a:1,b"}, []string{`Redis_Addr: "b" is not host:port`}},
		{"port", Config{RedisAddr: "a:65536"}, []string{`Redis_Addr: "a:65536"`}},
		{"master alone", Config{RedisMasterName: "m"}, []string{`Redis_Master_Name: "m" needs`}},
		{"prefix", Config{RedisPrefix: "a b"}, []string{`Redis_Prefix: "a b"`}},
		{"all at once", Config{PGTable: "-", RedisPrefix: "a\tb", RedisMasterName: "m"}, []string{"PG_Table", "Redis_Prefix", "Redis_Master_Name"}},
	} {
		tc.cfg.SetDefaults()
		err := tc.cfg.Validate()
		if (err == nil) != (tc.want == nil) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: err %q lacks %q", tc.name, err, w)
			}
		}
	}
}

func TestParseBoolSpellings(t *testing.T) {
	for v, want := range map[string][2]bool{"on": {true, true}, "Yes": {true, true}, " TRUE ": {true, true},
		"off": {false, true}, "No": {false, true}, "false": {false, true}, "1": {false, false}, "0": {false, false}, "": {false, false}} {
		if b, ok := ParseBool(v); b != want[0] || ok != want[1] {
			t.Errorf("ParseBool(%q) = %v, %v; want %v, %v", v, b, ok, want[0], want[1])
		}
	}
}
