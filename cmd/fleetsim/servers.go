package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// privatePG is a throw-away PostgreSQL cluster (trust auth on 127.0.0.1).
type privatePG struct {
	dir, bin, addr, dsn string
}

// freePort asks the kernel for a port nobody listens on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// asPostgres runs a PostgreSQL program as user postgres when this process is
// root (initdb refuses to run as root), else as this user.
func asPostgres(args ...string) error {
	cmd := exec.Command(args[0], args[1:]...)
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--"}, args...)...)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v: %s", filepath.Base(args[0]), err, out)
	}
	return nil
}

func startPG(maxConns int) (*privatePG, error) {
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(m) == 0 {
		return nil, errors.New("no /usr/lib/postgresql/*/bin/initdb: install postgresql or pass -pg-dsn")
	}
	version := func(p string) int { v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p)))); return v }
	sort.Slice(m, func(i, j int) bool { return version(m[i]) < version(m[j]) })
	bin := filepath.Dir(m[len(m)-1])
	dir, err := os.MkdirTemp("", "fleetsim-pg-")
	if err != nil {
		return nil, err
	}
	os.Chmod(dir, 0o755)
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("chown %s: %v: %s", dir, err, out)
		}
	}
	p := &privatePG{dir: dir, bin: bin}
	data := filepath.Join(dir, "data")
	if err := asPostgres(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=%d", port, dir, maxConns)
	if err := asPostgres(filepath.Join(bin, "pg_ctl"), "-D", data, "-w", "-l", filepath.Join(dir, "log"), "-o", opts, "start"); err != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "log"))
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%v\n%s", err, b)
	}
	p.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	p.dsn = "postgres://postgres@" + p.addr + "/postgres?sslmode=disable"
	return p, nil
}

// pid is the postmaster's process id (0 if unknown).
func (p *privatePG) pid() int {
	b, err := os.ReadFile(filepath.Join(p.dir, "data", "postmaster.pid"))
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	return n
}

func (p *privatePG) stop() {
	asPostgres(filepath.Join(p.bin, "pg_ctl"), "-D", filepath.Join(p.dir, "data"), "-m", "immediate", "-w", "stop") //nolint:errcheck // removing it anyway
	os.RemoveAll(p.dir)
}

// privateRedis is a throw-away redis-server without persistence.
type privateRedis struct {
	addr string
	dir  string
	cmd  *exec.Cmd
}

func startRedis() (*privateRedis, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "fleetsim-redis-")
	if err != nil {
		return nil, err
	}
	r := &privateRedis{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir}
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--maxclients", "10000")
	if err := r.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("redis-server: %w (install redis-server or pass -redis)", err)
	}
	c := redis.NewClient(&redis.Options{Addr: r.addr})
	defer c.Close()
	for start := time.Now(); ; {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return r, nil
		}
		if time.Since(start) > 10*time.Second {
			r.stop()
			return nil, errors.New("redis-server did not answer within 10 s")
		}
		time.Sleep(100 * time.Millisecond) // polling for the server to answer
	}
}

func (r *privateRedis) stop() {
	r.cmd.Process.Kill() //nolint:errcheck // may have exited
	r.cmd.Wait()         //nolint:errcheck // killed
	os.RemoveAll(r.dir)
}
