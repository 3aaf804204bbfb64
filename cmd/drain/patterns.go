package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/awoooi/fluent-bit-drain/sink"
)

// pattern is one row of the template table, as --json prints it.
type pattern struct {
	ID        string    `json:"template_id"`
	Kind      string    `json:"kind"` // new, or generalized when it has a parent
	Partition string    `json:"partition"`
	Source    string    `json:"source"`
	Template  string    `json:"template"`
	Sample    string    `json:"sample"`
	Hits      int64     `json:"hits"`
	FirstSeen time.Time `json:"first_seen_at"`
	LastSeen  time.Time `json:"last_seen_at"`
	FirstNode string    `json:"first_node"`
	ParentID  string    `json:"parent_id"` // "" for new
	Shadow    bool      `json:"shadow"`
}

const patternCols = `template_id, partition, source, template, sample, hits, first_seen_at, last_seen_at,
	first_node, coalesce(parent_id, ''), shadow`

// patterns is the relation the pattern queries read: the table, with hits
// as users read them — the row's count plus the hit-count deltas the nodes
// wrote and no merge has added yet — when the deltas table is there and
// readable (a deployment of an earlier version has none).
func (s *stores) patterns(ctx context.Context, what string) (string, error) {
	if s.from != "" {
		return s.from, nil
	}
	var ok bool
	if err := s.PG.QueryRow(ctx, `SELECT coalesce(has_table_privilege(to_regclass($1), 'SELECT'), false)`, s.Deltas).Scan(&ok); err != nil {
		return "", s.pgErr(what, err)
	}
	s.from = s.Table
	if ok {
		s.from = `(SELECT t.template_id, t.partition, t.source, t.template, t.sample, ` + sink.PendingSum("t.hits", "p.n") + ` AS hits,
	t.first_seen_at, t.last_seen_at, t.first_node, t.parent_id, t.shadow
	FROM ` + s.Table + ` AS t LEFT JOIN ` + s.Pending + ` AS p USING (template_id)) AS t`
	}
	return s.from, nil
}

