// Command samplegen writes the sample logs in testdata/samples: node syslog files in both
// timestamp styles, journald records and Kubernetes container records, shaped like the
// records Fluent Bit hands to the drain output (docs/fluent-bit.md#records). Output is a pure function of
// the seed, so the committed files can be regenerated and reviewed as diffs:
//
//	go run ./internal/samplegen -out testdata/samples
//
// Each file ends with a burst of a message pattern that appears nowhere earlier, so a run
// over the samples visibly reports new templates there.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	out := flag.String("out", "testdata/samples", "directory the sample files are written to")
	seed := flag.Uint64("seed", defaultSeed, "random seed; the same seed gives byte-identical files")
	flag.Parse()
	if err := run(*out, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "samplegen:", err)
		os.Exit(1)
	}
}

// defaultSeed is the seed of the committed samples.
const defaultSeed = 20261125

// start is the first timestamp of every file; the samples cover about an hour after it.
var start = time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)

func run(dir string, seed uint64) error {
	files := []struct {
		name  string
		lines func(g *gen) []rec
	}{
		{"syslog.log", func(g *gen) []rec { return g.syslog(1500, rfc3164) }},
		{"syslog-rfc3339.log", func(g *gen) []rec { return g.syslog(300, rfc3339) }},
		{"journald.jsonl", func(g *gen) []rec { return g.journald(1200) }},
		{"containers.jsonl", func(g *gen) []rec { return g.containers(2000) }},
	}
	for i, f := range files {
		// One stream per file, so changing one generator leaves the other files unchanged.
		g := &gen{r: rand.New(rand.NewPCG(seed, uint64(i))), now: start}
		var buf, truth bytes.Buffer
		for _, l := range f.lines(g) {
			buf.WriteString(l.line)
			buf.WriteByte('\n')
			truth.WriteString(l.label)
			truth.WriteByte('\n')
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
		name := strings.TrimSuffix(f.name, filepath.Ext(f.name)) + ".truth"
		if err := os.WriteFile(filepath.Join(dir, name), truth.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// rec is one sample record and the label of the message pattern it was made from: the
// generator's format with its variables unfilled. Records of one label are one event,
// whatever values they carry; the .truth files hold one label per record, in order.
type rec struct{ line, label string }

// msg is a message and its pattern label.
type msg struct{ text, label string }

// pickMsg picks one of ms (one random draw, like pick).
func (g *gen) pickMsg(ms []msg) msg { return ms[g.r.IntN(len(ms))] }

type gen struct {
	r   *rand.Rand
	now time.Time
}

// tick advances the clock by up to max milliseconds.
func (g *gen) tick(max int) time.Time {
	g.now = g.now.Add(time.Duration(1+g.r.IntN(max)) * time.Millisecond).Add(time.Duration(g.r.IntN(1000)) * time.Microsecond)
	return g.now
}

func (g *gen) pick(s []string) string { return s[g.r.IntN(len(s))] }
func (g *gen) n(lo, hi int) int       { return lo + g.r.IntN(hi-lo+1) }
func (g *gen) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.r.IntN(16)]
	}
	return string(b)
}
func (g *gen) b64(n int) string {
	const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.r.IntN(len(digits))]
	}
	return string(b)
}
func (g *gen) publicIP() string {
	return fmt.Sprintf("%d.%d.%d.%d", g.pick4([]int{198, 203, 192, 45}), g.n(0, 255), g.n(0, 255), g.n(1, 254))
}
func (g *gen) pick4(s []int) int { return s[g.r.IntN(len(s))] }
func (g *gen) podIP() string     { return fmt.Sprintf("10.244.%d.%d", g.n(0, 7), g.n(2, 250)) }
func (g *gen) nodeIP() string    { return fmt.Sprintf("10.0.%d.%d", g.n(0, 3), g.n(4, 200)) }
func (g *gen) port() int         { return g.n(32768, 60999) }

// ---- node syslog files ----

type tsStyle int

const (
	rfc3164 tsStyle = iota // Nov 25 17:40:07
	rfc3339                // 2026-11-25T17:40:07.123456+00:00
)

const host = "node-a1"

var users = []string{"ubuntu", "admin", "deploy", "ci-runner", "ops"}
var badUsers = []string{"oracle", "test", "postgres", "git", "pi", "support", "user1", "ftpuser"}

// syslogLine is one file line: program, optional pid (0 = none), message and its label.
type syslogLine struct {
	prog  string
	pid   int
	msg   string
	label string
}

