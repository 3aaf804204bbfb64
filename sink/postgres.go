package sink

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgWriter writes through a small lazy pool (Config.PGMaxConns, default 1,
// shared by the writer and LoadKnown; a DaemonSet multiplies connections).
// The pool dials on first use, drops broken connections on release; the
// writer closes its idle connection whenever its backlog is written
// (closeIdle), and every connection is closed when the sink's life ends
// (see tiedDialer).
// Every field below the pool is touched by the writer goroutine only.
type pgWriter struct {
	pool     *pgxpool.Pool
	table    string // quoted identifier
	bare     string // table name without schema, for index names
	ledger   string // quoted identifier of the batch ledger, <table>_batches
	deltas   string // quoted identifier of the hit-count deltas, <table>_deltas
	view     string // quoted identifier of the compatibility view, "" for none
	node     string
	schemaOK bool
	keepIdle bool // PGPooler: the connection to the pooler outlives a write
	logf     func(format string, args ...any)

	// The batch ledger makes a retried batch of hit counts idempotent; it is
	// off while its table is missing and cannot be created, or is not
	// writable by the role, and looked at again every recheck.
	ledgerOK side
	ledgerAt time.Time
	recheck  time.Duration
	// Hit counts go to the deltas table and are merged into the templates'
	// rows later (merge); while that table is missing and cannot be
	// created, or is not writable, they update the rows directly.
	deltasOK    side
	wroteDeltas bool // a delta went in: Close merges
	// created_at (createdSQL) lets a warm start read only the rows since
	// its last load; while it is missing and cannot be added, warm starts
	// read every row. Looked at again every recheck, as the side tables.
	createdOK side

	sqlInsert, sqlUpdate, sqlLoad, sqlLoadSince, sqlLedger, sqlLockRows string
	sqlDelta, sqlMergeDue, sqlMergeTake, sqlMergeUpdate                 string
	// The hit-count statements guarded by the ledger (write): they add
	// the counts only when this transaction wrote the ledger row.
	sqlDeltaGated, sqlLockRowsGated, sqlUpdateGated string
	// stored is the Redis set of stored templates; nil without Redis.
	stored            *storedSet
	lockKey, mergeKey int64
	mergeLogAt        time.Time // last merge failure logged
	// serverTimeout (milliseconds) is set as the write transaction's
	// statement, lock and idle-in-transaction timeouts: a client that gave
	// up (CallTimeout) must not leave a session on the server waiting on a
	// row lock and holding a connection slot.
	serverTimeout string
}

// ledgerRecheck is how often a writer without its batch ledger looks for it
// again (an operator may create it or grant it later).
const ledgerRecheck = 5 * time.Minute

// ledgerName is the batch ledger's table name, <table>_batches. PostgreSQL
// would silently cut a name over 63 bytes — possibly onto the table itself —
// so a long name is cut here and made distinct by a hash of the table name.
func ledgerName(bare string) string { return sideName(bare, "_batches") }

// deltaName is the hit-count deltas table's name, <table>_deltas, cut as
// ledgerName is.
func deltaName(bare string) string { return sideName(bare, "_deltas") }

func sideName(bare, suffix string) string {
	if len(bare)+len(suffix) <= 63 {
		return bare + suffix
	}
	h := fnv.New32a()
	h.Write([]byte(bare))
	return fmt.Sprintf("%s_%08x%s", bare[:63-len(suffix)-9], h.Sum32(), suffix)
}

// newPGWriter creates the pool without dialing: MinConns is 0, so the first
// connection is made by the first write or LoadKnown.
func newPGWriter(pc *pgxpool.Config, table, view, node string) (*pgWriter, error) {
	// New has validated both names (Config.Validate).
	ident, err := tableIdent(table)
	if err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	var vq string
	if view != "" {
		vid, err := relIdent("PG_Compat_View", "view", view)
		if err != nil {
			return nil, fmt.Errorf("sink: %w", err)
		}
		vq = vid.Sanitize()
	}
	q := ident.Sanitize()
	lid := append(pgx.Identifier{}, ident...)
	lid[len(lid)-1] = ledgerName(ident[len(ident)-1])
	lq := lid.Sanitize()
	did := append(pgx.Identifier{}, ident...)
	did[len(did)-1] = deltaName(ident[len(ident)-1])
	dq := did.Sanitize()
	h := fnv.New64a()
	h.Write([]byte("fluent-bit-drain:" + table))
	mh := fnv.New64a()
	mh.Write([]byte("fluent-bit-drain-merge:" + table))
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, fmt.Errorf("sink: postgres pool: %w", err)
	}
	w := &pgWriter{
		pool:     pool,
		table:    q,
		bare:     ident[len(ident)-1],
		ledger:   lq,
		deltas:   dq,
		view:     vq,
		node:     node,
		logf:     func(string, ...any) {},
		recheck:  ledgerRecheck,
		lockKey:  int64(h.Sum64()),
		mergeKey: int64(mh.Sum64()),
		// Rows this node created are new to the cluster: the ones inserted
		// now, plus — after a commit whose reply was lost, or a replay of the
		// buffer file — those created earlier by this node with the very same
		// first_seen_at. The second SELECT sees the table as it was before
		// this statement, so a row is never returned twice.
		sqlInsert: `WITH input AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::bool[])
		AS u(template_id, partition, source, template, sample, seen_at, parent_id, shadow)
), ins AS (
	INSERT INTO ` + q + ` AS t (template_id, partition, source, template, sample, hits, first_seen_at, last_seen_at, first_node, parent_id, shadow)
	SELECT template_id, partition, source, template, sample, 0, seen_at, seen_at, $9, NULLIF(parent_id, ''), shadow
	FROM input ORDER BY template_id
	ON CONFLICT (template_id) DO NOTHING
	RETURNING t.template_id
)
SELECT template_id FROM ins
UNION ALL
SELECT t.template_id FROM ` + q + ` AS t JOIN input AS i USING (template_id)
WHERE t.first_node = $9 AND t.first_seen_at = i.seen_at`,
		// Rows are locked in id order before the update, whose plan may
		// visit them in any order: nodes updating the same rows queue
		// instead of deadlocking.
		sqlLockRows: `SELECT 1 FROM ` + q + ` WHERE template_id = ANY($1::text[]) ORDER BY template_id FOR UPDATE`,
		sqlUpdate: `UPDATE ` + q + ` AS t
SET hits = t.hits + u.n, last_seen_at = GREATEST(t.last_seen_at, u.last)
FROM unnest($1::text[], $2::bigint[], $3::timestamptz[]) AS u(template_id, n, last)
WHERE t.template_id = u.template_id`,
		// The ledger holds the token of each node's last batch of hit counts
		// applied. The upsert records this batch's token and returns a row,
		// unless the token is already there: the batch was applied by an
		// attempt whose COMMIT reply was lost. The conflicting row is locked
		// even when the WHERE is false, so an earlier attempt still running
		// on the server is waited for, not raced.
		sqlLedger: `INSERT INTO ` + lq + ` AS l (node, token, applied_at) VALUES ($1, $2, now())
ON CONFLICT (node) DO UPDATE SET token = EXCLUDED.token, applied_at = EXCLUDED.applied_at
WHERE l.token <> EXCLUDED.token
RETURNING true`,
		// A batch of hit counts is one row of its node: no two nodes ever
		// wait on each other's row. The ledger, in the same transaction,
		// decides whether a batch is applied; a token this node used
		// before and whose row is not merged yet gets the counts appended
		// (a merge sums every element).
		sqlDelta: `INSERT INTO ` + dq + ` AS d (node, token, ids, n, last, at) VALUES ($1, $2, $3, $4, $5, now())
ON CONFLICT (node, token) DO UPDATE SET ids = d.ids || EXCLUDED.ids, n = d.n || EXCLUDED.n, last = d.last || EXCLUDED.last`,
		// A merge is due when the advisory lock is free (no other node is
		// merging) and the oldest delta is old enough; the lock is held
		// until the merge commits.
		sqlMergeDue: `SELECT pg_try_advisory_xact_lock($1)
	AND EXISTS (SELECT 1 FROM ` + dq + ` WHERE at <= now() - $2 * interval '1 millisecond')`,
		// The merge deletes the deltas it adds, in the same transaction:
		// a delta is added once or, when the merge fails, not at all and
		// left for the next one. A delta another merger deleted meanwhile
		// is skipped by the DELETE, so even mergers racing past the lock
		// count it once.
		sqlMergeTake: `WITH d AS (
	DELETE FROM ` + dq + ` WHERE (node, token) IN (SELECT node, token FROM ` + dq + ` LIMIT $1)
	RETURNING ids, n, last
)
SELECT x.id, least(sum(x.c), 9223372036854775807)::bigint, max(x.l)
FROM d, unnest(d.ids, d.n, d.last) AS x(id, c, l) GROUP BY x.id ORDER BY x.id`,
		// The merge saturates at bigint's limit instead of failing: the
		// deltas of every node would otherwise wait behind one full
		// counter.
		sqlMergeUpdate: `UPDATE ` + q + ` AS t
SET hits = CASE WHEN t.hits > 9223372036854775807 - u.n THEN 9223372036854775807 ELSE t.hits + u.n END,
	last_seen_at = GREATEST(t.last_seen_at, u.last)
FROM unnest($1::text[], $2::bigint[], $3::timestamptz[]) AS u(template_id, n, last)
WHERE t.template_id = u.template_id`,
		// A template another row widened (its parent_id) is superseded:
		// seeding it would give the miner a cluster the node no longer
		// has, which the next line could widen a new way.
		sqlLoad: `SELECT t.template_id, t.partition, t.template FROM ` + q + ` AS t
WHERE ($1 OR t.partition = ANY($2::text[])) AND t.template_id > $3
AND NOT EXISTS (SELECT 1 FROM ` + q + ` AS c WHERE c.parent_id = t.template_id)
ORDER BY t.template_id LIMIT $4`,
		// The rows created since a warm start's mark (less a margin), of
		// every partition, with whether each was widened since and what
		// it widened: the node's cache of known templates is brought up to
		// date with them (knownCache.endLoad).
		sqlLoadSince: `SELECT t.template_id, t.partition, t.template, coalesce(t.parent_id, ''),
	EXISTS (SELECT 1 FROM ` + q + ` AS c WHERE c.parent_id = t.template_id)
FROM ` + q + ` AS t
WHERE t.created_at > $1 AND t.template_id > $2
ORDER BY t.template_id LIMIT $3`,
	}
	// fresh is true when the ledger row of node $n was written by this
	// transaction with token $t: now() is the transaction's start, which
	// an earlier attempt's applied_at cannot equal.
	fresh := func(n, t string) string {
		return `EXISTS (SELECT 1 FROM ` + lq + ` AS l WHERE l.node = $` + n + `::text AND l.token = $` + t + `::text AND l.applied_at = now())`
	}
	w.sqlDeltaGated = `INSERT INTO ` + dq + ` AS d (node, token, ids, n, last, at)
SELECT $1::text, $2::text, $3::text[], $4::bigint[], $5::timestamptz[], now() WHERE ` + fresh("1", "2") + `
ON CONFLICT (node, token) DO UPDATE SET ids = d.ids || EXCLUDED.ids, n = d.n || EXCLUDED.n, last = d.last || EXCLUDED.last`
	w.sqlLockRowsGated = `SELECT 1 FROM ` + q + ` WHERE template_id = ANY($1::text[]) AND ` + fresh("2", "3") + ` ORDER BY template_id FOR UPDATE`
	w.sqlUpdateGated = w.sqlUpdate + ` AND ` + fresh("4", "5")
	return w, nil
}

