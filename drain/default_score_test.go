package drain

import (
	"strings"
	"testing"
)

// TestDefaultScorerPairs adds two lines of one length to a fresh default
// miner and checks whether the second joins the first's cluster: values
// merge, words that name events keep lines apart.
func TestDefaultScorerPairs(t *testing.T) {
	tests := []struct {
		name  string
		a, b  string
		merge bool
	}{
		{"different verbs", "VM Started on host", "VM Paused on host", false},
		{"value after =", "session opened user=root", "session opened user=news", true},
		{"value after keyword", "session opened for user root", "session opened for user news", true},
		{"quoted value after =", `SyncLoop probe status="ready" pod="shop/web-1"`, `SyncLoop probe status="ready" pod="billing/billing-2"`, true},
		{"quoted value after = (word)", `SyncLoop probe probe="readiness" status="ready"`, `SyncLoop probe probe="liveness" status="ready"`, true},
		{"quoted part inside a token", `watch of object-"kube-system"/"ca.crt": ended`, `watch of object-"billing"/"ca.crt": ended`, true},
		{"standalone quoted name stays a word", "Successfully started service 'sparkDriver' on port", "Successfully started service 'blockManager' on port", false},
		{"absolute DNS name", `"A IN redis.cache.svc.cluster.local. udp" NOERROR`, `"A IN api.example.com. udp" NOERROR`, true},
		{"dotted logger name stays a word", "event from nova.compute.manager done", "event from nova.virt.imagecache done", false},
		{"value of a ; separated field", "x : USER=root ; COMMAND=<*> restart kubelet", "x : USER=root ; COMMAND=<*> restart chrony", true},
		{"word before the ; field stays a word", "x : USER=root started ; COMMAND=<*> restart", "x : USER=root stopped ; COMMAND=<*> restart", false},
		{"names of other stems", "proxy open through proxy HTTPS", "proxy open through proxy SOCKS5", false},
		{"interfaces of other stems", "detected connection via interface ee0", "detected connection via interface alt0", false},
		{"names of one stem", "detected connection via interface eth0", "detected connection via interface eth1", true},
		{"value of a label: field", "Loading hive: SOFTWARE, into key", "Loading hive: SYSTEM, into key", true},
		{"word after a label: without comma stays a word", "Loading hive: SOFTWARE into key", "Loading hive: SYSTEM into key", false},
		{"other key names", "getRecentTasks: num=20,flags=62,totalTasks=46", "getRecentTasks: topActivity=ComponentInfo{com.x/com.x.Main}", false},
		{"other key after a common part", "getDataEnabled: subId=0 phoneId=0", "getDataEnabled: subId=0 retVal=true", false},
		{"same key, other value", "getRecentTasks: topActivity=ComponentInfo{com.x/com.x.Main}", "getRecentTasks: topActivity=ComponentInfo{com.y/com.y.Splash}", true},
		{"boolean value", "interceptKeyTq keycode=4 down true canceled false", "interceptKeyTq keycode=4 down false canceled false", true},
		{"lettered series", "PCI Interrupt Link [LNKD] enabled", "PCI Interrupt Link [LNKE] enabled", true},
		{"upper-case words of other stems", "status NOERROR for query", "status NXDOMAIN for query", false},
		{"upper-case words differing inside", "mode SEND done", "mode SAND done", false},
		{"first token under one namespace", "com.apple.CacheDelete.daily: scheduler told me to run this job now", "com.apple.icloud.fmfd.heartbeat: scheduler told me to run this job now", true},
		{"first token a value", "com.apple.CacheDelete.daily: scheduler told me to run this job now", "x-coredata://DB05/p11: scheduler told me to run this job now", true},
		{"first token names the event", "Failed password for root from 1.2.3.4 port 22 ssh2", "Accepted password for root from 1.2.3.4 port 22 ssh2", false},
		{"first token without a common namespace", "getTasks: caller 10 does not hold REAL_GET_TASKS; limiting output", "getRunningAppProcesses: caller 10 does not hold REAL_GET_TASKS; limiting output", false},
		{"first token an upper-case code", "DSDT (v001 DELL PE BKC 0x00000001 MSFT 0x0100000e) @ 0x0000000000000000", "FADT (v001 DELL PE BKC 0x00000001 MSFT 0x0100000a) @ 0x00000000000fd6b0", true},
		{"first token a capitalised word", "Started session for user root on tty1 now", "Stopped session for user root on tty1 now", false},
		{"short line keeps its first token", "com.apple.a: job run now", "com.apple.b: job run now", false},
		{"sibling host names", "My unqualified host name (aadmin1) unknown", "My unqualified host name (badmin1) unknown", true},
		{"kernel symbols glued to their offsets", "[<c0123456>] schedule+0x1a/0x40", "[<c0123457>] do_exit+0x2b/0x50", false},
		{"one kernel symbol, other offsets", "[<c0123456>] schedule+0x1a/0x40", "[<c0123450>] schedule+0x1b/0x44", true},
		{"words glued by a symbol", "torus receiver x+ input pipe error detected", "torus receiver y+ input pipe error detected", false},
		{"last parts of a path", "Unloading hive: {<*>}GLOBALROOT/Windows/config/SAM", "Unloading hive: {<*>}GLOBALROOT/Windows/config/SYSTEM", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _ := Preset("default")
			m, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			m.Add("p", tt.a)
			r := m.Add("p", tt.b)
			if merged := r.Kind != Created; merged != tt.merge {
				t.Errorf("second line %v (template %q), want merged %v", r.Kind, r.Template, tt.merge)
			}
		})
	}
}

// TestIsValueKeyword: the length dispatch agrees with strings.EqualFold on
// the keywords in every ASCII case and on words that are near them.
func TestIsValueKeyword(t *testing.T) {
	words := []string{"user", "USER", "User", "uSeR", "host", "HOST", "node", "Node", "domain", "DOMAIN", "for", "FOR", "For",
		"users", "use", "hosts", "nod", "domains", "fo", "", "u$er", "{or", "f0r", "dom@in", "n0de", "FOr:", "[or"}
	for _, w := range words {
		want := false
		for _, k := range valueKeywords {
			want = want || strings.EqualFold(w, k)
		}
		if got := isValueKeyword(w); got != want {
			t.Errorf("isValueKeyword(%q) = %v, want %v", w, got, want)
		}
	}
}

// TestIsUnit: isUnit agrees with the map lookup of the trimmed word, and
// no unit is longer than the 7 bytes it looks up.
func TestIsUnit(t *testing.T) {
	words := []string{}
	for u := range unitWords {
		words = append(words, u, u+",", u+");", strings.ToLower(u), strings.ToUpper(u), u+"x", "x"+u, u[:len(u)-1])
	}
	for _, w := range append(words, "ms", "ms,", "ms);", "MB)", "seconds", "seconds,,", "secondss", "", ",", ")", "KiB;", "kb", "bytes)", "B", "x,ms") {
		if got, want := isUnit(w), unitWords[strings.TrimRight(w, ",;)")]; got != want {
			t.Errorf("isUnit(%q) = %v, want %v", w, got, want)
		}
	}
}