func (g *gen) syslog(count int, style tsStyle) []rec {
	burst := count - count/12
	kubeletPID, containerdPID, logindPID := 1123, 731, 812
	session := 40
	var lines []rec
	for len(lines) < count {
		t := g.tick(4000)
		var ls []syslogLine
		if len(lines) >= burst {
			ls = g.oomKill(t)
		} else {
			switch k := g.r.IntN(100); {
			case k < 22:
				ls = g.sshd(&session, logindPID)
			case k < 34:
				ls = []syslogLine{g.systemd1(t)}
			case k < 44:
				ls = g.cron()
			case k < 56:
				m := g.kernelMsg(t)
				ls = []syslogLine{{"kernel", 0, m.text, m.label}}
			case k < 72:
				m := g.containerdMsg(t)
				ls = []syslogLine{{"containerd", containerdPID, m.text, m.label}}
			case k < 92:
				m := g.kubeletMsg(t, kubeletPID)
				ls = []syslogLine{{"kubelet", kubeletPID, m.text, m.label}}
			case k < 96:
				ls = []syslogLine{g.chronyd()}
			default:
				ls = []syslogLine{{"sudo", 0, fmt.Sprintf("  %[1]s : TTY=pts/%[2]d ; PWD=/home/%[1]s ; USER=root ; COMMAND=/usr/bin/systemctl restart %[3]s",
					g.pick(users), g.n(0, 3), g.pick([]string{"kubelet", "containerd", "chrony"})), "sudo:systemctl-restart"}}
			}
		}
		for i, l := range ls {
			if len(lines) == count {
				break
			}
			if i > 0 {
				t = g.tick(60)
			}
			var ts string
			if style == rfc3164 {
				ts = t.Format(time.Stamp)
			} else {
				ts = t.Format("2006-01-02T15:04:05.000000-07:00")
			}
			prog := l.prog
			if l.pid > 0 {
				prog = fmt.Sprintf("%s[%d]", l.prog, l.pid)
			}
			lines = append(lines, rec{fmt.Sprintf("%s %s %s: %s", ts, host, prog, l.msg), l.label})
		}
	}
	return lines
}

func (g *gen) sshd(session *int, logindPID int) []syslogLine {
	pid := g.n(20000, 60000)
	ip, port := g.publicIP(), g.port()
	switch g.r.IntN(4) {
	case 0:
		u := g.pick(badUsers)
		return []syslogLine{
			{"sshd", pid, fmt.Sprintf("Invalid user %s from %s port %d", u, ip, port), "sshd:invalid-user"},
			{"sshd", pid, fmt.Sprintf("Failed password for invalid user %s from %s port %d ssh2", u, ip, port), "sshd:failed-password-invalid"},
			{"sshd", pid, fmt.Sprintf("Connection closed by invalid user %s %s port %d [preauth]", u, ip, port), "sshd:closed-invalid-preauth"},
		}
	case 1:
		return []syslogLine{{"sshd", pid, fmt.Sprintf("Connection closed by %s port %d [preauth]", ip, port), "sshd:closed-preauth"}}
	default:
		u := g.pick(users)
		*session++
		return []syslogLine{
			{"sshd", pid, fmt.Sprintf("Accepted publickey for %s from %s port %d ssh2: ED25519 SHA256:%s", u, ip, port, g.b64(43)), "sshd:accepted-publickey"},
			{"sshd", pid, fmt.Sprintf("pam_unix(sshd:session): session opened for user %s(uid=%d) by (uid=0)", u, 1000+g.r.IntN(5)), "sshd:pam-session-opened"},
			{"systemd-logind", logindPID, fmt.Sprintf("New session %d of user %s.", *session, u), "logind:new-session"},
			{"systemd", 1, fmt.Sprintf("Started session-%d.scope - Session %d of User %s.", *session, *session, u), "systemd:started-session-scope"},
			{"sshd", pid, fmt.Sprintf("Received disconnect from %s port %d:11: disconnected by user", ip, port), "sshd:received-disconnect"},
			{"sshd", pid, fmt.Sprintf("pam_unix(sshd:session): session closed for user %s", u), "sshd:pam-session-closed"},
			{"systemd-logind", logindPID, fmt.Sprintf("Session %d logged out. Waiting for processes to exit.", *session), "logind:session-logged-out"},
			{"systemd-logind", logindPID, fmt.Sprintf("Removed session %d.", *session), "logind:removed-session"},
		}
	}
}

func (g *gen) systemd1(t time.Time) syslogLine {
	id := g.hex(64)
	msgs := []msg{
		{fmt.Sprintf("Started cri-containerd-%s.scope - libcontainer container %s.", id, id), "systemd:started-container-scope"},
		{fmt.Sprintf("cri-containerd-%s.scope: Deactivated successfully.", id), "systemd:container-scope-deactivated"},
		{fmt.Sprintf("cri-containerd-%s.scope: Consumed %.3fs CPU time.", id, float64(g.n(1, 90000))/1000), "systemd:container-scope-consumed"},
		{fmt.Sprintf("run-containerd-io.containerd.runtime.v2.task-k8s.io-%s-rootfs.mount: Deactivated successfully.", id), "systemd:rootfs-mount-deactivated"},
		{fmt.Sprintf("var-lib-kubelet-pods-%s-%s-%s-%s-%s-volumes-kubernetes.io\\x7eprojected-kube\\x2dapi\\x2daccess\\x2d%s.mount: Deactivated successfully.", g.hex(8), g.hex(4), g.hex(4), g.hex(4), g.hex(12), g.hex(5)), "systemd:volume-mount-deactivated"},
		{"Starting logrotate.service - Rotate log files...", "systemd:starting-logrotate"},
		{"logrotate.service: Deactivated successfully.", "systemd:logrotate-deactivated"},
		{"Finished logrotate.service - Rotate log files.", "systemd:finished-logrotate"},
		{"Starting sysstat-collect.service - system activity accounting tool...", "systemd:starting-sysstat"},
		{"sysstat-collect.service: Deactivated successfully.", "systemd:sysstat-deactivated"},
		{fmt.Sprintf("kubelet.service: Consumed %dmin %d.%03ds CPU time.", g.n(1, 59), g.n(0, 59), g.n(0, 999)), "systemd:kubelet-consumed"},
	}
	m := g.pickMsg(msgs)
	return syslogLine{"systemd", 1, m.text, m.label}
}