func scanPatterns(rows pgx.Rows) ([]pattern, error) {
	var out []pattern
	for rows.Next() {
		var p pattern
		if err := rows.Scan(&p.ID, &p.Partition, &p.Source, &p.Template, &p.Sample, &p.Hits,
			&p.FirstSeen, &p.LastSeen, &p.FirstNode, &p.ParentID, &p.Shadow); err != nil {
			return nil, err
		}
		p.Kind = sink.KindNew
		if p.ParentID != "" {
			p.Kind = sink.KindGeneralized
		}
		p.FirstSeen, p.LastSeen = p.FirstSeen.UTC(), p.LastSeen.UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

// query selects the pattern columns from what the pattern queries read
// (patterns), filtered and ordered by rest.
func (s *stores) query(ctx context.Context, what, rest string, args ...any) ([]pattern, error) {
	from, err := s.patterns(ctx, what)
	if err != nil {
		return nil, err
	}
	rows, err := s.PG.Query(ctx, `SELECT `+patternCols+` FROM `+from+` `+rest, args...)
	if err != nil {
		return nil, s.pgErr(what, err)
	}
	ps, err := scanPatterns(rows)
	if err != nil {
		return nil, s.pgErr(what, err)
	}
	return ps, nil
}

// likePattern turns a glob (* and ?) into a LIKE pattern, escaping LIKE's own
// wildcards and its escape character.
func likePattern(glob string) string {
	var b strings.Builder
	for i := 0; i < len(glob); i++ {
		switch c := glob[i]; c {
		case '*':
			b.WriteByte('%')
		case '?':
			b.WriteByte('_')
		case '%', '_', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// patternList runs patterns recent (by first_seen_at) and patterns top (by
// hits, among the templates seen in the window).
func (s *stores) patternList(ctx context.Context, cmd *storeCmd, w io.Writer) error {
	if err := s.needPG(); err != nil {
		return err
	}
	since := time.Now().Add(-cmd.since)
	var (
		ps  []pattern
		err error
	)
	if cmd.name == "patterns recent" {
		part, op := cmd.partition, "="
		if strings.ContainsAny(part, "*?") {
			part, op = likePattern(part), "LIKE"
		}
		ps, err = s.query(ctx, "recent templates", `WHERE first_seen_at >= $1 AND ($2 = '' OR partition `+op+` $2)
AND ($3 = '' OR (parent_id IS NULL) = ($3 = 'new'))
ORDER BY first_seen_at DESC, template_id LIMIT $4`, since, part, cmd.kind, cmd.limit)
	} else {
		ps, err = s.query(ctx, "top templates", `WHERE last_seen_at >= $1 ORDER BY hits DESC, template_id LIMIT $2`, since, cmd.limit)
	}
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []pattern{}
	}
	if cmd.json {
		return writeJSON(w, ps)
	}
	if len(ps) == 0 {
		_, err := fmt.Fprintf(w, "no templates %s in the last %v in %s\n", map[bool]string{true: "first seen", false: "seen"}[cmd.name == "patterns recent"], cmd.since, s.Table)
		return err
	}
	rows := make([][]string, len(ps))
	if cmd.name == "patterns recent" {
		for i, p := range ps {
			rows[i] = []string{when(p.FirstSeen), p.ID, p.Kind, cell(p.FirstNode, 24), cell(p.Partition, 32),
				strconv.FormatInt(p.Hits, 10), cell(p.Template, 70), cell(p.Sample, 60)}
		}
		return writeTable(w, []string{"WHEN", "ID", "KIND", "NODE", "PARTITION", "HITS", "TEMPLATE", "SAMPLE"}, rows)
	}
	for i, p := range ps {
		rows[i] = []string{strconv.FormatInt(p.Hits, 10), when(p.LastSeen), p.ID, cell(p.Partition, 32), cell(p.Template, 90)}
	}
	return writeTable(w, []string{"HITS", "LAST SEEN", "ID", "PARTITION", "TEMPLATE"}, rows)
}

// maxLineage bounds the walk up the parent ids: a template widens a few
// times at most, and a cycle (rows edited by hand) must not loop.
const maxLineage = 64

// shown is what patterns show --json prints.
type shown struct {
	Pattern pattern `json:"pattern"`
	// Lineage holds the templates this one widened, oldest first; a parent
	// id without a row ends it, named in MissingParent.
	Lineage       []pattern `json:"lineage"`
	MissingParent string    `json:"missing_parent,omitempty"`
	// Children are the templates that widened this one.
	Children []pattern `json:"children"`
}

func (s *stores) byID(ctx context.Context, id string) (*pattern, error) {
	ps, err := s.query(ctx, "template "+id, `WHERE template_id = $1`, id)
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	return &ps[0], nil
}

func (s *stores) patternShow(ctx context.Context, cmd *storeCmd, w io.Writer) error {
	if err := s.needPG(); err != nil {
		return err
	}
	id := cmd.args[0]
	p, err := s.byID(ctx, id)
	if err != nil {
		return err
	}
	if p == nil {
		return fmt.Errorf("postgres %s: no template %s in %s", s.PGAddr, id, s.Table)
	}
	out := shown{Pattern: *p, Lineage: []pattern{}}
	seen := map[string]bool{id: true}
	for parent := p.ParentID; parent != "" && len(out.Lineage) < maxLineage && !seen[parent]; {
		seen[parent] = true
		pp, err := s.byID(ctx, parent)
		if err != nil {
			return err
		}
		if pp == nil {
			out.MissingParent = parent
			break
		}
		out.Lineage = append([]pattern{*pp}, out.Lineage...)
		parent = pp.ParentID
	}
	out.Children, err = s.query(ctx, "templates widened from "+id, `WHERE parent_id = $1 ORDER BY first_seen_at, template_id LIMIT $2`, id, maxLineage)
	if err != nil {
		return err
	}
	if out.Children == nil {
		out.Children = []pattern{}
	}
	if cmd.json {
		return writeJSON(w, out)
	}
	rows := [][]string{
		{"id", p.ID}, {"kind", p.Kind}, {"partition", cell(p.Partition, 0)}, {"source", cell(p.Source, 0)},
		{"first node", cell(p.FirstNode, 0)}, {"hits", strconv.FormatInt(p.Hits, 10)},
		{"first seen", when(p.FirstSeen)}, {"last seen", when(p.LastSeen)},
		{"shadow", strconv.FormatBool(p.Shadow)}, {"parent", or(p.ParentID, "-")},
		{"template", cell(p.Template, 0)}, {"sample", cell(p.Sample, 0)},
	}
	tw := func(rows [][]string) error {
		for _, r := range rows {
			if _, err := fmt.Fprintf(w, "%-11s %s\n", r[0], r[1]); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
		}
		return nil
	}
	if err := tw(rows); err != nil {
		return err
	}
	lineage := func(title string, ps []pattern, mark bool) error {
		fmt.Fprintf(w, "\n%s\n", title)
		var rs [][]string
		for _, q := range ps {
			rs = append(rs, []string{"  " + q.ID, q.Kind, when(q.FirstSeen), strconv.FormatInt(q.Hits, 10), cell(q.Template, 90)})
		}
		if mark {
			rs = append(rs, []string{"  " + p.ID, p.Kind, when(p.FirstSeen), strconv.FormatInt(p.Hits, 10), cell(p.Template, 90) + "   <- this one"})
		}
		return writeTable(w, []string{"  ID", "KIND", "FIRST SEEN", "HITS", "TEMPLATE"}, rs)
	}
	title := "lineage, oldest first:"
	if out.MissingParent != "" {
		title = fmt.Sprintf("lineage, oldest first (parent %s has no row):", out.MissingParent)
	}
	if err := lineage(title, out.Lineage, true); err != nil {
		return err
	}
	if len(out.Children) > 0 {
		return lineage("widened into:", out.Children, false)
	}
	return nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
