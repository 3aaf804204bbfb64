package drain

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// Targets of the streaming property test (issue 12): alerts per true
// template on one pass of a set, and on a 10x replay with fresh values.
const (
	maxAlertsPerTemplate = 1.10
	replayPasses         = 10
)

// replayShortfall holds the sets on which the 10x replay target is not
// met yet, with the alerts their replay raises (one pass: Android 171,
// HealthApp 75, Linux 108, Mac 345, Thunderbird 147). The 47 extra
// alerts (docs/default-preset.md has the classes and the rules tried):
// 24 are values no log prints, where the truth marks a constant as
// "<*>" (login's "ROOT LOGIN ON", the kernel's "PCI Root Bridge",
// "Mounted root (…)", the "root=" of a kernel command line); 12 are
// the evidence a sibling merge needs, SiblingValues values, so the
// second and third value of a position still alert (Mac's names, cron's
// user); HealthApp's 9 glue a name to a number in the tree key
// ("tryToReloadTodayBasicSteps1514044800223|…"); Android's 2 are a hex
// id shaped as a name ("f39182"). A set listed here must not get worse;
// once it meets the target the test asks for its removal, so the list
// only shrinks.
var replayShortfall = map[string]int{"Android": 173, "HealthApp": 84, "Linux": 119, "Mac": 354, "Thunderbird": 163}

// TestStreamAlerts mines each of the 16 Loghub-2k sets as one stream with
// the default preset and counts its "new" events ("alerts/t" of the shared
// novelty_eval.py: alerts over distinct true templates), which must stay
// at most 1.10. Then the set is replayed 10 times into a fresh miner, each
// pass after the first with fresh values wherever its truth template has
// "<*>" (freshValue), and the whole replay must raise no more alerts than
// the one pass did: values never seen are values, not new events
// (replayShortfall lists the sets that do not meet this yet).
func TestStreamAlerts(t *testing.T) {
	needShared(t)
	cfg, _ := Preset("default")
	for _, name := range allDatasets {
		contents, truth := loadTruth(t, name)
		templates := map[string]bool{}
		parts := make([]*valueSlots, len(contents))
		unmatched := 0
		for i, tm := range truth {
			templates[strings.Join(strings.Fields(tm), " ")] = true
			if parts[i] = splitValues(tm, contents[i]); parts[i] == nil && strings.Contains(tm, "<*>") {
				unmatched++
			}
		}
		one := streamAlerts(t, cfg, contents, parts, 1)
		all := streamAlerts(t, cfg, contents, parts, replayPasses)
		perT := float64(one) / float64(len(templates))
		t.Logf("%-12s alerts/t %.3f (%d alerts, %d templates); %dx replay %d alerts (%d lines whose truth does not match them replayed as they are)",
			name, perT, one, len(templates), replayPasses, all, unmatched)
		if perT > maxAlertsPerTemplate {
			t.Errorf("%s: alerts/t %.3f, want <= %.2f", name, perT, maxAlertsPerTemplate)
		}
		known, short := replayShortfall[name]
		switch {
		case all > one && !short:
			t.Errorf("%s: the %dx replay with fresh values raised %d alerts, one pass %d: want no more", name, replayPasses, all, one)
		case short && all > known:
			t.Errorf("%s: the %dx replay raised %d alerts, more than the %d recorded in replayShortfall (one pass: %d)", name, replayPasses, all, known, one)
		case short && all <= one:
			t.Errorf("%s meets the replay target now (%d alerts, one pass %d): remove it from replayShortfall", name, all, one)
		case short && all < known:
			t.Logf("%s: the replay raised %d alerts, fewer than the %d recorded: lower replayShortfall", name, all, known)
		}
	}
}

// streamAlerts mines passes of contents into a fresh miner, the passes
// after the first with fresh values, and returns the count of "new" events.
func streamAlerts(tb testing.TB, cfg Config, contents []string, parts []*valueSlots, passes int) int {
	m, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for p := 0; p < passes; p++ {
		rng := rand.New(rand.NewPCG(uint64(p), 12))
		for i, line := range contents {
			if p > 0 && parts[i] != nil {
				line = parts[i].refresh(rng)
			}
			if m.Add("", line).Kind == Created {
				n++
			}
		}
	}
	return n
}

