package drain

import (
	"testing"
)

// ruleByName returns the rule called name.
func ruleByName(tb testing.TB, name string) (int, *rule) {
	tb.Helper()
	for x := range rules {
		if rules[x].name == name {
			return x, &rules[x]
		}
	}
	tb.Fatalf("no rule %q", name)
	return 0, nil
}

// rawEnd returns the end of the raw word at s[i]: the first space or
// delimiter.
func rawEnd(s string, i int) int {
	k := i
	for k < len(s) && byteClass[s[k]]&(bSpace|bDelim) == 0 {
		k++
	}
	return k
}

// ruleMatch runs rule r's recogniser on the word at in[i:], the way scan
// calls it, and returns the end of the value it takes.
func ruleMatch(r *rule, in string, i int) (int, bool) {
	k := rawEnd(in, i)
	switch r.kind {
	case spanRule:
		return r.span(in, i, k, classesOf(in[i:k]))
	case wordRule:
		sc := scanState{sepClean: true}
		if r.word(&sc, in, i, k) {
			return k + sc.skip, true
		}
		return 0, false
	case secretRule:
		return secretValue(in, i, i, k, false, 0, 0)
	default: // schemeRule: the value is the word after it
		return secretValue(in, k, k+1, rawEnd(in, k+1), false, i, k)
	}
}

