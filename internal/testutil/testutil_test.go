package testutil

import (
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLog(t *testing.T) {
	var l Log
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() { l.Printf("[drain] line %d", i) })
	}
	wg.Wait()
	if got := l.Lines(); len(got) != 4 {
		t.Fatalf("Lines() = %q, want 4 lines", got)
	}
	for i := range 4 {
		if want := "[drain] line " + string(rune('0'+i)); !strings.Contains(l.String(), want) {
			t.Errorf("String() = %q, want it to hold %q", l.String(), want)
		}
	}
}

func TestBlackHoleHoldsConnections(t *testing.T) {
	bh := BlackHole(t)
	c, err := net.Dial("tcp", bh.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("read %d bytes, err %v: a black hole must not answer", n, err)
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("read err %v, want a timeout", err)
	}
	WaitFor(t, 2*time.Second, "one accepted connection", func() bool { return len(bh.Conns()) == 1 })
}

func TestListenHandles(t *testing.T) {
	l := Listen(t, func(c net.Conn) { c.Write([]byte("hi")) })
	c, err := net.Dial("tcp", l.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 2)
	if _, err := c.Read(buf); err != nil || string(buf) != "hi" {
		t.Fatalf("read %q, %v, want %q", buf, err, "hi")
	}
}

func TestRunAll(t *testing.T) {
	outs, err := RunAll(exec.Command("echo", "one"), exec.Command("sh", "-c", "echo two; exit 3"))
	if len(outs) != 2 || outs[0] != "one\n" || outs[1] != "two\n" {
		t.Errorf("outputs %q, want [one two]", outs)
	}
	if err == nil || !strings.Contains(err.Error(), "sh -c echo two; exit 3: exit status 3") {
		t.Errorf("err = %v, want the failing command named", err)
	}
	if _, err := RunAll(exec.Command("true")); err != nil {
		t.Errorf("RunAll(true) = %v", err)
	}
}

func TestCPUTimer(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("thread CPU time is read on Linux only")
	}
	cpu := StartCPU()
	x := 0
	for end := time.Now().Add(30 * time.Millisecond); time.Now().Before(end); x++ {
	}
	if d := cpu.Stop(); d <= 0 {
		t.Fatalf("%d spins took %v of thread CPU time, want > 0", x, d)
	}
}

func TestBufferJSONLines(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() { fmt.Fprintf(&b, "{\"n\":%d}\n", i) })
	}
	wg.Wait()
	b.Write([]byte("\n"))
	got := JSONLines[struct{ N int }](t, b.Bytes())
	sum := 0
	for _, v := range got {
		sum += v.N
	}
	if len(got) != 3 || sum != 3 {
		t.Fatalf("JSONLines = %+v, want n = 0, 1, 2", got)
	}
}
