package testutil

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Port reserves a TCP port on 127.0.0.1 for a server the test starts
// itself, perhaps several times (fault tests stop a server and start it
// again on the same port). Asking the kernel for port 0 and closing the
// listener races: anything that binds or connects in between may take the
// port. A reserved port cannot be taken that way:
//
//   - it lies outside the kernel's ephemeral range
//     (/proc/sys/net/ipv4/ip_local_port_range), so no port-0 listener and
//     no outgoing connection is ever given it;
//   - it is locked (lockPort) until the test ends, so other test processes
//     reserving with Port skip it, even while its server is stopped;
//   - it was free when reserved.
//
// A server that still finds the port taken (a program that binds fixed
// ports) is retried on another one by the starters (PG.Start, Redis.Start).
func Port(t testing.TB) int {
	t.Helper()
	p, release, err := reservePort()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	return p
}

// reservePort is Port without a test: the caller releases the port.
func reservePort() (int, func(), error) {
	lo, hi := portRange()
	n := hi - lo + 1
	first := rand.IntN(n)
	for i := range min(n, 2000) {
		p := lo + (first+i)%n
		release, ok := lockPort(p)
		if !ok {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			release()
			continue
		}
		l.Close()
		return p, release, nil
	}
	return 0, nil, fmt.Errorf("testutil: no free port to reserve in %d-%d", lo, hi)
}

// portRange is the range reserved ports come from: below the ephemeral
// range when there is room (Linux's default starts at 32768), else above.
func portRange() (lo, hi int) {
	elo, ehi := 32768, 60999
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			a, errA := strconv.Atoi(f[0])
			z, errZ := strconv.Atoi(f[1])
			if errA == nil && errZ == nil && a <= z {
				elo, ehi = a, z
			}
		}
	}
	if elo-1 >= 20000+1000 {
		return 20000, elo - 1
	}
	return ehi + 1, 65535
}

// portLockDir holds one lock file per reserved port, shared by every test
// process of the machine.
func portLockDir() string { return filepath.Join(os.TempDir(), "fluent-bit-drain-ports") }
