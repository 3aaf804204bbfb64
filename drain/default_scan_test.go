package drain

import (
	"bytes"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"
)

func TestScannerMasks(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"ipv4", "from 10.251.42.84 now", "from <*> now"},
		{"ipv4 port", "to 10.250.14.38:50010", "to <*>"},
		{"ipv6", "peer fe80::1:2 up", "peer <*> up"},
		{"host port", "server: msra-sa-41:8030.", "server: <*>."},
		{"host ip port", "Old: msra-sa-41/10.190.173.170:9000 New", "Old: <*> New"},
		{"uuid", "[instance: b9000564-fe1a-409b-b8cc-1e88b294cd1d] VM Started", "[instance: <*>] VM Started"},
		{"hex", "mask 0x05, at 0x0b85eee0", "mask <*>, at <*>"},
		{"hash", "base a489c868f0c37da93b76227c91bb03908ac0e742 ok", "base <*> ok"},
		{"short hex id", "PendingIntent{19abed0: Record{a485420 x}} CFPBS:186A7:", "PendingIntent{<*>: Record{<*> x}} CFPBS:<*>:"},
		{"signed number", "init 1 -2", "init <*>"},
		{"decimal", "took 19.05 seconds", "took <*> seconds"},
		{"number unit", "Temperature (41C) exceeds", "Temperature (<*>) exceeds"},
		{"duration", "after 1h2m3s and 160ms", "after <*> and <*>"},
		{"iso time", "at 2016-01-02T15:04:05.123Z done", "at <*> done"},
		{"syslog time", "connection at Fri Jun 17 07:07:00 2005", "connection at <*>"},
		{"clock", "expired 07:07:00 ok", "expired <*> ok"},
		{"number then colon", "upstream timed out (110: Connection timed out)", "upstream timed out (<*>: Connection timed out)"},
		{"numbers then colon", "took 7: 12:30:01 and 2001::1 and 80:/x then 3:", "took <*>: <*> and <*> and <*>:<*> then <*>:"},
		{"path", "Deleting file /mnt/hadoop/dfs/blk_17 now", "Deleting file <*> now"},
		{"windows path", `from path '\\?\GLOBALROOT\Device\x' and C:\Windows\System32.`, "from path '<*>' and <*>."},
		{"request line", `"GET /v2/servers/detail HTTP/1.1" status: 200`, `"GET <*>" status: <*>`},
		{"request line root", `"GET / HTTP/1.1" 200`, `"GET <*>" <*>`},
		{"request line wide", "\"GET /x  HTTP/1.1\" 200 and / \tHTTP/2", `"GET <*>" <*> and <*>`},
		{"root path alone", "cd / && run", "cd / && run"},
		{"url", "driver: spark://Sched@10.10.34.11:48069", "driver: <*>"},
		{"block id", "Verification succeeded for blk_-4980916519894289629", "Verification succeeded for <*>"},
		{"job id", "Adding job token for job_1445144423722_0020 to x", "Adding job token for <*> to x"},
		{"key value", "uid=0 euid=0 tty=NODEVssh", "uid=<*> euid=<*> tty=NODEVssh"},
		{"prefix number", "node node-69 generating core.2275", "node node-<*> generating core.<*>"},
		{"list", "delete blk_1 blk_2 blk_3 blk_4", "delete <*>"},
		{"comma keeps values apart", "bounds=Rect(0, 0 - 720, 1280) order: 3, 32768 bytes", "bounds=Rect(<*>, <*> - <*>, <*>) order: <*>, <*> bytes"},
		{"name list", "data source name an14 an15 an16 at cn304", "data source name <*> at cn304"},
		{"name list ends at a comma", "names an14 an15, an16 at cn304", "names <*>, an16 at cn304"},
		{"name list after var", "IRQs 3 4 lnk1 lnk2 end", "IRQs <*> end"},
		{"empty value", "connection from 1.2.3.4 () at x", "connection from <*> (<*>) at x"},
		{"dots", "store operation.............................1", "store operation.............................<*>"},
		{"sentence dot", "job job_1445144423722_0020.", "job <*>."},
		{"whitespace", "  a \t b  ", "a b"},
		{"kernel time", "[864213.123456] cni0: port 3(vethab12cd34) entered disabled state", "cni0: port <*>(vethab12cd34) entered disabled state"},
		{"kernel time padded", "[    1.000250]  ACPI: Early table checksum verification disabled", "ACPI: Early table checksum verification disabled"},
		{"kernel time alone", "[ 12.5]", ""},
		{"container id", "cpuset=cri-containerd-03876bc351eab718d4b99f795a1c363de4f6e1649bb937d841fb7bf8df7462d4.scope,task=java", "cpuset=<*>,task=java"},
		{"bracket number kept", "[12] cni0: up", "[<*>] cni0: up"},
		{"bracket time not first", "x [864213.123456] y", "x [<*>] y"},
		{"bracket time unclosed", "[864213.123456 y", "[<*> y"},
		{"prefix number with underscores", "error_callback 1977 __tls_session_write_block_invoke.434 error 22", "error_callback <*> __tls_session_write_block_invoke.<*> error <*>"},
		{"prefix ending in underscore stays masked", "for blk_-42 and job_1445_0020", "for <*> and <*>"},
		{"literals", "setLightsOn(true) ws=null, down FALSE canceled false", "setLightsOn(<*>) ws=<*>, down <*> canceled <*>"},
		{"literal inside a word kept", "ledNotification == null?true truely nullable", "ledNotification == null?true truely nullable"},
		{"file and line", "[ib_sm_sweep.c:1831]: No topology change at Engine.cpp:1400:Close", "[ib_sm_sweep.c:<*>]: No topology change at Engine.cpp:<*>:Close"},
		{"host port with a long last label", "to db.example.com:5432 and b.io:80", "to <*> and <*>"},
		{"syslog time with zone", "(Release Date: Fri Dec 10 19:02:14 EST 2004)", "(Release Date: <*>)"},
		{"zone without year kept", "at Fri Dec 10 19:02:14 EST now", "at <*> EST now"},
		{"restated quantity", "close, 1190 bytes (1.16 KB) sent, 9 bytes received", "close, <*> bytes sent, <*> bytes received"},
		{"restated quantity at end", "read 1190 bytes (1.16 KB)", "read <*> bytes"},
		{"parenthesis after a non-unit kept", "read 1190 items (1.16 KB)", "read <*> items (<*> KB)"},
		{"parenthesis without unit kept", "read 1190 bytes (12)", "read <*> bytes (<*>)"},
		{"bound with unit", "lifetime <1 sec, done", "lifetime <*>, done"},
		{"bound without unit", "queue >100 items", "queue <*> items"},
		{"bound decimal", "took <0.5 ms", "took <*>"},
		{"not a bound", "a <- b <b1 <1x", "a <- b <b1 <1x"},
		{"kernel stack frame", "[<0211476a>] do_page_fault+0x362/0x446", "[<*>] do_page_fault+<*>"},
		{"kernel stack frame 64-bit", "[<ffffffff8101a2b3>] ? ext4_readdir+0x2a/0x60 [ext4]", "[<*>] ? ext4_readdir+<*> [ext4]"},
		{"symbol offset without length", "RIP: 0010:__x64_sys_read+0x1a", "RIP: <*>:__x64_sys_read+<*>"},
		{"klog header", "I1125 17:40:07.123456    1234 kubelet.go:123] \"SyncLoop (probe)\"", "<*>] \"SyncLoop (probe)\""},
		{"klog error header", "E0101 00:00:00.5 7 x.go:1] failed", "<*>] failed"},
		{"go log date", "2026/11/25 09:00:00 [error] upstream timed out", "<*> [error] upstream timed out"},
		{"common log date", "on 25/Nov/2026 at noon", "on <*> at noon"},
		{"day first date", "built on 06/10/2013 17:26 GMT", "built on <*> GMT"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := maskedString(c.in); got != c.want {
				t.Errorf("appendMasked(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestScannerSecrets(t *testing.T) {
	for _, c := range []struct{ name, in, secret string }{
		{"password=", "login password=hunter2 ok", "hunter2"},
		{"passwd quoted", `db passwd="s3cr3t pass"`, "s3cr3t"},
		{"token=", "call token=abcDEF ok", "abcDEF"},
		{"secret:", "client_secret: verysecret", "verysecret"},
		{"api key", "api_key=AKIAabcdefg", "AKIAabcdefg"},
		{"bearer", "Authorization: Bearer abc.def-ghi", "abc.def-ghi"},
		{"basic", "auth header Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"},
		{"jwt", "got eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl here", "eyJhbGciOiJIUzI1NiJ9"},
		{"email", "mail to alice.smith@example.com failed", "alice.smith"},
		{"json password", `{"user":"bob","password":"hunter2"}`, "hunter2"},
		{"upper case key", "PASSWORD=Hunter2 next", "Hunter2"},
		{"authorization basic", "Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"},
		{"url query", "GET https://x.example/cb?token=abc123 done", "abc123"},
		{"email after an ampersand", "x &bob@example.org y", "bob@"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := maskedString(c.in)
			if strings.Contains(got, c.secret) {
				t.Errorf("appendMasked(%q) = %q still holds %q", c.in, got, c.secret)
			}
			if !strings.Contains(got, wildcard) {
				t.Errorf("appendMasked(%q) = %q has no wildcard", c.in, got)
			}
		})
	}
}

// Words that look a bit like values but are constants of a template.
func TestScannerKeeps(t *testing.T) {
	for _, in := range []string{
		"jk2_init() Found child",
		"loaded properties from hadoop-metrics2.properties",
		"via interface alt0",
		"ROOT LOGIN ON tty2",
		"Slf4jLogger started",
		"Registered signal handlers for [TERM, HUP, INT]",
		"Added global filter 'safety' (class=org.apache.hadoop.http.HttpServer2$QuotingInputFilter)",
		"session opened for user cyrus",
		"Failed password for root",
		"pci_stats=[]",
		"deadbeef",
		"BIOS-e820 ee0 e1000_probe: e1000 ssh2: ED25519 abcdef", // 4 hex or fewer, with '_', letters then 4-5 digits, letters
		"local@host", "Manager$Worker@main root@tbird-admin:", // an e-mail address needs a dot
		"<ok>",
		"pam_unix(cron:session): session opened for user root",
		"I1125 starts",      // a klog date needs the clock after it
		"error E1325 <*> x", // no 13th month
		"code W1125x <*>",
		"c++ and a+0x or x+0xg",
		"<abc> <1234567>",
		"2026/11 and 1/2/3",
	} {
		if got := maskedString(in); got != in {
			t.Errorf("appendMasked(%q) = %q, want it unchanged", in, got)
		}
	}
}

func TestDefaultTokens(t *testing.T) {
	cfg, _ := Preset("default")
	cfg.MaxTokens = 3
	tk := newDefaultTokenizer(&cfg)
	s := &scratch{}
	info := tk.tokens(s, "a b=1 c d e", true)
	if got := strings.Join(s.tokList(), "|"); got != "a|b=<*>|c" || info&infoTruncated == 0 {
		t.Errorf("tokens = %q, info %b; want a|b=<*>|c, truncated", got, info)
	}
	tk.tokens(s, "uid=<*>  x", false)
	if got := strings.Join(s.tokList(), "|"); got != "uid=<*>|x" {
		t.Errorf("unmasked tokens = %q", got)
	}
	cfg.MaxTokens = 100
	tk = newDefaultTokenizer(&cfg)
	tk.tokens(s, "[864213.123456] cni0: port 3(vethab12cd34) entered disabled state", true)
	if got := strings.Join(s.tokList(), "|"); got != "cni0:|port|<*>(vethab12cd34)|entered|disabled|state" {
		t.Errorf("kernel line tokens = %q", got)
	}
	if got := tk.mask("password=x y\x00z\xff"); strings.Contains(got, "password=x") || !utf8.ValidString(got) || strings.IndexByte(got, 0) >= 0 {
		t.Errorf("mask = %q", got)
	}
}

// More boundaries than the scanner tracks inline: the split fallback.
func TestDefaultTokensMany(t *testing.T) {
	cfg, _ := Preset("default")
	tk := newDefaultTokenizer(&cfg)
	s := &scratch{}
	line := strings.Repeat("w x=1 , ", 100)
	tk.tokens(s, line, true)
	if got, want := strings.Join(s.tokList(), " "), tk.mask(line); got != want || len(s.tokList()) != 300 {
		t.Errorf("%d tokens %q, want 300 joining to %q", len(s.tokList()), got, want)
	}
}

func TestTokenCovers(t *testing.T) {
	for _, c := range []struct {
		t, l string
		want bool
	}{
		{"<*>", "anything", true},
		{"uid=<*>", "uid=<*>", true},
		{"user=<*>", "user=root", true},
		{"user=<*>", "uid=root", false},
		{"(<*>=sup,<*>=usr)", "(<*>=sup,<*>=usr)", true},
		{"a<*>b<*>c", "axxbyyc", true},
		{"a<*>b<*>c", "axxbyy", false},
		{"abc", "abd", false},
	} {
		if got := tokenCovers(c.t, c.l); got != c.want {
			t.Errorf("tokenCovers(%q, %q) = %v", c.t, c.l, got)
		}
	}
}

func FuzzScanner(f *testing.F) {
	for _, s := range []string{
		"", "()", "a () b", "10.0.0.1:80", "/x HTTP/1.1", "Fri Jun 17 07:07:00 2005",
		"password=", "Bearer", "eyJ..", "a@b.c", "2016-01-02T", "node-", "x.....1", "::", "\xff\x00",
		"[<0211476a>] f+0x1/0x2", "I1125 17:40:07.1 x", "2026/11/25 25/Nov/2026", "+0x1", "a+0x",
	} {
		f.Add(s)
	}
	cfg, _ := Preset("default")
	cfg.MaxTokens = 64
	cfg.MaxLineBytes = 4096
	tk := newDefaultTokenizer(&cfg)
	f.Fuzz(func(t *testing.T, line string) {
		s := &scratch{}
		tk.tokens(s, line, true)
		if len(s.tokList()) > cfg.MaxTokens {
			t.Fatalf("%d tokens > MaxTokens", len(s.tokList()))
		}
		for _, tok := range s.tokList() {
			if tok == "" || strings.ContainsAny(tok, " \t\n\x00") || !utf8.ValidString(tok) {
				t.Fatalf("bad token %q from %q", tok, line)
			}
		}
		if diff := scanBoth(line); diff != "" {
			t.Fatalf("%q: %s", line, diff)
		}
		// Masking is idempotent: a masked line masks to itself.
		once := tk.mask(line)
		if len(s.tokList()) < cfg.MaxTokens && strings.Join(s.tokList(), " ") != once {
			t.Fatalf("tokens %q disagree with mask %q for %q", s.tokList(), once, line)
		}
		if twice := tk.mask(once); twice != once {
			t.Fatalf("mask not idempotent: %q -> %q -> %q", line, once, twice)
		}
		// Every template covers the line it came from.
		toks := append([]string(nil), s.tokList()...)
		tmpl := append([]string(nil), toks...)
		if !coversAll(tmpl, toks) || (defaultScorer{}).merge(tmpl, toks) {
			t.Fatalf("template does not cover its own line %q", line)
		}
	})
}

// BenchmarkScanDefault is the default tokenizer alone (masking + split) over
// all datasets; compare with BenchmarkFloor and BenchmarkAddHotDefault.
func BenchmarkScanDefault(b *testing.B) {
	var lines []string
	for _, l := range sequential(b) {
		lines = append(lines, l.line)
	}
	benchScan(b, lines)
}

// benchScan runs the default tokenizer over lines in turn.
func benchScan(b *testing.B, lines []string) {
	cfg, _ := Preset("default")
	tk := newDefaultTokenizer(&cfg)
	s := &scratch{}
	b.ReportAllocs()
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		tk.tokens(s, lines[i%len(lines)], true)
	}
	cpu.stop(b)
}

