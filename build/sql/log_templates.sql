-- fluent-bit-drain: the PostgreSQL tables, for applying by hand.
--
-- The plugin creates these itself at start (under an advisory lock) when
-- they do not exist. For a least-privilege role, apply this file as the
-- owner instead and grant the plugin's role only what it uses:
--
--   CREATE ROLE drain LOGIN PASSWORD '...';
--   GRANT USAGE ON SCHEMA public TO drain;
--   GRANT SELECT, INSERT, UPDATE ON log_templates, log_templates_batches TO drain;
--
-- SELECT serves the warm start and the insert's ownership check, INSERT the
-- new templates, UPDATE the hit counts; on log_templates_batches (the batch
-- ledger) INSERT … ON CONFLICT DO UPDATE needs all three. No DELETE, no
-- CREATE. With both tables existing, the plugin never issues DDL. This file
-- is idempotent: an existing deployment applies it again to add the ledger.
-- Without the ledger (missing, and the role cannot create it, or not
-- granted) the plugin still writes, logs it once and counts those batches
-- (Stats.Unguarded), but a batch whose COMMIT reply is lost may then have its
-- hit counts added twice. For a PG_Table other than log_templates, replace
-- the names below (index names too; the ledger is <table>_batches).

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
	shadow        boolean NOT NULL DEFAULT true -- shadow mode when recorded
);
CREATE INDEX IF NOT EXISTS log_templates_partition_idx ON log_templates (partition, template_id);
CREATE INDEX IF NOT EXISTS log_templates_last_seen_idx ON log_templates (last_seen_at);
CREATE INDEX IF NOT EXISTS log_templates_parent_idx ON log_templates (parent_id) WHERE parent_id IS NOT NULL;

-- The batch ledger: per node, the token of its last batch of hit counts
-- applied. A batch retried after its COMMIT reply was lost finds its token
-- here and is not counted again (also when replayed from Buffer_Path).
-- One row per node; nothing else reads it.
CREATE TABLE IF NOT EXISTS log_templates_batches (
	node       text PRIMARY KEY,               -- Node_Name
	token      text NOT NULL,                  -- random per batch, kept across retries and the buffer file
	applied_at timestamptz NOT NULL            -- when that batch was committed
);

-- Optional (PG_Compat_View log_cluster_records): the seed service's
-- LogClusterRecord column names over the table, for its downstream readers.
-- Read-only: a view over two relations is not automatically updatable (the
-- planner drops the one-row join, so filters still use the indexes). The
-- plugin creates it when the key names it and it is missing.
CREATE OR REPLACE VIEW log_cluster_records AS
SELECT t.template_id AS cluster_id, t.template, t.hits AS size, t.source, t.sample AS sample_log,
	t.first_seen_at, t.last_seen_at
FROM log_templates AS t CROSS JOIN (VALUES (true)) AS read_only(ok);
