-- fluent-bit-drain: the PostgreSQL tables, for applying by hand.
--
-- The plugin creates these itself at start (under an advisory lock) when
-- they do not exist. For a least-privilege role, apply this file as the
-- owner instead and grant the plugin's role only what it uses:
--
--   CREATE ROLE drain LOGIN PASSWORD '...';
--   GRANT USAGE ON SCHEMA public TO drain;
--   GRANT SELECT, INSERT, UPDATE ON log_templates, log_templates_batches TO drain;
--   GRANT SELECT, INSERT, DELETE ON log_templates_deltas TO drain;
--
-- SELECT serves the warm start and the insert's ownership check, INSERT the
-- new templates, UPDATE the hit counts; on log_templates_batches (the batch
-- ledger) INSERT … ON CONFLICT DO UPDATE needs all three; on
-- log_templates_deltas INSERT writes a batch of hit counts and a merge
-- SELECTs and DELETEs what it adds to log_templates. No CREATE: with the
-- tables existing, the plugin never issues DDL. This file is idempotent: an
-- existing deployment applies it again to add the ledger and the deltas.
-- Without the deltas table (missing, or not granted) the plugin updates the
-- template rows directly, which nodes of a large fleet then queue on.
-- Without the ledger (missing, and the role cannot create it, or not
-- granted) the plugin still writes, logs it once and counts those batches
-- (Stats.Unguarded), but a batch whose COMMIT reply is lost may then have its
-- hit counts added twice. For a PG_Table other than log_templates, replace
-- the names below (index names too; the ledger is <table>_batches, the
-- deltas <table>_deltas).

CREATE TABLE IF NOT EXISTS log_templates (
	template_id   text PRIMARY KEY,            -- 16 hex: sha256(partition || '\0' || template)[:8]
	partition     text NOT NULL,               -- miner partition (e.g. namespace/container)
	source        text NOT NULL DEFAULT '',    -- k8s_pod | host_syslog | journald | app_log
	template      text NOT NULL,
	sample        text NOT NULL DEFAULT '',    -- one real line, secrets redacted, truncated
	hits          bigint NOT NULL DEFAULT 0,   -- lines counted, all nodes
	first_seen_at timestamptz NOT NULL,
	last_seen_at  timestamptz NOT NULL,
	first_node    text NOT NULL DEFAULT '',    -- node whose insert created the row
	parent_id     text,                        -- generalized from this template; NULL when new
	shadow        boolean NOT NULL DEFAULT true, -- shadow mode when recorded
	created_at    timestamptz DEFAULT clock_timestamp() -- server clock at insert: warm starts read the rows since their last load
);
CREATE INDEX IF NOT EXISTS log_templates_partition_idx ON log_templates (partition, template_id);
CREATE INDEX IF NOT EXISTS log_templates_last_seen_idx ON log_templates (last_seen_at);
CREATE INDEX IF NOT EXISTS log_templates_parent_idx ON log_templates (parent_id) WHERE parent_id IS NOT NULL;
-- A table made before created_at: the column without a default first (no
-- rewrite; older rows keep NULL), then the default for every later insert.
-- Without it a warm start reads every template instead of the rows created
-- since its node's last load (the plugin adds it itself when it owns the table).
ALTER TABLE log_templates ADD COLUMN IF NOT EXISTS created_at timestamptz;
ALTER TABLE log_templates ALTER COLUMN created_at SET DEFAULT clock_timestamp();
CREATE INDEX IF NOT EXISTS log_templates_created_idx ON log_templates (created_at);

-- The batch ledger: per node, the token of its last batch of hit counts
-- applied. A batch retried after its COMMIT reply was lost finds its token
-- here and is not counted again (also when replayed from Buffer_Path).
-- One row per node; nothing else reads it.
CREATE TABLE IF NOT EXISTS log_templates_batches (
	node       text PRIMARY KEY,               -- Node_Name
	token      text NOT NULL,                  -- random per batch, kept across retries and the buffer file
	applied_at timestamptz NOT NULL            -- when that batch was committed
);

-- The hit-count deltas: one row per batch of a node's hit counts, insert
-- only, so nodes never wait on each other's rows. A node that finds the
-- oldest row at least PGMergeInterval (10 s) old and no other node merging
-- (an advisory lock) adds the rows to log_templates.hits and deletes them in
-- one transaction. Counts as users read them are hits plus the rows here
-- (the view below, `drain patterns`).
CREATE TABLE IF NOT EXISTS log_templates_deltas (
	node  text NOT NULL,                       -- Node_Name
	token text NOT NULL,                       -- the batch's token, as in the ledger
	ids   text[] NOT NULL,                     -- template ids
	n     bigint[] NOT NULL,                   -- their counts
	last  timestamptz[] NOT NULL,              -- their last_seen_at
	at    timestamptz NOT NULL,                -- when the batch was written
	PRIMARY KEY (node, token)
);

-- Optional (PG_Compat_View log_cluster_records): the seed service's
-- LogClusterRecord column names over the table, for its downstream readers.
-- size is hits plus the deltas not yet merged. Read-only: a view over a join
-- is not automatically updatable. The plugin creates it when the key names
-- it and it is missing; a view made by an earlier version, without the
-- deltas, is replaced by applying this file.
CREATE OR REPLACE VIEW log_cluster_records AS
SELECT t.template_id AS cluster_id, t.template,
	least(t.hits::numeric + coalesce(p.n, 0), 9223372036854775807)::bigint AS size,
	t.source, t.sample AS sample_log, t.first_seen_at, t.last_seen_at
FROM log_templates AS t LEFT JOIN (
	SELECT x.template_id, least(sum(x.n), 9223372036854775807)::bigint AS n
	FROM log_templates_deltas AS d, unnest(d.ids, d.n) AS x(template_id, n) GROUP BY x.template_id
) AS p USING (template_id);
