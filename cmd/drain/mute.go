package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/awoooi/fluent-bit-drain/sink"
)

// The Redis keys the store commands touch, under Redis_Prefix. The sink
// reads both at its flags poll.
const (
	keyMuted = ":muted" // SET: template ids and globs
	keyFlags = ":flags" // HASH: enabled, shadow_mode

	flagEnabled    = "enabled"
	flagShadowMode = "shadow_mode"
)

// isTemplateID reports whether s is a template id, exactly 16 lowercase hex
// digits: as a member of the mute list it names one template; anything else
// there is a glob.
func isTemplateID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// memberKind names what a mute-list member is.
func memberKind(s string) string {
	if isTemplateID(s) {
		return "id"
	}
	return "glob"
}

// checkMember refuses what cannot be a useful member: an empty one, one
// with a line break (the list is read and shown line by line), and an id in
// upper case, which would be taken as a glob that matches nothing.
func checkMember(s string) error {
	switch {
	case s == "":
		return errUsage{"want a template id or a glob, got an empty string"}
	case strings.ContainsAny(s, "\n\r"):
		return errUsage{fmt.Sprintf("%q contains a line break", s)}
	case !isTemplateID(s) && isTemplateID(strings.ToLower(s)):
		return errUsage{fmt.Sprintf("%q: template ids are lowercase (%s); in upper case it would be a glob matching nothing", s, strings.ToLower(s))}
	}
	return nil
}

// muteResult is what mute and unmute --json print.
type muteResult struct {
	Key     string `json:"key"`
	Member  string `json:"member"`
	Kind    string `json:"kind"`    // id or glob
	Changed bool   `json:"changed"` // added by mute, removed by unmute
	// Recorded counts the templates in PostgreSQL that a muted member
	// matches (mute only, with PostgreSQL configured).
	Recorded *int64 `json:"recorded,omitempty"`
}

// recorded counts the templates in PostgreSQL a mute-list member matches:
// the id, or the glob over the whole partition or the whole template (in
// SQL, where ? stands for one character rather than one byte).
func (s *stores) recorded(ctx context.Context, member string) (int64, error) {
	var n int64
	var err error
	if isTemplateID(member) {
		err = s.PG.QueryRow(ctx, `SELECT count(*) FROM `+s.Table+` WHERE template_id = $1`, member).Scan(&n)
	} else {
		err = s.PG.QueryRow(ctx, `SELECT count(*) FROM `+s.Table+` WHERE partition LIKE $1 OR template LIKE $1`, likePattern(member)).Scan(&n)
	}
	if err != nil {
		return 0, s.pgErr("templates matching "+strconv.Quote(member), err)
	}
	return n, nil
}

func (s *stores) mute(ctx context.Context, cmd *storeCmd, w io.Writer) error {
	if err := s.needRedis(); err != nil {
		return err
	}
	key, m := s.Prefix+keyMuted, cmd.args[0]
	res := muteResult{Key: key, Member: m, Kind: memberKind(m)}
	var (
		n   int64
		err error
	)
	if cmd.name == "mute" {
		n, err = s.Redis.SAdd(ctx, key, m).Result()
	} else {
		n, err = s.Redis.SRem(ctx, key, m).Result()
	}
	if err != nil {
		return s.redisErr(cmd.name+" "+key, err)
	}
	res.Changed = n > 0
	if cmd.name == "mute" && s.PG != nil {
		// Feedback only: the list is written whatever PostgreSQL says.
		if n, err := s.recorded(ctx, m); err != nil {
			fmt.Fprintf(s.stderr, "drain: warning: %v\n", err)
		} else {
			res.Recorded = &n
		}
	}
	if cmd.json {
		return writeJSON(w, res)
	}
	what := "template id " + m
	if res.Kind == "glob" {
		what = fmt.Sprintf("glob %q (matches a whole partition name or template)", m)
	}
	var msg string
	switch {
	case cmd.name == "mute" && res.Changed:
		msg = fmt.Sprintf("muted %s in %s; nodes stop announcing it at their next flags poll", what, key)
	case cmd.name == "mute":
		msg = fmt.Sprintf("%s was already muted in %s", what, key)
	case res.Changed:
		msg = fmt.Sprintf("unmuted %s in %s", what, key)
	default:
		msg = fmt.Sprintf("%s was not muted: not in %s (see drain mute --list)", what, key)
	}
	if res.Recorded != nil {
		switch r := *res.Recorded; {
		case r == 0 && res.Kind == "id":
			msg += fmt.Sprintf("\nno template %s is recorded in %s yet: it is muted when it appears", m, s.Table)
		case r == 1:
			msg += fmt.Sprintf("\nit matches 1 template recorded in %s", s.Table)
		default:
			msg += fmt.Sprintf("\nit matches %d templates recorded in %s", r, s.Table)
		}
	}
	_, err = fmt.Fprintln(w, msg)
	return err
}

// listed is one member of the mute list, with its template when it is an
// id PostgreSQL knows.
type listed struct {
	Member    string `json:"member"`
	Kind      string `json:"kind"`
	Partition string `json:"partition,omitempty"`
	Template  string `json:"template,omitempty"`
}

