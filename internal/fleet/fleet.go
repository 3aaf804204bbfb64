// Package fleet simulates a DaemonSet of drain plugins writing to one
// PostgreSQL and one Redis: N nodes in one process, each a real sink.Sink
// with its own Node_Name, fed by a generator instead of the miner. It
// measures what the fleet costs the stores (connections, row writes, lock
// waits, dead tuples, WAL, Redis commands), how late new templates and hit
// counts arrive, and whether any count is lost. cmd/fleetsim runs it.
package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/awoooi/fluent-bit-drain/sink"
)

// Options describe the fleet and its run. Zero values take the defaults
// written next to them.
type Options struct {
	Nodes     int     // simulated nodes (default 50)
	Templates int     // active templates per node (default 300)
	Shared    float64 // fraction of them shared by every node (default 0.6)
	// Groups is the number of deployments; each node runs the templates of
	// one (the rest of its Templates). Default Nodes/40, at least 1.
	Groups int
	Lines  float64 // lines per second per node (default 50)
	Zipf   float64 // exponent of the templates' hit rates (default 1.1)

	Duration  time.Duration // run (default 2 m)
	Interval  time.Duration // report interval (default 1 m)
	StartSpan time.Duration // nodes start spread over this (default 60 s; a DaemonSet being created)
	// BurstAt is when every node sees one new template at once (a new
	// version rolled out); default Duration/3, negative for none.
	BurstAt time.Duration
	// RolloutAt is when every node is closed and started again, spread
	// over RolloutSpan (default 60 s), with a warm start (LoadKnown);
	// default Duration/2, negative for none.
	RolloutAt, RolloutSpan time.Duration
	// ExitTimeout bounds each node's Close (default 5 s, the plugin's
	// Exit_Timeout); what is left goes to its buffer file.
	ExitTimeout time.Duration

	PGDSN     string // required; its application_name is set per run
	RedisAddr string // "" for none
	Table     string // PG_Table (schema.table)
	Prefix    string // Redis_Prefix
	BufferDir string // buffer files (default a temporary directory)
	// Config adjusts each node's sink configuration (nil: defaults).
	Config func(*sink.Config)
	// PGPid, when non-zero, is the postmaster's process id: its CPU time
	// (and its reaped backends') is reported.
	PGPid int
	// PoolerDSN, when set, is where the nodes connect instead of PGDSN (a
	// PgBouncer in front of it); the monitor still reads PGDSN. PoolerPid,
	// when non-zero, is the pooler's process id: its CPU is reported.
	PoolerDSN string
	PoolerPid int
	// Logf receives one line per report interval and per phase (nil: none).
	Logf func(format string, args ...any)
	// SinkLog, when set, receives the sink log lines of the first LogNodes
	// nodes, each prefixed with its node's name: what one node saw.
	SinkLog  io.Writer
	LogNodes int
}

