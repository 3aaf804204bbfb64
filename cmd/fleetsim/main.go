// Command fleetsim runs a simulated DaemonSet of drain plugins — N real
// sinks in one process, fed by a generator — against one PostgreSQL and
// one Redis, and reports what it costs them (internal/fleet). By default it
// starts a private PostgreSQL (max_connections 100, the server default) and
// a private Redis on spare local ports and removes them afterwards; -pg-dsn
// and -redis use existing servers instead (the run creates its own table and
// key prefix there).
//
//	go run ./cmd/fleetsim -nodes 2000 -duration 10m
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/awoooi/fluent-bit-drain/internal/fleet"
	"github.com/awoooi/fluent-bit-drain/internal/testutil"
	"github.com/awoooi/fluent-bit-drain/sink"
)

func main() { os.Exit(run()) }

// run returns the exit status: 0 targets met, 1 missed, 2 could not run.
// It stops the private servers before returning.
func run() int {
	var o fleet.Options
	var pgDSN, redisAddr string
	var maxConns, bouncerPool int
	var bouncer, keep bool
	var pgHits, redisHits, jitter time.Duration
	flag.IntVar(&o.Nodes, "nodes", 2000, "simulated nodes")
	flag.IntVar(&o.Templates, "templates", 300, "active templates per node")
	flag.IntVar(&o.LogNodes, "log-nodes", 0, "print the sink log lines of this many nodes (to stderr)")
	flag.Float64Var(&o.Shared, "shared", 0.6, "fraction of a node's templates shared by every node")
	flag.IntVar(&o.Groups, "groups", 0, "deployments, each node running one's templates (0: nodes/40)")
	flag.Float64Var(&o.Lines, "lines", 50, "lines per second per node")
	flag.Float64Var(&o.Zipf, "zipf", 1.1, "Zipf exponent of the templates' hit rates")
	flag.DurationVar(&o.Duration, "duration", 10*time.Minute, "run time")
	flag.DurationVar(&o.Interval, "interval", time.Minute, "report interval")
	flag.DurationVar(&o.StartSpan, "start-span", time.Minute, "the nodes start spread over this")
	flag.DurationVar(&o.BurstAt, "burst-at", 0, "when every node sees one new template at once (0: duration/3, <0: never)")
	flag.DurationVar(&o.RolloutAt, "rollout-at", 0, "when every node is restarted (0: duration/2, <0: never)")
	flag.DurationVar(&o.RolloutSpan, "rollout-span", time.Minute, "the rollout restarts every node within this")
	flag.StringVar(&pgDSN, "pg-dsn", "", "existing PostgreSQL (postgres:// URL); empty starts a private one")
	flag.StringVar(&redisAddr, "redis", "", "existing Redis host:port; empty starts a private one, \"none\" for no Redis")
	flag.IntVar(&maxConns, "max-connections", 100, "max_connections of the private PostgreSQL")
	flag.BoolVar(&bouncer, "pgbouncer", false, "put a PgBouncer (transaction pooling, /usr/sbin/pgbouncer) in front of the private PostgreSQL; the nodes connect to it")
	flag.BoolVar(&keep, "pg-pooler", true, "with -pgbouncer, set PG_Pooler on every node (keep the connection to PgBouncer between writes)")
	flag.IntVar(&bouncerPool, "pgbouncer-pool", 80, "server connections of the PgBouncer (default_pool_size)")
	flag.DurationVar(&pgHits, "pg-hits-interval", 0, "PG_Hits_Interval of every node (0: the default)")
	flag.DurationVar(&redisHits, "redis-hits-interval", 0, "Redis_Hits_Interval of every node (0: the default)")
	flag.DurationVar(&jitter, "load-jitter", 10*time.Second, "Load_Jitter of every node (the plugin's default)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	o.Logf = logf
	o.SinkLog = os.Stderr

	if pgDSN == "" {
		pg, err := startPG(maxConns)
		if err != nil {
			return fail(err)
		}
		defer pg.stop()
		pgDSN, o.PGPid = pg.dsn, pg.pid()
		logf("[drain] fleetsim: private PostgreSQL on %s (max_connections %d)", pg.addr, maxConns)
		if bouncer {
			port, err := freePort()
			if err != nil {
				return fail(err)
			}
			pb, err := testutil.StartPgBouncer(port, pg.addr, "postgres", bouncerPool, 3*o.Nodes+100)
			if err != nil {
				return fail(err)
			}
			defer pb.Stop()
			o.PoolerDSN, o.PoolerPid = pb.DSN(), pb.Pid()
			logf("[drain] fleetsim: PgBouncer (transaction pooling, %d server connections) on %s", bouncerPool, pb.Addr)
		}
	} else if bouncer {
		return fail(errors.New("-pgbouncer needs the private PostgreSQL (no -pg-dsn)"))
	}
	switch redisAddr {
	case "":
		rs, err := startRedis()
		if err != nil {
			return fail(err)
		}
		defer rs.stop()
		redisAddr = rs.addr
		logf("[drain] fleetsim: private Redis on %s", rs.addr)
	case "none":
		redisAddr = ""
	}
	o.PGDSN, o.RedisAddr = pgDSN, redisAddr
	suffix := fmt.Sprintf("%d_%d", os.Getpid(), time.Now().Unix())
	o.Table = "fleetsim_" + suffix
	o.Prefix = "fleetsim_" + suffix
	o.Config = func(c *sink.Config) {
		c.PGHitsInterval, c.RedisHitsInterval, c.LoadJitter = pgHits, redisHits, jitter
		c.PGPooler = bouncer && keep
	}
	rep, err := fleet.Run(ctx, o)
	if rep != nil {
		summary(rep)
	}
	if err != nil {
		return fail(err)
	}
	if miss := rep.Check(fleet.DefaultTargets); len(miss) > 0 {
		fmt.Printf("targets missed:\n  %s\n", strings.Join(miss, "\n  "))
		return 1
	}
	fmt.Println("targets met")
	return 0
}

func summary(r *fleet.Report) {
	o := r.Options
	fmt.Printf("fleet: %d nodes x %d templates (%.0f%% shared, %d deployments), %.0f lines/s per node, %v\n",
		o.Nodes, o.Templates, 100*o.Shared, o.Groups, o.Lines, o.Duration)
	fmt.Printf("%8s %6s %8s %8s %6s %6s %6s %9s %8s %9s %6s %6s %6s %5s %8s %8s %8s %8s\n",
		"t", "nodes", "ins/s", "upd/s", "conns", "mean", "lockw", "dead", "WAL MB", "redis/s", "pgcpu", "simcpu", "bncpu", "load", "hitlag", "tmplp99", "nodep99", "pending")
	for _, iv := range r.Intervals {
		fmt.Printf("%8v %6d %8.0f %8.0f %6d %6.1f %6d %9d %8.1f %9.0f %6.2f %6.2f %6.2f %5.1f %8v %8v %8v %8d\n",
			iv.At, iv.Started, iv.Inserts, iv.Updates, iv.ConnsMax, iv.ConnsMean, iv.LockWaitsMax, iv.DeadTuples,
			float64(iv.WALBytes)/1e6, iv.RedisCmds, iv.PGCPU, iv.SimCPU, iv.PoolerCPU, iv.Load1, iv.HitLag.Round(time.Second),
			iv.TmplP99.Round(10*time.Millisecond), iv.NodeP99.Round(10*time.Millisecond), iv.Pending)
	}
	fmt.Printf("templates %d, rows created %d (%d twice), lines sent %d, in PostgreSQL %d (%d templates off; %d merged, %d delta rows unmerged), in Redis %d (%d off), lost %d, dropped %d, left in buffer files at the end %d\n",
		r.Templates, r.Created, r.CreatedTwice, r.Sent, r.PGHits, r.PGMismatch, r.PGMerged, r.Unmerged, r.RedisHits, r.RedisMismatch, r.Lost, r.Dropped, r.Buffered)
	fmt.Printf("PostgreSQL connections max %d, lock waits max %d, hit lag max %v\n", r.ConnsMax, r.LockWaitsMax, r.HitLagMax.Round(time.Second))
	fmt.Printf("new template to PostgreSQL p50 %v p99 %v, to Redis p99 %v, confirmed on its node p99 %v\n",
		r.TmplP50.Round(10*time.Millisecond), r.TmplP99.Round(10*time.Millisecond), r.RedisP99.Round(10*time.Millisecond), r.NodeP99.Round(10*time.Millisecond))
	fmt.Printf("burst: to PostgreSQL %v, to Redis %v, confirmed on every node p99 %v\n",
		r.BurstToPG.Round(10*time.Millisecond), r.BurstToRedis.Round(10*time.Millisecond), r.BurstNodesP99.Round(10*time.Millisecond))
	fmt.Printf("rollout took %v, slowest warm start %v, %d failed load attempts, %d templates loaded (%d from the nodes' caches), %d template rows read from PostgreSQL\n",
		r.RolloutTook.Round(time.Second), r.WarmMax.Round(100*time.Millisecond), r.WarmFailed, r.LoadedTemplates, r.KnownCached, r.KnownRead)
	fmt.Printf("templates new to a node known from the Redis set of stored ones %d; PostgreSQL sessions started %d, abandoned by the client %d\n",
		r.KnownStored, r.PGSessions, r.PGAbandoned)
}

func fail(err error) int {
	fmt.Fprintf(os.Stderr, "[drain] fleetsim: %v\n", err)
	return 2
}
