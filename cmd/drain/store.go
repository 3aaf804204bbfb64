package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/awoooi/fluent-bit-drain/plugin/config"
	"github.com/awoooi/fluent-bit-drain/sink"
)

const storeUsage = `
usage: drain patterns recent [--since 1h] [--partition P] [--kind new|generalized] [--limit 50]
       drain patterns show ID
       drain patterns top [--since 24h] [--limit 20]
       drain mute ID|GLOB
       drain unmute ID|GLOB
       drain mute --list
       drain flags [shadow_mode on|off|default] [enabled on|off|default]

Store commands read what the plugin wrote to PostgreSQL and steer it through
Redis, with the plugin's own configuration keys.

  patterns recent  templates first seen in the last --since (1h), newest first:
                   when, id, kind, node, partition, hits, template, sample.
                   --partition takes a name or a glob (* and ?); --kind new or
                   generalized; --limit rows (50)
  patterns show    one template: its row, its lineage (the templates it
                   widened, oldest first, through parent ids, and those that
                   widened it) and its sample
  patterns top     templates seen in the last --since (24h), by their total
                   hits; --limit rows (20)
  mute X           add X to <prefix>:muted, the Redis set every node reads at
                   its flags poll: a muted template is still recorded and
                   counted but never announced. X of exactly 16 lowercase hex
                   digits is a template id; anything else is a glob (* any
                   run of bytes, ? one byte) that mutes a template when it
                   matches the whole partition name or the whole template
                   text, e.g. 'kube-system/*' or '*health check*'. With
                   PostgreSQL configured it says how many recorded
                   templates X matches
  unmute X         remove X from <prefix>:muted
  mute --list      the members of <prefix>:muted (with the template of each
                   id when PostgreSQL is configured)
  flags            show, or set, the run-time flags hash <prefix>:flags that
                   every node polls (every 10 s); a field present overrides
                   the node's Enabled / Shadow_Mode key, "default" deletes it

Every store command takes --json (one JSON document instead of a table) and
the plugin's store keys as flags or environment variables (a flag wins; an
environment variable is named like the key, as written or in upper case):
  --pg-dsn DSN                PG_DSN (prefer the environment or a file: a
                              command line is visible to every local user)
  --pg-dsn-file PATH          PG_DSN_File
  --pg-table NAME             PG_Table, default log_templates
  --redis-addr HOST:PORT      Redis_Addr
  --redis-username USER       Redis_Username
                              Redis_Password (environment only)
  --redis-password-file PATH  Redis_Password_File
  --redis-db N                Redis_DB
  --redis-tls on|off          Redis_TLS
  --redis-ca-file PATH        Redis_CA_File
  --redis-prefix PREFIX       Redis_Prefix, default log_anomaly
Errors name the store; passwords are never printed. Exit status: 0 on
success, 1 when a store fails, 2 for bad usage or configuration.
`

// storeFlags maps the command-line flags onto the plugin's keys. The
// password has no flag: a command line is readable by every local user.
var storeFlags = []struct{ flag, key string }{
	{"pg-dsn", config.KeyPGDSN},
	{"pg-dsn-file", config.KeyPGDSNFile},
	{"pg-table", config.KeyPGTable},
	{"redis-addr", config.KeyRedisAddr},
	{"redis-username", config.KeyRedisUsername},
	{"redis-password-file", config.KeyRedisPasswordFile},
	{"redis-db", config.KeyRedisDB},
	{"redis-tls", config.KeyRedisTLS},
	{"redis-ca-file", config.KeyRedisCAFile},
	{"redis-prefix", config.KeyRedisPrefix},
}

// storeTimeout bounds a whole store command.
const storeTimeout = 30 * time.Second

// storeGetter answers config.Parse for the store keys only, from the flags
// first, then the environment; every other key is left at its default, so a
// stray variable such as DEPTH cannot fail a store command.
type storeGetter struct {
	flags  map[string]string // key -> value of a flag that was set
	lookup func(string) (string, bool)
}