func (o *Options) defaults() {
	if o.Nodes <= 0 {
		o.Nodes = 50
	}
	if o.Templates <= 0 {
		o.Templates = 300
	}
	if o.Shared <= 0 || o.Shared > 1 {
		o.Shared = 0.6
	}
	if o.Groups <= 0 {
		o.Groups = max(1, o.Nodes/40)
	}
	if o.Lines <= 0 {
		o.Lines = 50
	}
	if o.Zipf <= 0 {
		o.Zipf = 1.1
	}
	if o.Duration <= 0 {
		o.Duration = 2 * time.Minute
	}
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	if o.StartSpan <= 0 {
		o.StartSpan = time.Minute
	}
	if o.BurstAt == 0 {
		o.BurstAt = o.Duration / 3
	}
	if o.RolloutAt == 0 {
		o.RolloutAt = o.Duration / 2
	}
	if o.RolloutSpan <= 0 {
		o.RolloutSpan = time.Minute
	}
	if o.ExitTimeout <= 0 {
		o.ExitTimeout = 5 * time.Second
	}
	if o.Table == "" {
		o.Table = sink.DefaultPGTable
	}
	if o.Prefix == "" {
		o.Prefix = sink.DefaultRedisPrefix
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}

// Interval is one report line.
type Interval struct {
	At                 time.Duration // end of the interval since the start
	Inserts, Updates   float64       // rows per second (pg_stat_user_tables)
	HotUpdates         float64       // of which HOT
	ConnsMax           int           // PostgreSQL connections of the fleet, highest sample
	ConnsMean          float64       // and mean of the 1 s samples
	LockWaitsMax       int           // sessions waiting on a lock, highest sample
	LockWaitsSum       int           // summed over the 1 s samples
	DeadTuples         int64         // n_dead_tup at the end
	WALBytes           int64         // WAL written during the interval (whole server)
	RedisCmds          float64       // commands per second (whole server)
	PGCPU, SimCPU      float64       // cores used by PostgreSQL (when PGPid is set) and by this process
	PoolerCPU          float64       // cores used by the pooler (when PoolerPid is set)
	Load1              float64       // the machine's 1-minute load average at the end
	HitLag             time.Duration // highest lag of PostgreSQL's hit total behind the generator's
	NewTmpl            int           // templates that reached PostgreSQL in the interval
	TmplP50, TmplP99   time.Duration // first offer → row in PostgreSQL
	RedisP99           time.Duration // first offer → announced in Redis
	NodeP50, NodeP99   time.Duration // a node's Template call → confirmed by its sink
	NodeConfirmed      int
	ConnectErrors      uint64 // failed connection attempts of the fleet (refused slots included)
	Pending            int64  // entries pending in all sinks at the end
	Restarted, Started int
}

// Report is the whole run.
type Report struct {
	Options   Options
	Intervals []Interval

	Templates       int    // distinct templates offered
	Created         uint64 // rows created by the nodes (each template once if nothing is announced twice)
	Sent            int64  // lines the generator counted
	PGHits          int64  // the counts users read at the end: sum(hits) plus unmerged deltas
	PGMerged        int64  // sum(hits) alone: what merges added
	Unmerged        int64  // delta rows no merge had added at the end
	RedisHits       int64  // sum of the cluster hashes' size at the end
	PGMismatch      int    // templates whose hits differ from what was sent
	RedisMismatch   int
	Dropped, Lost   uint64 // entries the sinks refused or gave up
	Buffered        uint64 // entries left in buffer files by the final Close (not written, not lost)
	AlreadyApplied  uint64
	ConnsMax        int
	LockWaitsMax    int
	HitLagMax       time.Duration
	TmplP50         time.Duration
	TmplP99         time.Duration
	RedisP99        time.Duration
	NodeP99         time.Duration
	BurstToPG       time.Duration // the burst template: first offer → row
	BurstToRedis    time.Duration
	BurstNodesP99   time.Duration // every node's confirmation of it
	RolloutTook     time.Duration // first Close to last New
	WarmMax         time.Duration // a restarted node's New → LoadKnown done
	WarmFailed      int           // LoadKnown attempts that failed
	CreatedTwice    int64         // Created beyond the rows in PostgreSQL: a template announced again (below 0: rows whose creating batch went to a buffer file, not announced yet)
	LoadedTemplates int64         // templates the warm starts loaded
	KnownCached     uint64        // of which replayed from the nodes' local caches
	KnownRead       uint64        // template rows the warm starts read from PostgreSQL
	KnownStored     uint64        // templates new to a node that the Redis set of stored templates showed stored (no PostgreSQL write)
	PGSessions      int64         // sessions PostgreSQL started during the run (pg_stat_database.sessions, whole server)
	PGAbandoned     int64         // of which abandoned by the client (sessions_abandoned)
}

// universe is every template of the run.
type universe struct {
	tmpl   []sink.Template
	byText map[string]int
	burst  int // the template of the burst
	sent   []atomic.Int64
	first  []atomic.Int64 // Unix nanos of the first offer, 0 until then
	inPG   []atomic.Int64 // Unix nanos the monitor saw the row
	inRed  []atomic.Int64 // ... the announcement in Redis
	total  atomic.Int64
}

func newUniverse(o *Options) (*universe, []int, [][]int, int) {
	shared := int(math.Round(float64(o.Templates) * o.Shared))
	own := o.Templates - shared
	n := shared + o.Groups*own + 1
	u := &universe{tmpl: make([]sink.Template, 0, n), byText: make(map[string]int, n),
		sent: make([]atomic.Int64, n), first: make([]atomic.Int64, n), inPG: make([]atomic.Int64, n), inRed: make([]atomic.Int64, n)}
	add := func(partition, text string) int {
		sum := sha256.Sum256([]byte(partition + "\x00" + text))
		u.tmpl = append(u.tmpl, sink.Template{ID: hex.EncodeToString(sum[:8]), Partition: partition, Source: "k8s_pod",
			Template: text, Kind: sink.KindNew})
		u.byText[partition+"\x00"+text] = len(u.tmpl) - 1
		return len(u.tmpl) - 1
	}
	var sharedIdx []int
	for i := range shared {
		sharedIdx = append(sharedIdx, add("kube-system/node-agents", "system daemon "+strconv.Itoa(i)+" event <*> took <*> ms"))
	}
	groups := make([][]int, o.Groups)
	for g := range groups {
		for i := range own {
			groups[g] = append(groups[g], add("apps/deploy-"+strconv.Itoa(g), "service "+strconv.Itoa(g)+" handler "+strconv.Itoa(i)+" status <*> user <*>"))
		}
	}
	burst := add("apps/rollout", "new version started with build <*> and flags <*>")
	u.burst = burst
	return u, sharedIdx, groups, burst
}

// node is one simulated DaemonSet pod.
type node struct {
	mu    sync.Mutex
	name  string
	cfg   sink.Config
	log   sink.Logger // nil: the sink's lines are dropped
	s     *sink.Sink
	tmpls []int     // templates of this node, in rank order
	rate  []float64 // lines per second of each
	acc   []float64
	known []bool // the miner has it: no Template call
	local map[int]int
	calls []time.Time // this incarnation's Template calls, in order
	next  int         // calls confirmed so far
	rng   *rand.Rand
	// burstCall is the index in calls of the burst template's call, -1
	// until it is made (once per node, not again after a restart).
	burstCall int
	burstSeen bool

	old []sink.Stats // stats of closed incarnations
}

// Run runs the fleet for o.Duration and reports.
func Run(ctx context.Context, o Options) (*Report, error) {
	o.defaults()
	if o.PGDSN == "" {
		return nil, errors.New("fleet: a PostgreSQL DSN is required")
	}
	if o.BufferDir == "" {
		dir, err := os.MkdirTemp("", "fleetsim-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		o.BufferDir = dir
	}
	app := fmt.Sprintf("fleetsim-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	nodeDSN := o.PGDSN
	if o.PoolerDSN != "" {
		nodeDSN = o.PoolerDSN
	}
	dsn, err := withApp(nodeDSN, app)
	if err != nil {
		return nil, err
	}
	u, shared, groups, burst := newUniverse(&o)
	mon, err := newMonitor(ctx, &o, app, u)
	if err != nil {
		return nil, err
	}
	defer mon.close()

	// Zipf weights over a node's ranks.
	w := make([]float64, o.Templates)
	var h float64
	for r := range w {
		w[r] = 1 / math.Pow(float64(r+1), o.Zipf)
		h += w[r]
	}
	nodes := make([]*node, o.Nodes)
	for i := range nodes {
		rng := rand.New(rand.NewPCG(uint64(i), 14))
		ts := append(slices.Clone(shared), groups[i%o.Groups]...)
		rng.Shuffle(len(ts), func(a, b int) { ts[a], ts[b] = ts[b], ts[a] })
		n := &node{name: fmt.Sprintf("node-%05d", i), tmpls: ts, rng: rng, local: make(map[int]int, len(ts)+1), burstCall: -1}
		for k, g := range ts {
			n.rate = append(n.rate, o.Lines*w[k]/h)
			n.local[g] = k
		}
		n.acc = make([]float64, len(ts))
		n.known = make([]bool, len(ts))
		if o.SinkLog != nil && i < o.LogNodes {
			n.log = log.New(o.SinkLog, n.name+" ", log.Lmicroseconds)
		}
		cfg := sink.Config{PGDSN: dsn, PGTable: o.Table, RedisAddr: o.RedisAddr, RedisPrefix: o.Prefix, NodeName: n.name,
			BufferPath: filepath.Join(o.BufferDir, n.name+".buf"), Flags: sink.Flags{Enabled: true, ShadowMode: true},
			LoadJitter: 10 * time.Second}
		if o.Config != nil {
			o.Config(&cfg)
		}
		n.cfg = cfg
		nodes[i] = n
	}
	rep := &Report{Options: o}
	start := time.Now()
	mon.start = start
	var wg sync.WaitGroup
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var warm warmStats

	// Start the nodes over StartSpan, each with a warm start, and feed them.
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer recoverLog(o.Logf, "node "+n.name)
			if !sleepCtx(runCtx, time.Duration(i)*o.StartSpan/time.Duration(o.Nodes)) {
				return
			}
			if err := n.open(runCtx, u, &warm, o.Logf); err != nil {
				o.Logf("[drain] fleetsim: %s: %v", n.name, err)
				return
			}
			mon.started.Add(1)
			n.feed(runCtx, u, start)
		}()
	}
	// The burst: one new template on every node at once.
	if o.BurstAt > 0 && o.BurstAt < o.Duration {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer recoverLog(o.Logf, "burst")
			if !sleepCtx(runCtx, o.BurstAt) {
				return
			}
			o.Logf("[drain] fleetsim: burst: one new template on %d nodes", len(nodes))
			for _, n := range nodes {
				n.mu.Lock()
				if n.s != nil {
					if _, ok := n.local[burst]; !ok {
						n.local[burst] = len(n.tmpls)
						n.tmpls = append(n.tmpls, burst)
						n.rate = append(n.rate, 1)
						n.acc = append(n.acc, 0.999) // a line at the next tick
						n.known = append(n.known, false)
					}
				}
				n.mu.Unlock()
			}
		}()
	}
	// The rollout: every node closed and started again within RolloutSpan.
	var rollStart, rollEnd atomic.Int64
	if o.RolloutAt > 0 && o.RolloutAt < o.Duration {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer recoverLog(o.Logf, "rollout")
			if !sleepCtx(runCtx, o.RolloutAt) {
				return
			}
			o.Logf("[drain] fleetsim: rollout of %d nodes over %v", len(nodes), o.RolloutSpan)
			rollStart.Store(time.Now().UnixNano())
			order := rand.Perm(len(nodes))
			var rwg sync.WaitGroup
			for k, i := range order {
				if !sleepCtx(runCtx, time.Duration(k)*o.RolloutSpan/time.Duration(len(nodes))-time.Duration(time.Now().UnixNano()-rollStart.Load())) {
					break
				}
				n := nodes[i]
				rwg.Add(1)
				go func() {
					defer rwg.Done()
					defer recoverLog(o.Logf, "restart "+n.name)
					n.restart(runCtx, u, &warm, o.ExitTimeout, o.Logf)
					mon.restarted.Add(1)
				}()
			}
			rwg.Wait()
			rollEnd.Store(time.Now().UnixNano())
		}()
	}
	mon.nodes = nodes
	mon.run(runCtx, o.Duration, func(iv Interval) {
		rep.Intervals = append(rep.Intervals, iv)
		o.Logf("[drain] fleetsim: %s", iv.line())
	})
	stop()
	wg.Wait()

	// Stop every node, with time to write what is pending.
	o.Logf("[drain] fleetsim: closing %d nodes", len(nodes))
	var cwg sync.WaitGroup
	for _, n := range nodes {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			defer recoverLog(o.Logf, "close "+n.name)
			// The node's lock is not held during Close: a warm start
			// still running calls back under it while its connection is
			// held, and Close waits for that connection.
			n.mu.Lock()
			s := n.s
			n.s = nil
			n.mu.Unlock()
			if s == nil {
				return
			}
			cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			s.Close(cctx) //nolint:errcheck // what is left is counted in Lost
			cancel()
			n.mu.Lock()
			n.old = append(n.old, s.Stats())
			n.mu.Unlock()
		}()
	}
	cwg.Wait()
	mon.sampleTemplates(context.Background())

	for _, n := range nodes {
		if len(n.old) > 0 {
			rep.Buffered += n.old[len(n.old)-1].Buffered
		}
		for _, st := range n.old {
			rep.Created += st.Created
			rep.Dropped += st.Dropped
			rep.Lost += st.Lost
			rep.AlreadyApplied += st.AlreadyApplied
			rep.KnownCached += st.KnownCached
			rep.KnownRead += st.KnownRead
			rep.KnownStored += st.KnownStored
		}
	}
	rep.WarmMax = time.Duration(warm.maxNanos.Load())
	rep.WarmFailed = int(warm.failed.Load())
	rep.LoadedTemplates = warm.loaded.Load()
	if rollStart.Load() > 0 && rollEnd.Load() > 0 {
		rep.RolloutTook = time.Duration(rollEnd.Load() - rollStart.Load())
	}
	if err := mon.final(context.Background(), rep, burst); err != nil {
		return rep, err
	}
	return rep, nil
}

