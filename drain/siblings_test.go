package drain

import (
	"fmt"
	"slices"
	"testing"
)

// TestSiblingEvidence: a word position holding SiblingValues distinct
// lower-case names across templates otherwise identical becomes a variable
// (one Generalized, later values Known); fewer values, or words with
// capitals, stay apart.
func TestSiblingEvidence(t *testing.T) {
	for _, c := range []struct {
		name  string
		lines []string
		want  []Kind // per line
		final string // the last line's template
	}{
		{"process names in parentheses",
			[]string{"Out of Memory: Killed process 6980 (httpd).", "Out of Memory: Killed process 6981 (sendmail).",
				"Out of Memory: Killed process 6982 (python).", "Out of Memory: Killed process 6983 (java).",
				"Out of Memory: Killed process 6984 (mysqld)."},
			[]Kind{Created, Created, Created, Generalized, Known}, "Out of Memory: Killed process <*> (<*>)."},
		{"daemons first on the line (a key position)",
			[]string{"klogd startup succeeded", "syslogd startup succeeded", "ntpd startup succeeded",
				"crond startup succeeded", "sshd startup succeeded", "klogd startup succeeded"},
			[]Kind{Created, Created, Created, Generalized, Known, Known}, "<*> startup succeeded"},
		{"drivers",
			[]string{"usbcore: registered new driver hub", "usbcore: registered new driver usbfs",
				"usbcore: registered new driver hiddev", "usbcore: registered new driver usbhid",
				"usbcore: registered new driver snd-usb"},
			[]Kind{Created, Created, Created, Generalized, Known}, "usbcore: registered new driver <*>"},
		{"two values are no evidence",
			[]string{"Accepted password for root from 10.0.0.1 port 22 ssh2", "Failed password for root from 10.0.0.1 port 22 ssh2",
				"Accepted password for root from 10.0.0.2 port 23 ssh2"},
			[]Kind{Created, Created, Known}, "Accepted password for root from <*> port <*> ssh2"},
		{"words with capitals name events",
			[]string{"[instance: 1] VM Started (Lifecycle Event)", "[instance: 2] VM Stopped (Lifecycle Event)",
				"[instance: 3] VM Paused (Lifecycle Event)", "[instance: 4] VM Resumed (Lifecycle Event)"},
			[]Kind{Created, Created, Created, Created}, "[instance: <*>] VM Resumed (Lifecycle Event)"},
		{"a name with a process id may have capitals",
			[]string{"Safari(412) deny mach-lookup com.apple.networkd", "WebKit(413) deny mach-lookup com.apple.networkd",
				"SpotlightNetHelper(414) deny mach-lookup com.apple.networkd", "QuickLookUIService(415) deny mach-lookup com.apple.networkd",
				"Mail(416) deny mach-lookup com.apple.networkd"},
			[]Kind{Created, Created, Created, Generalized, Known}, "<*> deny mach-lookup com.apple.networkd"},
		{"a labelled value may have capitals",
			[]string{"profileRemoved, Owner: AirPort, Name: Foo", "profileRemoved, Owner: AirPort, Name: BarBaz",
				"profileRemoved, Owner: AirPort, Name: QUX", "profileRemoved, Owner: AirPort, Name: Quux2",
				"profileRemoved, Owner: AirPort, Name: Corge"},
			[]Kind{Created, Created, Created, Generalized, Known}, "profileRemoved, Owner: AirPort, Name: <*>"},
		{"capitals without a label stay events",
			[]string{"ROOT LOGIN ON tty2", "USER LOGIN ON tty2", "GUEST LOGIN ON tty2", "ADMIN LOGIN ON tty2"},
			[]Kind{Created, Created, Created, Created}, "ADMIN LOGIN ON tty2"},
		{"a value the scorer widens may differ too",
			[]string{`avc: denied { read } for pid=2180 comm="syslogd" name="log"`, `avc: denied { setattr } for pid=2181 comm="klogd" name="log"`,
				`avc: denied { write } for pid=2182 comm="crond" name="log"`, `avc: denied { getattr } for pid=2183 comm="sshd" name="log"`,
				`avc: denied { read } for pid=2184 comm="sshd" name="log"`},
			[]Kind{Created, Created, Created, Generalized, Known}, `avc: denied { <*> } for pid=<*> comm="<*>" name="log"`},
		{"one name at two positions",
			[]string{"SELinux: initialized (dev devpts, type devpts), uses transition SIDs", "SELinux: initialized (dev tmpfs, type tmpfs), uses transition SIDs",
				"SELinux: initialized (dev mqueue, type mqueue), uses transition SIDs", "SELinux: initialized (dev sysfs, type sysfs), uses transition SIDs",
				"SELinux: initialized (dev sda1, type ext3), uses transition SIDs"},
			[]Kind{Created, Created, Created, Generalized, Known}, "SELinux: initialized (dev <*>, type <*>), uses transition SIDs"},
		{"two names at two positions: not siblings",
			[]string{"SELinux: initialized (dev devpts, type devpts), uses transition SIDs", "SELinux: initialized (dev proc, type procfs), uses transition SIDs",
				"SELinux: initialized (dev mqueue, type mq), uses transition SIDs", "SELinux: initialized (dev hugetlbfs, type huge), uses transition SIDs"},
			[]Kind{Created, Created, Created, Created}, "SELinux: initialized (dev hugetlbfs, type huge), uses transition SIDs"},
		{"two positions differ: not siblings",
			[]string{"alpha job started on node", "beta task started on node", "gamma step started on node", "delta unit started on node"},
			[]Kind{Created, Created, Created, Created}, "delta unit started on node"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, _ := Preset("default")
			m, _ := New(cfg)
			var got []Kind
			var r Result
			for _, l := range c.lines {
				r = m.Add("p", l)
				got = append(got, r.Kind)
			}
			if !slices.Equal(got, c.want) || r.Template != c.final {
				t.Errorf("kinds %v, last template %q; want %v, %q", got, r.Template, c.want, c.final)
			}
			checkTree(t, m)
		})
	}
}