// TestRules runs each rule's recogniser on its own table, and checks that
// the rule's gate admits every word the recogniser takes.
func TestRules(t *testing.T) {
	type row struct {
		in  string
		end int // the end of the value; -1: no match
	}
	for _, c := range []struct {
		rule string
		rows []row
	}{
		{"url", []row{{"http://h/p x", 10}, {"akka.tcp://s@1.2.3.4:5)", 22}, {"x+y://a", 7}, {"http:/x", -1}, {"a b://x", -1}}},
		{"user agent", []row{{`"curl/8.5.0" x`, 11}, {`"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"`, 98},
			{`"Go-http-client/1.1"`, 19}, {`"curl/8.5.0 x`, -1}, {`"curl 8.5.0"`, -1}, {`"a/b"`, -1}, {`x/1.0"`, -1},
			{`"Mozilla/5.0 (X11"`, -1}, {`"Mozilla/5.0 Gecko)"`, -1}, {`"kube-probe/1.31 a@b"`, -1}}},
		{"unc path", []row{{`\\srv\share x`, 11}, {`\\?\X`, 5}, {`\x`, -1}, {`\\a:.`, 3}}},
		{"drive path", []row{{`C:\Windows\x.`, 12}, {`C:/x`, -1}, {`C:\`, 3}}},
		{"absolute path", []row{{"/var/log x", 8}, {"/a:b.", 4}, {"/x HTTP/1.1 y", 11}, {"/ HTTP/1.0", 10}, {"/ x", -1}, {"/", -1}}},
		{"syslog time", []row{{"Jan  2 15:04:05 x", 15}, {"Mon Jan 2 15:04:05 2006", 23}, {"Fri Jun 17 19:02:14 EST 2004", 28},
			{"Jan 2", -1}, {"Jan 2 1:2", -1}, {"Foo 2 15:04:05", -1}, {"January", -1}}},
		{"iso time", []row{{"2016-01-02T15:04:05.123Z x", 24}, {"2016-01-02 15:04:05+01:00", 25}, {"2016-01-02", 10},
			{"2016-01-02x", -1}, {"2016-1-02", -1}}},
		{"ipv4", []row{{"10.0.0.1 x", 8}, {"10.0.0.1:80,", 11}, {"1.2.3.4.example.net", -1}, {"1.2.3", -1}, {"1.2.3.4x", -1}}},
		{"clock", []row{{"07:07:00 ok", 8}, {"7:07:00.123,", 11}, {"07:07", -1}, {"07:07:00x", -1}}},
		{"host:port", []row{{"msra-sa-41:8030.", 15}, {"h/10.1.2.3:9000 x", 15}, {"main.c:80", -1}, {"host:80", -1}, {"a1:123456", -1}}},
		{"ipv6", []row{{"fe80::1:2 up", 9}, {"2001:db8::ff00:42:8329", 22}, {"a:b", -1}, {"fe80::1x", -1}}},
		{"literal", []row{{"true", 4}, {"FALSE", 5}, {"Null", 4}, {"nulls", -1}, {"tree", -1}}},
		{"aws key id", []row{{"AKIAIOSFODNN7EXAMPLE", 20}, {"ASIAABCDEFGHIJKLMNOP", 20}, {"AKIAabcdefghijklmnop", -1}}},
		{"private key", []row{{"-----BEGIN RSA PRIVATE KEY----- MIIab -----END RSA PRIVATE KEY-----", 37},
			{"-----BEGIN CERTIFICATE----- x", -1}}},
		{"jwt", []row{{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig x", 40}, {"eyJhbGciOiJIUzI1NiJ9xyz", -1}}},
		{"auth scheme", []row{{"Bearer abc.def x", 14}, {"basic dXNlcg==", 14}, {"beaker abc", -1}}},
	} {
		x, r := ruleByName(t, c.rule)
		for _, w := range c.rows {
			i := 0
			if w.in[0] == '"' {
				i = 1 // a quoted value's word starts inside the quote
			}
			end, ok := ruleMatch(r, w.in, i)
			if !ok {
				end = -1
			}
			if end != w.end {
				t.Errorf("%s on %q: end %d, want %d", c.rule, w.in, end, w.end)
			}
			if ok && !gateAdmits(r, x, w.in, i) {
				t.Errorf("%s takes %q, but its gate does not admit it", c.rule, w.in)
			}
		}
	}
}

// gateAdmits reports whether rule x's gate admits the word at s[i] (its
// needs aside, which are the scanner's policy, not the recogniser's).
func gateAdmits(r *rule, x int, s string, i int) bool {
	k := rawEnd(s, i)
	bit := ruleSet(1) << x
	if r.kind == schemeRule {
		return schemeBefore(s, i, k)
	}
	if r.need&needColon != 0 && (k >= len(s) || s[k] != ':') {
		return false
	}
	if r.kind == spanRule {
		// The want and forbid of the raw word's classes, and a URL's
		// ":/", are the recogniser's facts: check them too.
		var seen uint16
		for q := i; q < k; q++ {
			seen |= byteClass[s[q]]
		}
		if r.want != 0 && seen&r.want == 0 || seen&r.forbid != 0 ||
			r.need&needSlash != 0 && (k+1 >= len(s) || s[k+1] != '/') {
			return false
		}
	}
	return gate(s, i, k, bit) != 0
}

// FuzzRuleGates checks on arbitrary lines that a rule's gate admits every
// word its recogniser takes: the scanner asks a rule only when its gate
// does, so a gate too narrow would leave a value unmasked.
func FuzzRuleGates(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		for i := 0; i < len(line); i++ {
			if byteClass[line[i]]&(bSpace|bDelim) != 0 || i > 0 && byteClass[line[i-1]]&(bSpace|bDelim) == 0 {
				continue // words start after a space or delimiter
			}
			for x := range rules {
				r := &rules[x]
				if r.kind == schemeRule {
					continue // its recogniser is secretValue's, on the next word
				}
				if _, ok := ruleMatch(r, line, i); ok && !gateAdmits(r, x, line, i) {
					t.Fatalf("%s takes the word at %d of %q, its gate does not admit it", r.name, i, line)
				}
				if w := line[i:rawEnd(line, i)]; w != "" && r.plain != nil && r.plain(w) && !plainClaimed(w) {
					t.Fatalf("%s claims the plain word %q, plainRun would not stop for it", r.name, w)
				}
			}
		}
	})
}