// schemaSQL creates the table and its indexes; build/sql/log_templates.sql
// is the same for the default name, for applying by hand.
func schemaSQL(q, bare string) []string {
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + q + ` (
	template_id   text PRIMARY KEY,
	partition     text NOT NULL,
	source        text NOT NULL DEFAULT '',
	template      text NOT NULL,
	sample        text NOT NULL DEFAULT '',
	hits          bigint NOT NULL DEFAULT 0,
	first_seen_at timestamptz NOT NULL,
	last_seen_at  timestamptz NOT NULL,
	first_node    text NOT NULL DEFAULT '',
	parent_id     text,
	shadow        boolean NOT NULL DEFAULT true,
	created_at    timestamptz DEFAULT clock_timestamp()
)`,
		`CREATE INDEX IF NOT EXISTS ` + pgx.Identifier{bare + "_partition_idx"}.Sanitize() + ` ON ` + q + ` (partition, template_id)`,
		`CREATE INDEX IF NOT EXISTS ` + pgx.Identifier{bare + "_last_seen_idx"}.Sanitize() + ` ON ` + q + ` (last_seen_at)`,
		`CREATE INDEX IF NOT EXISTS ` + pgx.Identifier{bare + "_parent_idx"}.Sanitize() + ` ON ` + q + ` (parent_id) WHERE parent_id IS NOT NULL`,
		createdIndexSQL(q, bare),
	}
}