// open starts the node's sink and its warm start; the caller holds no lock.
func (n *node) open(ctx context.Context, u *universe, warm *warmStats, logf func(string, ...any)) error {
	s, err := sink.New(n.cfg, n.log)
	if err != nil {
		return err
	}
	began := time.Now()
	n.mu.Lock()
	n.s = s
	n.calls, n.next, n.burstCall = n.calls[:0], 0, -1
	clear(n.known)
	n.mu.Unlock()
	go func() {
		defer recoverLog(logf, "warm start "+n.name)
		wait := time.Second
		for {
			err := s.LoadKnown(ctx, nil, func(partition, template string) {
				g, ok := u.byText[partition+"\x00"+template]
				if !ok {
					return
				}
				warm.loaded.Add(1)
				n.mu.Lock()
				if k, ok := n.local[g]; ok && n.s == s {
					n.known[k] = true
				}
				n.mu.Unlock()
			})
			if err == nil {
				warm.done(time.Since(began))
				return
			}
			warm.failed.Add(1)
			if !sleepCtx(ctx, wait) {
				return
			}
			wait = min(2*wait, time.Minute)
		}
	}()
	return nil
}

// restart closes the node's sink as a pod's SIGTERM does and starts a new
// one with the same configuration (its buffer file replayed).
func (n *node) restart(ctx context.Context, u *universe, warm *warmStats, exit time.Duration, logf func(string, ...any)) {
	// The node's lock is not held during Close (up to exit): the
	// generator and the monitor go on with the other nodes meanwhile.
	n.mu.Lock()
	s := n.s
	n.s = nil
	n.mu.Unlock()
	if s != nil {
		cctx, cancel := context.WithTimeout(context.Background(), exit)
		s.Close(cctx) //nolint:errcheck // what is left goes to the buffer file
		cancel()
		n.mu.Lock()
		n.old = append(n.old, s.Stats())
		n.mu.Unlock()
	}
	if err := n.open(ctx, u, warm, logf); err != nil {
		logf("[drain] fleetsim: restart %s: %v", n.name, err)
	}
}

