// Package k8s holds the Kubernetes manifests of fluent-bit-drain and, in its tests, the
// checks that they decode strictly into the typed API objects, keep the DaemonSet's
// invariants, carry the repository's Fluent Bit configuration unchanged, and that
// fluent-bit.yaml describes the same pipeline as fluent-bit.conf. It is a module of its own
// so that the plugin's module does not depend on k8s.io. Run: cd build/k8s && go test ./...
package k8s
