package fleet

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/awoooi/fluent-bit-drain/sink"
)

// withApp sets application_name in a URL DSN, so that the fleet's sessions
// can be told from the monitor's and anybody else's in pg_stat_activity.
func withApp(dsn, app string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("fleet: PG DSN must be a postgres:// URL")
	}
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// monitor samples the stores and the nodes while the fleet runs.
type monitor struct {
	o    *Options
	app  string
	u    *universe
	byID map[string]int
	// sessions started and abandoned in the database when the run began
	sess0, aband0 int64
	pg            *pgx.Conn
	rdb           *redis.Client
	nodes         []*node
	start         time.Time

	started, restarted atomic.Int64

	hist []histPoint // generator's running total, once a second

	// all delays of the run
	tmplPG, tmplRed, nodeD, burstNodes []time.Duration
	// this interval's
	ivPG, ivRed, ivNode []time.Duration
	connsMax, lockMax   int
	hitLagMax           time.Duration
}

type histPoint struct {
	t     time.Time
	total int64
}

func newMonitor(ctx context.Context, o *Options, app string, u *universe) (*monitor, error) {
	dsn, err := withApp(o.PGDSN, app+"-monitor")
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("fleet: monitor connection: %w", err)
	}
	m := &monitor{o: o, app: app, u: u, pg: conn, byID: make(map[string]int, len(u.tmpl))}
	m.sessions(cctx, &m.sess0, &m.aband0)
	for g, t := range u.tmpl {
		m.byID[t.ID] = g
	}
	if o.RedisAddr != "" {
		m.rdb = redis.NewClient(&redis.Options{Addr: o.RedisAddr, PoolSize: 2})
	}
	return m, nil
}

// sessions reads the sessions PostgreSQL started in the monitor's
// database and how many of them the client abandoned (PostgreSQL 14+;
// left as they are on an older server).
func (m *monitor) sessions(ctx context.Context, started, abandoned *int64) {
	m.pg.QueryRow(ctx, `SELECT sessions, sessions_abandoned FROM pg_stat_database WHERE datname = current_database()`).Scan(started, abandoned) //nolint:errcheck // see above
}

func (m *monitor) close() {
	m.pg.Close(context.Background())
	if m.rdb != nil {
		m.rdb.Close()
	}
}

// counters read at interval boundaries.
type snap struct {
	at                        time.Time
	ins, upd, hot, dead, wal  int64
	redisCmds                 int64
	pgCPU, simCPU, poolerCPU  time.Duration
	connectErrs               uint64
	connsSum, connsN, lockSum int
	connsMax, lockMax         int
	hitLag                    time.Duration
}

func (m *monitor) read(ctx context.Context) snap {
	s := snap{at: time.Now()}
	m.pg.QueryRow(ctx, `SELECT n_tup_ins, n_tup_upd, n_tup_hot_upd, n_dead_tup FROM pg_stat_user_tables WHERE relid = to_regclass($1)`,
		m.o.Table).Scan(&s.ins, &s.upd, &s.hot, &s.dead) //nolint:errcheck // no table yet: zeros
	m.pg.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint`).Scan(&s.wal) //nolint:errcheck // zeros
	if m.rdb != nil {
		if info, err := m.rdb.Info(ctx, "stats").Result(); err == nil {
			for _, line := range strings.Split(info, "\r\n") {
				if v, ok := strings.CutPrefix(line, "total_commands_processed:"); ok {
					s.redisCmds, _ = strconv.ParseInt(v, 10, 64)
				}
			}
		}
	}
	if m.o.PGPid > 0 {
		s.pgCPU = treeCPU(m.o.PGPid)
	}
	if m.o.PoolerPid > 0 {
		s.poolerCPU = treeCPU(m.o.PoolerPid)
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.simCPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	for _, n := range m.nodes {
		n.mu.Lock()
		for _, st := range n.old {
			s.connectErrs += st.Postgres.Errors[sink.CauseConnect]
		}
		if n.s != nil {
			s.connectErrs += n.s.Stats().Postgres.Errors[sink.CauseConnect]
		}
		n.mu.Unlock()
	}
	return s
}

// run samples until d has passed since m.start, calling emit at every
// report interval.
func (m *monitor) run(ctx context.Context, d time.Duration, emit func(Interval)) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	prev := m.read(ctx)
	var cur snap
	next := m.start.Add(m.o.Interval)
	end := m.start.Add(d)
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		m.sampleConns(ctx, &cur) // connections live for a batch: sampled often
		if i%2 == 0 {
			m.sampleTemplates(ctx)
			m.sampleNodes(now)
		}
		if i%4 == 0 {
			m.sampleLag(ctx, now, &cur)
		}
		if now.Before(next) && now.Before(end) {
			continue
		}
		s := m.read(ctx)
		emit(m.interval(prev, s, cur))
		prev, cur = s, snap{}
		m.ivPG, m.ivRed, m.ivNode = m.ivPG[:0], m.ivRed[:0], m.ivNode[:0]
		next = next.Add(m.o.Interval)
		if !now.Before(end) {
			return
		}
	}
}

// sampleConns samples the fleet's connections and its sessions waiting on
// a lock.
func (m *monitor) sampleConns(ctx context.Context, cur *snap) {
	var conns, locks int
	err := m.pg.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE wait_event_type = 'Lock')
FROM pg_stat_activity WHERE application_name = $1`, m.app).Scan(&conns, &locks)
	if err != nil {
		return
	}
	cur.connsSum += conns
	cur.connsN++
	cur.connsMax = max(cur.connsMax, conns)
	cur.lockSum += locks
	cur.lockMax = max(cur.lockMax, locks)
	m.connsMax = max(m.connsMax, conns)
	m.lockMax = max(m.lockMax, locks)
}

