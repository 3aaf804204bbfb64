package k8s

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// root is the repository root, seen from this directory.
const root = "../.."

// manifests are the objects of every *.yaml and *.yaml.template file here, by kind.
type manifests struct {
	namespaces   []*corev1.Namespace
	accounts     []*corev1.ServiceAccount
	roles        []*rbacv1.ClusterRole
	bindings     []*rbacv1.ClusterRoleBinding
	configMaps   []*corev1.ConfigMap
	secrets      []*corev1.Secret
	daemonSets   []*appsv1.DaemonSet
	byFile       map[string]int
	applyByKubec map[string]bool // file -> applied by `kubectl apply -f build/k8s/`
}

var docSep = regexp.MustCompile(`(?m)^---[ \t]*$`)

// decode reads one document strictly: unknown or duplicated fields are errors, and the
// apiVersion must be the one the typed object belongs to.
func decode(doc []byte, into any, wantAPI string, tm metav1.TypeMeta) error {
	if tm.APIVersion != wantAPI {
		return fmt.Errorf("%s: apiVersion %s, want %s", tm.Kind, tm.APIVersion, wantAPI)
	}
	return yaml.UnmarshalStrict(doc, into)
}

// decodeTo decodes doc strictly as a new T and appends it to list.
func decodeTo[T any](doc, wantAPI string, tm metav1.TypeMeta, list *[]*T) error {
	o := new(T)
	*list = append(*list, o)
	return decode([]byte(doc), o, wantAPI, tm)
}

func loadManifests(t *testing.T) *manifests {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, _ := filepath.Glob("*.yaml.template")
	files = append(files, tmpl...)
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatal("no manifests")
	}
	m := &manifests{byFile: map[string]int{}, applyByKubec: map[string]bool{}}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m.applyByKubec[f] = strings.HasSuffix(f, ".yaml")
		for i, doc := range docSep.Split(string(b), -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
				t.Fatalf("%s doc %d: %v", f, i, err)
			}
			var derr error
			switch tm.Kind {
			case "Namespace":
				derr = decodeTo(doc, "v1", tm, &m.namespaces)
			case "ServiceAccount":
				derr = decodeTo(doc, "v1", tm, &m.accounts)
			case "ClusterRole":
				derr = decodeTo(doc, "rbac.authorization.k8s.io/v1", tm, &m.roles)
			case "ClusterRoleBinding":
				derr = decodeTo(doc, "rbac.authorization.k8s.io/v1", tm, &m.bindings)
			case "ConfigMap":
				derr = decodeTo(doc, "v1", tm, &m.configMaps)
			case "Secret":
				derr = decodeTo(doc, "v1", tm, &m.secrets)
			case "DaemonSet":
				derr = decodeTo(doc, "apps/v1", tm, &m.daemonSets)
			default:
				t.Fatalf("%s doc %d: unexpected kind %q", f, i, tm.Kind)
			}
			if derr != nil {
				t.Fatalf("%s doc %d (%s): %v", f, i, tm.Kind, derr)
			}
			m.byFile[f]++
		}
	}
	return m
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func one[T any](t *testing.T, what string, xs []*T) *T {
	t.Helper()
	if len(xs) != 1 {
		t.Fatalf("want one %s, got %d", what, len(xs))
	}
	return xs[0]
}

func TestManifestsDecodeStrictly(t *testing.T) {
	m := loadManifests(t)
	ns := one(t, "Namespace", m.namespaces)
	ds := one(t, "DaemonSet", m.daemonSets)
	sa := one(t, "ServiceAccount", m.accounts)
	cm := one(t, "ConfigMap", m.configMaps)
	sec := one(t, "Secret", m.secrets)
	for _, o := range []metav1.Object{ds, sa, cm, sec} {
		if o.GetNamespace() != ns.Name {
			t.Errorf("%s is in namespace %q, want %q", o.GetName(), o.GetNamespace(), ns.Name)
		}
	}
	for f, apply := range m.applyByKubec {
		if apply && strings.Contains(f, "secret") {
			t.Errorf("%s would be applied by kubectl apply -f build/k8s/ with placeholder values", f)
		}
	}
}

func TestRBAC(t *testing.T) {
	m := loadManifests(t)
	ds := one(t, "DaemonSet", m.daemonSets)
	role := one(t, "ClusterRole", m.roles)
	b := one(t, "ClusterRoleBinding", m.bindings)
	if b.RoleRef.Kind != "ClusterRole" || b.RoleRef.Name != role.Name {
		t.Errorf("binding refers to %s/%s, want ClusterRole/%s", b.RoleRef.Kind, b.RoleRef.Name, role.Name)
	}
	bound := false
	for _, s := range b.Subjects {
		bound = bound || (s.Kind == "ServiceAccount" && s.Name == ds.Spec.Template.Spec.ServiceAccountName && s.Namespace == ds.Namespace)
	}
	if !bound {
		t.Errorf("binding subjects %v do not include the DaemonSet's service account %s/%s", b.Subjects, ds.Namespace, ds.Spec.Template.Spec.ServiceAccountName)
	}
	// The kubernetes filter needs get/list/watch on core pods and namespaces; no more.
	granted := map[string]bool{}
	for _, r := range role.Rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					granted[g+"/"+res+":"+v] = true
				}
			}
		}
	}
	for _, res := range []string{"pods", "namespaces"} {
		for _, v := range []string{"get", "list", "watch"} {
			if !granted["/"+res+":"+v] {
				t.Errorf("ClusterRole lacks %s on %s", v, res)
			}
			delete(granted, "/"+res+":"+v)
		}
	}
	if len(granted) > 0 {
		t.Errorf("ClusterRole grants more than the filter needs: %v", granted)
	}
}

func TestSecretTemplate(t *testing.T) {
	m := loadManifests(t)
	ds := one(t, "DaemonSet", m.daemonSets)
	sec := one(t, "Secret", m.secrets)
	for _, k := range []string{"pg-dsn", "redis-password"} {
		v, ok := sec.StringData[k]
		if !ok {
			t.Errorf("secret template lacks key %s", k)
		}
		if !strings.Contains(v, "REPLACE_ME") {
			t.Errorf("secret template key %s holds %q, want a REPLACE_ME placeholder", k, v)
		}
	}
	var vol *corev1.Volume
	for i, v := range ds.Spec.Template.Spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == sec.Name {
			vol = &ds.Spec.Template.Spec.Volumes[i]
		}
	}
	if vol == nil {
		t.Fatalf("the DaemonSet does not mount secret %s", sec.Name)
	}
	if mp := mountPath(ds, vol.Name); mp != "/etc/drain/secrets" {
		t.Errorf("secret mounted at %q, want /etc/drain/secrets", mp)
	}
}

func mountPath(ds *appsv1.DaemonSet, volume string) string {
	for _, vm := range ds.Spec.Template.Spec.Containers[0].VolumeMounts {
		if vm.Name == volume {
			return vm.MountPath
		}
	}
	return ""
}