func (s *stores) muteList(ctx context.Context, cmd *storeCmd, w io.Writer) error {
	if err := s.needRedis(); err != nil {
		return err
	}
	key := s.Prefix + keyMuted
	members, err := s.Redis.SMembers(ctx, key).Result()
	if err != nil {
		return s.redisErr("read "+key, err)
	}
	slices.Sort(members)
	out := make([]listed, len(members))
	var ids []string
	for i, m := range members {
		out[i] = listed{Member: m, Kind: memberKind(m)}
		if out[i].Kind == "id" {
			ids = append(ids, m)
		}
	}
	if s.PG != nil && len(ids) > 0 {
		// The list is what matters; PostgreSQL away only costs the templates.
		if err := s.templatesOf(ctx, ids, out); err != nil {
			fmt.Fprintf(s.stderr, "drain: warning: %v; listing without templates\n", err)
		}
	}
	if cmd.json {
		return writeJSON(w, out)
	}
	if len(out) == 0 {
		_, err := fmt.Fprintf(w, "nothing is muted (%s is empty)\n", key)
		return err
	}
	rows := make([][]string, len(out))
	for i, l := range out {
		rows[i] = []string{l.Kind, cell(l.Member, 0), cell(or(l.Partition, "-"), 32), cell(or(l.Template, "-"), 90)}
	}
	return writeTable(w, []string{"KIND", "MEMBER", "PARTITION", "TEMPLATE"}, rows)
}

// templatesOf fills in the partition and template of the listed ids that
// PostgreSQL knows.
func (s *stores) templatesOf(ctx context.Context, ids []string, out []listed) error {
	rows, err := s.PG.Query(ctx, `SELECT template_id, partition, template FROM `+s.Table+` WHERE template_id = ANY($1)`, ids)
	if err != nil {
		return s.pgErr("templates of muted ids", err)
	}
	defer rows.Close()
	known := map[string][2]string{}
	for rows.Next() {
		var id, part, tmpl string
		if err := rows.Scan(&id, &part, &tmpl); err != nil {
			return s.pgErr("templates of muted ids", err)
		}
		known[id] = [2]string{part, tmpl}
	}
	if err := rows.Err(); err != nil {
		return s.pgErr("templates of muted ids", err)
	}
	for i := range out {
		if k, ok := known[out[i].Member]; ok {
			out[i].Partition, out[i].Template = k[0], k[1]
		}
	}
	return nil
}

// flagState is one field of the flags hash as shown; Value is nil when the
// field is absent and the nodes use their own configuration key.
type flagState struct {
	Field string  `json:"field"`
	Value *string `json:"value"`
	// Overrides is true when the field is present with a value the nodes
	// accept (the on/off spellings): it then wins over their own key.
	Overrides bool `json:"overrides"`
}

type flagsResult struct {
	Key   string      `json:"key"`
	Flags []flagState `json:"flags"`
}

// flags shows the run-time flags hash, after setting or deleting the fields
// given as pairs in one MULTI.
func (s *stores) flags(ctx context.Context, cmd *storeCmd, w io.Writer) error {
	if err := s.needRedis(); err != nil {
		return err
	}
	key := s.Prefix + keyFlags
	if len(cmd.args) > 0 {
		_, err := s.Redis.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for i := 0; i < len(cmd.args); i += 2 {
				if f, v := cmd.args[i], cmd.args[i+1]; v == "default" {
					p.HDel(ctx, key, f)
				} else {
					p.HSet(ctx, key, f, v)
				}
			}
			return nil
		})
		if err != nil {
			return s.redisErr("set "+key, err)
		}
	}
	m, err := s.Redis.HGetAll(ctx, key).Result()
	if err != nil {
		return s.redisErr("read "+key, err)
	}
	res := flagsResult{Key: key}
	for _, f := range []string{flagEnabled, flagShadowMode} {
		st := flagState{Field: f}
		if v, ok := m[f]; ok {
			st.Value = &v
			_, st.Overrides = sink.ParseFlag(v)
		}
		res.Flags = append(res.Flags, st)
	}
	if cmd.json {
		return writeJSON(w, res)
	}
	keyOf := map[string]string{flagEnabled: "Enabled", flagShadowMode: "Shadow_Mode"}
	rows := make([][]string, len(res.Flags))
	for i, st := range res.Flags {
		switch {
		case st.Value == nil:
			rows[i] = []string{st.Field, "-", "not set: each node's " + keyOf[st.Field] + " key"}
		case !st.Overrides:
			rows[i] = []string{st.Field, cell(*st.Value, 20), "ignored by the nodes: not on/off"}
		default:
			rows[i] = []string{st.Field, cell(*st.Value, 20), key}
		}
	}
	if err := writeTable(w, []string{"FLAG", "VALUE", "FROM"}, rows); err != nil {
		return err
	}
	if len(cmd.args) > 0 {
		_, err = fmt.Fprintln(w, "nodes apply a change at their next flags poll (every 10 s)")
	}
	return err
}