// sampleLag samples how far PostgreSQL's hit total is behind the
// generator's.
func (m *monitor) sampleLag(ctx context.Context, now time.Time, cur *snap) {
	m.hist = append(m.hist, histPoint{now, m.u.total.Load()})
	var pgSum int64
	if m.pg.QueryRow(ctx, `SELECT coalesce(sum(hits), 0)::bigint FROM `+pgx.Identifier(strings.Split(m.o.Table, ".")).Sanitize()).Scan(&pgSum) != nil {
		return
	}
	// The lag: how long ago the generator had sent what PostgreSQL holds.
	i, _ := slices.BinarySearchFunc(m.hist, pgSum, func(h histPoint, v int64) int {
		if h.total <= v {
			return -1
		}
		return 1
	})
	lag := time.Duration(0)
	if i < len(m.hist) { // m.hist[i] is the first point ahead of PostgreSQL
		if i == 0 {
			lag = now.Sub(m.start)
		} else {
			lag = now.Sub(m.hist[i-1].t)
		}
	}
	cur.hitLag = max(cur.hitLag, lag)
	// Before every node has started, the lag is the start's, not the
	// writers': the intervals begin at a random point.
	m.hitLagMax = max(m.hitLagMax, lag)
}

// sampleTemplates records when offered templates appear in PostgreSQL and
// are announced in Redis.
func (m *monitor) sampleTemplates(ctx context.Context) {
	now := time.Now()
	var ids []string
	for g := range m.u.tmpl {
		if m.u.first[g].Load() != 0 && m.u.inPG[g].Load() == 0 {
			ids = append(ids, m.u.tmpl[g].ID)
		}
	}
	if len(ids) > 0 {
		rows, err := m.pg.Query(ctx, `SELECT template_id FROM `+pgx.Identifier(strings.Split(m.o.Table, ".")).Sanitize()+` WHERE template_id = ANY($1)`, ids)
		if err == nil {
			for rows.Next() {
				var id string
				if rows.Scan(&id) == nil {
					g := m.byID[id]
					m.u.inPG[g].Store(now.UnixNano())
					d := now.Sub(time.Unix(0, m.u.first[g].Load()))
					m.tmplPG = append(m.tmplPG, d)
					m.ivPG = append(m.ivPG, d)
				}
			}
			rows.Close()
		}
	}
	if m.rdb == nil {
		return
	}
	var gs []int
	for g := range m.u.tmpl {
		if m.u.inPG[g].Load() != 0 && m.u.inRed[g].Load() == 0 {
			gs = append(gs, g)
		}
	}
	if len(gs) == 0 {
		return
	}
	p := m.rdb.Pipeline()
	cmds := make([]*redis.BoolCmd, len(gs))
	for i, g := range gs {
		cmds[i] = p.HExists(ctx, m.o.Prefix+":clusters:"+m.u.tmpl[g].ID, "template")
	}
	p.Exec(ctx) //nolint:errcheck // per command below
	for i, g := range gs {
		if ok, err := cmds[i].Result(); err == nil && ok {
			m.u.inRed[g].Store(now.UnixNano())
			d := now.Sub(time.Unix(0, m.u.first[g].Load()))
			m.tmplRed = append(m.tmplRed, d)
			m.ivRed = append(m.ivRed, d)
		}
	}
}