// createdSQL adds created_at to a table made before it: the server's clock
// at each row's insert, which an incremental warm start reads the rows
// since its last load by (loadSince). Added without a default first, so
// that existing rows are not rewritten (they keep NULL: older than any
// mark, since a mark is only taken once the default is in place), then
// the default for every later insert, whichever version of the plugin
// makes it.
func createdSQL(q, bare string) []string {
	return []string{
		`ALTER TABLE ` + q + ` ADD COLUMN IF NOT EXISTS created_at timestamptz`,
		`ALTER TABLE ` + q + ` ALTER COLUMN created_at SET DEFAULT clock_timestamp()`,
		createdIndexSQL(q, bare),
	}
}

func createdIndexSQL(q, bare string) string {
	return `CREATE INDEX IF NOT EXISTS ` + pgx.Identifier{bare + "_created_idx"}.Sanitize() + ` ON ` + q + ` (created_at)`
}

// sqlHasCreated is true when table $1 has created_at with its default: the
// only case in which a warm start may read just the rows since a mark.
const sqlHasCreated = `coalesce((SELECT atthasdef FROM pg_attribute
	WHERE attrelid = to_regclass($1) AND attname = 'created_at' AND NOT attisdropped), false)`

// viewSQL creates the compatibility view: the seed service's
// LogClusterRecord column names over the table. The join with a one-row
// VALUES makes it read-only (a view over two relations is not
// automatically updatable, so a reader cannot write through it by
// mistake); the planner removes the join, so filters still use the
// table's indexes.
//
// With the deltas table (dq not empty), size adds the hit counts not yet
// merged, so readers see every count written.
func viewSQL(vq, q, dq string) string {
	if dq == "" {
		return `CREATE VIEW ` + vq + ` AS
SELECT t.template_id AS cluster_id, t.template, t.hits AS size, t.source, t.sample AS sample_log,
	t.first_seen_at, t.last_seen_at
FROM ` + q + ` AS t CROSS JOIN (VALUES (true)) AS read_only(ok)`
	}
	return `CREATE VIEW ` + vq + ` AS
SELECT t.template_id AS cluster_id, t.template, ` + PendingSum("t.hits", "p.n") + ` AS size, t.source, t.sample AS sample_log,
	t.first_seen_at, t.last_seen_at
FROM ` + q + ` AS t LEFT JOIN ` + pendingSQL(dq) + ` AS p USING (template_id)`
}

