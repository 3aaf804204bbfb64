package k8s

import (
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// deployed is the DaemonSet with the configuration its ConfigMap carries:
// the manifests' (loadDeployed), or what the Helm chart makes of
// build/helm/values.yaml (loadHelm). The same checks run on both.
type deployed struct {
	ds      *appsv1.DaemonSet
	c       corev1.Container
	conf    []section // fluent-bit.conf from the ConfigMap
	cm      *corev1.ConfigMap
	service section
}

func loadDeployed(t *testing.T) deployed {
	t.Helper()
	m := loadManifests(t)
	ds := one(t, "DaemonSet", m.daemonSets)
	cm := one(t, "ConfigMap", m.configMaps)
	if n := len(ds.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("want one container, got %d", n)
	}
	conf, err := parseClassic(cm.Data["fluent-bit.conf"])
	if err != nil {
		t.Fatalf("ConfigMap fluent-bit.conf: %v", err)
	}
	d := deployed{ds: ds, c: ds.Spec.Template.Spec.Containers[0]}
	expandConf(conf, d)
	svc := sectionsNamed(conf, "SERVICE")
	if len(svc) != 1 {
		t.Fatalf("want one [SERVICE], got %d", len(svc))
	}
	return deployed{ds: ds, c: ds.Spec.Template.Spec.Containers[0], conf: conf, cm: cm, service: svc[0]}
}

// expandConf rewrites conf as the pod sees it: each ${VAR:-default} as the
// container env's value, else the default.
func expandConf(conf []section, d deployed) {
	for i := range conf {
		for j := range conf[i].entries {
			conf[i].entries[j].value = expandDefaults(conf[i].entries[j].value, func(name string) (string, bool) {
				e, ok := d.env(name)
				return e.Value, ok && e.Value != ""
			})
		}
	}
}

// forEachDeployment runs check on the manifests' DaemonSet and on the Helm
// chart's.
func forEachDeployment(t *testing.T, check func(*testing.T, deployed)) {
	for _, dep := range []struct {
		name string
		load func(*testing.T) deployed
	}{{"manifests", loadDeployed}, {"helm", loadHelm}} {
		t.Run(dep.name, func(t *testing.T) { check(t, dep.load(t)) })
	}
}

// configPath is the configuration file the container's arguments name:
// -c FILE (the manifests) or --config=FILE (the chart).
func (d deployed) configPath(t *testing.T) string {
	t.Helper()
	args := d.c.Args
	for i, a := range args {
		if a == "-c" && i+1 < len(args) {
			return args[i+1]
		}
		if p, ok := strings.CutPrefix(a, "--config="); ok {
			return p
		}
	}
	t.Fatalf("args %v name no configuration file (-c FILE or --config=FILE)", args)
	return ""
}

func (d deployed) env(name string) (corev1.EnvVar, bool) {
	for _, e := range d.c.Env {
		if e.Name == name {
			return e, true
		}
	}
	return corev1.EnvVar{}, false
}

// mountFor returns the volume mount whose path contains p, the deepest one.
func (d deployed) mountFor(p string) (corev1.VolumeMount, corev1.Volume, bool) {
	var best corev1.VolumeMount
	for _, vm := range d.c.VolumeMounts {
		if (p == vm.MountPath || strings.HasPrefix(p, strings.TrimSuffix(vm.MountPath, "/")+"/")) && len(vm.MountPath) > len(best.MountPath) {
			best = vm
		}
	}
	for _, v := range d.ds.Spec.Template.Spec.Volumes {
		if best.Name != "" && v.Name == best.Name {
			return best, v, true
		}
	}
	return best, corev1.Volume{}, false
}

func (d deployed) drainOutput(t *testing.T) section {
	t.Helper()
	for _, o := range sectionsNamed(d.conf, "OUTPUT") {
		if n, _ := o.get("Name"); n == "drain" {
			return o
		}
	}
	t.Fatal("no drain output in the ConfigMap's fluent-bit.conf")
	return section{}
}

func TestDaemonSetScheduling(t *testing.T) { forEachDeployment(t, checkScheduling) }

func checkScheduling(t *testing.T, d deployed) {
	spec := d.ds.Spec.Template.Spec
	exists := false
	for _, tol := range spec.Tolerations {
		exists = exists || (tol.Operator == corev1.TolerationOpExists && tol.Key == "" && tol.Effect == "")
	}
	if !exists {
		t.Errorf("tolerations %v: want {operator: Exists} so tainted nodes are covered", spec.Tolerations)
	}
	if spec.PriorityClassName != "system-node-critical" {
		t.Errorf("priorityClassName %q, want system-node-critical", spec.PriorityClassName)
	}
	if spec.ServiceAccountName == "" {
		t.Error("no serviceAccountName: the kubernetes filter needs the RBAC-bound account")
	}
	repo, tag, ok := strings.Cut(d.c.Image, ":")
	if !ok || repo != "ghcr.io/awoooi/fluent-bit-drain" || tag == "" || tag == "latest" {
		t.Errorf("image %q, want ghcr.io/awoooi/fluent-bit-drain:<pinned version>", d.c.Image)
	}
	sel := d.ds.Spec.Selector.MatchLabels
	for k, v := range sel {
		if d.ds.Spec.Template.Labels[k] != v {
			t.Errorf("selector %s=%s does not match the pod template's labels", k, v)
		}
	}
}

func TestDaemonSetShutdown(t *testing.T) { forEachDeployment(t, checkShutdown) }

func checkShutdown(t *testing.T, d deployed) {
	grace, err := strconv.Atoi(mustGet(t, d.service, "Grace"))
	if err != nil {
		t.Fatalf("Grace: %v", err)
	}
	// The plugin drains its queues for up to Exit_Timeout after Fluent Bit's Grace.
	exit, err := time.ParseDuration(mustGet(t, d.drainOutput(t), "Exit_Timeout"))
	if err != nil {
		t.Fatalf("Exit_Timeout: %v", err)
	}
	tgps := d.ds.Spec.Template.Spec.TerminationGracePeriodSeconds
	if tgps == nil || time.Duration(*tgps)*time.Second <= time.Duration(grace)*time.Second+exit {
		t.Errorf("terminationGracePeriodSeconds %v: want > Grace %ds + Exit_Timeout %v, or the kubelet kills the pod mid-drain", tgps, grace, exit)
	}
}

func mustGet(t *testing.T, s section, key string) string {
	t.Helper()
	v, ok := s.get(key)
	if !ok {
		t.Fatalf("[%s] has no %s", s.name, key)
	}
	return v
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

func TestDaemonSetEnv(t *testing.T) { forEachDeployment(t, checkEnv) }

func checkEnv(t *testing.T, d deployed) {
	if e, ok := d.env("NODE_NAME"); !ok || e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "spec.nodeName" {
		t.Error("NODE_NAME must come from the downward API (spec.nodeName); ${HOSTNAME} is the pod name")
	}
	for name, want := range map[string]string{"DRAIN_SHADOW_MODE": "on", "DRAIN_ENABLED": "on"} {
		if e, ok := d.env(name); !ok || e.Value != want {
			t.Errorf("%s = %q, want %q (roll out in shadow mode)", name, e.Value, want)
		}
	}
	if e, ok := d.env("DRAIN_REDIS_ADDR"); !ok || e.Value == "" {
		t.Error("DRAIN_REDIS_ADDR is not set")
	}
	// Fluent Bit 4.2.8 expands an unset ${VAR} to "" with only a warning.
	used := 0
	for _, s := range d.conf {
		for _, e := range s.entries {
			for _, m := range envRef.FindAllStringSubmatch(e.value, -1) {
				used++
				if _, ok := d.env(m[1]); !ok {
					t.Errorf("fluent-bit.conf: %s uses ${%s}, which the container env does not set", e.key, m[1])
				}
			}
		}
	}
	if used == 0 {
		t.Error("fluent-bit.conf uses no ${VAR}: the drain output's settings are expected from the env")
	}
	for _, a := range append(append([]string{}, d.c.Command...), d.c.Args...) {
		if a == "-e" || strings.HasPrefix(a, "--plugin") {
			t.Errorf("args %v load the plugin with -e as well as Plugins_File: it would load twice", d.c.Args)
		}
	}
}

// parseSize reads a Fluent Bit size ("50MB", "10M", "512k") in bytes. It
// repeats plugin/config.ParseSize because this module keeps the Kubernetes
// API types out of the plugin's go.mod and so does not import the plugin.
func parseSize(s string) (int64, bool) {
	u := strings.ToUpper(s)
	mult := int64(1)
	for _, suf := range []struct {
		s string
		m int64
	}{{"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}} {
		if n, ok := strings.CutSuffix(u, suf.s); ok {
			u, mult = n, suf.m
			break
		}
	}
	n, err := strconv.ParseInt(u, 10, 64)
	return n * mult, err == nil && n > 0
}

// parseGoMemLimit reads GOMEMLIMIT's syntax: a number with an optional B, KiB, MiB, GiB suffix.
func parseGoMemLimit(s string) (int64, bool) {
	for _, suf := range []struct {
		s string
		m int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if n, ok := strings.CutSuffix(s, suf.s); ok {
			v, err := strconv.ParseInt(n, 10, 64)
			return v * suf.m, err == nil && v > 0
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil && v > 0
}

func TestDaemonSetMemory(t *testing.T) { forEachDeployment(t, checkMemory) }

func checkMemory(t *testing.T, d deployed) {
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := d.c.Resources.Requests[r]; !ok {
			t.Errorf("no %s request", r)
		}
	}
	limit, ok := d.c.Resources.Limits[corev1.ResourceMemory]
	if !ok {
		t.Fatal("no memory limit")
	}
	e, ok := d.env("GOMEMLIMIT")
	if !ok {
		t.Fatal("GOMEMLIMIT is not set: the Go heap is outside Fluent Bit's Mem_Buf_Limit")
	}
	goMem, ok := parseGoMemLimit(e.Value)
	if !ok {
		t.Fatalf("GOMEMLIMIT %q does not parse", e.Value)
	}
	var bufs int64
	for _, in := range sectionsNamed(d.conf, "INPUT") {
		v, ok := in.get("Mem_Buf_Limit")
		n, ok2 := parseSize(v)
		if !ok || !ok2 {
			t.Fatalf("input %v has no usable Mem_Buf_Limit", in.entries)
		}
		bufs += n
	}
	need := resource.NewQuantity(bufs+goMem, resource.BinarySI)
	if limit.Cmp(*need) <= 0 {
		t.Errorf("memory limit %s <= Mem_Buf_Limit sum + GOMEMLIMIT = %s: an OOM kill takes down the whole collector", limit.String(), need.String())
	}
}

func (d deployed) port(p intstr.IntOrString) int32 {
	if p.Type == intstr.Int {
		return p.IntVal
	}
	for _, cp := range d.c.Ports {
		if cp.Name == p.StrVal {
			return cp.ContainerPort
		}
	}
	return -1
}

func TestDaemonSetProbes(t *testing.T) { forEachDeployment(t, checkProbes) }

func checkProbes(t *testing.T, d deployed) {
	if v := mustGet(t, d.service, "Health_Check"); !strings.EqualFold(v, "on") {
		t.Errorf("Health_Check %s: readiness reads it", v)
	}
	httpPort, err := strconv.Atoi(mustGet(t, d.service, "HTTP_Port"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{
		{"liveness", d.c.LivenessProbe, "/"},
		{"readiness", d.c.ReadinessProbe, "/api/v1/health"}, // 4.2.8 has no /api/v2/health
	} {
		if tt.probe == nil || tt.probe.HTTPGet == nil {
			t.Errorf("no %s HTTP probe", tt.name)
			continue
		}
		g := tt.probe.HTTPGet
		if g.Path != tt.path || d.port(g.Port) != int32(httpPort) {
			t.Errorf("%s probe GET %s on port %d, want GET %s on %d", tt.name, g.Path, d.port(g.Port), tt.path, httpPort)
		}
	}
	metrics := mustGet(t, d.drainOutput(t), "Metrics_Listen")
	_, p, _ := strings.Cut(metrics, ":")
	found := false
	for _, cp := range d.c.Ports {
		found = found || strconv.Itoa(int(cp.ContainerPort)) == p
	}
	if !found {
		t.Errorf("the plugin's Metrics_Listen %s has no container port", metrics)
	}
}

func TestDaemonSetHostPaths(t *testing.T) { forEachDeployment(t, checkHostPaths) }

func checkHostPaths(t *testing.T, d deployed) {
	for _, tt := range []struct {
		path     string
		readOnly bool // the mount must be read-only
		file     bool
	}{
		{"/var/log/containers", false, false},
		{"/var/lib/docker/containers", true, false},
		{"/var/log/journal", false, false},
		{"/run/log/journal", true, false},
		{"/etc/machine-id", true, true},
	} {
		vm, v, ok := d.mountFor(tt.path)
		if !ok || v.HostPath == nil {
			t.Errorf("%s is not reachable through a hostPath mount", tt.path)
			continue
		}
		if host := path.Join(v.HostPath.Path, strings.TrimPrefix(tt.path, vm.MountPath)); host != tt.path {
			t.Errorf("%s in the container is %s on the host", tt.path, host)
		}
		if tt.readOnly && !vm.ReadOnly {
			t.Errorf("%s is mounted read-write, want read-only", tt.path)
		}
		if tt.file && (v.HostPath.Type == nil || *v.HostPath.Type != corev1.HostPathFile) {
			t.Errorf("%s: want hostPath type File", tt.path)
		}
	}
	// Offsets, the journal cursor and the plugin's buffer must survive a pod restart.
	var state []string
	for _, in := range sectionsNamed(d.conf, "INPUT") {
		state = append(state, in.all("DB")...)
	}
	state = append(state, mustGet(t, d.drainOutput(t), "Buffer_Path"))
	for _, p := range state {
		vm, v, ok := d.mountFor(p)
		if !ok || v.HostPath == nil || vm.ReadOnly {
			t.Errorf("%s is not on a writable hostPath", p)
		}
	}
	for _, k := range []string{"PG_DSN_File", "Redis_Password_File"} {
		p := mustGet(t, d.drainOutput(t), k)
		if _, v, ok := d.mountFor(p); !ok || v.Secret == nil || path.Base(p) == "" {
			t.Errorf("%s %s is not in the mounted secret", k, p)
		}
	}
}

// TestDaemonSetConfigPaths: the args and the service section name files that the ConfigMap
// mount provides.
func TestDaemonSetConfigPaths(t *testing.T) { forEachDeployment(t, checkConfigPaths) }

func checkConfigPaths(t *testing.T, d deployed) {
	paths := []string{d.configPath(t)}
	paths = append(paths, d.service.all("Plugins_File")...)
	paths = append(paths, d.service.all("Parsers_File")...)
	for _, p := range paths {
		vm, v, ok := d.mountFor(p)
		if !ok || v.ConfigMap == nil || v.ConfigMap.Name != d.cm.Name {
			t.Errorf("%s is not in the ConfigMap mount", p)
			continue
		}
		if _, ok := d.cm.Data[strings.TrimPrefix(p, vm.MountPath+"/")]; !ok {
			t.Errorf("%s: the ConfigMap has no key %s", p, strings.TrimPrefix(p, vm.MountPath+"/"))
		}
	}
}

// TestDaemonSetOwnLogsExcluded: the collector's own container log must not be tailed,
// or its log lines come back through the pipeline.
func TestDaemonSetOwnLogsExcluded(t *testing.T) { forEachDeployment(t, checkOwnLogsExcluded) }

func checkOwnLogsExcluded(t *testing.T, d deployed) {
	own := "/var/log/containers/" + d.ds.Name + "-x7k2p_" + d.ds.Namespace + "_" + d.c.Name + "-" + strings.Repeat("0f", 32) + ".log"
	for _, in := range sectionsNamed(d.conf, "INPUT") {
		p, _ := in.get("Path")
		if ok, _ := path.Match(p, own); !ok {
			continue
		}
		excl, _ := in.get("Exclude_Path")
		hit := false
		for _, pat := range strings.Split(excl, ",") {
			// tail uses fnmatch without flags; path.Match is stricter, so a match holds there.
			ok, err := path.Match(strings.TrimSpace(pat), own)
			if err != nil {
				t.Fatalf("Exclude_Path %q: %v", pat, err)
			}
			hit = hit || ok
		}
		if !hit {
			t.Errorf("input with Path %s tails the collector's own log %s", p, own)
		}
	}
}