// sampleNodes records when each node's sink confirmed its Template calls
// (PostgreSQL said created or known), in call order.
func (m *monitor) sampleNodes(now time.Time) {
	for _, n := range m.nodes {
		n.mu.Lock()
		if n.s != nil && n.next < len(n.calls) {
			st := n.s.Stats()
			conf := int(st.Created + st.Known)
			for n.next < len(n.calls) && n.next < conf {
				d := now.Sub(n.calls[n.next])
				m.nodeD = append(m.nodeD, d)
				m.ivNode = append(m.ivNode, d)
				if n.next == n.burstCall {
					m.burstNodes = append(m.burstNodes, d)
				}
				n.next++
			}
		}
		n.mu.Unlock()
	}
}

func (m *monitor) interval(prev, s, cur snap) Interval {
	sec := s.at.Sub(prev.at).Seconds()
	iv := Interval{
		At:            s.at.Sub(m.start).Round(time.Second),
		Inserts:       float64(s.ins-prev.ins) / sec,
		Updates:       float64(s.upd-prev.upd) / sec,
		HotUpdates:    float64(s.hot-prev.hot) / sec,
		ConnsMax:      cur.connsMax,
		LockWaitsMax:  cur.lockMax,
		LockWaitsSum:  cur.lockSum,
		DeadTuples:    s.dead,
		WALBytes:      s.wal - prev.wal,
		RedisCmds:     float64(s.redisCmds-prev.redisCmds) / sec,
		PGCPU:         (s.pgCPU - prev.pgCPU).Seconds() / sec,
		SimCPU:        (s.simCPU - prev.simCPU).Seconds() / sec,
		PoolerCPU:     (s.poolerCPU - prev.poolerCPU).Seconds() / sec,
		Load1:         loadAvg(),
		HitLag:        cur.hitLag,
		NewTmpl:       len(m.ivPG),
		ConnectErrors: s.connectErrs - prev.connectErrs,
		Started:       int(m.started.Load()),
		Restarted:     int(m.restarted.Load()),
		NodeConfirmed: len(m.ivNode),
	}
	if cur.connsN > 0 {
		iv.ConnsMean = float64(cur.connsSum) / float64(cur.connsN)
	}
	for _, d := range []*[]time.Duration{&m.ivPG, &m.ivRed, &m.ivNode} {
		slices.Sort(*d)
	}
	iv.TmplP50, iv.TmplP99 = percentile(m.ivPG, 50), percentile(m.ivPG, 99)
	iv.RedisP99 = percentile(m.ivRed, 99)
	iv.NodeP50, iv.NodeP99 = percentile(m.ivNode, 50), percentile(m.ivNode, 99)
	for _, n := range m.nodes {
		n.mu.Lock()
		if n.s != nil {
			iv.Pending += n.s.Stats().Pending
		}
		n.mu.Unlock()
	}
	return iv
}

func (iv Interval) line() string {
	return fmt.Sprintf("t=%v nodes=%d/%d restarted ins/s=%.0f upd/s=%.0f (hot %.0f) conns max=%d mean=%.1f lockwaits max=%d sum=%d dead=%d wal=%.1fMB redis cmd/s=%.0f pg cpu=%.2f sim cpu=%.2f pooler cpu=%.2f load=%.1f hitlag=%v new=%d tmpl p50/p99=%v/%v redis p99=%v node p50/p99=%v/%v connect errs=%d pending=%d",
		iv.At, iv.Started, iv.Restarted, iv.Inserts, iv.Updates, iv.HotUpdates, iv.ConnsMax, iv.ConnsMean, iv.LockWaitsMax, iv.LockWaitsSum,
		iv.DeadTuples, float64(iv.WALBytes)/1e6, iv.RedisCmds, iv.PGCPU, iv.SimCPU, iv.PoolerCPU, iv.Load1, iv.HitLag.Round(time.Second), iv.NewTmpl,
		iv.TmplP50.Round(10*time.Millisecond), iv.TmplP99.Round(10*time.Millisecond), iv.RedisP99.Round(10*time.Millisecond),
		iv.NodeP50.Round(10*time.Millisecond), iv.NodeP99.Round(10*time.Millisecond), iv.ConnectErrors, iv.Pending)
}

