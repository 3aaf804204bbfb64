package deploytest

import (
	"fmt"
	"regexp"
	"strings"
)

// GoRegexp compiles a Fluent Bit (Onigmo) parser regex with Go's regexp. Named groups
// `(?<name>…)` become `(?P<name>…)`; constructs RE2 cannot express (look-around,
// back-references, possessive quantifiers, atomic groups) are rejected rather than
// silently changing the meaning of the pattern.
func GoRegexp(onig string) (*regexp.Regexp, error) {
	for _, bad := range []string{"(?=", "(?!", "(?<=", "(?<!", "(?>", `\1`, `\k<`, "*+", "++", "?+"} {
		if strings.Contains(onig, bad) {
			return nil, fmt.Errorf("regex uses %q, which Go's regexp cannot express", bad)
		}
	}
	re, err := regexp.Compile(strings.ReplaceAll(onig, "(?<", "(?P<"))
	if err != nil {
		return nil, fmt.Errorf("compile %q: %w", onig, err)
	}
	return re, nil
}

// Match runs re on s and returns the named captures that took part in the match, as
// Fluent Bit's regex parser does (an optional group that did not match yields no key).
func Match(re *regexp.Regexp, s string) (map[string]string, bool) {
	idx := re.FindStringSubmatchIndex(s)
	if idx == nil {
		return nil, false
	}
	out := make(map[string]string)
	for i, name := range re.SubexpNames() {
		if name == "" || idx[2*i] < 0 {
			continue
		}
		out[name] = s[idx[2*i]:idx[2*i+1]]
	}
	return out, true
}

// GoTimeLayout translates the strftime subset used by our parsers' Time_Format into a Go
// time layout. %L is Fluent Bit's fractional seconds (any number of digits).
func GoTimeLayout(format string) (string, error) {
	repl := map[byte]string{
		'b': "Jan", 'd': "_2", 'H': "15", 'M': "04", 'S': "05",
		'Y': "2006", 'm': "01", 'z': "Z07:00", 'L': "999999999",
	}
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(format) {
			return "", fmt.Errorf("time format %q ends with %%", format)
		}
		r, ok := repl[format[i]]
		if !ok {
			return "", fmt.Errorf("time format %q: %%%c is not supported", format, format[i])
		}
		b.WriteString(r)
	}
	return b.String(), nil
}