func (g storeGetter) Get(key string) string {
	known := false
	for _, k := range config.StoreKeys {
		known = known || strings.EqualFold(k, key)
	}
	if !known {
		return ""
	}
	for k, v := range g.flags {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	if v, ok := g.lookup(key); ok {
		return v
	}
	v, _ := g.lookup(strings.ToUpper(key))
	return v
}

// storeCmd is one parsed store command.
type storeCmd struct {
	name string   // patterns recent|show|top, mute, unmute, flags
	args []string // positional arguments after the name
	json bool

	since     time.Duration
	sinceSet  bool
	partition string
	kind      string
	limit     int
	list      bool

	cfg sink.Config
}

// runStore runs a store command; lookup reads the environment.
func runStore(args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	cmd, err := parseStore(args, lookup, stdout)
	if err != nil {
		return err
	}
	cl, err := sink.OpenClients(cmd.cfg)
	if err != nil {
		return errUsage{strings.TrimPrefix(err.Error(), "sink: ")}
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	s := &stores{Clients: cl, stderr: stderr}
	switch cmd.name {
	case "patterns recent", "patterns top":
		return s.patternList(ctx, cmd, stdout)
	case "patterns show":
		return s.patternShow(ctx, cmd, stdout)
	case "mute", "unmute":
		if cmd.list {
			return s.muteList(ctx, cmd, stdout)
		}
		return s.mute(ctx, cmd, stdout)
	case "flags":
		return s.flags(ctx, cmd, stdout)
	}
	return errUsage{fmt.Sprintf("unknown command %q", cmd.name)}
}

func parseStore(args []string, lookup func(string) (string, bool), stdout io.Writer) (*storeCmd, error) {
	cmd := &storeCmd{name: args[0]}
	args = args[1:]
	if cmd.name == "patterns" {
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return nil, errUsage{"patterns: want recent, show or top"}
		}
		switch args[0] {
		case "recent", "show", "top":
		default:
			return nil, errUsage{fmt.Sprintf("patterns: unknown command %q (want recent, show or top)", args[0])}
		}
		cmd.name += " " + args[0]
		args = args[1:]
	}
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.BoolVar(&cmd.json, "json", false, "")
	vals := map[string]*string{}
	for _, f := range storeFlags {
		vals[f.key] = fs.String(f.flag, "", "")
	}
	sinceDef := time.Hour
	switch cmd.name {
	case "patterns recent":
		fs.StringVar(&cmd.partition, "partition", "", "")
		fs.StringVar(&cmd.kind, "kind", "", "")
		fs.IntVar(&cmd.limit, "limit", 50, "")
	case "patterns top":
		sinceDef = 24 * time.Hour
		fs.IntVar(&cmd.limit, "limit", 20, "")
	case "mute":
		fs.BoolVar(&cmd.list, "list", false, "")
	}
	cmd.since = sinceDef
	if cmd.name == "patterns recent" || cmd.name == "patterns top" {
		fs.Func("since", "", func(v string) error {
			d, err := parseSince(v)
			cmd.since, cmd.sinceSet = d, true
			return err
		})
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			io.WriteString(stdout, storeUsage)
			return nil, err
		}
		return nil, errUsage{fmt.Sprintf("%s: %v", cmd.name, err)}
	}
	cmd.args = pos
	if err := cmd.checkArgs(); err != nil {
		return nil, err
	}
	set := map[string]string{}
	fs.Visit(func(f *flag.Flag) {
		for _, sf := range storeFlags {
			if sf.flag == f.Name {
				set[sf.key] = *vals[sf.key]
			}
		}
	})
	c, err := config.Parse(storeGetter{flags: set, lookup: lookup})
	if err != nil {
		return nil, errUsage{err.Error()}
	}
	cmd.cfg = c.Sink
	return cmd, nil
}