func (g *gen) cron() []syslogLine {
	pid := g.n(100000, 200000)
	cmd := g.pick([]string{
		"command -v debian-sa1 > /dev/null && debian-sa1 1 1",
		"cd / && run-parts --report /etc/cron.hourly",
		"/usr/local/bin/node-healthcheck.sh >/dev/null 2>&1",
	})
	return []syslogLine{
		{"CRON", pid, "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)", "cron:pam-session-opened"},
		{"CRON", pid, fmt.Sprintf("(root) CMD (%s)", cmd), "cron:cmd"},
		{"CRON", pid, "pam_unix(cron:session): session closed for user root", "cron:pam-session-closed"},
	}
}

func (g *gen) uptime(t time.Time) string {
	s := t.Sub(start).Seconds() + 864213.0
	return fmt.Sprintf("[%12.6f]", s)
}

func (g *gen) kernelMsg(t time.Time) msg {
	veth := g.hex(8)
	msgs := []msg{
		{fmt.Sprintf("IPVS: rr: TCP 10.96.%d.%d:%d - no destination available", g.n(0, 255), g.n(1, 254), g.pick4([]int{53, 80, 443, 8080, 9153})), "kernel:ipvs-no-destination"},
		{fmt.Sprintf("cni0: port %d(veth%s) entered blocking state", g.n(1, 40), veth), "kernel:cni-blocking"},
		{fmt.Sprintf("cni0: port %d(veth%s) entered forwarding state", g.n(1, 40), veth), "kernel:cni-forwarding"},
		{fmt.Sprintf("cni0: port %d(veth%s) entered disabled state", g.n(1, 40), veth), "kernel:cni-disabled"},
		{fmt.Sprintf("veth%s: entered promiscuous mode", veth), "kernel:veth-promiscuous"},
		{fmt.Sprintf("eth0: renamed from tmp%d", g.n(10000, 99999)), "kernel:eth0-renamed"},
		{fmt.Sprintf("IPv6: ADDRCONF(NETDEV_CHANGE): veth%s: link becomes ready", veth), "kernel:veth-link-ready"},
		{fmt.Sprintf("[UFW BLOCK] IN=ens5 OUT= MAC=%s SRC=%s DST=10.0.1.17 LEN=%d TOS=0x00 PREC=0x00 TTL=%d ID=%d PROTO=TCP SPT=%d DPT=%d WINDOW=%d RES=0x00 SYN URGP=0",
			g.mac(), g.publicIP(), g.n(40, 60), g.n(40, 250), g.n(1, 65535), g.port(), g.pick4([]int{22, 23, 3389, 6379, 5432}), g.n(1024, 65535)), "kernel:ufw-block"},
	}
	m := g.pickMsg(msgs)
	m.text = g.uptime(t) + " " + m.text
	return m
}

func (g *gen) mac() string {
	parts := make([]string, 14)
	for i := range parts {
		parts[i] = g.hex(2)
	}
	return strings.Join(parts, ":")
}

var images = []string{
	"docker.io/library/nginx:1.27.3",
	"ghcr.io/example/orders-api:v2.14.1",
	"registry.k8s.io/coredns/coredns:v1.11.3",
	"ghcr.io/example/billing:3.8.0",
	"registry.k8s.io/pause:3.10",
}

func (g *gen) containerdMsg(t time.Time) msg {
	ts := t.Format(time.RFC3339Nano)
	id := g.hex(64)
	msgs := []msg{
		{fmt.Sprintf(`time="%s" level=info msg="StartContainer for \"%s\" returns successfully"`, ts, id), "containerd:start-container"},
		{fmt.Sprintf(`time="%s" level=info msg="CreateContainer within sandbox \"%s\" for &ContainerMetadata{Name:%s,Attempt:%d,} returns container id \"%s\""`, ts, g.hex(64), g.pick([]string{"nginx", "api", "coredns", "billing"}), g.n(0, 4), id), "containerd:create-container"},
		{fmt.Sprintf(`time="%s" level=info msg="ImageCreate event name:\"%s\" labels:{key:\"io.cri-containerd.image\" value:\"managed\"}"`, ts, g.pick(images)), "containerd:image-create"},
		{fmt.Sprintf(`time="%s" level=info msg="RemoveContainer for \"%s\""`, ts, id), "containerd:remove-container"},
		{fmt.Sprintf(`time="%s" level=info msg="shim disconnected" id=%s namespace=k8s.io`, ts, id), "containerd:shim-disconnected"},
		{fmt.Sprintf(`time="%s" level=info msg="cleaning up dead shim" namespace=k8s.io`, ts), "containerd:cleaning-dead-shim"},
		{fmt.Sprintf(`time="%s" level=info msg="PullImage \"%s\" returns image reference \"sha256:%s\""`, ts, g.pick(images), g.hex(64)), "containerd:pull-image"},
	}
	return g.pickMsg(msgs)
}