func maskedString(s string) string {
	out, _ := appendMasked(nil, s)
	return string(out)
}

// One huge token full of variables, twice: the glob matcher is bounded, so
// this is quick, and the second line still joins the first one's cluster.
func TestDefaultHostileToken(t *testing.T) {
	cfg, _ := Preset("default")
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := "x" + strings.Repeat("a=1,", 16<<10)
	b := "x" + strings.Repeat("a=1,", 16<<10-1) + "a=1;"
	r1, r2, r3 := m.Add("p", a), m.Add("p", b), m.Add("p", b)
	if r1.Kind != Created || r2.ClusterID != r1.ClusterID || r3.Kind != Known {
		t.Errorf("kinds %v %v %v, clusters %d %d", r1.Kind, r2.Kind, r3.Kind, r1.ClusterID, r2.ClusterID)
	}
}

// scanBoth scans line with and without plainRun (the word-by-word
// reference it must agree with) and describes the first difference in what
// they write: bytes, token boundaries, the special flag.
func scanBoth(line string) string {
	var st [2]scanState
	var special [2]bool
	for k := range st {
		st[k] = scanState{sepClean: true, noRuns: k == 1}
		special[k] = st[k].scan(line[kernelStampEnd(line):])
	}
	a, b := &st[0], &st[1]
	if !bytes.Equal(a.dst, b.dst) || special[0] != special[1] || a.spill != b.spill ||
		!slices.Equal(a.spaces[:a.nsp], b.spaces[:b.nsp]) {
		return fmt.Sprintf("plainRun writes %q %v (special %v), word by word %q %v (special %v)",
			a.dst, a.spaces[:a.nsp], special[0], b.dst, b.spaces[:b.nsp], special[1])
	}
	return ""
}

