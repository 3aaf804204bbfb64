-- fluent-bit-drain: the PostgreSQL table, for applying by hand.
--
-- The plugin creates this itself at start (under an advisory lock) when the
-- table does not exist. For a least-privilege role, apply this file as the
-- owner instead and grant the plugin's role only what it uses:
--
--   CREATE ROLE drain LOGIN PASSWORD '...';
--   GRANT USAGE ON SCHEMA public TO drain;
--   GRANT SELECT, INSERT, UPDATE ON log_templates TO drain;
--
-- SELECT serves the warm start and the insert's ownership check, INSERT the
-- new templates, UPDATE the hit counts. No DELETE, no CREATE. With a table
-- existing, the plugin never issues DDL. For a PG_Table other than
-- log_templates, replace the name (and the index names) below.

CREATE TABLE IF NOT EXISTS log_templates (
	template_id   text PRIMARY KEY,            -- 16 hex: sha256(partition || '\0' || template)[:8]
	partition     text NOT NULL,               -- miner partition (e.g. namespace/container)
	source        text NOT NULL DEFAULT '',    -- k8s_pod | host_syslog | journald | app_log
	template      text NOT NULL,
	sample        text NOT NULL DEFAULT '',    -- one masked line, truncated
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
