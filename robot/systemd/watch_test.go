package systemd

import (
	"context"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// notifySocket listens where systemd would, as systemd does for a
// Type=notify service, with a 100 ms watchdog.
func notifySocket(t *testing.T) *net.UnixConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "100000")
	return c
}

// messages reads what the service sent during d.
func messages(t *testing.T, c *net.UnixConn, d time.Duration) []string {
	t.Helper()
	var out []string
	buf := make([]byte, 256)
	end := time.Now().Add(d)
	for {
		if err := c.SetReadDeadline(end); err != nil {
			t.Fatal(err)
		}
		n, err := c.Read(buf)
		if err != nil {
			return out
		}
		out = append(out, string(buf[:n]))
	}
}

func count(ms []string, m string) int {
	n := 0
	for _, s := range ms {
		if s == m {
			n++
		}
	}
	return n
}

func TestWatchPingsOnlyWhileEveryLoopTicks(t *testing.T) {
	c := notifySocket(t)
	var control, drive atomic.Uint64
	var driveStuck atomic.Bool
	tick, stop := time.NewTicker(5*time.Millisecond), make(chan struct{})
	defer tick.Stop()
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				control.Add(1)
				if !driveStuck.Load() {
					drive.Add(1)
				}
			}
		}
	}()
	defer close(stop)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { Watch(ctx, zerolog.Nop(), control.Load, drive.Load); close(done) }()

	ms := messages(t, c, 400*time.Millisecond)
	if len(ms) == 0 || ms[0] != "READY=1" {
		t.Fatalf("first message %q, want READY=1", ms)
	}
	if n := count(ms, "WATCHDOG=1"); n < 4 {
		t.Fatalf("%d pings in 400 ms with a 100 ms watchdog, want about 8: %q", n, ms)
	}
	// The drive's loop hangs: after the check that still sees its last
	// ticks (within half the interval), systemd must hear nothing more.
	driveStuck.Store(true)
	messages(t, c, 120*time.Millisecond)
	if n := count(messages(t, c, 400*time.Millisecond), "WATCHDOG=1"); n > 0 {
		t.Fatalf("%d pings while the drive's loop was stuck, want none", n)
	}
	driveStuck.Store(false)
	if n := count(messages(t, c, 400*time.Millisecond), "WATCHDOG=1"); n < 4 {
		t.Fatalf("%d pings once the drive ticked again, want about 8", n)
	}
	cancel()
	<-done
	if ms := messages(t, c, 100*time.Millisecond); count(ms, "STOPPING=1") != 1 {
		t.Fatalf("after the context ended: %q, want STOPPING=1", ms)
	}
}

func TestWatchOutsideSystemdReturns(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	done := make(chan struct{})
	go func() { Watch(context.Background(), zerolog.Nop(), func() uint64 { return 0 }); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Watch blocked without NOTIFY_SOCKET")
	}
}