// pendingSQL is a subquery of the hit counts in the deltas table dq not yet
// merged, per template: (template_id, n).
func pendingSQL(dq string) string {
	return `(SELECT x.template_id, least(sum(x.n), 9223372036854775807)::bigint AS n
	FROM ` + dq + ` AS d, unnest(d.ids, d.n) AS x(template_id, n) GROUP BY x.template_id)`
}

// PendingSum is the SQL of a count as users read it: the row's hits plus
// the pending count (NULL for none), saturated at bigint's limit as the
// merge saturates.
func PendingSum(hits, pending string) string {
	return `least(` + hits + `::numeric + coalesce(` + pending + `, 0), 9223372036854775807)::bigint`
}

// PendingHits returns, for the template table named table ("table" or
// "schema.table"), the name of its hit-count deltas table, quoted, and a
// subquery of its counts not yet merged, per template (template_id, n):
// a reader adds them to hits for the counts written so far.
func PendingHits(table string) (deltas, subquery string, err error) {
	ident, err := tableIdent(table)
	if err != nil {
		return "", "", err
	}
	ident[len(ident)-1] = deltaName(ident[len(ident)-1])
	dq := ident.Sanitize()
	return dq, pendingSQL(dq), nil
}

// ledgerSQL creates the batch ledger: one row per node, the token of its
// last batch of hit counts applied (build/sql/log_templates.sql has it too).
func ledgerSQL(lq string) string {
	return `CREATE TABLE IF NOT EXISTS ` + lq + ` (
	node       text PRIMARY KEY,
	token      text NOT NULL,
	applied_at timestamptz NOT NULL
)`
}

// deltasSQL creates the hit-count deltas table: one row per batch of a
// node's hit counts, until a merge adds it to the templates' rows and
// deletes it (build/sql/log_templates.sql has it too).
func deltasSQL(dq string) string {
	return `CREATE TABLE IF NOT EXISTS ` + dq + ` (
	node  text NOT NULL,
	token text NOT NULL,
	ids   text[] NOT NULL,
	n     bigint[] NOT NULL,
	last  timestamptz[] NOT NULL,
	at    timestamptz NOT NULL,
	PRIMARY KEY (node, token)
)`
}