// feed is the node's generator: every second each template's share of the
// node's lines (Zipf) as one Hit, preceded by a Template call the first
// time this incarnation sees it (as the miner does).
func (n *node) feed(ctx context.Context, u *universe, start time.Time) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		n.mu.Lock()
		if n.s == nil {
			n.mu.Unlock()
			continue
		}
		for k, g := range n.tmpls {
			n.acc[k] += n.rate[k]
			c := int64(n.acc[k])
			if c == 0 {
				continue
			}
			n.acc[k] -= float64(c)
			if !n.known[k] {
				tt := u.tmpl[g]
				tt.SeenAt = now
				tt.Sample = "sample of " + tt.Template
				n.s.Template(tt)
				n.known[k] = true
				if g == u.burst && !n.burstSeen {
					n.burstCall, n.burstSeen = len(n.calls), true
				}
				n.calls = append(n.calls, now)
				u.first[g].CompareAndSwap(0, now.UnixNano())
			}
			n.s.Hit(u.tmpl[g].ID, c)
			u.sent[g].Add(c)
			u.total.Add(c)
		}
		n.mu.Unlock()
	}
}

// warmStats are the warm starts' outcomes.
type warmStats struct {
	maxNanos, loaded, failed atomic.Int64
}

func (w *warmStats) done(d time.Duration) {
	for {
		old := w.maxNanos.Load()
		if int64(d) <= old || w.maxNanos.CompareAndSwap(old, int64(d)) {
			return
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func recoverLog(logf func(string, ...any), what string) {
	if r := recover(); r != nil {
		logf("[drain] fleetsim: %s panicked (recovered): %v", what, r)
	}
}

// percentile of sorted durations (p in 0..100).
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(d)))) - 1
	return d[max(0, min(i, len(d)-1))]
}
