package chunktest

import (
	"fmt"
	"strings"
)

// KubeTag is a tail tag for a container log (docs/fluent-bit.md#sizes-and-tags).
func KubeTag(pod, ns, container string) string {
	return "kube.var.log.containers." + pod + "_" + ns + "_" + container + "-" +
		strings.Repeat("a1b2c3d4", 8) + ".log"
}

// KubeRecord is a CRI + kubernetes-filter body (docs/fluent-bit.md#container-logs) trimmed to
// about 300 bytes with a 50-byte log line.
func KubeRecord(ns, pod, container, log string) M {
	return M{
		{"time", "2026-11-25T17:40:01.123456789Z"},
		{"stream", "stdout"},
		{"_p", "F"},
		{"log", log},
		{"kubernetes", M{
			{"pod_name", pod},
			{"namespace_name", ns},
			{"labels", M{{"app", container}}},
			{"host", "node-a1"},
			{"container_name", container},
			{"docker_id", "a1b2c3d4e5f6"},
			{"container_image", "registry.example.com/" + container + ":v1.2.3"},
		}},
	}
}

// KubeChunk is a v2 chunk of n kubernetes-shaped records whose log lines
// vary the way real service logs do: a few dozen templates, variable
// fields (ids, IPs, durations) changing on every line.
func KubeChunk(n int) []byte {
	var e Enc
	for i := 0; i < n; i++ {
		e.V2(EventTime{Sec: 1795542001 + uint32(i/100), Nsec: uint32(i) * 1000}, nil,
			KubeRecord("shop", "web-7f9c6d8b5-qwert", "nginx", LogLine(i)))
	}
	return e.B
}

// LogLine is the i-th line of a synthetic service log.
func LogLine(i int) string {
	switch i % 8 {
	case 0:
		return fmt.Sprintf("10.0.%d.%d - - \"GET /api/v1/items/%d HTTP/1.1\" 200 %d", i%7, i%250, i*31, 100+i%900)
	case 1:
		return fmt.Sprintf("[INFO] request id=%08x served in %d ms", i*2654435761, i%97)
	case 2:
		return fmt.Sprintf("Connection from 10.244.%d.%d closed after %d ms", i%3, i%200, i%5000)
	case 3:
		return fmt.Sprintf("user %d logged in from session %x", i%1000, i*7919)
	case 4:
		return fmt.Sprintf("cache miss for key product:%d, loading from db", i)
	case 5:
		return fmt.Sprintf("worker %d finished job %d in %d.%03ds", i%8, i, i%13, i%1000)
	case 6:
		return fmt.Sprintf("upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.0.0.%d", i%255)
	default:
		return fmt.Sprintf("GC pause %dus heap %dMB -> %dMB", i%900, 100+i%50, 80+i%40)
	}
}