// ensureSchema creates the table and the batch ledger unless they exist,
// under a transaction-level advisory lock so that the pods of a DaemonSet
// starting together do not race. Existing tables are used as they are: a
// least-privilege role needs no CREATE. A ledger that is missing and cannot
// be created, or that the role cannot write, is not an error: the writer
// goes on without it (see setLedger) and looks again every w.recheck.
func (w *pgWriter) ensureSchema(ctx context.Context) error {
	if w.schemaOK && (w.ledgerOK.ok && w.deltasOK.ok && w.createdOK.ok || time.Since(w.ledgerAt) < w.recheck) {
		return nil
	}
	// The usual case, everything in place, takes one query and no lock: a
	// rollout's nodes must not queue on the advisory lock holding every
	// connection slot.
	var ready bool
	err := w.pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL AND ($3 = '' OR to_regclass($3) IS NOT NULL)
	AND coalesce((SELECT has_table_privilege(r, 'SELECT') AND has_table_privilege(r, 'INSERT')
		AND has_table_privilege(r, 'UPDATE') FROM to_regclass($2) AS r), false)
	AND coalesce((SELECT has_table_privilege(r, 'SELECT') AND has_table_privilege(r, 'INSERT')
		AND has_table_privilege(r, 'DELETE') FROM to_regclass($4) AS r), false)
	AND `+sqlHasCreated, w.table, w.ledger, w.view, w.deltas).Scan(&ready)
	if err != nil {
		return err
	}
	if ready {
		w.schemaOK = true
		w.setLedger("")
		w.setDeltas("")
		w.setCreated("")
		return nil
	}
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after Commit; on failure the pool drops the connection
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, w.lockKey); err != nil {
		return err
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, w.table).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		for _, stmt := range schemaSQL(w.table, w.bare) {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return err
			}
		}
	}
	whyCreated, err := w.ensureCreated(ctx, tx)
	if err != nil {
		return err
	}
	why, err := ensureSide(ctx, tx, w.ledger, ledgerSQL(w.ledger), "UPDATE")
	if err != nil {
		return err
	}
	whyDeltas, err := ensureSide(ctx, tx, w.deltas, deltasSQL(w.deltas), "DELETE")
	if err != nil {
		return err
	}
	if w.view != "" {
		dq := w.deltas
		if whyDeltas != "" {
			dq = "" // a view over a missing table would fail; without it, merged counts
		}
		if err := w.ensureView(ctx, tx, dq); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	w.schemaOK = true
	w.setLedger(why)
	w.setDeltas(whyDeltas)
	w.setCreated(whyCreated)
	return nil
}

// ensureCreated adds created_at to a table made before it (createdSQL),
// in a savepoint: a role that does not own the table goes on without it,
// and the reason is returned.
func (w *pgWriter) ensureCreated(ctx context.Context, tx pgx.Tx) (string, error) {
	var has bool
	if err := tx.QueryRow(ctx, `SELECT `+sqlHasCreated, w.table).Scan(&has); err != nil || has {
		return "", err
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return "", err
	}
	for _, stmt := range createdSQL(w.table, w.bare) {
		if _, err := sp.Exec(ctx, stmt); err != nil {
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "42501" { // insufficient_privilege (not the owner)
				return "", err
			}
			if err := sp.Rollback(ctx); err != nil {
				return "", err
			}
			return "is missing and this role cannot add it (" + pe.Message + ")", nil
		}
	}
	return "", sp.Commit(ctx)
}

// ensureSide creates the side table rel (the batch ledger, the deltas) with
// create unless it exists, and returns why the writer cannot use it: ""
// when it exists and the role may SELECT, INSERT and priv on it.
func ensureSide(ctx context.Context, tx pgx.Tx, rel, create, priv string) (string, error) {
	var exists, writable bool
	if err := tx.QueryRow(ctx, `SELECT r IS NOT NULL, coalesce(has_table_privilege(r, 'SELECT')
	AND has_table_privilege(r, 'INSERT') AND has_table_privilege(r, $2), false)
FROM to_regclass($1) AS r`, rel, priv).Scan(&exists, &writable); err != nil {
		return "", err
	}
	switch {
	case !exists:
		// A savepoint: a role without CREATE must not abort the table's
		// creation above, nor the transaction.
		sp, err := tx.Begin(ctx)
		if err != nil {
			return "", err
		}
		if _, err := sp.Exec(ctx, create); err != nil {
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "42501" { // insufficient_privilege
				return "", err
			}
			if err := sp.Rollback(ctx); err != nil {
				return "", err
			}
			return "is missing and this role cannot create it (" + pe.Message + ")", nil
		}
		return "", sp.Commit(ctx)
	case !writable:
		return "is not writable by this role (it needs SELECT, INSERT, " + priv + ")", nil
	}
	return "", nil
}

// ensureView creates the compatibility view unless a relation of its name
// exists. A role without CREATE goes on without it, logged: the view is for
// other readers, the plugin does not need it.
func (w *pgWriter) ensureView(ctx context.Context, tx pgx.Tx, dq string) error {
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, w.view).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	if _, err := sp.Exec(ctx, viewSQL(w.view, w.table, dq)); err != nil {
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" { // insufficient_privilege
			return err
		}
		w.logf("postgres: compatibility view %s is missing and this role cannot create it (%s); create it as in build/sql/log_templates.sql", w.view, pe.Message)
		return sp.Rollback(ctx)
	}
	return sp.Commit(ctx)
}

// side is whether a side table (the batch ledger, the deltas) can be used,
// and whether that is known yet.
type side struct{ ok, known bool }

// set records whether the side table name can be used (why is empty) or
// not, and logs a change: once when it is off (saying what the writer does
// without it), once when it is back.
func (t *side) set(logf func(string, ...any), label, name, why, without string) {
	ok := why == ""
	if t.known && ok == t.ok {
		return
	}
	switch {
	case !ok:
		logf("postgres: %s %s %s: %s; create it as in build/sql/log_templates.sql", label, name, why, without)
	case t.known:
		logf("postgres: %s %s in use again", label, name)
	}
	t.ok, t.known = ok, true
}

// setLedger records whether the batch ledger can be used (why is empty).
func (w *pgWriter) setLedger(why string) {
	w.ledgerAt = time.Now()
	w.ledgerOK.set(w.logf, "batch ledger", w.ledger, why,
		"hit counts are written without it, so a batch whose COMMIT reply is lost may be counted twice (counted in unguarded batches)")
}

// setCreated records whether created_at can be used (why is empty).
func (w *pgWriter) setCreated(why string) {
	w.createdOK.set(w.logf, "column", w.table+".created_at", why,
		"warm starts read every template instead of the rows since their last load")
}

// setDeltas records whether the deltas table can be used (why is empty).
func (w *pgWriter) setDeltas(why string) {
	w.deltasOK.set(w.logf, "hit-count deltas", w.deltas, why,
		`hit counts update the templates' rows directly, which nodes then wait on each other for (docs/stores.md, "Scale")`)
}