// valueSlots is a line cut at its truth template's "<*>": the constant
// text around the values, and the values.
type valueSlots struct {
	consts []string // len(values)+1
	values []string
}

var spaceRun = regexp.MustCompile(`\s+`)

// splitValues matches line against truth (each "<*>" any run of bytes,
// whitespace as in the line, which may also have some before and after
// the truth: HealthApp's " getTodayTotalDetailSteps = …") and returns its
// values, or nil when the truth does not match the line.
func splitValues(truth, line string) *valueSlots {
	pieces := strings.Split(truth, "<*>")
	if len(pieces) == 1 {
		return nil
	}
	var b strings.Builder
	b.WriteString(`^\s*`)
	for k, p := range pieces {
		if k > 0 {
			b.WriteString(`(.*?)`)
		}
		b.WriteString(spaceRun.ReplaceAllString(regexp.QuoteMeta(p), `\s+`))
	}
	b.WriteString(`\s*$`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil
	}
	sm := re.FindStringSubmatchIndex(line)
	if sm == nil {
		return nil
	}
	v := &valueSlots{}
	last := 0
	for g := 1; g < len(pieces); g++ {
		s, e := sm[2*g], sm[2*g+1]
		v.consts = append(v.consts, line[last:s])
		v.values = append(v.values, line[s:e])
		last = e
	}
	v.consts = append(v.consts, line[last:])
	return v
}

// refresh returns the line with every value replaced by a fresh one of the
// same shape (freshValue).
func (v *valueSlots) refresh(rng *rand.Rand) string {
	var b strings.Builder
	for k, val := range v.values {
		b.WriteString(v.consts[k])
		b.WriteString(freshValue(val, rng))
	}
	b.WriteString(v.consts[len(v.values)])
	return b.String()
}

// freshValue returns a fresh value of the same shape as val, token by
// token (a token is a run of letters and digits):
//   - a number (digits only) gets fresh digits, a leading one not zero;
//   - an id (digits and letters) gets fresh digits, and fresh hex letters
//     when all its letters are hex (the x of "0x" kept); other letters stay
//     ("broadcast_9" → "broadcast_4");
//   - a word (letters only) is a name when it is the whole value ("httpd",
//     "root") and gets fresh letters of the same case; inside a longer
//     value ("0 bytes", "Fri Jun 17 07:07:00 2005", "Oracle Corporation")
//     it is a unit, a month or a phrase the truth folded into the value,
//     and stays;
//   - a whole value from a closed vocabulary (closedSets: a boolean, a
//     weekday, a month) is another word of it, in the same case: a log
//     never prints "llwyd" where it printed "false", nor "Hdr" for "Fri";
//     "null" stays, as the one word of its kind;
//   - a whole value of 8 or more hex letters and no digit ("ffffffff") is
//     a hex number, and gets fresh hex digits.
//
// Punctuation and spaces stay.
func freshValue(val string, rng *rand.Rand) string {
	if w, ok := closedWord(val, rng); ok {
		return w
	}
	b := []byte(val)
	alnum := func(c byte) bool { return isDigitB(c) || isAlphaB(c) }
	for i := 0; i < len(b); {
		if !alnum(b[i]) {
			i++
			continue
		}
		j := i
		digits, hex := 0, true
		for j < len(b) && alnum(b[j]) {
			c := b[j] | 0x20
			switch {
			case isDigitB(b[j]):
				digits++
			case c == 'x' && j > i && b[j-1] == '0':
			case c > 'f':
				hex = false
			}
			j++
		}
		whole := i == 0 && j == len(b)
		if digits == 0 && whole && hex && j >= 8 {
			digits = -1 // a hex number written in letters only
		}
		name := digits == 0 && whole
		for k := i; k < j; k++ {
			c := b[k]
			switch {
			case c == '0' && k+1 < j && b[k+1]|0x20 == 'x':
				// the 0 of "0x" stays
			case isDigitB(c):
				if (k == i || !isDigitB(b[k-1])) && c != '0' {
					b[k] = '1' + byte(rng.IntN(9))
				} else {
					b[k] = '0' + byte(rng.IntN(10))
				}
			case c|0x20 == 'x' && k > i && b[k-1] == '0':
			case digits != 0 && hex || name:
				n := 26
				if !name {
					n = 6
				}
				if c >= 'a' {
					b[k] = 'a' + byte(rng.IntN(n))
				} else {
					b[k] = 'A' + byte(rng.IntN(n))
				}
			}
		}
		i = j
	}
	return string(b)
}