// checkArgs validates the positional arguments of each command.
func (c *storeCmd) checkArgs() error {
	want := func(n int, what string) error {
		if len(c.args) != n {
			return errUsage{fmt.Sprintf("%s: want %s, got %d arguments", c.name, what, len(c.args))}
		}
		return nil
	}
	switch c.name {
	case "patterns recent", "patterns top":
		if c.limit < 1 || c.limit > 100000 {
			return errUsage{fmt.Sprintf("%s: --limit %d: want 1 to 100000", c.name, c.limit)}
		}
		if c.kind != "" && c.kind != sink.KindNew && c.kind != sink.KindGeneralized {
			return errUsage{fmt.Sprintf("%s: --kind %q: want new or generalized", c.name, c.kind)}
		}
		return want(0, "no argument")
	case "patterns show":
		if err := want(1, "a template id"); err != nil {
			return err
		}
		if !isTemplateID(c.args[0]) {
			return errUsage{fmt.Sprintf("%s: %q is not a template id (16 lowercase hex digits)", c.name, c.args[0])}
		}
	case "mute":
		if c.list {
			return want(0, "no argument with --list")
		}
		fallthrough
	case "unmute":
		if err := want(1, "one template id or glob (quote a glob for the shell)"); err != nil {
			return err
		}
		return checkMember(c.args[0])
	case "flags":
		if len(c.args)%2 != 0 {
			return errUsage{"flags: want FIELD VALUE pairs, e.g. shadow_mode off"}
		}
		for i := 0; i < len(c.args); i += 2 {
			f, v := c.args[i], c.args[i+1]
			if f != flagShadowMode && f != flagEnabled {
				return errUsage{fmt.Sprintf("flags: unknown field %q (want shadow_mode or enabled)", f)}
			}
			if v != "on" && v != "off" && v != "default" {
				return errUsage{fmt.Sprintf("flags: %s %q: want on, off or default", f, v)}
			}
		}
	}
	return nil
}

// parseInterleaved parses flags anywhere among the positional arguments
// (drain patterns show ID --json); everything after "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if used := args[:len(args)-len(rest)]; len(used) > 0 && used[len(used)-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parseSince reads a look-back window: a Go duration (30m, 1h) or days (7d).
func parseSince(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if days, ok := strings.CutSuffix(v, "d"); ok && err != nil {
		var n int
		if _, serr := fmt.Sscanf(days, "%d", &n); serr == nil && fmt.Sprint(n) == days {
			d, err = time.Duration(n)*24*time.Hour, nil
		}
	}
	if err != nil || d <= 0 || d > 10*365*24*time.Hour {
		return 0, fmt.Errorf("want a positive duration such as 30m, 1h or 7d")
	}
	return d, nil
}

// stores runs the commands against the opened clients.
type stores struct {
	*sink.Clients
	stderr io.Writer // warnings that do not fail the command
	from   string    // what the pattern queries read, once known (patterns)
}

// pgErr describes a PostgreSQL failure: the store, its address, what went
// wrong (redacted), and a hint for a missing table.
func (s *stores) pgErr(what string, err error) error {
	msg := oneLine(s.Redact(err.Error()))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" {
		msg += fmt.Sprintf(" (table %s: check PG_Table; the plugin creates it at its first write, or apply build/sql/log_templates.sql)", s.Table)
	}
	return fmt.Errorf("postgres %s: %s: %s", s.PGAddr, what, msg)
}

func (s *stores) redisErr(what string, err error) error {
	return fmt.Errorf("redis %s: %s: %s", s.RedisAddr, what, oneLine(s.Redact(err.Error())))
}

// oneLine joins the lines of a driver's error (pgx lists every address it
// tried on a line of its own).
func oneLine(s string) string {
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.ReplaceAll(strings.Join(slices.DeleteFunc(lines, func(l string) bool { return l == "" }), "; "), ":; ", ": ")
}

func (s *stores) needPG() error {
	if s.PG == nil {
		return errUsage{"postgres: not configured: set PG_DSN or PG_DSN_File (or --pg-dsn, --pg-dsn-file)"}
	}
	return nil
}

func (s *stores) needRedis() error {
	if s.Redis == nil {
		return errUsage{"redis: not configured: set Redis_Addr (REDIS_ADDR, or --redis-addr)"}
	}
	return nil
}

// lookupEnv is the process environment, for main.
func lookupEnv(k string) (string, bool) { return os.LookupEnv(k) }
