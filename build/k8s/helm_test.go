package k8s

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

const helmValuesFile = "../helm/values.yaml"

// helmValues are the keys of the fluent/fluent-bit chart 0.56.0 that
// build/helm/values.yaml sets, with the Kubernetes types the chart copies
// them into. Strict decoding rejects any other key: a misspelt one would be
// silently ignored by Helm, and existingConfigMap would replace config.
type helmValues struct {
	Image struct {
		Repository string            `json:"repository"`
		Tag        string            `json:"tag"`
		PullPolicy corev1.PullPolicy `json:"pullPolicy"`
	} `json:"image"`
	Tolerations                   []corev1.Toleration            `json:"tolerations"`
	PriorityClassName             string                         `json:"priorityClassName"`
	TerminationGracePeriodSeconds *int64                         `json:"terminationGracePeriodSeconds"`
	UpdateStrategy                appsv1.DaemonSetUpdateStrategy `json:"updateStrategy"`
	PodAnnotations                map[string]string              `json:"podAnnotations"`
	HotReload                     struct {
		Enabled bool `json:"enabled"`
	} `json:"hotReload"`
	Env            []corev1.EnvVar             `json:"env"`
	LivenessProbe  *corev1.Probe               `json:"livenessProbe"`
	ReadinessProbe *corev1.Probe               `json:"readinessProbe"`
	Resources      corev1.ResourceRequirements `json:"resources"`
	ExtraPorts     []struct {
		Name          string          `json:"name"`
		Port          int32           `json:"port"`
		ContainerPort int32           `json:"containerPort"`
		Protocol      corev1.Protocol `json:"protocol"`
	} `json:"extraPorts"`
	DaemonSetVolumes      []corev1.Volume      `json:"daemonSetVolumes"`
	DaemonSetVolumeMounts []corev1.VolumeMount `json:"daemonSetVolumeMounts"`
	Config                struct {
		Service       string            `json:"service"`
		Inputs        string            `json:"inputs"`
		Filters       string            `json:"filters"`
		Outputs       string            `json:"outputs"`
		CustomParsers string            `json:"customParsers"`
		ExtraFiles    map[string]string `json:"extraFiles"`
	} `json:"config"`
}

// The chart's own settings that the values do not change (chart 0.56.0,
// contract §6.1): its ConfigMap, named after the release, mounted at
// /fluent-bit/etc/conf; its container "fluent-bit" with port http on
// metricsPort (2020); its arguments; its service account.
const (
	helmRelease   = "fluent-bit-drain" // contains the chart name, so it is the full name
	helmNamespace = "logging"
	helmConfDir   = "/fluent-bit/etc/conf"
)

func loadHelmValues(t *testing.T) helmValues {
	t.Helper()
	b, err := os.ReadFile(helmValuesFile)
	if err != nil {
		t.Fatal(err)
	}
	var v helmValues
	if err := yaml.UnmarshalStrict(b, &v); err != nil {
		t.Fatalf("%s: %v", helmValuesFile, err)
	}
	return v
}

// loadHelm builds the DaemonSet and ConfigMap the chart renders from the
// values, as its templates do: fluent-bit.conf is config.service, inputs,
// filters and outputs joined; custom_parsers.conf is config.customParsers;
// every config.extraFiles entry is a file of its own.
func loadHelm(t *testing.T) deployed {
	t.Helper()
	v := loadHelmValues(t)
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: helmRelease, Namespace: helmNamespace},
		Data: map[string]string{
			"fluent-bit.conf":     strings.Join([]string{v.Config.Service, v.Config.Inputs, v.Config.Filters, v.Config.Outputs}, "\n"),
			"custom_parsers.conf": v.Config.CustomParsers,
		},
	}
	for k, f := range v.Config.ExtraFiles {
		cm.Data[k] = f
	}
	labels := map[string]string{"app.kubernetes.io/name": "fluent-bit", "app.kubernetes.io/instance": helmRelease}
	c := corev1.Container{
		Name:            "fluent-bit",
		Image:           v.Image.Repository + ":" + v.Image.Tag,
		ImagePullPolicy: v.Image.PullPolicy,
		Args:            []string{"--workdir=/fluent-bit/etc", "--config=" + helmConfDir + "/fluent-bit.conf"},
		Env:             v.Env,
		Ports:           []corev1.ContainerPort{{Name: "http", ContainerPort: 2020, Protocol: corev1.ProtocolTCP}},
		LivenessProbe:   v.LivenessProbe,
		ReadinessProbe:  v.ReadinessProbe,
		Resources:       v.Resources,
		VolumeMounts:    append([]corev1.VolumeMount{{Name: "config", MountPath: helmConfDir}}, v.DaemonSetVolumeMounts...),
	}
	for _, p := range v.ExtraPorts {
		c.Ports = append(c.Ports, corev1.ContainerPort{Name: p.Name, ContainerPort: p.ContainerPort, Protocol: p.Protocol})
	}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: helmRelease, Namespace: helmNamespace, Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector:       &metav1.LabelSelector{MatchLabels: labels},
			UpdateStrategy: v.UpdateStrategy,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: v.PodAnnotations},
				Spec: corev1.PodSpec{
					ServiceAccountName:            helmRelease,
					PriorityClassName:             v.PriorityClassName,
					Tolerations:                   v.Tolerations,
					TerminationGracePeriodSeconds: v.TerminationGracePeriodSeconds,
					Containers:                    []corev1.Container{c},
					Volumes: append([]corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{
						ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: helmRelease}},
					}}}, v.DaemonSetVolumes...),
				},
			},
		},
	}
	conf, err := parseClassic(cm.Data["fluent-bit.conf"])
	if err != nil {
		t.Fatalf("%s: config: %v", helmValuesFile, err)
	}
	expandConf(conf, deployed{ds: ds, c: c})
	svc := sectionsNamed(conf, "SERVICE")
	if len(svc) != 1 {
		t.Fatalf("%s: want one [SERVICE], got %d", helmValuesFile, len(svc))
	}
	return deployed{ds: ds, c: c, conf: conf, cm: cm, service: svc[0]}
}