// closedSets are vocabularies whose words a value takes one of (lower
// case here; freshValue keeps the value's case).
var closedSets = [][]string{
	{"true", "false"},
	{"mon", "tue", "wed", "thu", "fri", "sat", "sun"},
	{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"},
	{"null"},
}

// closedWord returns another word of val's closed vocabulary, in val's
// case (lower, upper or capitalised), when val is one.
func closedWord(val string, rng *rand.Rand) (string, bool) {
	low := strings.ToLower(val)
	for _, set := range closedSets {
		for k, w := range set {
			if w != low {
				continue
			}
			if len(set) > 1 {
				w = set[(k+1+rng.IntN(len(set)-1))%len(set)]
			}
			switch {
			case val == strings.ToUpper(val):
				return strings.ToUpper(w), true
			case val[0] >= 'A' && val[0] <= 'Z':
				return strings.ToUpper(w[:1]) + w[1:], true
			}
			return w, true
		}
	}
	return "", false
}

func TestFreshValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	isD := func(c byte) bool { return c >= '0' && c <= '9' }
	for _, c := range []struct {
		val  string
		keep string // bytes that must stay, "." where they may change
	}{
		{"10.251.42.84:50010", "............:....."},
		{"0x1f3a", "0x...."},
		{"blk_-4980916519894289629", "blk_-..................."},
		{"broadcast_9_piece0", "broadcast_._piece."},
		{"httpd", "....."},
		{"0 bytes", ". bytes"},
		{"Fri Jun 17 07:07:00 2005", "Fri Jun .. ..:..:.. ...."},
	} {
		f := freshValue(c.val, rng)
		if len(f) != len(c.val) {
			t.Fatalf("freshValue(%q) = %q", c.val, f)
		}
		for i := range c.val {
			if c.keep[i] != '.' && f[i] != c.val[i] || isD(c.val[i]) != isD(f[i]) {
				t.Errorf("freshValue(%q) = %q: byte %d", c.val, f, i)
			}
		}
		if f == c.val {
			t.Errorf("freshValue(%q) is not fresh", c.val)
		}
	}
	for _, val := range []string{"0x1f3a", "ffffffff"} {
		got := freshValue(val, rng)
		if strings.HasPrefix(val, "0x") {
			got = got[2:]
		}
		if strings.Trim(got, "0123456789abcdef") != "" {
			t.Errorf("hex value %q gives %q: not hex", val, got)
		}
	}
	for val, want := range map[string]string{"false": "true", "TRUE": "FALSE", "False": "True", "null": "null"} {
		if got := freshValue(val, rng); got != want {
			t.Errorf("freshValue(%q) = %q, want %q", val, got, want)
		}
	}
	for _, val := range []string{"Fri", "Dec"} {
		got := freshValue(val, rng)
		if got == val || len(got) != 3 || got[:1] != strings.ToUpper(got[:1]) || got[1:] != strings.ToLower(got[1:]) {
			t.Errorf("freshValue(%q) = %q", val, got)
		}
	}
	if v := splitValues("Killed process <*> (<*>).", "Killed process 6980 (httpd)."); v == nil || strings.Join(v.values, ",") != "6980,httpd" {
		t.Errorf("splitValues = %+v", v)
	}
	if v := splitValues("steps= <*>##<*>", " steps= 15##0"); v == nil || strings.Join(v.values, ",") != "15,0" || v.consts[0] != " steps= " {
		t.Errorf("splitValues of a line with a leading space = %+v", v)
	}
	if v := splitValues("a <*> b", "a 1 c"); v != nil {
		t.Errorf("splitValues of a line the truth does not match = %+v", v)
	}
}