// TestSiblingMergeFolds: the merged template takes the siblings' lines
// (their sizes added), the folded clusters are gone, the parent is the
// oldest sibling's template, and the drain3 preset never merges.
func TestSiblingMergeFolds(t *testing.T) {
	cfg, _ := Preset("default")
	m, _ := New(cfg)
	var r Result
	for i, d := range []string{"cupsd", "hcid", "klogd", "cupsd", "portmap"} {
		r = m.Add("p", fmt.Sprintf("%s startup succeeded", d))
		if i == 3 && r.Kind != Known {
			t.Fatalf("a repeated value before the merge: %v", r.Kind)
		}
	}
	st := m.Stats()
	if r.Kind != Generalized || r.ParentTemplate != "cupsd startup succeeded" || r.Size != 5 || st.Clusters != 1 || st.SiblingMerges != 1 {
		t.Errorf("result %+v, stats %+v", r, st)
	}
	checkTree(t, m)

	d3, _ := Preset("drain3")
	if d3.SiblingValues != 0 {
		t.Fatalf("drain3 preset SiblingValues %d, want 0", d3.SiblingValues)
	}
}

// TestSiblingWarmStart: a restart that seeds the templates a run stored
// (the merged one and the folded siblings, none of them a parent of
// another) and sees the same lines again creates nothing.
func TestSiblingWarmStart(t *testing.T) {
	lines := []string{}
	for i, d := range []string{"klogd", "syslogd", "ntpd", "crond", "sshd", "atd", "klogd"} {
		lines = append(lines, fmt.Sprintf("%s startup succeeded", d), fmt.Sprintf("Out of Memory: Killed process %d (%s).", 100+i, d))
	}
	cfg, _ := Preset("default")
	m, _ := New(cfg)
	stored := map[string]string{} // id → template, as PostgreSQL keeps them
	parents := map[string]bool{}
	for _, l := range lines {
		r := m.Add("p", l)
		if r.Kind == Created || r.Kind == Generalized {
			stored[r.TemplateID] = r.Template
		}
		if r.ParentID != "" {
			parents[r.ParentID] = true
		}
	}
	warm, _ := New(cfg)
	for id, tmpl := range stored {
		if !parents[id] {
			if _, err := warm.Seed("p", tmpl); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, l := range lines {
		if r := warm.Add("p", l); r.Kind == Created {
			t.Errorf("after a warm start %q is new again", l)
		}
	}
	checkTree(t, warm)
}

// TestSiblingsNotInFlood: a flooding partition learns no generalization
// from siblings (it creates nothing either); the same lines in a partition
// that is not flooding do.
func TestSiblingsNotInFlood(t *testing.T) {
	for _, flood := range []bool{false, true} {
		cfg, _ := Preset("default")
		cfg.NewTemplateBurst, cfg.NewTemplateRate = 20, 0
		m, _ := New(cfg)
		fakeClock(m)
		for _, d := range []string{"klogd", "syslogd", "ntpd"} {
			m.Add("p", d+" startup succeeded")
		}
		if flood {
			for _, l := range floodLines(9, 100) {
				m.Add("p", l)
			}
		}
		r := m.Add("p", "crond startup succeeded")
		if st := m.Stats(); flood && (st.SiblingMerges != 0 || r.Kind == Generalized) || !flood && st.SiblingMerges != 1 {
			t.Errorf("flood %v: %d sibling merges, the fourth daemon %v", flood, st.SiblingMerges, r.Kind)
		}
	}
}

// TestSiblingFoldReported: the merge's Result names the siblings it folded
// (Result.Absorbed, Stats.Absorbed), so that a consumer moves their lines.
func TestSiblingFoldReported(t *testing.T) {
	m := newMiner(t, func(cfg *Config) { *cfg, _ = Preset("default") })
	var last Result
	for _, d := range []string{"klogd", "syslogd", "ntpd", "crond"} {
		last = m.Add("", d+" startup succeeded")
	}
	if last.Kind != Generalized || last.ClusterID != 1 || !slices.Equal(slices.Sorted(slices.Values(last.Absorbed)), []uint64{2, 3}) {
		t.Fatalf("the fourth daemon: %s cluster %d absorbed %v, want generalized 1 absorbed [2 3]", last.Kind, last.ClusterID, last.Absorbed)
	}
	if st := m.Stats(); st.Absorbed != 2 || st.Clusters != 1 {
		t.Errorf("Stats.Absorbed %d, Clusters %d; want 2 and 1", st.Absorbed, st.Clusters)
	}
	if r := m.Add("", "sshd startup succeeded"); r.Kind != Known || r.Absorbed != nil {
		t.Errorf("a later daemon: %s absorbed %v, want known, none", r.Kind, r.Absorbed)
	}
}