// TestScanReusedState scans each line after another with the same
// scanState, as tokens does: the raw word plainRun classified last on the
// line before (scanState.next) must not be taken for a word of this one.
func TestScanReusedState(t *testing.T) {
	lines := []string{"a b 1.2.3.4 c", "a b 12 x", "a b c:d", "x y block bytes", "a b cd 1.2.3", "a b c", "p q 7:",
		"a b 1234567890", "go to Jan 2 15:04:05 x", "a b c d e f g 12", "abcdefghijkl: wxyz"}
	var sc scanState
	for _, first := range lines {
		for _, line := range lines {
			sc.reset(nil)
			sc.scan(first)
			sc.reset(nil)
			sc.scan(line)
			if want := maskedString(line); string(sc.dst) != want {
				t.Errorf("%q after %q: %q, want %q", line, first, sc.dst, want)
			}
		}
	}
}

// TestPlainRunsWriteWhatTheLoopWrites runs the scanner with and without
// plainRun over lines built to start, stop and resume runs at every rule
// plainRun defers to the loop for.
func TestPlainRunsWriteWhatTheLoopWrites(t *testing.T) {
	words := []string{"alpha", "Beta", "in", "x", "Jan", "Mon", "ABC", "abc", "bearer", "Basic", "basics", "token",
		"password", "eyJhbGciOiJIUzI1NiJ9xx", "eabcdefghijklmnopqrstuvwxyz", "host:80", "a:b", "id=7", "v1", "1.2.3.4",
		"a.b", "end.", "x-y", "a@b.cc", "caf\xc3\xa9", "/p/1", "key:", "k", "(x)", "\"q\"", "a,b", "", " ",
		"http://h/p", "C:\\dir", "Jan 2 15:04:05", "Mon Jan 2 15:04:05 2006", "akka.tcp://x", "Sun 15:04:05",
		"eyJhbGciOiJIUzINiJabcdefg=.x.y", "kube-proxy", "-x-", "a--b", "x-1",
		"true", "False", "NULL", "nulls", "truex", "<1", ">5", "1190 bytes (1.16 KB)", "lifetime <1 sec",
		"42", "7", "an14", "an15", "GET", "Jan 12", "12:30", "12ab", "1_2", "3:", "007"}
	for _, line := range []string{
		"an14 10.0.0.1 foo an15", "an14 42 foo an15", "x 42 y 7 z", "GET /a HTTP/1.1 200 ok then", "1 2 bearer x",
		"served in 12 ms", "user 43 logged in from session 53225", "a 1 2 b", "a 1: b", "a 12ab c", "a 1_2 b",
		"worker 5 finished job 45 in 6.045s", "id=7 in 3 ms", "basic 42 x", "an14 7 an15", "a 1",
	} {
		if diff := scanBoth(line); diff != "" {
			t.Fatalf("%q: %s", line, diff)
		}
	}
	var b strings.Builder
	for i := range 20000 {
		b.Reset()
		for k := 0; k < 1+i%9; k++ {
			if k > 0 {
				b.WriteString([]string{" ", " ", " ", "  ", ", ", "=", ": ", "\t"}[(i*7+k)%8])
			}
			b.WriteString(words[(i*31+k*17+k*k*i)%len(words)])
		}
		if diff := scanBoth(b.String()); diff != "" {
			t.Fatalf("%q: %s", b.String(), diff)
		}
	}
}