var pods = []string{"shop/web-7f9c6d8b5-qwert", "shop/orders-api-6c4d9f7b8-h2k9m", "kube-system/coredns-5d78c9869d-x7k2p", "billing/billing-85f6c7d9b4-p4l2s", "shop/web-7f9c6d8b5-zx8cv"}

func (g *gen) klog(sev byte, t time.Time, pid int, where, text string) string {
	return fmt.Sprintf("%c%s %7d %s] %s", sev, t.Format("0102 15:04:05.000000"), pid, where, text)
}

func (g *gen) kubeletMsg(t time.Time, pid int) msg {
	pod := g.pick(pods)
	name := pod[strings.IndexByte(pod, '/')+1:]
	switch g.r.IntN(7) {
	case 0:
		return msg{g.klog('I', t, pid, "kubelet.go:2461", fmt.Sprintf(`"SyncLoop (probe)" probe="%s" status="ready" pod="%s"`, g.pick([]string{"readiness", "liveness", "startup"}), pod)), "kubelet:syncloop-probe"}
	case 1:
		return msg{g.klog('I', t, pid, "kubelet.go:2402", fmt.Sprintf(`"SyncLoop UPDATE" source="api" pods=["%s"]`, pod)), "kubelet:syncloop-update"}
	case 2:
		return msg{g.klog('I', t, pid, "kuberuntime_container.go:809", fmt.Sprintf(`"Killing container with a grace period" pod="%s" podUID="%s-%s-%s-%s-%s" containerName="%s" containerID="containerd://%s" gracePeriod=%d`,
			pod, g.hex(8), g.hex(4), g.hex(4), g.hex(4), g.hex(12), strings.Split(name, "-")[0], g.hex(64), g.pick4([]int{30, 60, 10}))), "kubelet:killing-container"}
	case 3:
		return msg{g.klog('E', t, pid, "pod_workers.go:1301", fmt.Sprintf(`"Error syncing pod, skipping" err="failed to \"StartContainer\" for \"%s\" with CrashLoopBackOff: \"back-off %s restarting failed container=%s pod=%s\"" pod="%s"`,
			strings.Split(name, "-")[0], g.pick([]string{"10s", "20s", "40s", "1m20s", "2m40s", "5m0s"}), strings.Split(name, "-")[0], name, pod)), "kubelet:error-syncing-pod"}
	case 4:
		return msg{g.klog('I', t, pid, "operation_generator.go:721", fmt.Sprintf(`"MountVolume.SetUp succeeded for volume \"kube-api-access-%s\" (UniqueName: \"kubernetes.io/projected/%s-kube-api-access-%[1]s\") pod \"%s\"`, g.hex(5), g.hex(8), name)), "kubelet:mountvolume-setup"}
	case 5:
		return msg{g.klog('W', t, pid, "reflector.go:561", fmt.Sprintf(`object-"%s"/"kube-root-ca.crt": watch of *v1.ConfigMap ended with: an error on the server ("unable to decode an event from the watch stream: http2: client connection lost") has prevented the request from succeeding`, pod[:strings.IndexByte(pod, '/')])), "kubelet:watch-ended"}
	default:
		return msg{g.klog('I', t, pid, "prober.go:107", fmt.Sprintf(`"Probe failed" probeType="Readiness" pod="%s" podUID="%s" containerName="%s" probeResult="failure" output="Get \"http://%s:8080/healthz\": dial tcp %[4]s:8080: connect: connection refused"`,
			pod, g.hex(8), strings.Split(name, "-")[0], g.podIP())), "kubelet:probe-failed"}
	}
}

func (g *gen) chronyd() syslogLine {
	pid := 702
	if g.r.IntN(2) == 0 {
		return syslogLine{"chronyd", pid, fmt.Sprintf("Selected source %s (%d.debian.pool.ntp.org)", g.publicIP(), g.n(0, 3)), "chronyd:selected-source"}
	}
	return syslogLine{"chronyd", pid, fmt.Sprintf("System clock wrong by %.6f seconds", float64(g.n(-900000, 900000))/1e6), "chronyd:clock-wrong"}
}

// oomKill is the burst at the end of the syslog files: a memory-cgroup OOM kill, a
// pattern that appears nowhere before it.
func (g *gen) oomKill(t time.Time) []syslogLine {
	pid := g.n(100000, 400000)
	proc := g.pick([]string{"java", "orders-api", "nginx"})
	cg := fmt.Sprintf("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s_%s_%s_%s_%s.slice/cri-containerd-%s.scope", g.hex(8), g.hex(4), g.hex(4), g.hex(4), g.hex(12), g.hex(64))
	up := g.uptime(t)
	return []syslogLine{
		{"kernel", 0, fmt.Sprintf("%s %s invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=%d", up, proc, g.pick4([]int{-997, 968, 999, 1000})), "kernel:oom-invoked"},
		{"kernel", 0, fmt.Sprintf("%s oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-%s.scope,mems_allowed=0,oom_memcg=%s,task_memcg=%s,task=%s,pid=%d,uid=%d", up, g.hex(64), cg, cg, proc, pid, g.pick4([]int{0, 101, 1000, 65532})), "kernel:oom-kill-constraint"},
		{"kernel", 0, fmt.Sprintf("%s Memory cgroup out of memory: Killed process %d (%s) total-vm:%dkB, anon-rss:%dkB, file-rss:%dkB, shmem-rss:0kB, UID:%d pgtables:%dkB oom_score_adj:%d",
			up, pid, proc, g.n(1000000, 9000000), g.n(200000, 900000), g.n(1000, 90000), g.pick4([]int{0, 101, 1000}), g.n(800, 4000), g.pick4([]int{968, 999, 1000})), "kernel:oom-killed-process"},
	}
}