// write inserts b's templates and adds b's hit counts. Each write
// transaction is one pipelined batch (sendTx): the timeouts, the insert,
// the batch ledger and the counts go to the server at once and run as one
// implicit transaction committed at its Sync, so the server never waits on
// the client inside a transaction, and a PgBouncer in transaction mode
// holds a server connection only for the server's work. The write's
// deadline (CallTimeout) covers the whole transaction.
//
// With the deltas table the counts go in as one insert-only row, merged
// into the templates' rows later (merge), in the same transaction as the
// insert; a hit of a template in the same batch needs its row only at the
// merge. Without it they update the rows directly, in a second transaction
// after the insert's: a new template never waits behind the row locks of
// hit counts, and its row exists before they update it.
//
// The hit counts record b's token in the batch ledger first; if the ledger
// already holds it, an earlier attempt was committed although its reply was
// lost, and the counts are not added again (b.applied): the statements
// that add them run only when the ledger row was written by this very
// transaction (applied_at = now(), the transaction's start). A retry runs
// the insert again: it is idempotent, and it returns the rows this node
// created, which that attempt never announced.
//
// With a Redis set of stored templates (storedSet), templates the set
// holds are known without a PostgreSQL session, unless this node has sent
// them to PostgreSQL before (a lost reply may have created their row: only
// the insert can tell); every template whose row a write confirmed is added
// to the set after the commit.
func (w *pgWriter) write(ctx context.Context, b *batch) (err error) {
	defer func() {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table: dropped under us, create again
			w.schemaOK = false
		}
	}()
	items := b.items
	var inSet map[string]bool
	if w.stored != nil && len(items) > 0 {
		inSet = w.stored.check(ctx, items)
		if len(inSet) > 0 {
			items = make([]*item, 0, len(b.items)-len(inSet))
			for _, it := range b.items {
				if !inSet[it.t.ID] {
					items = append(items, it)
				}
			}
		}
	}
	created := map[string]bool{}
	applied, guarded, unmatched := false, false, int64(0)
	if len(items) > 0 || len(b.hitIDs) > 0 {
		if err := w.ensureSchema(ctx); err != nil {
			return err
		}
		for _, it := range items {
			it.tried = true
		}
		guarded = w.ledgerOK.ok && len(b.hitIDs) > 0
		hits := len(b.hitIDs) > 0
		if hits && !w.deltasOK.ok && len(items) > 0 {
			if _, err := w.sendTx(ctx, b, items, false, false, created); err != nil {
				return err
			}
			items = nil
		}
		r, err := w.sendTx(ctx, b, items, hits, guarded, created)
		if err != nil {
			return err
		}
		applied, unmatched = r.applied, r.unmatched
		if w.stored != nil && len(items) > 0 {
			w.stored.add(ctx, items)
		}
	}
	b.created, b.known, b.fromSet = b.created[:0], 0, len(inSet)
	for _, it := range b.items {
		if created[it.t.ID] {
			b.created = append(b.created, it)
		} else {
			b.known++
		}
	}
	b.unmatched = unmatched
	b.applied = applied
	b.unguarded = len(b.hitIDs) > 0 && !guarded
	return nil
}

// sqlTimeouts sets the write transaction's statement, lock and
// idle-in-transaction timeouts, transaction-local (set_config's true): no
// session setting outlives the transaction (PgBouncer in transaction mode).
const sqlTimeouts = `SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $1, true),
	set_config('idle_in_transaction_session_timeout', $1, true)`

// txResult is what one write transaction did.
type txResult struct {
	applied   bool  // the ledger held the batch's token: its counts were not added again
	unmatched int64 // hit ids without a row (direct updates only)
}