// TestAppendPiece checks the block copy against append for every piece of
// lines of up to 40 bytes, into buffers with no room, a little room and
// room to spare after their contents.
func TestAppendPiece(t *testing.T) {
	full := "abcdefghijklmnopqrstuvwxyz0123456789ABCD"
	for _, room := range []int{0, 1, 15, 16, 17, 64} {
		for n := 0; n <= len(full); n++ {
			line := full[:n]
			for i := 0; i <= n; i++ {
				for j := i; j <= n; j++ {
					dst := make([]byte, 3, 3+room)
					copy(dst, "x y")
					got := appendPiece(dst, line, i, j)
					if want := "x y" + line[i:j]; string(got) != want {
						t.Fatalf("room %d, line %q [%d:%d]: got %q, want %q", room, line, i, j, got, want)
					}
				}
			}
		}
	}
}

// TestDotsAt checks dotsAt against strings.Index on random words of dots,
// letters and spaces, at every alignment, near the line's end included.
// TestPairAt checks pairClass against byteClass for every pair of bytes,
// read at both an even and an odd offset.
func TestPairAt(t *testing.T) {
	for x := range 1 << 16 {
		b := []byte{'.', byte(x), byte(x >> 8), '.'}
		s := string(b)
		lp := unsafe.Pointer(unsafe.StringData(s))
		want := byteClass[b[1]] | byteClass[b[2]]
		if got := pairAt(lp, 1); got != want {
			t.Fatalf("pairAt(%q, 1) = %#x, want %#x", s, got, want)
		}
		if got, want := pairAt(lp, 2), byteClass[b[2]]|byteClass['.']; got != want {
			t.Fatalf("pairAt(%q, 2) = %#x, want %#x", s, got, want)
		}
	}
}

func TestDotsAt(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for it := 0; it < 200000; it++ {
		b := make([]byte, r.Intn(40))
		for x := range b {
			if r.Intn(3) == 0 {
				b[x] = '.'
			} else {
				b[x] = "a.b /"[r.Intn(5)]
			}
		}
		s := string(b)
		i := r.Intn(len(s) + 1)
		k := i + r.Intn(len(s)-i+1)
		want := strings.Index(s[i:k], "..")
		if want >= 0 {
			want += i
		}
		if got := dotsAt(s, i, k); got != want {
			t.Fatalf("dotsAt(%q, %d, %d) = %d, want %d", s, i, k, got, want)
		}
	}
}