// ---- journald ----

// obj is a JSON object that keeps its keys in insertion order, like Fluent Bit's records.
type obj []kv
type kv struct {
	k string
	v any
}

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := encode(&b, e.k); err != nil {
			return nil, err
		}
		b.WriteByte(':')
		if err := encode(&b, e.v); err != nil {
			return nil, fmt.Errorf("key %s: %w", e.k, err)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// encode writes v as JSON without HTML escaping, so "->" stays readable in the samples.
func encode(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

func line(o obj) string {
	var b bytes.Buffer
	if err := encode(&b, o); err != nil {
		panic(err) // only strings, numbers and nested obj: cannot fail
	}
	return b.String()
}

const (
	machineID = "3d1219c7c4c5404aaa1f6d2a48adfda4"
	bootID    = "b1c2d3e4f5a64b7c8d9e0f1a2b3c4d5e"
)

type unit struct {
	name, ident, comm, exe, cmdline string
	pid                             int
	transport                       string
}

var units = []unit{
	{"kubelet.service", "kubelet", "kubelet", "/usr/bin/kubelet", "/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml --kubeconfig=/etc/kubernetes/kubelet.conf", 1123, "stdout"},
	{"containerd.service", "containerd", "containerd", "/usr/bin/containerd", "/usr/bin/containerd", 731, "stdout"},
	{"ssh.service", "sshd", "sshd", "/usr/sbin/sshd", "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups", 0, "syslog"},
	{"systemd-logind.service", "systemd-logind", "systemd-logind", "/usr/lib/systemd/systemd-logind", "/lib/systemd/systemd-logind", 812, "journal"},
	{"cron.service", "CRON", "cron", "/usr/sbin/cron", "/usr/sbin/cron -f", 0, "syslog"},
	{"chrony.service", "chronyd", "chronyd", "/usr/sbin/chronyd", "/usr/sbin/chronyd -F 1", 702, "syslog"},
	{"init.scope", "systemd", "systemd", "/usr/lib/systemd/systemd", "/sbin/init", 1, "journal"},
}

func (g *gen) journald(count int) []rec {
	burst := count - count/12
	session := 70
	var lines []rec
	for len(lines) < count {
		t := g.tick(3000)
		if g.r.IntN(100) < 12 && len(lines) < burst {
			m := g.kernelMsg(t)
			lines = append(lines, rec{line(g.kernelRecord(t, 6, m.text)), m.label})
			continue
		}
		u := units[g.r.IntN(len(units))]
		var msgs []syslogLine
		prio := "6"
		switch {
		case len(lines) >= burst:
			// The burst: kubelet's serving endpoint rejecting client certificates.
			u = units[0]
			prio = "4"
			msgs = []syslogLine{{u.ident, u.pid, g.klog('I', t, u.pid, "log.go:245", fmt.Sprintf("http: TLS handshake error from %s:%d: remote error: tls: bad certificate", g.nodeIP(), g.port())), "kubelet:tls-handshake-error"}}
		case u.ident == "kubelet":
			m := g.kubeletMsg(t, u.pid)
			msgs = []syslogLine{{u.ident, u.pid, m.text, m.label}}
			if msgs[0].msg[0] == 'E' {
				prio = "3"
			}
		case u.ident == "containerd":
			m := g.containerdMsg(t)
			msgs = []syslogLine{{u.ident, u.pid, m.text, m.label}}
		case u.ident == "sshd":
			msgs = g.sshd(&session, 812)
		case u.ident == "CRON":
			msgs = g.cron()
		case u.ident == "chronyd":
			msgs = []syslogLine{g.chronyd()}
		case u.ident == "systemd-logind":
			session++
			msgs = []syslogLine{{u.ident, u.pid, fmt.Sprintf("New session %d of user %s.", session, g.pick(users)), "logind:new-session"}}
		default:
			msgs = []syslogLine{g.systemd1(t)}
		}
		for _, m := range msgs {
			if len(lines) == count {
				break
			}
			// sshd's session lines belong to other units; keep each record's unit honest.
			mu := u
			for _, cand := range units {
				if cand.ident == m.prog {
					mu = cand
				}
			}
			pid := m.pid
			if pid == 0 {
				pid = g.n(100000, 400000)
			}
			t = g.tick(40)
			lines = append(lines, rec{line(g.journalRecord(t, mu, pid, prio, m.msg)), m.label})
		}
	}
	return lines
}

func (g *gen) journalRecord(t time.Time, u unit, pid int, prio, msg string) obj {
	facility := "3"
	switch u.ident {
	case "sshd", "systemd-logind":
		facility = "4"
	case "CRON":
		facility = "9"
	}
	o := obj{
		{"_tag", "host." + u.name},
		{"_TRANSPORT", u.transport},
		{"PRIORITY", prio},
		{"SYSLOG_FACILITY", facility},
		{"SYSLOG_IDENTIFIER", u.ident},
	}
	if u.transport == "syslog" {
		o = append(o, kv{"SYSLOG_PID", fmt.Sprint(pid)}, kv{"SYSLOG_TIMESTAMP", t.Format(time.Stamp) + " "})
	}
	cgroup, slice := "/system.slice/"+u.name, "system.slice"
	if u.name == "init.scope" {
		cgroup, slice = "/init.scope", "-.slice"
	}
	o = append(o,
		kv{"_PID", fmt.Sprint(pid)}, kv{"_UID", "0"}, kv{"_GID", "0"},
		kv{"_COMM", u.comm}, kv{"_EXE", u.exe}, kv{"_CMDLINE", u.cmdline},
		kv{"_CAP_EFFECTIVE", "1ffffffffff"},
		kv{"_SYSTEMD_CGROUP", cgroup},
		kv{"_SYSTEMD_UNIT", u.name},
		kv{"_SYSTEMD_SLICE", slice},
		kv{"_SYSTEMD_INVOCATION_ID", fmt.Sprintf("%x", sha256.Sum256([]byte(u.name)))[:32]},
	)
	if u.transport == "stdout" {
		o = append(o, kv{"_STREAM_ID", g.hex(32)})
	}
	o = append(o,
		kv{"_BOOT_ID", bootID}, kv{"_MACHINE_ID", machineID}, kv{"_HOSTNAME", host},
		kv{"_SOURCE_REALTIME_TIMESTAMP", fmt.Sprint(t.UnixMicro())},
		kv{"MESSAGE", msg},
	)
	return o
}

func (g *gen) kernelRecord(t time.Time, prio int, msg string) obj {
	// journald strips the printk timestamp and keeps it as the monotonic time.
	if i := strings.IndexByte(msg, ']'); strings.HasPrefix(msg, "[") && i > 0 {
		msg = msg[i+2:]
	}
	prioStr := fmt.Sprint(prio)
	if strings.HasPrefix(msg, "[UFW BLOCK]") {
		prioStr = "4"
	}
	return obj{
		{"_tag", "host.unknown"},
		{"_TRANSPORT", "kernel"},
		{"PRIORITY", prioStr},
		{"SYSLOG_FACILITY", "0"},
		{"SYSLOG_IDENTIFIER", "kernel"},
		{"_SOURCE_MONOTONIC_TIMESTAMP", fmt.Sprint(t.Sub(start).Microseconds() + 864213000000)},
		{"_BOOT_ID", bootID}, {"_MACHINE_ID", machineID}, {"_HOSTNAME", host},
		{"MESSAGE", msg},
	}
}

// ---- container logs ----

type pod struct {
	name, ns, uid, ip, container, image, hash, dockerID string
	labels                                              obj
	docker                                              bool // docker json-file runtime (log ends with \n)
}

func (g *gen) pods() []*pod {
	mk := func(name, ns, container, image string, labels obj, docker bool) *pod {
		return &pod{
			name: name, ns: ns, container: container, image: image, labels: labels, docker: docker,
			uid:      fmt.Sprintf("%s-%s-%s-%s-%s", g.hex(8), g.hex(4), g.hex(4), g.hex(4), g.hex(12)),
			ip:       g.podIP(),
			hash:     image[:strings.LastIndexByte(image, ':')] + "@sha256:" + g.hex(64),
			dockerID: g.hex(64),
		}
	}
	return []*pod{
		mk("web-7f9c6d8b5-qwert", "shop", "nginx", "docker.io/library/nginx:1.27.3", obj{{"app", "web"}, {"pod-template-hash", "7f9c6d8b5"}}, true),
		mk("web-7f9c6d8b5-zx8cv", "shop", "nginx", "docker.io/library/nginx:1.27.3", obj{{"app", "web"}, {"pod-template-hash", "7f9c6d8b5"}}, true),
		mk("orders-api-6c4d9f7b8-h2k9m", "shop", "api", "ghcr.io/example/orders-api:v2.14.1", obj{{"app", "orders-api"}, {"pod-template-hash", "6c4d9f7b8"}}, false),
		mk("coredns-5d78c9869d-x7k2p", "kube-system", "coredns", "registry.k8s.io/coredns/coredns:v1.11.3", obj{{"k8s-app", "kube-dns"}, {"pod-template-hash", "5d78c9869d"}}, false),
		mk("billing-85f6c7d9b4-p4l2s", "billing", "billing", "ghcr.io/example/billing:3.8.0", obj{{"app", "billing"}, {"pod-template-hash", "85f6c7d9b4"}}, false),
	}
}

func (p *pod) tag() string {
	return fmt.Sprintf("kube.var.log.containers.%s_%s_%s-%s.log", p.name, p.ns, p.container, p.dockerID)
}

func (p *pod) meta() obj {
	return obj{
		{"pod_name", p.name}, {"namespace_name", p.ns}, {"pod_id", p.uid}, {"labels", p.labels},
		{"host", host}, {"pod_ip", p.ip}, {"container_name", p.container}, {"docker_id", p.dockerID},
		{"container_hash", p.hash}, {"container_image", p.image},
	}
}

func (g *gen) containers(count int) []rec {
	ps := g.pods()
	burst := count - count/12
	var lines []rec
	for len(lines) < count {
		t := g.tick(1500)
		var p *pod
		switch k := g.r.IntN(100); {
		case len(lines) >= burst:
			p = ps[2]
		case k < 40:
			p = ps[g.r.IntN(2)]
		case k < 65:
			p = ps[2]
		case k < 85:
			p = ps[3]
		default:
			p = ps[4]
		}
		for _, r := range g.containerRecords(p, t, len(lines) >= burst) {
			if len(lines) < count {
				lines = append(lines, rec{line(r.o), r.label})
			}
		}
	}
	return lines
}

// text wraps a plain-text payload in the runtime's shape: CRI (time, stream, _p, log)
// or docker json-file (log with its trailing newline, stream, time).
func (p *pod) text(t time.Time, stream, msg string) obj {
	ts := t.Format(time.RFC3339Nano)
	if p.docker {
		return obj{{"_tag", p.tag()}, {"log", msg + "\n"}, {"stream", stream}, {"time", ts}, {"kubernetes", p.meta()}}
	}
	return obj{{"_tag", p.tag()}, {"time", ts}, {"stream", stream}, {"_p", "F"}, {"log", msg}, {"kubernetes", p.meta()}}
}

// merged is a JSON payload after the kubernetes filter's Merge_Log On, Keep_Log Off:
// the application's keys at the root and no "log".
func (p *pod) merged(t time.Time, stream string, fields obj) obj {
	o := obj{{"_tag", p.tag()}, {"stream", stream}, {"time", t.Format(time.RFC3339Nano)}}
	o = append(o, fields...)
	return append(o, kv{"kubernetes", p.meta()})
}

var paths = []string{"/", "/healthz", "/api/v1/orders", "/api/v1/orders/%d", "/static/app.%s.js", "/static/logo.svg", "/cart", "/checkout", "/products/%d"}
var agents = []string{"kube-probe/1.31", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "curl/8.5.0", "Go-http-client/1.1"}
var domains = []string{"orders-api.shop.svc.cluster.local.", "billing.billing.svc.cluster.local.", "api.example.com.", "postgres.db.svc.cluster.local.", "redis.cache.svc.cluster.local."}

// lobj is a container record and its pattern label.
type lobj struct {
	o     obj
	label string
}

func one(label string, o obj) []lobj { return []lobj{{o, label}} }

func (g *gen) containerRecords(p *pod, t time.Time, burst bool) []lobj {
	switch p.container {
	case "nginx":
		if g.r.IntN(40) == 0 {
			return one("nginx:upstream-timeout", p.text(t, "stderr", fmt.Sprintf("%s [error] %d#%d: *%d upstream timed out (110: Connection timed out) while reading response header from upstream, client: %s, server: _, request: \"GET /api/v1/orders HTTP/1.1\", upstream: \"http://10.96.%d.%d:8080/api/v1/orders\", host: \"shop.example.com\"",
				t.Format("2006/01/02 15:04:05"), g.n(20, 40), 0, g.n(1000, 99999), g.podIP(), g.n(0, 255), g.n(1, 254))))
		}
		path := g.pick(paths)
		if strings.Contains(path, "%d") {
			path = fmt.Sprintf(path, g.n(1, 99999))
		} else if strings.Contains(path, "%s") {
			path = fmt.Sprintf(path, g.hex(8))
		}
		status := []int{200, 200, 200, 200, 200, 304, 301, 404, 499, 502}[g.r.IntN(10)]
		msg := fmt.Sprintf(`%s - - [%s] "%s %s HTTP/1.1" %d %d "-" "%s"`, g.podIP(), t.Format("02/Jan/2006:15:04:05 -0700"),
			g.pick([]string{"GET", "GET", "GET", "POST"}), path, status, g.n(0, 48000), g.pick(agents))
		return one("nginx:access", p.text(t, "stdout", msg))
	case "api":
		caller := g.pick([]string{"http/handler.go:142", "orders/service.go:88", "store/pg.go:211"})
		if burst {
			return one("api:query-failed", p.merged(t, "stderr", obj{
				{"level", "error"}, {"ts", t.Format(time.RFC3339Nano)}, {"caller", "store/pg.go:231"},
				{"msg", "query failed"},
				{"error", fmt.Sprintf("read tcp %s:%d->10.96.12.7:5432: read: connection reset by peer", p.ip, g.port())},
				{"query", "orders.list"}, {"attempt", g.n(1, 3)},
			}))
		}
		switch k := g.r.IntN(20); {
		case k < 14:
			return one("api:request-served", p.merged(t, "stdout", obj{
				{"level", "info"}, {"ts", t.Format(time.RFC3339Nano)}, {"caller", caller}, {"msg", "request served"},
				{"method", g.pick([]string{"GET", "GET", "POST", "PUT"})}, {"path", fmt.Sprintf("/api/v1/orders/%d", g.n(1, 99999))},
				{"status", []int{200, 200, 201, 404}[g.r.IntN(4)]}, {"duration_ms", float64(g.n(1, 900000)) / 1000},
				{"request_id", g.hex(16)},
			}))
		case k < 17:
			return one("api:order-created", p.merged(t, "stdout", obj{
				{"level", "info"}, {"ts", t.Format(time.RFC3339Nano)}, {"caller", "orders/service.go:64"},
				{"msg", fmt.Sprintf("order %d created for customer %d", g.n(100000, 999999), g.n(1000, 99999))},
			}))
		case k < 19:
			return one("api:slow-upstream", p.merged(t, "stderr", obj{
				{"level", "warn"}, {"ts", t.Format(time.RFC3339Nano)}, {"caller", "http/client.go:77"},
				{"msg", "slow upstream"}, {"upstream", fmt.Sprintf("billing.billing.svc:%d", 8080)}, {"duration_ms", g.n(1000, 5000)},
			}))
		default:
			// A plain-text line from the same container (e.g. a library writing to stderr).
			return one("api:superfluous-writeheader", p.text(t, "stderr", fmt.Sprintf("%s http: superfluous response.WriteHeader call from main.(*handler).ServeHTTP (handler.go:%d)", t.Format("2006/01/02 15:04:05"), g.n(100, 200))))
		}
	case "coredns":
		if g.r.IntN(25) == 0 {
			return one("coredns:read-timeout", p.text(t, "stdout", fmt.Sprintf("[ERROR] plugin/errors: 2 %s A: read udp %s:%d->%s:53: i/o timeout", g.pick(domains), p.ip, g.port(), g.pick([]string{"10.0.0.2", "169.254.169.253"}))))
		}
		rcode := []string{"NOERROR", "NOERROR", "NOERROR", "NXDOMAIN"}[g.r.IntN(4)]
		return one("coredns:query", p.text(t, "stdout", fmt.Sprintf(`[INFO] %s:%d - %d "%s IN %s udp %d false 512" %s qr,aa,rd %d %.6fs`,
			g.podIP(), g.port(), g.n(1, 65535), g.pick([]string{"A", "AAAA"}), g.pick(domains), g.n(30, 80), rcode, g.n(80, 300), float64(g.n(50, 4000))/1e6)))
	default: // billing: a Spring Boot service
		ts := t.Format("2006-01-02T15:04:05.000Z07:00")
		thread := fmt.Sprintf("http-nio-8080-exec-%d", g.n(1, 10))
		if g.r.IntN(15) == 0 {
			// An exception: the stack trace arrives as separate records, the first one
			// joined from CRI partial lines (the joined record keeps _p "P").
			head := p.text(t, "stdout", fmt.Sprintf("%s ERROR 1 --- [billing] [%s] c.e.billing.InvoiceService : Invoice %d failed: %s", ts, thread, g.n(10000, 99999),
				g.pick([]string{"java.lang.IllegalStateException: invoice already settled", "org.springframework.dao.DataIntegrityViolationException: duplicate key value violates unique constraint \"invoices_pkey\""})))
			head[3] = kv{"_p", "P"}
			return []lobj{
				{head, "billing:invoice-failed"},
				{p.text(t, "stdout", "\tat com.example.billing.InvoiceService.settle(InvoiceService.java:"+fmt.Sprint(g.n(80, 140))+")"), "billing:at-settle"},
				{p.text(t, "stdout", "\tat com.example.billing.InvoiceController.post(InvoiceController.java:"+fmt.Sprint(g.n(30, 60))+")"), "billing:at-post"},
				{p.text(t, "stdout", "\tat java.base/java.lang.Thread.run(Thread.java:1583)"), "billing:at-thread-run"},
			}
		}
		msgs := []msg{
			{fmt.Sprintf("%s  INFO 1 --- [billing] [%s] c.e.billing.InvoiceController : Invoice %d created for customer %d, amount %d.%02d EUR", ts, thread, g.n(10000, 99999), g.n(1000, 99999), g.n(1, 2000), g.n(0, 99)), "billing:invoice-created"},
			{fmt.Sprintf("%s  INFO 1 --- [billing] [%s] c.e.billing.PaymentClient : Payment %s authorized in %d ms", ts, thread, g.hex(12), g.n(20, 900)), "billing:payment-authorized"},
			{fmt.Sprintf("%s  WARN 1 --- [billing] [HikariPool-1 housekeeper] com.zaxxer.hikari.pool.HikariPool : HikariPool-1 - Thread starvation or clock leap detected (housekeeper delta=%ds%dms).", ts, g.n(30, 90), g.n(0, 999)), "billing:hikari-starvation"},
			{fmt.Sprintf("%s DEBUG 1 --- [billing] [scheduling-1] c.e.billing.ReminderJob : Sent %d payment reminders", ts, g.n(0, 40)), "billing:sent-reminders"},
		}
		m := g.pickMsg(msgs)
		return one(m.label, p.text(t, "stdout", m.text))
	}
}