// sendTx runs one write transaction as a single pipelined batch, an
// implicit transaction: the timeouts, the insert of items (marking in
// created the ids whose row this node created) and, with hits, b's hit
// counts (guarded by the ledger when guarded). Nothing is committed unless
// every statement succeeds; the batch's final result (its commit) decides.
func (w *pgWriter) sendTx(ctx context.Context, b *batch, items []*item, hits, guarded bool, created map[string]bool) (res txResult, err error) {
	var q pgx.Batch
	if w.serverTimeout != "" {
		q.Queue(sqlTimeouts, w.serverTimeout)
	}
	if len(items) > 0 {
		n := len(items)
		ids, parts, srcs, tmpls, samples, parents := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		seen, shadow := make([]time.Time, n), make([]bool, n)
		for i, it := range items {
			t := &it.t
			ids[i], parts[i], srcs[i], tmpls[i], samples[i], parents[i] = t.ID, t.Partition, t.Source, t.Template, t.Sample, t.ParentID
			seen[i], shadow[i] = t.SeenAt, it.shadow
		}
		q.Queue(w.sqlInsert, ids, parts, srcs, tmpls, samples, seen, parents, shadow, w.node)
	}
	var last []time.Time
	if hits {
		last = make([]time.Time, len(b.hitLast))
		for i, us := range b.hitLast {
			last[i] = time.UnixMicro(us).UTC()
		}
		if guarded {
			q.Queue(w.sqlLedger, w.node, b.token)
		}
		switch {
		case w.deltasOK.ok && guarded:
			q.Queue(w.sqlDeltaGated, w.node, b.token, b.hitIDs, b.hitN, last)
		case w.deltasOK.ok:
			q.Queue(w.sqlDelta, w.node, b.token, b.hitIDs, b.hitN, last)
		case guarded:
			q.Queue(w.sqlLockRowsGated, b.hitIDs, w.node, b.token)
			q.Queue(w.sqlUpdateGated, b.hitIDs, b.hitN, last, w.node, b.token)
		default:
			q.Queue(w.sqlLockRows, b.hitIDs)
			q.Queue(w.sqlUpdate, b.hitIDs, b.hitN, last)
		}
	}
	due := hits && b.mergeAge > 0 && w.deltasOK.ok
	if due {
		q.Queue(w.sqlMergeDue, w.mergeKey, b.mergeAge.Milliseconds())
	}
	refresh := hits && !b.refreshSince.IsZero() && b.refreshPage > 0 && w.createdOK.ok
	if refresh {
		q.Queue(`SELECT now()`)
		q.Queue(w.sqlLoadSince, b.refreshSince, "", b.refreshPage)
	}
	br := w.pool.SendBatch(ctx, &q)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			res = txResult{}
		}
	}()
	if w.serverTimeout != "" {
		if _, err := br.Exec(); err != nil {
			return res, err
		}
	}
	ok := map[string]bool{}
	if len(items) > 0 {
		rows, err := br.Query()
		if err != nil {
			return res, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return res, err
			}
			ok[id] = true
		}
		if err := rows.Err(); err != nil {
			return res, err
		}
	}
	if hits {
		if guarded {
			var fresh bool
			err := br.QueryRow().Scan(&fresh)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				res.applied = true
			case err != nil:
				var pe *pgconn.PgError
				if errors.As(err, &pe) && pe.Code == "42501" { // a grant revoked: the retry goes without
					w.setLedger("is not writable by this role (" + pe.Message + ")")
				}
				return res, err
			}
		}
		if w.deltasOK.ok {
			if _, err := br.Exec(); err != nil {
				var pe *pgconn.PgError
				if errors.As(err, &pe) && pe.Code == "42501" { // a grant revoked: the retry updates the rows
					w.setDeltas("is not writable by this role (" + pe.Message + ")")
				}
				return res, err
			}
		} else {
			if _, err := br.Exec(); err != nil {
				return res, err
			}
			tag, err := br.Exec()
			if err != nil {
				return res, err
			}
			if !res.applied {
				res.unmatched = int64(len(b.hitIDs)) - tag.RowsAffected()
			}
		}
	}
	if due {
		if err := br.QueryRow().Scan(&b.mergeDue); err != nil {
			return res, err
		}
	}
	if refresh {
		kr := &knownRows{current: map[string]knownEntry{}}
		if err := br.QueryRow().Scan(&kr.mark); err != nil {
			return res, err
		}
		rows, err := br.Query()
		if err != nil {
			return res, err
		}
		if _, _, err := scanKnown(rows, true, func(id, part, tmpl, parent string, superseded bool) {
			kr.add(id, part, tmpl, parent, superseded)
		}); err != nil {
			return res, err
		}
		kr.more = kr.rows >= b.refreshPage
		b.refresh = kr
	}
	if err := br.Close(); err != nil { // the commit
		return res, err
	}
	for id := range ok {
		created[id] = true
	}
	return res, nil
}

// begin starts a write transaction with the server-side timeouts set (the
// merge, whose statements depend on each other's results).
func (w *pgWriter) begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if w.serverTimeout != "" {
		if _, err := tx.Exec(ctx, sqlTimeouts, w.serverTimeout); err != nil {
			tx.Rollback(ctx) //nolint:errcheck // on failure the pool drops the connection
			return nil, err
		}
	}
	return tx, nil
}

// update adds counts to the templates' rows, locked in id order first (the
// UPDATE's plan may visit them in any order: writers updating the same rows
// queue instead of deadlocking), and returns the number of ids without a row.
func (w *pgWriter) update(ctx context.Context, tx pgx.Tx, sql string, ids []string, n []int64, last []time.Time) (int64, error) {
	if _, err := tx.Exec(ctx, w.sqlLockRows, ids); err != nil {
		return 0, err
	}
	tag, err := tx.Exec(ctx, sql, ids, n, last)
	if err != nil {
		return 0, err
	}
	return int64(len(ids)) - tag.RowsAffected(), nil
}

// mergeBatch bounds the deltas one merge takes: a backlog is merged over
// several merges, each within CallTimeout.
const mergeBatch = 1000

