package grafana

import (
	"fmt"
	"strconv"
	"strings"
)

// A reader of the PromQL the dashboard uses, enough to name the metrics a
// query selects, their label matchers and the labels it groups by. It
// knows the language's lexical rules (identifiers, strings, numbers and
// durations, range brackets, Grafana's $variables) and its keywords, so a
// function or aggregation is never taken for a metric.

type matcher struct{ label, op, value string }

type selector struct {
	name     string
	matchers []matcher
}

type promQuery struct {
	selectors []selector
	grouping  []string // labels of by, without, on, ignoring, group_left, group_right
}

type tokKind int

const (
	tIdent tokKind = iota
	tString
	tNumber // numbers and durations
	tRange  // [5m], [$__rate_interval], subqueries [1h:5m]
	tVar    // a Grafana $variable outside a string
	tPunct
)

type token struct {
	kind tokKind
	text string // for strings, the unquoted value
}

var aggregations = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	"limitk": true, "limit_ratio": true,
}

var groupingKW = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true}

var otherKW = map[string]bool{"bool": true, "offset": true, "and": true, "or": true, "unless": true, "atan2": true, "start": true, "end": true}

func isIdentByte(c byte, first bool) bool {
	return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9')
}

func lexPromQL(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case isIdentByte(c, true):
			j := i + 1
			for j < len(s) && isIdentByte(s[j], false) {
				j++
			}
			toks = append(toks, token{tIdent, s[i:j]})
			i = j
		case c >= '0' && c <= '9' || c == '.':
			j := i + 1
			for j < len(s) && (s[j] == '.' || s[j] == '_' || s[j] >= '0' && s[j] <= '9' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
				j++
			}
			toks = append(toks, token{tNumber, s[i:j]})
			i = j
		case c == '"' || c == '\'' || c == '`':
			q := string(c)
			if c == '\'' { // Go's quoting rules for '…' are for runes: swap the quotes.
				q = `"`
			}
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string at offset %d", i)
			}
			body := s[i+1 : j]
			if c == '\'' {
				body = strings.ReplaceAll(strings.ReplaceAll(body, `\'`, `'`), `"`, `\"`)
			}
			v := body
			if c != '`' {
				var err error
				if v, err = strconv.Unquote(q + body + q); err != nil {
					return nil, fmt.Errorf("bad string at offset %d: %v", i, err)
				}
			}
			toks = append(toks, token{tString, v})
			i = j + 1
		case c == '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unterminated [ at offset %d", i)
			}
			toks = append(toks, token{tRange, s[i : i+j+1]})
			i += j + 1
		case c == '$':
			j := i + 1
			if j < len(s) && s[j] == '{' {
				k := strings.IndexByte(s[j:], '}')
				if k < 0 {
					return nil, fmt.Errorf("unterminated ${ at offset %d", i)
				}
				j += k + 1
			} else {
				for j < len(s) && isIdentByte(s[j], false) {
					j++
				}
			}
			toks = append(toks, token{tVar, s[i:j]})
			i = j
		default:
			if i+1 < len(s) {
				if two := s[i : i+2]; two == "=~" || two == "!~" || two == "!=" || two == "==" || two == ">=" || two == "<=" {
					toks = append(toks, token{tPunct, two})
					i += 2
					continue
				}
			}
			if !strings.ContainsRune("(){},+-*/%^<>=@", rune(c)) {
				return nil, fmt.Errorf("unexpected %q at offset %d", c, i)
			}
			toks = append(toks, token{tPunct, string(c)})
			i++
		}
	}
	return toks, nil
}

func parsePromQL(s string) (*promQuery, error) {
	toks, err := lexPromQL(s)
	if err != nil {
		return nil, err
	}
	is := func(i int, p string) bool { return i < len(toks) && toks[i].kind == tPunct && toks[i].text == p }
	// matchers reads `{label op "value", ...}` starting at the '{' at i and
	// returns them and the index of the '}'.
	matchers := func(i int) ([]matcher, int, error) {
		var ms []matcher
		for i++; ; i++ {
			if is(i, "}") {
				return ms, i, nil
			}
			if i+2 >= len(toks) || toks[i].kind != tIdent || toks[i+1].kind != tPunct || toks[i+2].kind != tString {
				return nil, 0, fmt.Errorf("bad label matcher near token %d", i)
			}
			op := toks[i+1].text
			if op != "=" && op != "!=" && op != "=~" && op != "!~" {
				return nil, 0, fmt.Errorf("bad matcher operator %q", op)
			}
			ms = append(ms, matcher{toks[i].text, op, toks[i+2].text})
			i += 3
			if is(i, "}") {
				return ms, i, nil
			}
			if !is(i, ",") {
				return nil, 0, fmt.Errorf("want , or } after a label matcher")
			}
		}
	}
	q := &promQuery{}
	parens := 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.kind == tPunct && t.text == "(":
			parens++
		case t.kind == tPunct && t.text == ")":
			if parens--; parens < 0 {
				return nil, fmt.Errorf("unbalanced )")
			}
		case t.kind == tPunct && t.text == "{":
			ms, end, err := matchers(i)
			if err != nil {
				return nil, err
			}
			sel := selector{}
			for _, m := range ms {
				if m.label == "__name__" && m.op == "=" {
					sel.name = m.value
				} else {
					sel.matchers = append(sel.matchers, m)
				}
			}
			if sel.name == "" {
				return nil, fmt.Errorf("a selector without a metric name")
			}
			q.selectors = append(q.selectors, sel)
			i = end
		case t.kind == tPunct && t.text == "}":
			return nil, fmt.Errorf("unbalanced }")
		case t.kind == tIdent && groupingKW[t.text]:
			if !is(i+1, "(") {
				continue // group_left without labels
			}
			for i += 2; !is(i, ")"); i++ {
				if i >= len(toks) || toks[i].kind != tIdent {
					return nil, fmt.Errorf("bad label list after %s", t.text)
				}
				q.grouping = append(q.grouping, toks[i].text)
				if is(i+1, ",") {
					i++
				}
			}
		case t.kind == tIdent && (otherKW[t.text] || aggregations[t.text] || is(i+1, "(")):
			// a keyword, an aggregation or a function call
		case t.kind == tIdent:
			sel := selector{name: t.text}
			if is(i+1, "{") {
				ms, end, err := matchers(i + 1)
				if err != nil {
					return nil, err
				}
				sel.matchers, i = ms, end
			}
			q.selectors = append(q.selectors, sel)
		}
	}
	if parens != 0 {
		return nil, fmt.Errorf("unbalanced (")
	}
	return q, nil
}
