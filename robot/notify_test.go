package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"collaborate/internal/testkit"
)

// The robot binary under systemd's notify protocol, as robot.service runs
// it (Type=notify, WatchdogSec): READY=1 once it runs, WATCHDOG=1 while its
// control loop ticks, none while the process is frozen (systemd would kill
// it and its ExecStopPost halt the motors), STOPPING=1 on SIGTERM. The
// broker is a closed loopback port: the loop runs without one.
func TestRobotBinaryTellsSystemd(t *testing.T) {
	dir := t.TempDir()
	bins, err := testkit.Build(dir, "./robot")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(pw, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "200000")
	p := testkit.Start(t, dir, "robot", bins["./robot"], "--hw", "sim", "--id", "r1", "--face-base", "100",
		"--broker", fmt.Sprintf("tcp://127.0.0.1:%d", testkit.FreePort(t)), "--password-file", pw,
		"--store-dir", filepath.Join(dir, "outbox"), "--log-format", "json")
	read := func(d time.Duration) []string {
		var out []string
		buf := make([]byte, 256)
		end := time.Now().Add(d)
		for {
			_ = c.SetReadDeadline(end)
			n, err := c.Read(buf)
			if err != nil {
				return out
			}
			out = append(out, string(buf[:n]))
		}
	}
	count := func(ms []string, m string) int {
		n := 0
		for _, s := range ms {
			n += strings.Count(s, m)
		}
		return n
	}
	buf := make([]byte, 256)
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if n, err := c.Read(buf); err != nil {
		t.Fatalf("nothing on the notify socket: %v\n%s", err, p.Err.String())
	} else if string(buf[:n]) != "READY=1" {
		t.Fatalf("first message %q, want READY=1", buf[:n])
	}
	if n := count(read(time.Second), "WATCHDOG=1"); n < 4 {
		t.Fatalf("%d pings in 1 s with a 200 ms watchdog, want about 10\n%s", n, p.Err.String())
	}
	if err := p.Stop(); err != nil { // SIGSTOP
		t.Fatal(err)
	}
	read(150 * time.Millisecond) // what it sent before
	if n := count(read(time.Second), "WATCHDOG=1"); n != 0 {
		t.Fatalf("%d pings from a frozen robot", n)
	}
	if err := p.Cont(); err != nil {
		t.Fatal(err)
	}
	if n := count(read(time.Second), "WATCHDOG=1"); n < 4 {
		t.Fatalf("%d pings in 1 s after SIGCONT, want about 10", n)
	}
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if ms := read(5 * time.Second); count(ms, "STOPPING=1") != 1 {
		t.Fatalf("after SIGTERM: %q, want STOPPING=1\n%s", ms, p.Err.String())
	}
}