// merge adds the pending hit-count deltas to the templates' rows and
// deletes them, in one transaction, when no other node is merging and the
// oldest delta is at least age old. It returns the number of templates
// updated (0 when no merge was due) and of ids without a row, whose counts
// are dropped as a direct update drops them.
func (w *pgWriter) merge(ctx context.Context, age time.Duration) (merged int, unmatched int64, err error) {
	// Whether a merge may be due, first in one statement outside a
	// transaction (the lock it tries is released at its end): most nodes
	// find it is not after one round trip, and the merge's transaction
	// takes the lock again.
	var due bool
	if err := w.pool.QueryRow(ctx, w.sqlMergeDue, w.mergeKey, age.Milliseconds()).Scan(&due); err != nil || !due {
		return 0, 0, err
	}
	tx, err := w.begin(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after Commit; on failure the pool drops the connection
	if err := tx.QueryRow(ctx, w.sqlMergeDue, w.mergeKey, age.Milliseconds()).Scan(&due); err != nil {
		return 0, 0, err
	}
	if !due {
		return 0, 0, tx.Commit(ctx)
	}
	rows, err := tx.Query(ctx, w.sqlMergeTake, mergeBatch)
	if err != nil {
		return 0, 0, err
	}
	var ids []string
	var ns []int64
	var last []time.Time
	for rows.Next() {
		var id string
		var n int64
		var l time.Time
		if err := rows.Scan(&id, &n, &l); err != nil {
			rows.Close()
			return 0, 0, err
		}
		ids, ns, last = append(ids, id), append(ns, n), append(last, l)
	}
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	if len(ids) > 0 {
		if unmatched, err = w.update(ctx, tx, w.sqlMergeUpdate, ids, ns, last); err != nil {
			return 0, 0, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, 0, err
	}
	return len(ids), unmatched, nil
}

// closeIdle closes the pool's idle connections: a node holds a PostgreSQL
// connection only while it writes or loads, so that thousands of nodes
// share a server's max_connections (docs/stores.md, "Scale").
//
// With PGPooler the connection (to the pooler) is kept instead.
func (w *pgWriter) closeIdle() {
	if w.keepIdle || w.pool.Stat().IdleConns() == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, c := range w.pool.AcquireAllIdle(ctx) {
		c.Hijack().Close(ctx) //nolint:errcheck // closing an idle connection; the server ends the session either way
	}
}

// close closes the pool; the sink's connections are already closed when
// Close's deadline has passed, so this does not wait on a server.
func (w *pgWriter) close() { w.pool.Close() }

// classify maps a PostgreSQL error to a cause, and says whether retrying
// can help: data the server refuses (classes 22, 23, 54) never will.
func (w *pgWriter) classify(err error) (string, bool) {
	return classifyPG(err)
}

func classifyPG(err error) (string, bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "28000" || pe.Code == "28P01" || pe.Code == "42501":
			return CauseAuth, true
		case pe.Code == "57014": // query_canceled, by our timeout
			return CauseTimeout, true
		case pe.Code == "53300" || pe.Code == "57P03":
			// too_many_connections (every slot taken, or the role's
			// CONNECTION LIMIT), cannot_connect_now: retried with backoff
			// and jitter, the counts kept meanwhile.
			return CauseConnect, true
		case len(pe.Code) == 5 && (pe.Code[:2] == "22" || pe.Code[:2] == "23" || pe.Code[:2] == "54"):
			return CauseRejected, false
		}
		return CauseQuery, true
	}
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return CauseTimeout, true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return CauseTimeout, true
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return CauseConnect, true
	}
	return CauseConnect, true
}

// pgLoad is what one load from PostgreSQL did.
type pgLoad struct {
	// mark is the server's clock before the load read anything; zero when
	// the table lacks created_at (no later load can start from it).
	mark        time.Time
	incremental bool // only the rows created since the given time were read
	rows        int
}

// loadKnown reads templates on a pooled connection, paged by template_id.
// With since set and created_at in place, it reads the rows of every
// partition created after since, telling fn whether another row widened
// each since (superseded) and which row it widened (parent); otherwise
// every current template of partitions (all when empty), superseded false.
func (w *pgWriter) loadKnown(ctx context.Context, partitions []string, page int, since time.Time,
	fn func(id, partition, template, parent string, superseded bool)) (pgLoad, error) {
	var res pgLoad
	conn, err := w.pool.Acquire(ctx)
	if err != nil {
		return res, err
	}
	defer w.closeIdle() // unless the writer took it meanwhile
	defer conn.Release()
	var now time.Time
	var exists, hasCreated bool
	if err := conn.QueryRow(ctx, `SELECT now(), to_regclass($1) IS NOT NULL, `+sqlHasCreated, w.table).Scan(&now, &exists, &hasCreated); err != nil {
		return res, err
	}
	if !exists {
		return res, nil // no table yet: nothing is known
	}
	if hasCreated {
		res.mark = now
	}
	res.incremental = hasCreated && !since.IsZero()
	all := len(partitions) == 0
	if partitions == nil {
		partitions = []string{}
	}
	after := ""
	for {
		var rows pgx.Rows
		if res.incremental {
			rows, err = conn.Query(ctx, w.sqlLoadSince, since, after, page)
		} else {
			rows, err = conn.Query(ctx, w.sqlLoad, all, partitions, after, page)
		}
		if err != nil {
			return res, noTable(err)
		}
		n, last, err := scanKnown(rows, res.incremental, fn)
		if err != nil {
			return res, noTable(err)
		}
		if n > 0 {
			after = last
		}
		res.rows += n
		if n < page {
			return res, nil
		}
	}
}

// scanKnown calls fn for each row of a known-templates read: (id,
// partition, template), and with since (rows created since a mark) also
// (parent, superseded). It returns the rows read and the last id.
func scanKnown(rows pgx.Rows, since bool, fn func(id, partition, template, parent string, superseded bool)) (n int, last string, err error) {
	defer rows.Close()
	for rows.Next() {
		var id, part, tmpl, parent string
		var superseded bool
		if since {
			err = rows.Scan(&id, &part, &tmpl, &parent, &superseded)
		} else {
			err = rows.Scan(&id, &part, &tmpl)
		}
		if err != nil {
			return n, last, err
		}
		fn(id, part, tmpl, parent, superseded)
		last = id
		n++
	}
	return n, last, rows.Err()
}

// noTable is err, or nil for a table dropped under a load: nothing is known.
func noTable(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" {
		return nil
	}
	return err
}