// final compares the stores' totals with what the generator sent, once
// every node is closed.
func (m *monitor) final(ctx context.Context, rep *Report, burst int) error {
	// The counts users read: hits plus the deltas no merge has added yet.
	table := pgx.Identifier(strings.Split(m.o.Table, ".")).Sanitize()
	dq, pending, err := sink.PendingHits(m.o.Table)
	if err != nil {
		return err
	}
	m.pg.QueryRow(ctx, `SELECT count(*) FROM `+dq).Scan(&rep.Unmerged) //nolint:errcheck // no deltas table: 0
	m.sessions(ctx, &rep.PGSessions, &rep.PGAbandoned)
	rep.PGSessions -= m.sess0
	rep.PGAbandoned -= m.aband0
	var from string
	if rep.Unmerged > 0 {
		from = `(SELECT t.template_id, t.hits AS merged, ` + sink.PendingSum("t.hits", "p.n") + ` AS hits FROM ` + table +
			` AS t LEFT JOIN ` + pending + ` AS p USING (template_id)) AS c`
	} else {
		from = `(SELECT template_id, hits AS merged, hits FROM ` + table + `) AS c`
	}
	rows, err := m.pg.Query(ctx, `SELECT template_id, merged, hits FROM `+from)
	if err != nil {
		return fmt.Errorf("fleet: reading the table: %w", err)
	}
	inPG := map[string]int64{}
	for rows.Next() {
		var id string
		var merged, h int64
		if err := rows.Scan(&id, &merged, &h); err != nil {
			rows.Close()
			return err
		}
		inPG[id] = h
		rep.PGHits += h
		rep.PGMerged += merged
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var offered []int
	for g := range m.u.tmpl {
		if m.u.first[g].Load() != 0 {
			offered = append(offered, g)
		}
	}
	rep.Templates = len(offered)
	rep.Sent = m.u.total.Load()
	for _, g := range offered {
		if inPG[m.u.tmpl[g].ID] != m.u.sent[g].Load() {
			rep.PGMismatch++
		}
	}
	rep.CreatedTwice = int64(rep.Created) - int64(len(inPG))
	if m.rdb != nil {
		p := m.rdb.Pipeline()
		cmds := make([]*redis.StringCmd, len(offered))
		for i, g := range offered {
			cmds[i] = p.HGet(ctx, m.o.Prefix+":clusters:"+m.u.tmpl[g].ID, "size")
		}
		p.Exec(ctx) //nolint:errcheck // per command below
		for i, g := range offered {
			v, _ := cmds[i].Int64()
			rep.RedisHits += v
			if v != m.u.sent[g].Load() {
				rep.RedisMismatch++
			}
		}
	}
	for _, d := range []*[]time.Duration{&m.tmplPG, &m.tmplRed, &m.nodeD, &m.burstNodes} {
		slices.Sort(*d)
	}
	rep.TmplP50, rep.TmplP99 = percentile(m.tmplPG, 50), percentile(m.tmplPG, 99)
	rep.RedisP99 = percentile(m.tmplRed, 99)
	rep.NodeP99 = percentile(m.nodeD, 99)
	rep.BurstNodesP99 = percentile(m.burstNodes, 99)
	if f := m.u.first[burst].Load(); f != 0 {
		if t := m.u.inPG[burst].Load(); t != 0 {
			rep.BurstToPG = time.Duration(t - f)
		}
		if t := m.u.inRed[burst].Load(); t != 0 {
			rep.BurstToRedis = time.Duration(t - f)
		}
	}
	rep.ConnsMax, rep.LockWaitsMax, rep.HitLagMax = m.connsMax, m.lockMax, m.hitLagMax
	return nil
}

// treeCPU is the CPU time of process pid, of its reaped children and of
// its live children: for a postmaster, the whole server.
// loadAvg is the machine's 1-minute load average (0 when unknown).
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

func treeCPU(pid int) time.Duration {
	const tick = 10 * time.Millisecond // USER_HZ 100
	var total int64
	own := statFields(pid)
	if len(own) > 16 {
		for _, f := range own[13:17] { // utime stime cutime cstime
			v, _ := strconv.ParseInt(f, 10, 64)
			total += v
		}
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		c, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f := statFields(c)
		if len(f) > 16 && f[3] == strconv.Itoa(pid) {
			for _, x := range f[13:15] {
				v, _ := strconv.ParseInt(x, 10, 64)
				total += v
			}
		}
	}
	return time.Duration(total) * tick
}

// statFields splits /proc/<pid>/stat, the command name (which may hold
// blanks) counted as one field.
func statFields(pid int) []string {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return nil
	}
	return append([]string{"pid", "comm"}, strings.Fields(line[i+1:])...)
}