// TestHelmPipeline: the chart's configuration files from the values are the
// repository's, section by section and key by key in order: fluent-bit.conf,
// build/parsers.conf as custom_parsers.conf and build/plugins.conf as
// plugins.conf. Comments and alignment may differ.
func TestHelmPipeline(t *testing.T) {
	d := loadHelm(t)
	for key, file := range map[string]string{
		"fluent-bit.conf":     "fluent-bit.conf",
		"custom_parsers.conf": "build/parsers.conf",
		"plugins.conf":        "build/plugins.conf",
	} {
		b, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		want, err := parseClassic(string(b))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		text, ok := d.cm.Data[key]
		if !ok {
			t.Errorf("the chart's ConfigMap has no %s", key)
			continue
		}
		got, err := parseClassic(text)
		if err != nil {
			t.Errorf("values %s: %v", key, err)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d sections from the values, %d in %s", key, len(got), len(want), file)
			continue
		}
		for i := range want {
			where := key + " section " + strconv.Itoa(i+1) + " [" + want[i].name + "]"
			if got[i].name != want[i].name || len(got[i].entries) != len(want[i].entries) {
				t.Errorf("%s: values have [%s] with %d keys, %s has %d", where, got[i].name, len(got[i].entries), file, len(want[i].entries))
				continue
			}
			for j, e := range want[i].entries {
				if g := got[i].entries[j]; g != e {
					t.Errorf("%s: key %d is %s %q in the values, %s %q in %s", where, j+1, g.key, g.value, e.key, e.value, file)
				}
			}
		}
	}
	if len(d.cm.Data) != 3 {
		t.Errorf("the chart's ConfigMap would hold %d files, want the 3 above", len(d.cm.Data))
	}
	// The chart passes every config value through Helm's tpl.
	v := loadHelmValues(t)
	for name, text := range map[string]string{"service": v.Config.Service, "inputs": v.Config.Inputs, "filters": v.Config.Filters,
		"outputs": v.Config.Outputs, "customParsers": v.Config.CustomParsers, "extraFiles": strings.Join(mapValues(v.Config.ExtraFiles), "\n")} {
		if strings.Contains(text, "{{") {
			t.Errorf("config.%s contains {{, which Helm's tpl would evaluate", name)
		}
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestHelmValues: what the manifests' checks do not cover: the chart's
// settings that would undo ours.
func TestHelmValues(t *testing.T) {
	v := loadHelmValues(t)
	if v.HotReload.Enabled {
		t.Error("hotReload.enabled: the plugin must not be reloaded in place (docs/deploy.md)")
	}
	if v.ReadinessProbe == nil || v.ReadinessProbe.HTTPGet == nil || v.ReadinessProbe.HTTPGet.Path != "/api/v1/health" {
		t.Error("readinessProbe: Fluent Bit 4.2.8 serves /api/v1/health, not the /api/v2/health of charts >= 0.57")
	}
	// The image is this repository's, built from its Dockerfile with the
	// plugin at the path plugins.conf loads.
	df, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(df), "ghcr.io/awoooi/fluent-bit-drain:") || v.Image.Repository != "ghcr.io/awoooi/fluent-bit-drain" {
		t.Errorf("image.repository %q is not the image the Dockerfile builds", v.Image.Repository)
	}
	if !strings.Contains(string(df), "/fluent-bit/bin/out_drain.so") || !strings.Contains(v.Config.ExtraFiles["plugins.conf"], "Path /fluent-bit/bin/out_drain.so") {
		t.Error("plugins.conf does not load the .so where the Dockerfile puts it")
	}
	// The same pod as the DaemonSet manifest: image, env and mounts agree.
	m := loadDeployed(t)
	h := loadHelm(t)
	if m.c.Image != h.c.Image {
		t.Errorf("image %s in the values, %s in the manifest", h.c.Image, m.c.Image)
	}
	for _, e := range m.c.Env {
		he, ok := h.env(e.Name)
		if !ok || he.Value != e.Value || (e.ValueFrom == nil) != (he.ValueFrom == nil) {
			t.Errorf("env %s differs between the manifest and the values", e.Name)
		}
	}
	for _, vm := range m.c.VolumeMounts {
		hm, hv, ok := h.mountFor(vm.MountPath)
		_, mv, _ := m.mountFor(vm.MountPath)
		if mv.ConfigMap != nil {
			continue // the chart mounts its own ConfigMap (checked by TestDaemonSetConfigPaths)
		}
		if !ok || hm.MountPath != vm.MountPath || hm.ReadOnly != vm.ReadOnly {
			t.Errorf("mount %s (read-only %v) is not in the values", vm.MountPath, vm.ReadOnly)
			continue
		}
		switch {
		case mv.HostPath != nil && (hv.HostPath == nil || hv.HostPath.Path != mv.HostPath.Path):
			t.Errorf("mount %s: hostPath differs", vm.MountPath)
		case mv.Secret != nil && (hv.Secret == nil || hv.Secret.SecretName != mv.Secret.SecretName):
			t.Errorf("mount %s: secret differs", vm.MountPath)
		}
	}
}
